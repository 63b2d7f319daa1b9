// Serve: runs a ServiceDef on an HTTP server until SIGTERM or SIGINT, then stops accepting,
// finishes the requests in flight and returns 0. Shared by `bento serve` and the executables
// that bento_add_service() builds, so both take the same flags (cli/serve_flags.h).
#ifndef BENTO_SERVING_SERVE_H_
#define BENTO_SERVING_SERVE_H_

#include <functional>

#include "http/server.h"
#include "serving/app.h"
#include "serving/service_def.h"

namespace bento::serving {

struct ServeOptions {
  http::ServerOptions http;
  AppOptions app;
};

// `load` runs on a background thread once the server listens (so /livez answers and /readyz
// says 503 while models load). Returns the process exit code.
int Serve(ServiceDef service, const ServeOptions& options, std::function<void()> load = {});

}  // namespace bento::serving

#endif  // BENTO_SERVING_SERVE_H_
