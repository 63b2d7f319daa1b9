// Inference statistics of one served model, as the Open Inference Protocol's statistics
// extension reports them, and the timer that request paths update them with. Lock-free.
#ifndef BENTO_MANAGER_INFER_STATS_H_
#define BENTO_MANAGER_INFER_STATS_H_

#include <atomic>
#include <chrono>
#include <cstdint>

#include "bento/status.h"

namespace bento::manager {

// Inference counters for /v2/models/{m}/stats, as the Open Inference Protocol's statistics
// extension reports them; updated by every /run and /v2 inference.
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

}  // namespace bento::manager

#endif  // BENTO_MANAGER_INFER_STATS_H_
