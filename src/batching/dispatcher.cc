#include "batching/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "base/cpu.h"

namespace bento::batching {

StatusOr<std::unique_ptr<Dispatcher>> Dispatcher::Create(const BatchingOptions& options,
                                                         Executor executor, Clock* clock,
                                                         const CostModel::Options& cost_options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  if (!executor) return InvalidArgumentError("Dispatcher needs an executor");
  if (!clock) return InvalidArgumentError("Dispatcher needs a clock");
  return std::unique_ptr<Dispatcher>(
      new Dispatcher(options, std::move(executor), clock, cost_options));
}

std::shared_ptr<Dispatcher> StartBatching(std::string_view what, const BatchingOptions& options,
                                          Executor executor) {
  auto dispatcher = Dispatcher::Create(options, std::move(executor));
  if (!dispatcher.ok()) {
    spdlog::warn("{}: batching off: {}", what, dispatcher.status().message());
    return nullptr;
  }
  spdlog::info("{}: adaptive batching on (max_batch_size={}, max_latency_ms={}, "
               "max_inflight_batches={})",
               what, options.max_batch_size, options.max_latency_ms, options.max_inflight_batches);
  return std::move(*dispatcher);
}

int InflightBatchesFor(int intra_op_threads) {
  const int cpus = AvailableCpus();
  const int threads = intra_op_threads > 0 ? intra_op_threads : cpus;
  return std::max(1, cpus / threads);
}

Dispatcher::Dispatcher(const BatchingOptions& options, Executor executor, Clock* clock,
                       const CostModel::Options& cost_options)
    : executor_(std::move(executor)), clock_(clock), batcher_(options, cost_options) {
  dispatcher_ = std::thread([this] { DispatchLoop(); });
  for (int i = 0; i < options.max_inflight_batches; ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Submit(Request request) {
  Completions rejected;
  {
    MutexLock lock(mu_);
    if (stopping_) {
      if (request.done) {
        rejected.push_back(
            {std::move(request.done), UnavailableError("the batcher is shutting down")});
      }
    } else {
      rejected = batcher_.Submit(std::move(request), clock_->Now());
      if (rejected.empty()) dispatch_cv_.NotifyOne();
    }
  }
  FireAll(rejected);
}

void Dispatcher::Stop() {
  MutexLock serial(stop_mu_);
  {
    MutexLock lock(mu_);
    stopping_ = true;
    dispatch_cv_.NotifyAll();
  }
  if (dispatcher_.joinable()) dispatcher_.join();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

BatcherStats Dispatcher::stats() const {
  MutexLock lock(mu_);
  return batcher_.stats(clock_->Now());
}

// Both loops hold mu_ except around callbacks and the executor, so they take and release it
// by hand rather than with a MutexLock; the analysis checks that every path balances them.
void Dispatcher::DispatchLoop() {
  mu_.Lock();
  while (!(stopping_ && batcher_.idle())) {
    PollResult poll = batcher_.Poll(clock_->Now(), /*flush=*/stopping_);
    for (Batch& batch : poll.batches) ready_.push_back(std::move(batch));
    if (!poll.batches.empty()) work_cv_.NotifyAll();
    if (!poll.completions.empty()) {
      mu_.Unlock();
      FireAll(poll.completions);
      mu_.Lock();
      continue;  // the state may have changed meanwhile: poll again before sleeping
    }
    // mu_ is held from Poll until the wait releases it, so no wake-up can be missed.
    if (poll.wake_at) {
      clock_->WaitUntil(mu_, dispatch_cv_, *poll.wake_at);
    } else {
      dispatch_cv_.Wait(mu_);
    }
  }
  dispatch_done_ = true;
  work_cv_.NotifyAll();
  mu_.Unlock();
}

void Dispatcher::WorkerLoop() {
  mu_.Lock();
  while (true) {
    while (ready_.empty() && !dispatch_done_) work_cv_.Wait(mu_);
    if (ready_.empty()) break;  // dispatch_done_, and nothing left to run
    Batch batch = std::move(ready_.front());
    ready_.pop_front();
    mu_.Unlock();

    StatusOr<TensorMap> outputs = InternalError("executor returned nothing");
    try {
      outputs = executor_(batch.inputs);
    } catch (const std::exception& e) {
      outputs = InternalError(std::string("executor threw: ") + e.what());
    } catch (...) {
      outputs = InternalError("executor threw a non-standard exception");
    }
    batch.inputs.clear();

    mu_.Lock();
    Completions done = batcher_.Complete(batch.id, std::move(outputs), clock_->Now());
    dispatch_cv_.NotifyOne();
    mu_.Unlock();
    FireAll(done);
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace bento::batching
