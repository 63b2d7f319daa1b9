// Batcher: the adaptive batching policy of one batchable API, as a single-threaded state
// machine. It queues requests, forms batches, decides when to send them, sheds requests that
// cannot meet their deadline and splits each batch's outputs back to its requests.
//
// It does no I/O, owns no thread and never reads a clock: the caller passes `now` to every
// call and runs what it is handed back. Tests drive it step by step on simulated time;
// Dispatcher (dispatcher.h) runs it on a thread with a real clock.
//
//   Submit(request, now)       queue a request (or reject it: the returned Completion).
//   Poll(now)                  -> batches to run now, completions to fire (shed requests),
//                                 and when to Poll again if nothing else happens.
//   Complete(id, outputs, now) a batch finished -> completions to fire.
//
// Completions are returned, never fired inside the Batcher, so that a caller holding a lock
// around the Batcher can release it before running user callbacks. Every request's
// callback is handed back exactly once: with its outputs, or an error.
//
// Dispatch rule (per shape group; see concat.h's ShapeKey: requests of different shapes or
// dtypes never share a batch). q = queued items of the group, D = deadline of its oldest
// request (arrival + max_latency_ms), cost(n) = a·n + b from CostModel, λ = arrival rate in
// items/s (m / gap: m = mean items per request, gap = max(mean gap between requests, time
// since the last one), both exponentially weighted; λ = 0 until two requests have come):
//
//   1. Shed: while now + cost(k) > D, with k = min(r, max_batch_size) and r the oldest
//      request's unsent items (the cheapest batch that could carry it), fail it with
//      UNAVAILABLE. Only waiting sheds: if cost(k) > max_latency_ms the request could not
//      have made it even unqueued (a budget below the model's cost, or a cold estimate), so
//      it is sent anyway; shedding it would starve the cost model of the samples it needs.
//   2. Never more than max_inflight_batches in flight: otherwise hold, and wake at the
//      oldest request's shed time (or at a completion).
//   3. Send at once when q >= max_batch_size.
//   4. Send at once unless waiting pays: λ·cost(q) > q, i.e. during the run of a batch of q
//      items more than q items arrive, so batches of q could not keep up and a bigger batch
//      saves executor time. At low traffic (λ·cost(q) <= q) a lone request is sent at once.
//   5. Send once waiting for the next expected request would miss D:
//      now + gap + cost(min(q + m, max_batch_size)) >= D   (gap = m/λ).
//   Otherwise wait; wake_at is the first instant at which 4 or 5 turns to "send".
// A batch takes the group's oldest requests first, at most max_batch_size items, and no more
// than the oldest request can afford: n with now + cost(n) <= D (but at least its own next
// part). A request with more items than the room left is split along the batch dim: its
// remaining items go into later batches, and its callback fires once, with outputs
// concatenated in order, when all its parts are done (or with the first error).
//
// Failure isolation: a request whose own input is bad (no inputs, rank <= batch dim, inputs
// disagreeing on the batch size, data not matching its shape) is rejected at Submit with
// INVALID_ARGUMENT; one with a different set of inputs or shapes forms its own group, so its
// failure in the executor reaches no one else. A request can still pass every check and
// fail inside the model (a value out of an embedding's range, say). So when a batch of
// several requests fails in the executor, each of its requests' parts is run again alone,
// ahead of everything queued (within max_inflight_batches): only a request that fails
// alone gets the error, and its neighbours get their answers. A batch of one request fails
// it at once.
//
// Thread-safety: not thread-safe; the caller serialises every call.
#ifndef BENTO_BATCHING_BATCHER_H_
#define BENTO_BATCHING_BATCHER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "batching/concat.h"
#include "batching/cost_model.h"
#include "batching/stats.h"
#include "bento/status.h"

namespace bento::batching {

struct BatchingOptions {
  int max_batch_size = 32;      // items per batch (not requests)
  // A request's deadline: queue wait + execution. 60 s, as BentoML's default and bento's
  // request timeout: under a load the server can carry nothing is shed; a tighter budget is
  // an operator's choice (--max-latency-ms), for clients that would rather retry.
  double max_latency_ms = 60000;
  int input_batch_dim = 0;      // inputs are concatenated along this dim
  int output_batch_dim = 0;     // outputs are split along this dim
  int max_inflight_batches = 2;
};

// INVALID_ARGUMENT naming the bad field: sizes and latency must be positive, dims >= 0.
Status ValidateOptions(const BatchingOptions& options);

// Receives a request's own slice of the batch outputs, or its error. Must not throw.
using DoneCallback = std::function<void(StatusOr<TensorMap>)>;

struct Request {
  TensorMap inputs;  // each carries the request's N items along input_batch_dim
  DoneCallback done;
  // When the request arrived (its deadline counts from here); unset: the Submit time.
  std::optional<Clock::TimePoint> arrival;
};

// A callback with its result, to be fired by the caller outside any lock.
struct Completion {
  DoneCallback done;
  StatusOr<TensorMap> result;
  void Fire() { done(std::move(result)); }
};
using Completions = std::vector<Completion>;
inline void FireAll(Completions& completions) {
  for (Completion& c : completions) c.Fire();
  completions.clear();
}

// A formed batch, to be run by the executor and reported back with Complete(id, ...).
struct Batch {
  uint64_t id = 0;
  int64_t size = 0;  // items along input_batch_dim
  TensorMap inputs;
};

struct PollResult {
  std::vector<Batch> batches;  // run these now
  Completions completions;     // shed requests
  // Poll again at this time even if nothing is submitted or completed; nullopt: only then.
  std::optional<Clock::TimePoint> wake_at;
};

class Batcher {
 public:
  // REQUIRES: ValidateOptions(options).ok() (out-of-range values are clamped).
  explicit Batcher(const BatchingOptions& options,
                   const CostModel::Options& cost_options = CostModel::Options{});
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues `request`, or returns its rejection (INVALID_ARGUMENT) as one Completion.
  Completions Submit(Request request, Clock::TimePoint now);

  // Applies the dispatch rule at `now`. With `flush`, nothing waits (rules 4 and 5 are
  // skipped): for draining at shutdown.
  PollResult Poll(Clock::TimePoint now, bool flush = false);

  // Reports that batch `batch_id` finished at `now` with `outputs` (each output must carry
  // the batch's items along output_batch_dim) or an error. Unknown ids are ignored.
  Completions Complete(uint64_t batch_id, StatusOr<TensorMap> outputs, Clock::TimePoint now);

  // True when nothing is queued and no batch is in flight.
  bool idle() const;
  int inflight_batches() const { return static_cast<int>(inflight_.size()); }
  BatcherStats stats(Clock::TimePoint now) const;
  const CostModel& cost_model() const { return cost_; }
  const BatchingOptions& options() const { return options_; }

 private:
  struct RequestState;
  struct Group;
  struct Part {
    std::shared_ptr<RequestState> request;
    int64_t offset;        // first item of the request in this part
    int64_t count;         // items
    int64_t batch_offset;  // where they sit in the batch
  };
  struct InFlight {
    Clock::TimePoint start;
    int64_t size = 0;
    std::vector<Part> parts;
    TensorMap inputs;  // the batch's inputs (tensors share their data), to retry its parts
  };
  // A part of a failed batch, waiting to run again alone.
  struct Retry {
    Part part;
    TensorMap inputs;
  };
  struct Decision {
    bool send = false;
    std::optional<Clock::TimePoint> wake_at;
  };

  void Finish(RequestState& request, StatusOr<TensorMap> result, Completions& out);
  // Drops answered requests from the group's front and sheds those past saving.
  void Prune(Group& group, Clock::TimePoint now, Completions& out);
  Decision Decide(const Group& group, Clock::TimePoint now, bool flush) const;
  // When the group's oldest request is to be shed, if ever.
  std::optional<Clock::TimePoint> ShedTime(const Group& group) const;
  // Forms a batch from the group's oldest requests; nullopt if every part failed.
  std::optional<Batch> Form(Group& group, Clock::TimePoint now, Completions& out);
  // Hands `batch` out to run: counts it, and keeps it in flight with its inputs.
  Batch Dispatch(InFlight batch, TensorMap inputs);
  double arrival_gap(Clock::TimePoint now) const;

  BatchingOptions options_;
  Clock::Duration max_latency_;
  CostModel cost_;
  std::map<std::string, std::unique_ptr<Group>> groups_;  // by shape key
  std::unordered_map<uint64_t, InFlight> inflight_;       // by batch id
  std::deque<Retry> retries_;                             // sent before any group
  uint64_t next_batch_id_ = 1;

  // Arrival-rate estimate.
  uint64_t arrivals_ = 0;
  Clock::TimePoint last_arrival_;
  double mean_gap_s_ = 0;    // between consecutive requests
  double mean_items_ = 1;    // per request

  BatcherStats stats_;
};

}  // namespace bento::batching

#endif  // BENTO_BATCHING_BATCHER_H_
