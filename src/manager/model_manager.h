// ModelManager: the stored models a server serves, with no HTTP in it. It resolves tags in
// the store, loads each model's ONNX Runtime session (with its adaptive batcher when the
// model's `run` signature is batchable), tells whether they are ready, runs validated inputs
// through a session or a batcher, and keeps each model's inference statistics. Every
// transport's routes (no-code /run, KServe v2 over HTTP and gRPC) sit on top of it.
//
//   auto manager = ModelManager::Create({"clf:latest"}, options);  // resolves tags
//   (*manager)->LoadAll();                                         // loads sessions
//   const ServedModel* m = (*manager)->Find("clf");
//   RETURN_IF_ERROR(m->Serving());
//   RETURN_IF_ERROR(m->CheckInputs(inputs));
//   m->Infer(std::move(inputs), [](StatusOr<std::vector<Tensor>> outputs) { ... });
//
// A model that fails to load keeps answering UNAVAILABLE with the reason, while the other
// models serve.
//
// Ownership: the manager owns its ServedModels; pointers to them stay valid as long as the
// manager lives. Thread-safety: after Create, every method may be called from any thread;
// LoadAll is called once, and publishes each session once (ServedModel::loaded_ is the
// release/acquire flag that orders it).
#ifndef BENTO_MANAGER_MODEL_MANAGER_H_
#define BENTO_MANAGER_MODEL_MANAGER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batching/dispatcher.h"
#include "bento/onnx.h"
#include "manager/infer_stats.h"

namespace bento::manager {

struct ManagerOptions {
  std::vector<onnx::Provider> providers = {"CPUExecutionProvider"};
  onnx::SessionOptions session_options;
  // Adaptive batching for models whose `run` signature is batchable (model.yaml); batch_dim
  // comes from the signature. Non-batchable models run one request per call.
  bool batching = true;
  int max_batch_size = 32;
  double max_latency_ms = 100;
  int max_inflight_batches = 2;
};

// One served model.
class ServedModel {
 public:
  const onnx::Model& model() const { return model_; }
  const std::string& name() const { return model_.tag.name; }
  const std::string& version() const { return model_.tag.version; }

  // OK when loaded; UNAVAILABLE while loading, or after a failed load (with the reason).
  Status Serving() const;
  // REQUIRES: Serving().ok().
  const onnx::Session& session() const { return *session_; }

  // ValidateInputs (bento/validation.h) against this model's inputs. REQUIRES: Serving().ok().
  Status CheckInputs(const std::map<std::string, Tensor>& inputs) const;

  // The largest batch of items its requests are combined into along dimension 0 when its
  // signature is batchable there (KServe's max_batch_size); 0 otherwise.
  int max_batch_size() const;
  // The items in one request: the size of the signature's batch dimension of its first
  // input for a batchable model, else 1 (Triton's inference_count).
  // REQUIRES: CheckInputs(inputs).ok().
  uint64_t Items(const std::map<std::string, Tensor>& inputs) const;

  // Runs validated inputs, through the batcher when the model has one, and calls `done`
  // once with the outputs in the model's order, on this thread or a batcher's.
  // REQUIRES: Serving().ok() and CheckInputs(inputs).ok().
  void Infer(std::map<std::string, Tensor> inputs,
             std::function<void(StatusOr<std::vector<Tensor>>)> done) const;

  // Counters the request paths update through InferTimer.
  InferStats& stats() const { return stats_; }
  // The batcher's statistics; nullopt for an unbatched (or not yet loaded) model.
  std::optional<batching::BatcherStats> batcher_stats() const;

 private:
  friend class ModelManager;
  explicit ServedModel(onnx::Model model) : model_(std::move(model)) {}

  const onnx::Model model_;
  int batch_limit_ = 0;  // ManagerOptions::max_batch_size, for max_batch_size()
  mutable InferStats stats_;
  // Set once by LoadAll before loaded_ turns true; read only after loaded_ is seen true.
  std::optional<onnx::Session> session_;
  std::shared_ptr<batching::Dispatcher> batcher_;  // batchable models
  Status load_status_ = UnavailableError("model is still loading");
  std::atomic<bool> loaded_{false};
};

class ModelManager {
 public:
  // Resolves every tag in the store (no session yet). NOT_FOUND for an unknown tag,
  // INVALID_ARGUMENT for no tag or two tags with the same model name.
  static StatusOr<std::unique_ptr<ModelManager>> Create(const std::vector<std::string>& tags,
                                                         ManagerOptions options);

  // Serves sessions already loaded (a C++ service's own, recorded by runtime::LoadScope):
  // each model serves at once, with its batcher when its signature is batchable. A later
  // session of a model name already adopted is skipped with a log line; no session is fine
  // (a service with no model). Call LoadAll on neither.
  static StatusOr<std::unique_ptr<ModelManager>> Adopt(const std::vector<onnx::Session>& sessions,
                                                        ManagerOptions options);

  // Loads every model's session; call once, from any thread. Returns the first failure (the
  // other models still load).
  Status LoadAll();
  // True when every model is loaded.
  bool ready() const;

  const std::vector<std::unique_ptr<ServedModel>>& models() const { return models_; }
  // The model called `name` (at `version`, when not empty); null when none.
  const ServedModel* Find(std::string_view name, std::string_view version = {}) const;

  const ManagerOptions& options() const { return options_; }

 private:
  explicit ModelManager(ManagerOptions options) : options_(std::move(options)) {}
  // Starts the model's batcher when its signature is batchable and batching is on.
  void StartBatcher(ServedModel& served);

  const ManagerOptions options_;
  std::vector<std::unique_ptr<ServedModel>> models_;
};

}  // namespace bento::manager

#endif  // BENTO_MANAGER_MODEL_MANAGER_H_
