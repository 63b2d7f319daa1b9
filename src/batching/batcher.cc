#include "batching/batcher.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace bento::batching {
namespace {

constexpr double kRateSmoothing = 0.2;  // EWMA weight of the newest gap and request size
constexpr Clock::Duration kTick(1);    // the smallest step of the clock

std::vector<double> BatchSizeBuckets(int max_batch_size) {
  std::vector<double> bounds;
  for (int b = 1; b < max_batch_size; b *= 2) bounds.push_back(b);
  bounds.push_back(max_batch_size);
  return bounds;
}

std::vector<double> QueueWaitBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace

struct Batcher::RequestState {
  std::string key;
  TensorMap inputs;  // cleared once every item is sent
  DoneCallback done;
  Clock::TimePoint arrival;
  Clock::TimePoint deadline;
  int64_t items = 0;
  int64_t sent = 0;        // items handed to batches so far
  int64_t done_items = 0;  // items whose outputs came back
  std::map<int64_t, TensorMap> outputs;  // by first item, for split requests
  bool finished = false;                 // the callback has been handed back
  int64_t unsent() const { return items - sent; }
};

struct Batcher::Group {
  std::deque<std::shared_ptr<RequestState>> queue;  // by arrival; may hold finished ones
  int64_t items = 0;                                // unsent items of unfinished requests
};

Status ValidateOptions(const BatchingOptions& o) {
  if (o.max_batch_size < 1) return InvalidArgumentError("max_batch_size must be >= 1");
  if (!(o.max_latency_ms > 0)) return InvalidArgumentError("max_latency_ms must be > 0");
  if (o.input_batch_dim < 0 || o.output_batch_dim < 0) {
    return InvalidArgumentError("batch_dim must be >= 0");
  }
  if (o.max_inflight_batches < 1) return InvalidArgumentError("max_inflight_batches must be >= 1");
  return OkStatus();
}

Batcher::Batcher(const BatchingOptions& options, const CostModel::Options& cost_options)
    : options_(options), cost_(cost_options) {
  options_.max_batch_size = std::max(1, options_.max_batch_size);
  options_.max_inflight_batches = std::max(1, options_.max_inflight_batches);
  options_.input_batch_dim = std::max(0, options_.input_batch_dim);
  options_.output_batch_dim = std::max(0, options_.output_batch_dim);
  if (!(options_.max_latency_ms > 0)) options_.max_latency_ms = 60000;
  max_latency_ = FromSecondsCeil(options_.max_latency_ms / 1000);
  stats_.batch_size = Histogram(BatchSizeBuckets(options_.max_batch_size));
  stats_.queue_wait_seconds = Histogram(QueueWaitBuckets());
}

Batcher::~Batcher() = default;

Completions Batcher::Submit(Request request, Clock::TimePoint now) {
  Completions out;
  if (!request.done) request.done = [](StatusOr<TensorMap>) {};
  StatusOr<int64_t> items = BatchSize(request.inputs, options_.input_batch_dim);
  if (items.ok() && *items == 0) {
    items = InvalidArgumentError("the request carries no items along batch dim " +
                                 std::to_string(options_.input_batch_dim));
  }
  if (!items.ok()) {
    ++stats_.rejected_total;
    out.push_back({std::move(request.done), items.status()});
    return out;
  }

  if (arrivals_ > 0) {
    const double gap = std::max(0.0, ToSeconds(now - last_arrival_));
    mean_gap_s_ = arrivals_ == 1 ? gap : mean_gap_s_ + kRateSmoothing * (gap - mean_gap_s_);
    mean_items_ += kRateSmoothing * (static_cast<double>(*items) - mean_items_);
  } else {
    mean_items_ = static_cast<double>(*items);
  }
  last_arrival_ = std::max(last_arrival_, now);
  ++arrivals_;

  auto state = std::make_shared<RequestState>();
  state->key = ShapeKey(request.inputs, options_.input_batch_dim);
  state->inputs = std::move(request.inputs);
  state->done = std::move(request.done);
  state->arrival = request.arrival.value_or(now);
  state->deadline = state->arrival + max_latency_;
  state->items = *items;
  std::unique_ptr<Group>& group = groups_[state->key];
  if (!group) group = std::make_unique<Group>();
  group->items += state->items;
  group->queue.push_back(std::move(state));
  ++stats_.requests_total;
  return out;
}

PollResult Batcher::Poll(Clock::TimePoint now, bool flush) {
  PollResult result;
  const size_t max_inflight = static_cast<size_t>(options_.max_inflight_batches);
  while (true) {
    for (auto it = groups_.begin(); it != groups_.end();) {
      Prune(*it->second, now, result.completions);
      it = it->second->queue.empty() ? groups_.erase(it) : std::next(it);
    }
    if (inflight_.size() >= max_inflight) break;
    if (!retries_.empty()) {
      Retry retry = std::move(retries_.front());
      retries_.pop_front();
      if (retry.part.request->finished) continue;  // failed by another of its parts
      InFlight batch{now, retry.part.count, {retry.part}, {}};
      batch.parts[0].batch_offset = 0;
      result.batches.push_back(Dispatch(std::move(batch), std::move(retry.inputs)));
      continue;
    }
    // Of the groups whose rule says "send", the one with the oldest request goes first.
    Group* pick = nullptr;
    for (auto& [key, group] : groups_) {
      if (pick && group->queue.front()->arrival >= pick->queue.front()->arrival) continue;
      if (Decide(*group, now, flush).send) pick = group.get();
    }
    if (!pick) break;
    if (std::optional<Batch> batch = Form(*pick, now, result.completions)) {
      result.batches.push_back(std::move(*batch));
    }
  }
  for (auto& [key, group] : groups_) {
    std::optional<Clock::TimePoint> wake = inflight_.size() >= max_inflight
                                               ? ShedTime(*group)
                                               : Decide(*group, now, flush).wake_at;
    if (wake && (!result.wake_at || *wake < *result.wake_at)) result.wake_at = wake;
  }
  return result;
}

void Batcher::Prune(Group& group, Clock::TimePoint now, Completions& out) {
  while (!group.queue.empty()) {
    RequestState& front = *group.queue.front();
    if (front.finished || front.unsent() == 0) {
      group.queue.pop_front();
      continue;
    }
    const int64_t next_part = std::min<int64_t>(front.unsent(), options_.max_batch_size);
    const double cost = cost_.Cost(static_cast<double>(next_part));
    if (ToSeconds(front.deadline - now) >= cost || cost > ToSeconds(max_latency_)) return;
    ++stats_.shed_total;
    Finish(front,
           UnavailableError(fmt::format(
               "request shed: it cannot finish within max_latency_ms={} (queued {:.1f} ms, a "
               "batch of {} items takes ~{:.1f} ms); retry later",
               options_.max_latency_ms, ToSeconds(now - front.arrival) * 1e3, next_part,
               cost * 1e3)),
           out);
    group.queue.pop_front();
  }
}

std::optional<Clock::TimePoint> Batcher::ShedTime(const Group& group) const {
  const RequestState& front = *group.queue.front();
  const int64_t next_part = std::min<int64_t>(front.unsent(), options_.max_batch_size);
  const double cost = cost_.Cost(static_cast<double>(next_part));
  if (cost > ToSeconds(max_latency_)) return std::nullopt;
  return front.deadline - FromSecondsCeil(cost) + kTick;
}

double Batcher::arrival_gap(Clock::TimePoint now) const {
  return std::max(mean_gap_s_, ToSeconds(now - last_arrival_));
}

Batcher::Decision Batcher::Decide(const Group& group, Clock::TimePoint now, bool flush) const {
  const Decision send{true, std::nullopt};
  const double q = static_cast<double>(group.items);
  const double max_batch = options_.max_batch_size;
  if (flush || q >= max_batch || arrivals_ < 2) return send;  // rule 3; λ unknown
  // Rule 4: waiting pays while the gap to the next request is below m·cost(q)/q
  // (equivalently λ·cost(q) > q).
  const double benefit_gap = mean_items_ * cost_.Cost(q) / q;
  if (arrival_gap(now) >= benefit_gap) return send;
  // Rule 5: ... and while the next request can still join in time.
  const double next_cost = cost_.Cost(std::min(q + mean_items_, max_batch));
  const double slack = ToSeconds(group.queue.front()->deadline - now);
  if (arrival_gap(now) + next_cost >= slack) return send;

  // Wait. With τ the time from now and L the last arrival (<= 0), the gap is
  // max(mean_gap, τ - L): rule 5 turns at τ = slack - mean_gap - next_cost while
  // τ <= L + mean_gap, else at (slack + L - next_cost) / 2; rule 4 turns at L + benefit_gap.
  const double last = ToSeconds(last_arrival_ - now);
  double fit_end = slack - mean_gap_s_ - next_cost;
  if (fit_end > last + mean_gap_s_) fit_end = (slack + last - next_cost) / 2;
  const double until = std::min(fit_end, last + benefit_gap);
  return Decision{false, now + std::max(FromSecondsCeil(until), kTick)};
}

std::optional<Batch> Batcher::Form(Group& group, Clock::TimePoint now, Completions& out) {
  const RequestState& front = *group.queue.front();
  // No more items than the oldest request can afford, but at least its own next part.
  int64_t room = options_.max_batch_size;
  if (cost_.a() > 0) {
    const double fit = std::floor((ToSeconds(front.deadline - now) - cost_.b()) / cost_.a());
    if (fit < static_cast<double>(room)) {
      room = std::max<int64_t>(std::min<int64_t>(front.unsent(), room),
                               static_cast<int64_t>(std::max(fit, 0.0)));
    }
  }
  InFlight batch;
  batch.start = now;
  std::vector<TensorMap> slices;
  while (room > 0 && !group.queue.empty()) {
    std::shared_ptr<RequestState> request = group.queue.front();
    if (request->finished) {
      group.queue.pop_front();
      continue;
    }
    const int64_t take = std::min(request->unsent(), room);
    StatusOr<TensorMap> slice =
        SliceMap(request->inputs, options_.input_batch_dim, request->sent, request->sent + take);
    if (!slice.ok()) {
      Finish(*request, slice.status(), out);
      group.queue.pop_front();
      continue;
    }
    batch.parts.push_back(Part{request, request->sent, take, batch.size});
    slices.push_back(*std::move(slice));
    request->sent += take;
    group.items -= take;
    batch.size += take;
    room -= take;
    if (request->unsent() == 0) {
      stats_.queue_wait_seconds.Observe(ToSeconds(now - request->arrival));
      request->inputs.clear();
      group.queue.pop_front();
    }
  }
  if (batch.parts.empty()) return std::nullopt;
  StatusOr<TensorMap> inputs = ConcatMaps(slices, options_.input_batch_dim);
  if (!inputs.ok()) {
    for (Part& part : batch.parts) Finish(*part.request, inputs.status(), out);
    return std::nullopt;
  }
  return Dispatch(std::move(batch), *std::move(inputs));
}

Batch Batcher::Dispatch(InFlight batch, TensorMap inputs) {
  Batch formed{next_batch_id_++, batch.size, inputs};
  stats_.batch_size.Observe(static_cast<double>(batch.size));
  ++stats_.batches_total;
  batch.inputs = std::move(inputs);
  inflight_.emplace(formed.id, std::move(batch));
  return formed;
}

Completions Batcher::Complete(uint64_t batch_id, StatusOr<TensorMap> outputs,
                              Clock::TimePoint now) {
  Completions out;
  auto it = inflight_.find(batch_id);
  if (it == inflight_.end()) return out;
  InFlight batch = std::move(it->second);
  inflight_.erase(it);

  if (outputs.ok()) {
    cost_.Observe(batch.size, ToSeconds(now - batch.start));
    const int dim = options_.output_batch_dim;
    for (const auto& [name, t] : *outputs) {
      if (static_cast<int>(t.shape().size()) <= dim || t.shape()[dim] != batch.size) {
        outputs = FailedPreconditionError(
            fmt::format("output '{}' has shape {}; a batch of {} needs {} items along dim {}",
                        name, ShapeToString(t.shape()), batch.size, batch.size, dim));
        break;
      }
    }
  }
  if (!outputs.ok()) {
    ++stats_.batch_errors_total;
    const bool shared = std::any_of(batch.parts.begin(), batch.parts.end(), [&](const Part& p) {
      return p.request != batch.parts.front().request;
    });
    for (Part& part : batch.parts) {
      if (!shared) {
        Finish(*part.request, outputs.status(), out);
        continue;
      }
      StatusOr<TensorMap> own = SliceMap(batch.inputs, options_.input_batch_dim,
                                         part.batch_offset, part.batch_offset + part.count);
      if (!own.ok()) {
        Finish(*part.request, own.status(), out);
        continue;
      }
      ++stats_.retried_total;
      retries_.push_back(Retry{part, *std::move(own)});
    }
    return out;
  }
  for (Part& part : batch.parts) {
    RequestState& request = *part.request;
    if (request.finished) continue;  // shed or failed by another part
    StatusOr<TensorMap> slice = SliceMap(*outputs, options_.output_batch_dim, part.batch_offset,
                                         part.batch_offset + part.count);
    if (!slice.ok()) {
      Finish(request, slice.status(), out);
      continue;
    }
    request.done_items += part.count;
    request.outputs.emplace(part.offset, *std::move(slice));
    if (request.done_items < request.items) continue;
    std::vector<TensorMap> pieces;
    for (auto& [offset, piece] : request.outputs) pieces.push_back(std::move(piece));
    Finish(request, ConcatMaps(pieces, options_.output_batch_dim), out);
  }
  return out;
}

void Batcher::Finish(RequestState& request, StatusOr<TensorMap> result, Completions& out) {
  if (request.finished) return;
  request.finished = true;
  if (request.unsent() > 0) {
    auto group = groups_.find(request.key);
    if (group != groups_.end()) group->second->items -= request.unsent();
    request.sent = request.items;
  }
  request.inputs.clear();
  request.outputs.clear();
  out.push_back(Completion{std::move(request.done), std::move(result)});
}

bool Batcher::idle() const {
  if (!inflight_.empty() || !retries_.empty()) return false;
  for (const auto& [key, group] : groups_) {
    if (group->items > 0) return false;
  }
  return true;
}

BatcherStats Batcher::stats(Clock::TimePoint now) const {
  BatcherStats s = stats_;
  s.inflight_batches = static_cast<int>(inflight_.size());
  for (const auto& [key, group] : groups_) {
    s.queued_items += group->items;
    for (const auto& request : group->queue) s.queued_requests += request->finished ? 0 : 1;
  }
  s.cost_a_seconds = cost_.a();
  s.cost_b_seconds = cost_.b();
  if (arrivals_ >= 2) s.arrival_rate_items = mean_items_ / std::max(arrival_gap(now), 1e-9);
  return s;
}

}  // namespace bento::batching
