// BatcherStats: a plain snapshot of what a batcher has done, for the serving layer to render
// as Prometheus text (it owns metric names and formatting; this layer writes no text).
//
// The serving layer renders `batch_size` as `bentoml_service_adaptive_batch_size` (with _sum
// and _count) and `queue_wait_seconds`, `shed_total` and the gauges under its own names.
//
// Thread-safety: values. Histogram::Observe is not synchronised; the Batcher that owns the
// live copy is externally synchronised and hands out copies.
#ifndef BENTO_BATCHING_STATS_H_
#define BENTO_BATCHING_STATS_H_

#include <cstdint>
#include <utility>
#include <vector>

namespace bento::batching {

// A fixed-bucket histogram. counts[i] counts observations v with bounds[i-1] < v <= bounds[i]
// (not cumulative); counts has one more entry than bounds, the +Inf bucket.
struct Histogram {
  Histogram() = default;
  explicit Histogram(std::vector<double> upper_bounds)
      : bounds(std::move(upper_bounds)), counts(bounds.size() + 1, 0) {}

  void Observe(double v) {
    size_t i = 0;
    while (i < bounds.size() && v > bounds[i]) ++i;
    ++counts[i];
    sum += v;
    ++count;
  }
  // Prometheus' `le` buckets: cumulative[i] = observations <= bounds[i]; the last is count.
  std::vector<uint64_t> Cumulative() const {
    std::vector<uint64_t> out(counts.size());
    uint64_t running = 0;
    for (size_t i = 0; i < counts.size(); ++i) out[i] = running += counts[i];
    return out;
  }

  std::vector<double> bounds;
  std::vector<uint64_t> counts;
  double sum = 0;
  uint64_t count = 0;
};

struct BatcherStats {
  // Items per dispatched batch; buckets 1, 2, 4, ... up to max_batch_size.
  Histogram batch_size;
  // Seconds from a request's arrival until its last item was dispatched.
  Histogram queue_wait_seconds;

  uint64_t requests_total = 0;   // accepted by Submit
  uint64_t rejected_total = 0;   // failed at Submit with INVALID_ARGUMENT
  uint64_t shed_total = 0;       // failed with UNAVAILABLE: could not meet their deadline
  uint64_t batches_total = 0;    // dispatched
  uint64_t batch_errors_total = 0;  // batches whose executor (or output split) failed
  uint64_t retried_total = 0;       // parts of failed batches run again alone

  // Gauges at the time of the snapshot.
  int inflight_batches = 0;
  int64_t queued_items = 0;
  int64_t queued_requests = 0;

  // What the policy currently believes.
  double cost_a_seconds = 0;      // per item
  double cost_b_seconds = 0;      // per batch
  double arrival_rate_items = 0;  // items per second
};

}  // namespace bento::batching

#endif  // BENTO_BATCHING_STATS_H_
