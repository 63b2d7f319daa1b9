// bento::ServeMain: main() of a service executable built with bento_add_service(). It takes
// the same serve flags as `bento serve`.
#include <spdlog/spdlog.h>

#include "base/logging.h"
#include "bento/service.h"
#include "cli/serve_flags.h"
#include "serving/service_adapter.h"

namespace bento {

int ServeMain(std::function<std::unique_ptr<Service>()> factory, int argc, char** argv) {
  InitLogging("info");
  serving::ServeOptions options;
  CLI::App app{"A bento service: serves its APIs over HTTP, BentoML's way"};
  cli::AddServeFlags(app, &options);
  bool timeout_given = false, concurrency_given = false;
  try {
    app.parse(argc, argv);
    timeout_given = app.count("--timeout") > 0;
    concurrency_given = app.count("--max-concurrency") > 0;
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::unique_ptr<Service> service;
  try {
    service = factory();
  } catch (const std::exception& e) {
    spdlog::error("the service failed to start: {}", e.what());
    return 1;
  }
  const Traffic& traffic = service->options().traffic;
  if (!timeout_given) {
    options.admission.request_timeout =
        std::chrono::milliseconds(static_cast<int64_t>(traffic.timeout * 1000));
  }
  if (!concurrency_given) options.admission.max_concurrency = traffic.max_concurrency;
  const Resources& resources = service->options().resources;
  spdlog::info("service {} (resources: cpu={}, gpu={}, memory={})", service->name(),
               resources.cpu.empty() ? "-" : resources.cpu,
               resources.gpu.empty() ? "-" : resources.gpu,
               resources.memory.empty() ? "-" : resources.memory);
  return serving::Serve(serving::ServiceDefinition(*service), options);
}

}  // namespace bento
