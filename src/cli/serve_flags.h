// The serve flags shared by `bento serve` and every service executable built with
// bento_add_service(): --host, --port, --workers, --timeout, --max-concurrency,
// --max-body-size, --ssl-certfile / --ssl-keyfile (HTTPS) and friends, which parse straight
// into serving::ServeOptions; and the model flags: --providers, --threads, the adaptive
// batching flags and --grpc-port.
#ifndef BENTO_CLI_SERVE_FLAGS_H_
#define BENTO_CLI_SERVE_FLAGS_H_

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "kserve/protocol.h"
#include "manager/model_manager.h"
#include "serving/serve.h"

namespace bento::cli {

// Registers the flags on `app`; values land in `options` when `app` parses.
void AddServeFlags(CLI::App& app, serving::ServeOptions* options);

// How the served models run. For `bento serve` they apply to every model it loads; for a
// service executable, to the models the service's code loads (--providers and --threads
// replace what the code asks for, the batching flags override its BatchApi options), which
// it also serves over the Open Inference Protocol.
struct ModelFlags {
  std::vector<std::string> providers;  // empty: the default (or the code's own)
  int threads = 0;                     // ONNX Runtime intra-op threads; 0: the default
  manager::ManagerOptions models;      // batching
  std::optional<int> grpc_port;        // no gRPC server when unset
  // Which batching flags the command line gave (a service's own options hold otherwise).
  bool max_batch_size_given = false;
  bool max_latency_given = false;
};

// The Open Inference Protocol over `protocol`'s models, on `def`: the KServe v2 and v1 HTTP
// routes; returns the gRPC transport to start when `grpc_port` is set. REQUIRES: `protocol` and its models outlive the server.
std::vector<serving::TransportFactory> AddKServe(kserve::Protocol& protocol,
                                                 std::optional<int> grpc_port,
                                                 serving::ServiceDef* def);

// Registers the model flags on `app`. Call ModelFlagsGiven after `app` parses.
void AddModelFlags(CLI::App& app, ModelFlags* flags);
void ModelFlagsGiven(const CLI::App& app, ModelFlags* flags);

// Validators whose errors state the range: a whole number in [lo, hi], and a number in
// [lo, hi]. Empty text, trailing characters and values that would wrap are errors too.
CLI::Validator IntegerIn(long long lo, long long hi);
CLI::Validator NumberIn(double lo, double hi);

}  // namespace bento::cli

#endif  // BENTO_CLI_SERVE_FLAGS_H_
