// bento::ServeMain: main() of a service executable built with bento_add_service(). It takes
// the same serve and model flags as `bento serve`. The models the service's code loads (in
// its constructor) take the executable's --providers and --threads, and are also served over
// the Open Inference Protocol: HTTP /v2 always, gRPC with --grpc-port, under the same policy.
#include <spdlog/spdlog.h>

#include "base/logging.h"
#include "bento/service.h"
#include "cli/serve_flags.h"
#include "runtime/load_scope.h"
#include "serving/no_code.h"
#include "serving/service_adapter.h"

namespace bento {

int ServeMain(std::function<std::unique_ptr<Service>()> factory, int argc, char** argv) {
  InitLogging("info");
  serving::ServeOptions options;
  cli::ModelFlags model_flags;
  CLI::App app{"A bento service: serves its APIs over HTTP, BentoML's way"};
  cli::AddServeFlags(app, &options);
  cli::AddModelFlags(app, &model_flags);
  bool timeout_given = false, concurrency_given = false;
  try {
    app.parse(argc, argv);
    timeout_given = app.count("--timeout") > 0;
    concurrency_given = app.count("--max-concurrency") > 0;
    cli::ModelFlagsGiven(app, &model_flags);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  std::unique_ptr<Service> service;
  std::vector<onnx::Session> sessions;
  try {
    runtime::LoadScope scope(
        {{model_flags.providers.begin(), model_flags.providers.end()}, model_flags.threads});
    service = factory();
    sessions = scope.sessions();
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

  // Batching flags given on the command line override the service's BatchApi options.
  const manager::ManagerOptions& batching = model_flags.models;
  serving::BatchOverrides overrides{.batching = batching.batching,
                                    .max_inflight_batches = batching.max_inflight_batches};
  if (model_flags.max_batch_size_given) overrides.max_batch_size = batching.max_batch_size;
  if (model_flags.max_latency_given) overrides.max_latency_ms = batching.max_latency_ms;
  serving::ServiceDef def = serving::ServiceDefinition(*service, overrides);

  // The Open Inference Protocol over the very sessions the service loaded.
  auto models = manager::ModelManager::Adopt(sessions, model_flags.models);
  if (!models.ok()) {
    spdlog::error("the service's models cannot be served: {}", models.status().message());
    return 1;
  }
  kserve::Protocol protocol(**models);
  auto transports = cli::AddKServe(protocol, model_flags.grpc_port, &def);
  serving::AddModels(**models, &def);  // their queue labels and batchers on /metrics
  return serving::Serve(std::move(def), options, {}, std::move(transports));
}

}  // namespace bento
