// The Open Inference Protocol's (KServe v2) operations over a manager::ModelManager, shared by
// its HTTP routes (http_routes.h) and its gRPC server (grpc_server.h), so that both transports
// answer from one implementation: server and model metadata, readiness, Triton's statistics
// extension, and inference through each model's session or batcher.
//
// An empty version means the served one. NOT_FOUND for an unknown model or version.
//
// Ownership: the ModelManager must outlive the Protocol. Thread-safety: every method may be
// called from any thread.
#ifndef BENTO_KSERVE_PROTOCOL_H_
#define BENTO_KSERVE_PROTOCOL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bento/json.h"
#include "bento/status.h"
#include "bento/tensor.h"
#include "kserve/codec.h"
#include "kserve/shared_memory.h"
#include "manager/model_manager.h"

namespace bento::kserve {

// The server as the protocol describes it.
struct ServerMetadata {
  std::string name, version;
  std::vector<std::string> extensions;
};

// A served model as the protocol describes it.
struct ModelMetadata {
  std::string name, version;
  std::vector<std::string> versions;  // every version served now, newest first
  std::vector<TensorSpec> inputs, outputs;
  int max_batch_size = 0;  // > 0 when the model's requests are batched along dimension 0
  // Per input, Triton's configuration format: "FORMAT_NCHW" or "FORMAT_NHWC" as the model's
  // metadata says (InputFormats), else "FORMAT_NONE".
  std::vector<std::string> input_formats;
};

// The input formats that a model's metadata gives under "input_format": "NCHW" or "NHWC"
// (or Triton's "FORMAT_NCHW", "FORMAT_NHWC"; any case) for every input, or an object of
// those by input name. Inputs it does not name, and values it cannot read, are
// "FORMAT_NONE".
std::vector<std::string> InputFormats(const Json& metadata, const std::vector<TensorSpec>& inputs);

// Triton's per-model statistics: counts and cumulative nanoseconds. inference_count counts
// items inferred, execution_count model runs (batches, when batched); failures count only
// under `fail`.
struct ModelStatistics {
  struct Duration {
    uint64_t count = 0, ns = 0;
  };
  std::string name, version;
  uint64_t last_inference_ms = 0;  // Unix time of the last success, 0 if none
  uint64_t inference_count = 0, execution_count = 0;
  Duration success, fail, queue, compute_input, compute_infer, compute_output;
};

// One inference's answer: the outputs selected by the request, each marked binary or not.
struct InferResponse {
  std::string model_name, model_version, id;
  Json parameters;  // the request's, passed through
  std::vector<InferOutput> outputs;
};

// The platform every model reports, as Triton's ONNX Runtime backend does.
inline constexpr std::string_view kPlatform = "onnxruntime_onnx";

class Protocol {
 public:
  explicit Protocol(manager::ModelManager& models) : models_(models) {}

  static ServerMetadata Server();
  // The served models' names, in the order they were given.
  std::vector<std::string> Names() const;
  // A snapshot of the served model `name` (at `version`, an id or a label, when given);
  // NOT_FOUND in Triton's words, UNAVAILABLE while it is not serving.
  StatusOr<manager::ModelRef> Find(std::string_view name, std::string_view version = {}) const;
  // True when every model is loaded (the server's readiness).
  bool Ready() const { return models_.ready(); }
  StatusOr<ModelMetadata> Metadata(std::string_view name, std::string_view version) const;
  // OK when the model (version) serves, else UNAVAILABLE with the reason (or NOT_FOUND).
  Status ModelReady(std::string_view name, std::string_view version) const;
  // Statistics of each served version of one model, or of every model when `name` is empty.
  StatusOr<std::vector<ModelStatistics>> Statistics(std::string_view name,
                                                    std::string_view version) const;
  // Runs one inference: `parse` decodes the request (timed as compute_input), whose inputs in
  // shared memory are then read, and which is checked against the model's inputs and outputs
  // and run through its session or batcher; outputs asked for in shared memory are written
  // there. `done` is called exactly once, on this thread or a batcher thread.
  void Infer(std::string_view name, std::string_view version,
             const std::function<StatusOr<InferRequest>()>& parse,
             std::function<void(StatusOr<InferResponse>)> done) const;

  // Triton's model repository extension: the index of the store's models and their
  // versions' states, and explicit loads (with "version_policy" and "labels" parameters)
  // and unloads, whose `done` is called once on the manager's loader thread.
  StatusOr<std::vector<manager::IndexEntry>> RepositoryIndex(bool ready_only) const {
    return models_.Index(ready_only);
  }
  void RepositoryLoad(std::string name, std::map<std::string, std::string> parameters,
                      std::function<void(Status)> done) const {
    models_.Load(std::move(name), std::move(parameters), std::move(done));
  }
  void RepositoryUnload(std::string name, std::function<void(Status)> done) const {
    models_.Unload(std::move(name), std::move(done));
  }

  // The registered system shared-memory regions, which both transports manage.
  SharedMemory& shared_memory() const { return shared_memory_; }

 private:
  manager::ModelManager& models_;
  mutable SharedMemory shared_memory_;  // synchronised inside
};

}  // namespace bento::kserve

#endif  // BENTO_KSERVE_PROTOCOL_H_
