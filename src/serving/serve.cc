#include "serving/serve.h"

#include <spdlog/spdlog.h>

#include <thread>

namespace bento::serving {

int Serve(ServiceDef service, const ServeOptions& options, std::function<void()> load) {
  App app(std::move(service), options.app);
  auto server = http::Server::Create(options.http, app.AsHandler());
  if (!server.ok()) {
    spdlog::error("cannot serve: {}", server.status().message());
    return 1;
  }
  std::thread loader;
  if (load) loader = std::thread(std::move(load));
  spdlog::info("serving {} at {}://{}:{} (Swagger UI at /, OpenAPI at /docs.json)",
               app.service().name, options.http.ssl_certfile.empty() ? "http" : "https",
               options.http.host, (*server)->port());
  int code = (*server)->RunUntilSignal();
  if (loader.joinable()) loader.join();
  spdlog::info("stopped");
  return code;
}

}  // namespace bento::serving
