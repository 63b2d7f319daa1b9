// bento::ServeMain: main() of a service executable built with bento_add_service(). It takes
// the same serve and model flags as `bento serve`. The models the service's code loads (in
// its constructor) take the executable's --providers and --threads, and are also served over
// the Open Inference Protocol: HTTP /v2 always, gRPC with --grpc-port, under the same policy.
#include <spdlog/spdlog.h>

#include <unistd.h>

#include "base/cpu.h"
#include "base/logging.h"
#include "bento/service.h"
#include "batching/dispatcher.h"
#include "cli/processes.h"
#include "cli/serve_flags.h"
#include "runtime/load_scope.h"
#include "serving/no_code.h"
#include "serving/service_adapter.h"

namespace bento {

int ServeMain(std::function<std::unique_ptr<Service>()> factory, int argc, char** argv) {
  return detail::ServeMain(std::move(factory), argc, argv, {});
}

int detail::ServeMain(std::function<std::unique_ptr<Service>()> factory, int argc, char** argv,
                      const ServeProcesses& processes) {
  InitLogging("info");
  serving::ServeOptions options;
  cli::ModelFlags model_flags;
  CLI::App app{"A bento service: serves its APIs over HTTP, BentoML's way"};
  cli::AddServeFlags(app, &options);
  cli::AddModelFlags(app, &model_flags);
  int process_count = processes.processes;
  app.add_option("--processes", process_count,
                 "Worker processes serving on the one port, each with its own instance of the "
                 "service and its own models (BentoML's workers; 0: one per core)")
      ->check(cli::IntegerIn(0, 1024))
      ->capture_default_str();
  bool timeout_given = false, concurrency_given = false;
  try {
    app.parse(argc, argv);
    timeout_given = app.count("--timeout") > 0;
    concurrency_given = app.count("--max-concurrency") > 0;
    cli::ModelFlagsGiven(app, &model_flags);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (process_count == 0) process_count = AvailableCpus();
  if (process_count > 1) {
    if (options.http.port == 0) {
      spdlog::error("--processes {} needs a fixed --port: with port 0 each process would pick "
                    "its own",
                    process_count);
      return 2;
    }
    if (model_flags.grpc_port && *model_flags.grpc_port == 0) {
      spdlog::error("--processes {} needs a fixed --grpc-port", process_count);
      return 2;
    }
    options.http.reuse_port = true;
  }
  cli::Forked forked = cli::ForkServers(
      process_count, processes.fork ? processes.fork : std::function<pid_t()>(::fork));
  if (!forked.worker) return forked.exit_code;
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
  serving::BatchOverrides overrides{
      .batching = batching.batching,
      .max_inflight_batches = batching.max_inflight_batches > 0
                                  ? batching.max_inflight_batches
                                  : batching::InflightBatchesFor(model_flags.threads)};
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
