#include "serving/serve.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "serving/openapi.h"

namespace bento::serving {

int Serve(ServiceDef service, ServeOptions options, std::function<bool()> load,
          std::vector<TransportFactory> transports) {
  options.admission.service_name = service.name;
  options.admission.service_version = service.version;
  auto metrics = std::make_shared<policy::MetricsRegistry>();
  auto admission = std::make_shared<policy::Admission>(options.admission, metrics);
  options.app.bearer_auth = !options.admission.api_key.empty();
  if (options.print_openapi) {
    std::cout << OpenApiDocument(service, options.app.bearer_auth).dump(2) << "\n";
    return std::cout.flush() ? 0 : 1;
  }
  App app(std::move(service), options.app, metrics);
  auto server = http::Server::Create(options.http, app.AsHandler(), admission);
  if (!server.ok()) {
    spdlog::error("cannot serve: {}", server.status().message());
    return 1;
  }
  std::vector<std::unique_ptr<Transport>> started;
  ServeContext context{options, admission, app};
  for (const auto& factory : transports) {
    auto transport = factory(context);
    if (!transport.ok()) {
      spdlog::error("cannot serve: {}", transport.status().message());
      for (auto& t : started) t->Shutdown();
      return 1;
    }
    started.push_back(std::move(*transport));
  }
  std::thread loader;
  std::atomic<bool> nothing_to_serve{false};
  if (load) {
    loader = std::thread([&, load = std::move(load)] {
      if (load()) return;
      nothing_to_serve = true;
      (*server)->RequestStop();
    });
  }
  spdlog::info("serving {} at {}://{}:{} (Swagger UI at /, OpenAPI at /docs.json)",
               app.service().name, options.http.ssl_certfile.empty() ? "http" : "https",
               options.http.host, (*server)->port());
  int code = (*server)->RunUntilSignal();
  for (auto& t : started) t->Shutdown();
  if (loader.joinable()) loader.join();
  if (nothing_to_serve) {
    spdlog::error("stopped: nothing could be loaded to serve");
    return 1;
  }
  spdlog::info("stopped");
  return code;
}

}  // namespace bento::serving
