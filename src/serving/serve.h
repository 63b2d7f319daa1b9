// Serve: runs a ServiceDef until SIGTERM or SIGINT, then stops accepting, finishes the
// requests in flight and returns 0. Shared by `bento serve` and the executables that
// bento_add_service() builds, so both take the same flags (cli/serve_flags.h).
//
// Serve owns the one road every request takes, whatever its transport:
//   metrics registry → policy::Admission (key, limit, deadline, metrics, access log)
//     → HTTP: http::Server → App (routes, worker pool) → the ServiceDef's handlers
//     → other transports (gRPC): started by their factories with the same Admission and the
//       App's worker pool, so no policy lives in one transport's code path.
#ifndef BENTO_SERVING_SERVE_H_
#define BENTO_SERVING_SERVE_H_

#include <functional>
#include <memory>
#include <vector>

#include "http/server.h"
#include "policy/admission.h"
#include "serving/app.h"
#include "serving/service_def.h"

namespace bento::serving {

struct ServeOptions {
  http::ServerOptions http;  // its ssl_* files serve TLS on every transport
  AppOptions app;
  // service_name and service_version are filled in from the ServiceDef.
  policy::AdmissionOptions admission;
  // Print the OpenAPI document to stdout and return 0, serving nothing (`bento build`).
  bool print_openapi = false;
};

// What Serve hands a transport beside HTTP.
struct ServeContext {
  const ServeOptions& options;
  std::shared_ptr<policy::Admission> admission;  // the same policy as HTTP's
  App& app;  // App::Post runs work on the shared worker pool
};

// A transport beside HTTP (the KServe gRPC server). Shutdown stops taking calls and waits
// for the ones in flight; Serve calls it once, after the HTTP server has drained.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void Shutdown() = 0;
};
using TransportFactory = std::function<StatusOr<std::unique_ptr<Transport>>(const ServeContext&)>;

// `load` runs on a background thread once the server listens (so /livez answers and /readyz
// says 503 while models load); when it returns false there is nothing to serve, and Serve
// stops as on SIGTERM and returns 1. Each of `transports` is started after the HTTP server
// binds; a failure to start one stops Serve with exit code 1. Returns the process exit code.
int Serve(ServiceDef service, ServeOptions options, std::function<bool()> load = {},
          std::vector<TransportFactory> transports = {});

}  // namespace bento::serving

#endif  // BENTO_SERVING_SERVE_H_
