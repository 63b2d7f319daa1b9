// App: serves one ServiceDef over HTTP, BentoML's way. It is the http::Handler given to
// http::Server and owns everything between the admitted request and the APIs:
//   - infra routes: /livez, /healthz, /readyz, /metrics, /docs.json, / (Swagger UI);
//   - API routing by path, method and content-type checks (405, 415), 404 for the rest; a
//     routed request is named to its policy::Call (SetEndpoint), which counts it;
//   - the worker pool: API handlers run there, and so does the work other transports Post
//     (gRPC inference), with the time each waited in bento_request_queue_seconds. An API
//     whose handler holds its thread for less than AppOptions::inline_below on average runs
//     on the thread that called Handle (the HTTP I/O thread) instead: handing it to a worker
//     and back would cost more than it does;
//   - turning a handler's Status into a JSON error (policy/http_status.h).
// The API key, the concurrency limit, the deadline, request metrics and the access log are
// policy::Admission's, applied by the transport before Handle.
//
// Thread-safety: Handle and Post may be called from any number of threads at once. The
// ServiceDef is immutable after construction.
#ifndef BENTO_SERVING_APP_H_
#define BENTO_SERVING_APP_H_

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "http/server.h"
#include "policy/metrics.h"
#include "serving/service_def.h"

namespace bento::serving {

struct AppOptions {
  int workers = 0;  // API worker threads; 0: AvailableCpus() (the cgroup limit, or the cores)
  // Folder of Swagger UI's assets; empty: share/bento/swagger-ui of the tree bento runs from.
  std::filesystem::path swagger_ui_dir;
  // The server requires an API key (Serve sets it from --api-key): /docs.json declares
  // Bearer authentication, so Swagger UI offers "Authorize" and sends the key.
  bool bearer_auth = false;
  // An API whose handler has held its thread for less than this on average (a moving
  // average over its calls, the first 16 of which run on the pool) runs on the caller's
  // thread, until that average reaches twice this, as one call 16 times as slow makes it:
  // then on the pool again. The band between keeps an API whose calls take about the
  // threshold where it is, instead of moving it back and forth. Zero: every API runs on
  // the pool.
  // Handing a request to a worker and its answer back costs two thread wake-ups, tens of
  // microseconds each when the threads sleep, and CPU time at every load; an I/O thread
  // busy for this long delays its other connections by as much.
  std::chrono::microseconds inline_below{100};
};

class App {
 public:
  // Renders `metrics` on /metrics, and adds the service's collector and the worker queue's
  // metrics to it.
  App(ServiceDef service, AppOptions options,
      std::shared_ptr<policy::MetricsRegistry> metrics =
          std::make_shared<policy::MetricsRegistry>());
  ~App();  // waits for running handlers
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // The http::Handler.
  void Handle(http::HttpRequest&& request, http::Responder respond);
  http::Handler AsHandler() {
    return [this](http::HttpRequest&& r, http::Responder d) { Handle(std::move(r), std::move(d)); };
  }

  // Runs `work` on the worker pool. Its wait is timed, and counted while it lasts, under
  // `endpoint` and `model`, which is kept only when the service serves a model of that name.
  void Post(const std::string& endpoint, const std::string& model, std::function<void()> work);

  policy::MetricsRegistry& metrics() { return *metrics_; }
  const std::shared_ptr<policy::MetricsRegistry>& shared_metrics() const { return metrics_; }
  const ServiceDef& service() const { return service_; }
  // The OpenAPI 3 document served at /docs.json.
  const std::string& openapi() const { return openapi_; }

 private:
  void HandleApi(const ApiDef& api, http::HttpRequest&& request, http::Responder respond);
  bool ServeStatic(const http::HttpRequest& request, http::Responder& respond);

  ServiceDef service_;
  AppOptions options_;
  std::string openapi_;
  std::string schema_;  // BentoML's service schema (/schema.json)
  std::shared_ptr<policy::MetricsRegistry> metrics_;
  policy::Family<policy::Histogram>& queue_duration_;
  policy::Family<policy::Gauge>& queued_;
  // Per API (as service_.apis): how long its handler holds the thread that calls it.
  struct HandlerTime {
    std::atomic<int64_t> average_ns{0};  // moving average, a new call weighing 1/8
    std::atomic<int64_t> calls{0};
    std::atomic<bool> on_caller{false};  // runs on the caller's thread
  };
  std::unique_ptr<HandlerTime[]> handler_times_;
  std::unique_ptr<boost::asio::thread_pool> workers_;
};

}  // namespace bento::serving

#endif  // BENTO_SERVING_APP_H_
