// Dispatcher: runs a Batcher (batcher.h) for one batchable API on its own threads.
//
// One dispatcher thread applies the dispatch rule: it sleeps on a condition variable and is
// woken by Submit, by a finished batch, or at the Batcher's wake-up time (through the Clock,
// so no polling loop). Formed batches go to max_inflight_batches worker threads, which run
// the executor with no lock held and report back. Callbacks fire outside every lock: on the
// caller's thread for a rejected request, on the dispatcher thread for a shed one, on a
// worker thread otherwise.
//
// Ownership: the Dispatcher owns its Batcher and threads; the Clock must outlive it.
// The destructor (or Stop) drains gracefully: queued requests are sent without waiting,
// in-flight batches finish, and every callback has fired before it returns.
//
// Thread-safety: Submit, stats and Stop may be called from any thread. The executor is
// called from up to max_inflight_batches threads at once.
#ifndef BENTO_BATCHING_DISPATCHER_H_
#define BENTO_BATCHING_DISPATCHER_H_

#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "base/thread_annotations.h"
#include "batching/batcher.h"
#include "base/clock.h"

namespace bento::batching {

// Runs one formed batch: inputs concatenated along input_batch_dim, outputs expected with
// the batch's items along output_batch_dim. Exceptions become INTERNAL errors.
using Executor = std::function<StatusOr<TensorMap>(const TensorMap& inputs)>;

class Dispatcher {
 public:
  // INVALID_ARGUMENT for bad options or a null executor.
  static StatusOr<std::unique_ptr<Dispatcher>> Create(
      const BatchingOptions& options, Executor executor, Clock* clock = RealClock::Get(),
      const CostModel::Options& cost_options = CostModel::Options{});

  ~Dispatcher();  // Stop()
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Queues `request`; its callback fires exactly once, perhaps before Submit returns
  // (rejected: INVALID_ARGUMENT; after Stop: UNAVAILABLE).
  void Submit(Request request);

  // Drains (see above) and joins the threads. Idempotent.
  void Stop();

  BatcherStats stats() const;

 private:
  Dispatcher(const BatchingOptions& options, Executor executor, Clock* clock,
             const CostModel::Options& cost_options);
  void DispatchLoop();
  void WorkerLoop();

  const Executor executor_;
  Clock* const clock_;

  mutable Mutex mu_;
  Batcher batcher_ GUARDED_BY(mu_);
  std::deque<Batch> ready_ GUARDED_BY(mu_);  // formed, waiting for a worker
  bool stopping_ GUARDED_BY(mu_) = false;
  bool dispatch_done_ GUARDED_BY(mu_) = false;  // the dispatcher thread has drained
  CondVar dispatch_cv_;  // wakes the dispatcher: submit, completion, stop
  CondVar work_cv_;      // wakes workers: a ready batch, or done

  // Serialises Stop() callers, which join the threads; taken before mu_, and never held
  // with mu_ by anyone else. The constructor starts the threads before any Stop().
  Mutex stop_mu_ ACQUIRED_BEFORE(mu_);
  std::thread dispatcher_ GUARDED_BY(stop_mu_);
  std::vector<std::thread> workers_ GUARDED_BY(stop_mu_);
};

// The one way serving starts a batcher, for a batchable model as for a C++ service's
// BatchApi: a dispatcher for `what` ("model digits:v1", "API twice") with one log line saying
// batching is on and its limits, or a warning saying why it is off and null.
std::shared_ptr<Dispatcher> StartBatching(std::string_view what, const BatchingOptions& options,
                                          Executor executor);

// The default max_inflight_batches for an executor whose ONNX Runtime sessions run
// `intra_op_threads` threads each (0: one per available CPU, bento's default): as many batches
// as fit in the CPUs without two batches' thread pools sharing a core, at least 1. With the
// defaults that is one batch at a time: two batches at once on the same cores only take turns,
// and each keeps its own activations in ONNX Runtime's arena.
int InflightBatchesFor(int intra_op_threads);

}  // namespace bento::batching

#endif  // BENTO_BATCHING_DISPATCHER_H_
