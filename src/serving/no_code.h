// No-code serving: the routes that serve a manager::ModelManager's stored models by tag, with
// no user code.
//
// Every model answers at POST /<model-name>/run; when exactly one model is served it also
// answers at POST /run (BentoML's signature name). The body is a JSON object keyed by the
// model's input names, each a nested list cast to the input's dtype; the answer is a JSON
// object of the outputs by name. A model with a batchable `run` signature goes through its
// adaptive batcher (each request is validated alone first, so a bad request fails alone), and
// /metrics then shows bentoml_service_adaptive_batch_size and the batcher's queue wait, shed
// count and batches in flight.
//
// The same models answer the Open Inference Protocol through src/kserve, whose routes the
// caller adds to this ServiceDef.
//
// Thread-safety: the handlers may run on many threads at once. Ownership: the ModelManager
// must outlive the ServiceDef.
#ifndef BENTO_SERVING_NO_CODE_H_
#define BENTO_SERVING_NO_CODE_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bento/onnx.h"
#include "manager/model_manager.h"
#include "serving/service_def.h"

namespace bento::serving {

// The /run routes, readiness and batcher metrics of `models`.
ServiceDef NoCodeService(const manager::ModelManager& models);

// Makes `def` serve `models`' metrics: its queue metrics are labelled with their names, and
// their batchers' metrics (series "<model>.run") are added to what it collects already.
// REQUIRES: `models` outlives `def`.
void AddModels(const manager::ModelManager& models, ServiceDef* def);

// Decodes a JSON object of input tensors (cast to each input's dtype) and checks each
// against the model's spec: a missing input, or a wrong dtype or shape, is INVALID_ARGUMENT.
StatusOr<std::map<std::string, Tensor>> DecodeInputs(const onnx::Session& session,
                                                     std::string_view body);
// The outputs (in model order) as a JSON object by name.
StatusOr<std::string> EncodeOutputs(const onnx::Session& session,
                                    const std::vector<Tensor>& outputs);
// Decodes a JSON object of input tensors, runs the session and encodes the outputs as a JSON
// object by name: the heart of POST /run and `bento run`.
StatusOr<std::string> RunJson(const onnx::Session& session, std::string_view body);

}  // namespace bento::serving

#endif  // BENTO_SERVING_NO_CODE_H_
