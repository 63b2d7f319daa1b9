// KServe's v1 protocol (TF Serving's row format), so that an InferenceService without
// `protocolVersion: v2` works too:
//
//   GET  /v1/models                    {"models": [names]}
//   GET  /v1/models/{model}            {"name": m, "ready": true|false}
//   POST /v1/models/{model}:predict    {"instances": [row, ...]} or {"inputs": ...}
//                                      → {"predictions": [...]}
//
// Instances are rows of the batch: for a model with one input, each is that input's row; for
// several inputs, each is an object by input name. "inputs" is the columnar form: an object
// by input name, or the one input's whole value. Predictions are the output's rows for one
// output, and objects by output name per row for several. Errors are {"error": "..."}.
//
// Ownership: the Protocol must outlive the handlers; they may run on many threads at once.
#ifndef BENTO_KSERVE_V1_ROUTES_H_
#define BENTO_KSERVE_V1_ROUTES_H_

#include <vector>

#include "kserve/protocol.h"
#include "serving/service_def.h"

namespace bento::kserve {

std::vector<serving::ApiDef> V1Routes(const Protocol& protocol);

}  // namespace bento::kserve

#endif  // BENTO_KSERVE_V1_ROUTES_H_
