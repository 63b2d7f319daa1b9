// What the serving layer serves: a service's APIs, each a route with its request and response
// schemas and an asynchronous handler. No-code serving (no_code.h) and C++
// services (include/bento/service.h) both produce a ServiceDef; App serves it over HTTP.
#ifndef BENTO_SERVING_SERVICE_DEF_H_
#define BENTO_SERVING_SERVICE_DEF_H_

#include <functional>
#include <string>
#include <vector>

#include "bento/json.h"
#include "bento/status.h"
#include "http/server.h"
#include "policy/metrics.h"

namespace bento::serving {

// A successful API answer. Errors travel as a Status and become JSON errors in App.
struct Reply {
  std::string content_type = "application/json";
  std::string body;
  http::HeaderList headers;  // extra response headers
};

using ReplyCallback = std::function<void(StatusOr<Reply>)>;
// Runs on a worker thread, never on an I/O thread. Must call `done` exactly once, from any
// thread, possibly later (the batcher answers from its dispatcher).
using ApiHandler = std::function<void(const http::HttpRequest& request, ReplyCallback done)>;

inline constexpr const char* kServiceApis = "Service APIs";

struct ApiDef {
  std::string name;   // "run", "classify_image", "kserve_infer"
  // The path, or a template whose "{param}" segments match any one non-empty segment and
  // reach the handler as HttpRequest::path_params: "/v2/models/{model}/infer".
  std::string route;
  // Methods it answers (HEAD counts as GET); another method on the route is a 405.
  std::vector<std::string> methods = {"POST"};
  std::string doc;    // one line for OpenAPI's summary
  // Accepted request content types: "application/json", "multipart/form-data", and raw
  // types such as "image/*", "text/plain", "application/octet-stream". Empty: any.
  std::vector<std::string> content_types = {"application/json"};
  Json request_schema = Json::object();   // OpenAPI schema of the JSON body
  Json response_schema = Json::object();  // OpenAPI schema of the answer
  std::string response_content_type = "application/json";
  // Errors as {"error": "..."} alone, the Open Inference Protocol's form, instead of
  // BentoML's {"error": "...", "detail": ...}.
  bool bare_errors = false;
  // Listed in the OpenAPI document (/docs.json), under `tag`. The service's own APIs (tag
  // kServiceApis, POST, no path parameters) are also listed in /schema.json, the document
  // BentoML's clients read.
  bool documented = true;
  std::string tag = kServiceApis;
  // Requests may be batched (a batchable signature): /schema.json says so, as BentoML does.
  bool batchable = false;
  // KServe's binary tensor extension: the body, and the answer, may also be
  // application/octet-stream (a JSON header, then the tensors' bytes). For the document only.
  bool binary_tensors = false;
  // Whether a non-GET request carries a body, for the document: a POST that acts on its path
  // alone (unregister a region) documents none.
  bool body = true;
  // Whether that body may be left out (Triton's repository calls take an empty one).
  bool body_required = true;
  // The model this API runs, for the per-model queue metrics; empty: the route's "{model}"
  // segment when the service serves a model of that name (ServiceDef::serves), else none.
  std::string model;
  ApiHandler handler;
};

struct ServiceDef {
  std::string name;
  std::string version = "not available";
  std::vector<ApiDef> apis;
  // /readyz answers 200 only when this returns true (every model loaded and warmed).
  std::function<bool()> ready = [] { return true; };
  // Metrics the service keeps itself (batchers, Service::Metric), added to the server's
  // registry as a collector; may be empty.
  policy::MetricsRegistry::Collector collect;
  // Whether `name` is a model the service serves: a request's model name labels the queue
  // metrics only when it is, so that made-up names cannot grow the series without bound.
  std::function<bool(const std::string& name)> serves = [](const std::string&) { return false; };
};

}  // namespace bento::serving

#endif  // BENTO_SERVING_SERVICE_DEF_H_
