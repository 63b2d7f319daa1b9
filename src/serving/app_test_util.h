// Test helpers: requests built from strings and answers captured from App, no socket.
#ifndef BENTO_SERVING_APP_TEST_UTIL_H_
#define BENTO_SERVING_APP_TEST_UTIL_H_

#include <future>
#include <string>

#include "serving/app.h"

namespace bento::serving::testing {

inline http::HttpRequest Request(std::string method, std::string path, std::string body = "",
                                 std::string content_type = "application/json") {
  http::HttpRequest r;
  r.method = std::move(method);
  r.path = path;
  r.target = std::move(path);
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.emplace_back("Content-Type", std::move(content_type));
  return r;
}

// Calls the app and waits for its answer. With `admission`, the request is admitted first and
// its call finished with the answer, as a transport does.
inline http::HttpResponse Call(App& app, http::HttpRequest request,
                               policy::Admission* admission = nullptr) {
  std::shared_ptr<policy::Call> call;
  if (admission != nullptr) {
    call = admission->Admit({.transport = "test",
                             .method = request.method,
                             .target = request.target,
                             .call_class = policy::Admission::HttpClass(request.path)});
    request.call = call;
  }
  std::promise<http::HttpResponse> promise;
  auto future = promise.get_future();
  app.Handle(std::move(request), [&promise](http::HttpResponse r) { promise.set_value(r); });
  http::HttpResponse response = future.get();
  if (call) call->Finish(response.status, response.body.size());
  return response;
}

}  // namespace bento::serving::testing

#endif  // BENTO_SERVING_APP_TEST_UTIL_H_
