#include "batching/dispatcher.h"

#include <exception>
#include <utility>

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
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      if (request.done) {
        rejected.push_back(
            {std::move(request.done), UnavailableError("the batcher is shutting down")});
      }
    } else {
      rejected = batcher_.Submit(std::move(request), clock_->Now());
      if (rejected.empty()) dispatch_cv_.notify_one();
    }
  }
  FireAll(rejected);
}

void Dispatcher::Stop() {
  std::lock_guard<std::mutex> serial(stop_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dispatch_cv_.notify_all();
  }
  if (dispatcher_.joinable()) dispatcher_.join();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

BatcherStats Dispatcher::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batcher_.stats(clock_->Now());
}

void Dispatcher::DispatchLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!(stopping_ && batcher_.idle())) {
    PollResult poll = batcher_.Poll(clock_->Now(), /*flush=*/stopping_);
    for (Batch& batch : poll.batches) ready_.push_back(std::move(batch));
    if (!poll.batches.empty()) work_cv_.notify_all();
    if (!poll.completions.empty()) {
      lock.unlock();
      FireAll(poll.completions);
      lock.lock();
      continue;  // the state may have changed meanwhile: poll again before sleeping
    }
    // mu_ is held from Poll until the wait releases it, so no wake-up can be missed.
    if (poll.wake_at) {
      clock_->WaitUntil(lock, dispatch_cv_, *poll.wake_at);
    } else {
      dispatch_cv_.wait(lock);
    }
  }
  dispatch_done_ = true;
  work_cv_.notify_all();
}

void Dispatcher::WorkerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return !ready_.empty() || dispatch_done_; });
    if (ready_.empty()) return;  // dispatch_done_, and nothing left to run
    Batch batch = std::move(ready_.front());
    ready_.pop_front();
    lock.unlock();

    StatusOr<TensorMap> outputs = InternalError("executor returned nothing");
    try {
      outputs = executor_(batch.inputs);
    } catch (const std::exception& e) {
      outputs = InternalError(std::string("executor threw: ") + e.what());
    } catch (...) {
      outputs = InternalError("executor threw a non-standard exception");
    }
    batch.inputs.clear();

    lock.lock();
    Completions done = batcher_.Complete(batch.id, std::move(outputs), clock_->Now());
    dispatch_cv_.notify_one();
    lock.unlock();
    FireAll(done);
    lock.lock();
  }
}

}  // namespace bento::batching
