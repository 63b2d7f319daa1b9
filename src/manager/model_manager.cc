#include "manager/model_manager.h"

#include <spdlog/spdlog.h>

#include <set>

#include "bento/validation.h"

namespace bento::manager {

Status ServedModel::Serving() const {
  if (!loaded_.load(std::memory_order_acquire)) {
    return UnavailableError("model " + model_.tag.ToString() + " is still loading");
  }
  if (!session_) return load_status_;
  return OkStatus();
}

Status ServedModel::CheckInputs(const std::map<std::string, Tensor>& inputs) const {
  return ValidateInputs(inputs, session_->inputs());
}

int ServedModel::max_batch_size() const {
  auto signature = model_.info.signatures.find("run");
  bool batchable = signature != model_.info.signatures.end() && signature->second.batchable &&
                   signature->second.batch_dim.first == 0;
  return batchable ? batch_limit_ : 0;
}

uint64_t ServedModel::Items(const std::map<std::string, Tensor>& inputs) const {
  auto signature = model_.info.signatures.find("run");
  if (signature == model_.info.signatures.end() || !signature->second.batchable ||
      inputs.empty()) {
    return 1;
  }
  const auto& shape = inputs.begin()->second.shape();
  size_t dim = static_cast<size_t>(signature->second.batch_dim.first);
  return dim < shape.size() ? static_cast<uint64_t>(shape[dim]) : 1;
}

void ServedModel::Infer(std::map<std::string, Tensor> inputs,
                        std::function<void(StatusOr<std::vector<Tensor>>)> done) const {
  const onnx::Session& session = *session_;
  if (!batcher_) {
    done(session.Run(inputs));
    return;
  }
  // Batched: the request was validated alone; the batcher combines it with others.
  batching::Request batched;
  batched.inputs = std::move(inputs);
  batched.done = [&session, done = std::move(done)](StatusOr<batching::TensorMap> outputs) {
    if (!outputs.ok()) return done(outputs.status());
    std::vector<Tensor> ordered;
    for (const auto& spec : session.outputs()) ordered.push_back(outputs->at(spec.name));
    done(std::move(ordered));
  };
  batcher_->Submit(std::move(batched));
}

std::optional<batching::BatcherStats> ServedModel::batcher_stats() const {
  if (!loaded_.load(std::memory_order_acquire) || !batcher_) return std::nullopt;
  return batcher_->stats();
}

StatusOr<std::unique_ptr<ModelManager>> ModelManager::Create(const std::vector<std::string>& tags,
                                                             ManagerOptions options) {
  if (tags.empty()) return InvalidArgumentError("no model to serve: give at least one tag");
  std::unique_ptr<ModelManager> manager(new ModelManager(std::move(options)));
  std::set<std::string> names;
  for (const auto& tag : tags) {
    ASSIGN_OR_RETURN(onnx::Model model, onnx::get(tag));
    if (!names.insert(model.tag.name).second) {
      return InvalidArgumentError("model name '" + model.tag.name +
                                  "' is given twice; serve one version of each model");
    }
    std::unique_ptr<ServedModel> served(new ServedModel(std::move(model)));
    served->batch_limit_ = manager->options_.max_batch_size;
    manager->models_.push_back(std::move(served));
  }
  return manager;
}

StatusOr<std::unique_ptr<ModelManager>> ModelManager::Adopt(
    const std::vector<onnx::Session>& sessions, ManagerOptions options) {
  std::unique_ptr<ModelManager> manager(new ModelManager(std::move(options)));
  for (const auto& session : sessions) {
    if (manager->Find(session.tag().name) != nullptr) {
      spdlog::info("model {} is loaded twice; its first session serves the KServe protocol",
                   session.tag().ToString());
      continue;
    }
    ASSIGN_OR_RETURN(onnx::Model model, onnx::get(session.tag().ToString()));
    std::unique_ptr<ServedModel> served(new ServedModel(std::move(model)));
    served->batch_limit_ = manager->options_.max_batch_size;
    served->session_ = session;
    served->load_status_ = OkStatus();
    manager->StartBatcher(*served);
    served->loaded_.store(true, std::memory_order_release);
    manager->models_.push_back(std::move(served));
  }
  return manager;
}

void ModelManager::StartBatcher(ServedModel& served) {
  auto signature = served.model_.info.signatures.find("run");
  if (!options_.batching || signature == served.model_.info.signatures.end() ||
      !signature->second.batchable) {
    return;
  }
  batching::BatchingOptions batching;
  batching.max_batch_size = options_.max_batch_size;
  batching.max_latency_ms = options_.max_latency_ms;
  batching.max_inflight_batches = options_.max_inflight_batches;
  batching.input_batch_dim = signature->second.batch_dim.first;
  batching.output_batch_dim = signature->second.batch_dim.second;
  const onnx::Session* session = &*served.session_;
  served.batcher_ = batching::StartBatching(
      "model " + served.model_.tag.ToString(), batching,
      [session](const batching::TensorMap& inputs) -> StatusOr<batching::TensorMap> {
        ASSIGN_OR_RETURN(auto outputs, session->Run(inputs));
        batching::TensorMap named;
        for (size_t i = 0; i < outputs.size(); ++i) {
          named.emplace(session->outputs()[i].name, std::move(outputs[i]));
        }
        return named;
      });
}

Status ModelManager::LoadAll() {
  Status first;
  for (auto& served : models_) {
    auto session = onnx::load_model(served->model_, options_.providers, options_.session_options);
    if (session.ok()) {
      served->session_ = std::move(*session);
      served->load_status_ = OkStatus();
      StartBatcher(*served);
    } else {
      spdlog::error("model {} failed to load: {}", served->model_.tag.ToString(),
                    session.status().ToString());
      served->load_status_ = UnavailableError("model " + served->model_.tag.ToString() +
                                              " is not available: " + session.status().message());
      if (first.ok()) first = session.status();
    }
    served->loaded_.store(true, std::memory_order_release);
  }
  return first;
}

bool ModelManager::ready() const {
  for (const auto& served : models_) {
    if (!served->Serving().ok()) return false;
  }
  return true;
}

const ServedModel* ModelManager::Find(std::string_view name, std::string_view version) const {
  for (const auto& served : models_) {
    if (served->name() == name && (version.empty() || served->version() == version)) {
      return served.get();
    }
  }
  return nullptr;
}

}  // namespace bento::manager
