// Internal: one served model of a ModelService (model_service.cc and model_service_kserve.cc).
#ifndef BENTO_SERVING_MODEL_ENTRY_H_
#define BENTO_SERVING_MODEL_ENTRY_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include "batching/dispatcher.h"
#include "bento/onnx.h"
#include "serving/model_service.h"

namespace bento::serving {

// Inference counters for /v2/models/{m}/stats, as the Open Inference Protocol's statistics
// extension reports them. Lock-free; updated by every /run and /v2 inference.
struct InferStats {
  struct Duration {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> ns{0};
    void Add(uint64_t n) {
      count.fetch_add(1, std::memory_order_relaxed);
      ns.fetch_add(n, std::memory_order_relaxed);
    }
  };
  Duration success, fail, compute_input, compute_infer, compute_output;
  // Items inferred by successful requests: the batch dimension's size for a model with a
  // batchable signature, else 1 per request (Triton's inference_count).
  std::atomic<uint64_t> items{0};
  std::atomic<uint64_t> last_inference_ms{0};
};

// Times one inference into InferStats: compute_input until InputDone, compute_infer until
// InferDone, compute_output until Succeed; Fail counts the whole request as failed.
class InferTimer {
 public:
  explicit InferTimer(InferStats& stats) : stats_(&stats), start_(Now()), mark_(start_) {}
  void InputDone() { stats_->compute_input.Add(Lap()); }
  void InferDone() { stats_->compute_infer.Add(Lap()); }
  void Succeed(uint64_t items) {
    stats_->items.fetch_add(items, std::memory_order_relaxed);
    stats_->compute_output.Add(Lap());
    stats_->success.Add(mark_ - start_);
    stats_->last_inference_ms.store(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count()),
        std::memory_order_relaxed);
  }
  Status Fail(Status status) {
    stats_->fail.Add(Now() - start_);
    return status;
  }

 private:
  static uint64_t Now() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now().time_since_epoch())
                                     .count());
  }
  uint64_t Lap() {
    uint64_t now = Now(), lap = now - mark_;
    mark_ = now;
    return lap;
  }
  InferStats* stats_;
  uint64_t start_, mark_;
};

struct ModelService::Entry {
  // The items in one request's inputs, for InferStats::items. REQUIRES: inputs passed
  // CheckInputs.
  uint64_t Items(const std::map<std::string, Tensor>& inputs) const {
    auto signature = model.info.signatures.find("run");
    if (signature == model.info.signatures.end() || !signature->second.batchable) return 1;
    const auto& shape = inputs.begin()->second.shape();
    size_t dim = static_cast<size_t>(signature->second.batch_dim.first);
    return dim < shape.size() ? static_cast<uint64_t>(shape[dim]) : 1;
  }

  mutable InferStats stats;
  onnx::Model model;
  std::optional<onnx::Session> session;  // set once, before `loaded` turns true
  std::unique_ptr<batching::Dispatcher> batcher;  // batchable models; set before `loaded`
  std::atomic<bool> loaded{false};
  Status load_status = UnavailableError("model is still loading");  // guarded by `loaded`
};

}  // namespace bento::serving

#endif  // BENTO_SERVING_MODEL_ENTRY_H_
