// App: serves one ServiceDef over HTTP, BentoML's way. It is the http::Handler given to
// http::Server and owns everything between the socket layer and the APIs:
//   - infra routes: /livez, /healthz, /readyz, /metrics, /docs.json, / (Swagger UI);
//   - API routing by path, method and content-type checks (405, 415), 404 for the rest;
//   - running API handlers on a worker pool, never on an I/O thread;
//   - BentoML's metrics (bentoml_service_request_total, ..._request_duration_seconds,
//     ..._request_in_progress) plus request queue time;
//   - turning a handler's Status into a JSON error (errors.h).
//
// Thread-safety: Handle may be called from any number of I/O threads at once. The ServiceDef
// is immutable after construction.
#ifndef BENTO_SERVING_APP_H_
#define BENTO_SERVING_APP_H_

#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "http/server.h"
#include "serving/metrics.h"
#include "serving/service_def.h"

namespace bento::serving {

struct AppOptions {
  int workers = 0;  // API worker threads; 0: one per core
  // Folder of the swagger-ui-dist npm package; empty: the copy install-deps made.
  std::filesystem::path swagger_ui_dir;
  // When set, every route but /livez, /healthz and /readyz needs `Authorization: Bearer KEY`
  // and answers 401 without it.
  std::string api_key;
};

class App {
 public:
  App(ServiceDef service, AppOptions options);
  ~App();  // waits for running handlers
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // The http::Handler.
  void Handle(http::HttpRequest&& request, http::Responder respond);
  http::Handler AsHandler() {
    return [this](http::HttpRequest&& r, http::Responder d) { Handle(std::move(r), std::move(d)); };
  }

  MetricsRegistry& metrics() { return metrics_; }
  const ServiceDef& service() const { return service_; }
  // The OpenAPI 3 document served at /docs.json.
  const std::string& openapi() const { return openapi_; }

 private:
  void HandleApi(const ApiDef& api, http::HttpRequest&& request, http::Responder respond);
  bool ServeStatic(const http::HttpRequest& request, http::Responder& respond);
  bool Authorized(const http::HttpRequest& request) const;

  ServiceDef service_;
  AppOptions options_;
  std::string openapi_;
  MetricsRegistry metrics_;
  Family<Counter>& request_total_;
  Family<Histogram>& request_duration_;
  Family<Gauge>& request_in_progress_;
  Family<Histogram>& queue_duration_;
  std::unique_ptr<boost::asio::thread_pool> workers_;
};

}  // namespace bento::serving

#endif  // BENTO_SERVING_APP_H_
