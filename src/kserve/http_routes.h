// The Open Inference Protocol (KServe v2) over HTTP, as ordinary serving routes:
//
//   GET  /v2                                          server metadata
//   GET  /v2/health/live, /v2/health/ready            health
//   GET  /v2/models/{model}[/versions/{version}]      model metadata
//   GET  .../ready, .../config, .../stats             readiness, Triton's config, statistics
//   POST .../infer                                    inference: JSON tensors, or Triton's
//                                                     binary tensor extension
//
// Errors are the protocol's bare {"error": "..."}. Every route answers from one Protocol, as
// the gRPC server does.
//
// Ownership: the Protocol must outlive the routes' handlers. Thread-safety: the handlers may
// run on many threads at once.
#ifndef BENTO_KSERVE_HTTP_ROUTES_H_
#define BENTO_KSERVE_HTTP_ROUTES_H_

#include <vector>

#include "kserve/protocol.h"
#include "serving/service_def.h"

namespace bento::kserve {

std::vector<serving::ApiDef> HttpRoutes(const Protocol& protocol);

}  // namespace bento::kserve

#endif  // BENTO_KSERVE_HTTP_ROUTES_H_
