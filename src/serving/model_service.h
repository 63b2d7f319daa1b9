// No-code serving: a ServiceDef that serves stored models by tag, with no user code.
//
// Routes: every model answers at POST /<model-name>/run; when exactly one model is served it
// also answers at POST /run (BentoML's signature name). The body is a JSON object keyed by
// the model's input names, each a nested list cast to the input's dtype; the answer is a
// JSON object of the outputs by name.
//
// A model whose `run` signature is batchable goes through an adaptive batcher
// (src/batching): concurrent requests are concatenated along batch_dim into one ONNX Runtime
// call and the outputs split back. Each request is validated alone first, so a bad request
// fails alone. /metrics then shows bentoml_service_adaptive_batch_size and the batcher's
// queue wait, shed count and batches in flight.
//
// The same models also answer the Open Inference Protocol (KServe v2) over HTTP under /v2:
// GET /v2, /v2/health/live, /v2/health/ready, /v2/models/{m}[/versions/{v}][/ready],
// /v2/models/{m}/config, and POST /v2/models/{m}[/versions/{v}]/infer with JSON or Triton's
// binary tensor extension. Inference there goes through the same batcher.
//
// Models load in the background once serving starts: /readyz answers 503 and the APIs answer
// 503 "model not loaded" until then. A model that fails to load keeps answering 503 with
// the reason, while the other models serve.
//
// Thread-safety: the handlers are safe to call from many threads; loading publishes each
// session once with release/acquire ordering.
#ifndef BENTO_SERVING_MODEL_SERVICE_H_
#define BENTO_SERVING_MODEL_SERVICE_H_

#include <memory>
#include <string>
#include <vector>

#include "bento/onnx.h"
#include "serving/service_def.h"
#include "tensor/kserve_codec.h"

namespace bento::serving {

struct ModelServiceOptions {
  std::vector<onnx::Provider> providers = {"CPUExecutionProvider"};
  onnx::SessionOptions session_options;
  // Adaptive batching for models whose `run` signature is batchable (model.yaml); batch_dim
  // comes from the signature. Non-batchable models run one request per call.
  bool batching = true;
  int max_batch_size = 32;
  double max_latency_ms = 100;
  int max_inflight_batches = 2;
};

// The server as the Open Inference Protocol describes it.
struct KServeServer {
  std::string name, version;
  std::vector<std::string> extensions;
};

// A served model as the Open Inference Protocol describes it.
struct KServeModel {
  std::string name, version;
  std::vector<TensorSpec> inputs, outputs;
  int max_batch_size = 0;  // > 0 when the model's requests are batched along dimension 0
};

// Triton's per-model statistics: counts and cumulative nanoseconds.
struct KServeStatistics {
  struct Duration {
    uint64_t count = 0, ns = 0;
  };
  std::string name, version;
  uint64_t last_inference_ms = 0;  // Unix time of the last success, 0 if none
  uint64_t inference_count = 0, execution_count = 0;
  Duration success, fail, queue, compute_input, compute_infer, compute_output;
};

// One inference's answer: the outputs selected by the request, each marked binary or not.
struct KServeResponse {
  std::string model_name, model_version, id;
  Json parameters;  // the request's, passed through
  std::vector<kserve::InferOutput> outputs;
};

// Decodes a JSON object of input tensors (cast to each input's dtype) and checks each
// against the model's spec: a missing input, or a wrong dtype or shape, is INVALID_ARGUMENT.
StatusOr<std::map<std::string, Tensor>> DecodeInputs(const onnx::Session& session,
                                                     std::string_view body);
// OK when `inputs` are exactly the model's inputs, each fitting its spec.
Status CheckInputs(const onnx::Session& session, const std::map<std::string, Tensor>& inputs);
// The outputs (in model order) as a JSON object by name.
StatusOr<std::string> EncodeOutputs(const onnx::Session& session,
                                    const std::vector<Tensor>& outputs);

// Decodes a JSON object of input tensors (cast to each input's dtype), runs the session and
// encodes the outputs as a JSON object by name. The heart of POST /run and `bento run`.
StatusOr<std::string> RunJson(const onnx::Session& session, std::string_view body);

class ModelService {
 public:
  // Resolves every tag in the store (no session yet). NOT_FOUND for an unknown tag,
  // INVALID_ARGUMENT for two tags with the same model name.
  static StatusOr<std::unique_ptr<ModelService>> Create(const std::vector<std::string>& tags,
                                                         ModelServiceOptions options);
  ~ModelService();

  // The service to serve. Valid as long as this object lives.
  ServiceDef Definition();
  // Loads every model's session; call once, from any thread. Returns the first failure (the
  // other models still load).
  Status LoadAll();
  bool ready() const;

  // The Open Inference Protocol's operations, shared by the HTTP routes under /v2
  // (model_service_kserve.cc) and the gRPC service (src/grpc). An empty version means the
  // served one. NOT_FOUND for an unknown model or version.
  static KServeServer KServeServerMetadata();
  StatusOr<KServeModel> KServeMetadata(std::string_view name, std::string_view version) const;
  // OK when the model is loaded, else UNAVAILABLE with the reason (or NOT_FOUND).
  Status KServeReady(std::string_view name, std::string_view version) const;
  // Statistics of one model, or of every model when `name` is empty.
  StatusOr<std::vector<KServeStatistics>> KServeStats(std::string_view name,
                                                      std::string_view version) const;
  // Runs one inference: `parse` decodes the request (timed as compute_input), which is then
  // checked against the model's inputs and outputs and run through the model's batcher.
  // `done` is called exactly once, on this thread or a batcher thread.
  void KServeInfer(std::string_view name, std::string_view version,
                   const std::function<StatusOr<kserve::InferRequest>()>& parse,
                   std::function<void(StatusOr<KServeResponse>)> done) const;

 private:
  struct Entry;
  explicit ModelService(ModelServiceOptions options);
  // OK when the model is loaded; UNAVAILABLE (503) while loading or after a failed load.
  Status CheckServing(const Entry& entry) const;
  // Runs validated inputs, through the batcher when the model has one; `done` gets the
  // outputs in model order.
  void Infer(const Entry& entry, std::map<std::string, Tensor> inputs,
             std::function<void(StatusOr<std::vector<Tensor>>)> done) const;
  void Run(const Entry& entry, const http::HttpRequest& request, ReplyCallback done) const;
  // The Open Inference Protocol (KServe v2) under /v2 (model_service_kserve.cc).
  void KServe(const http::HttpRequest& request, ReplyCallback done) const;
  void KServeHttpInfer(const http::HttpRequest& request, std::string_view name,
                       std::string_view version, ReplyCallback done) const;
  const Entry* FindEntry(std::string_view name, std::string_view version) const;
  std::string BatchMetrics(const std::string& service_name, const std::string& version) const;

  ModelServiceOptions options_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace bento::serving

#endif  // BENTO_SERVING_MODEL_SERVICE_H_
