// BatchSizeProbe: chooses a batchable model's largest batch from runs timed when it loads,
// as Triton's preferred batch sizes are chosen by hand: the size past which a bigger batch
// no longer makes an item cheaper.
//
// On a CPU the cost of an item stops falling early for a compute-bound model (MobileNetV2 on
// two cores: no cheaper past 2-4 items) and late for a tiny one, whose Run is mostly fixed
// cost. A batch larger than it needs buys no throughput and costs memory: ONNX Runtime's
// arena keeps the activations of the largest batch that ever ran (MobileNetV2 at batch 32
// peaks at 640 MiB of resident memory against 220 MiB unbatched), and every distinct shape
// gets its own memory plan. Capping batches at the chosen size bounds both.
//
// It is a state machine, like Batcher: it runs nothing and reads no clock. The caller times
// each size it is handed and records the fastest of a few runs:
//
//   BatchSizeProbe probe(max_batch_size, budget_seconds);
//   while (auto n = probe.Next()) probe.Record(*n, fastest_seconds, seconds_spent_on_n);
//   int size = probe.chosen();
//
// Sizes are 1, 2, 4, ... and max_batch_size last. A size is kept when its cost per item is
// at least kMinGain below the cheapest so far; the first size that is not ends the probe (its
// per-item cost has flattened), as does running out of budget: the chosen size is then the
// last one kept. An item's cost is never compared against a noisier figure than the fastest
// of several runs, and a gain under kMinGain is within this kind of measurement's noise.
//
// Choosing a size is not yet choosing to batch: on a CPU, requests that run at once unbatched
// (one per API worker) share the cores as a batch does, and may use them as well
// (MobileNetV2 on two cores: 4.4-4.7 ms an item either way). BatchingPays says whether the
// chosen size beats that, each timed with as many runs at once as serving would have.
//
// Thread-safety: none.
#ifndef BENTO_BATCHING_BATCH_PROBE_H_
#define BENTO_BATCHING_BATCH_PROBE_H_

#include <optional>
#include <string>
#include <vector>

namespace bento::batching {

class BatchSizeProbe {
 public:
  static constexpr double kMinGain = 0.05;  // a bigger batch must make an item 5% cheaper

  // max_batch_size >= 1; budget_seconds: the time all timed runs may take together.
  BatchSizeProbe(int max_batch_size, double budget_seconds);

  // The next batch size to time, or nullopt when the probe is done.
  std::optional<int> Next() const { return next_; }

  // `size` (the one Next returned) ran in `fastest_seconds` at best, and its runs took
  // `spent_seconds` in all.
  void Record(int size, double fastest_seconds, double spent_seconds);

  // The largest batch to form: the last size kept (max_batch_size if none was timed).
  int chosen() const { return chosen_; }

  // "1: 6.02 ms/item, 2: 4.38 ms/item, 4: 4.21 ms/item (largest batch: 2)" for the log.
  std::string Summary() const;

 private:
  const int max_batch_size_;
  const double budget_seconds_;
  double spent_seconds_ = 0;
  double cheapest_per_item_ = 0;  // of the sizes kept
  int chosen_;
  std::optional<int> next_ = 1;  // nullopt once done
  std::vector<std::pair<int, double>> per_item_;  // (size, seconds per item), in order
};

// What handing a request to a batch and back costs beyond running it on the thread that parsed
// it: a queue, two thread wake-ups and a callback. On two cores it measured about 8 us of CPU
// a request (a digits MLP served at 37.8k requests/s unbatched and 32.9k batched, its Run a
// few microseconds); this is about twice that, since a saving that small is within noise.
inline constexpr double kHandOffSeconds = 20e-6;

// Whether batching pays: `batched` and `unbatched` are seconds per item with as many runs at
// once as serving would have (batches of the chosen size, as many in flight as the batcher
// lets run; requests of one item, one per API worker). A batched item, its hand-off
// included, must come out at least kMinBatchingGain cheaper. The margin is wide because the
// two are timed on an idle machine and served on a busy one, where batching loses what the
// timing cannot see: a batch's Run spreads over every core, and each of its parallel steps
// waits for the slowest thread, which the request path's own work (parsing a body) delays;
// requests run one per core wait for no one. MobileNetV2 on two cores timed within 10% either
// way at load, and served /run at c=32 at 98-122 requests/s batched against 113-131 unbatched.
inline constexpr double kMinBatchingGain = 0.25;
bool BatchingPays(double batched, double unbatched);

// Whether a model served unbatched runs on every CPU's intra-op threads (`wide`) rather than
// on an API worker's share of them (`narrow`: one thread each, with one worker per CPU):
// whether a lone request, in seconds, runs at least kMinWideGain faster on wide. Large kernels
// gain (MobileNetV2 on two cores: its Run 5.4-6.5 ms against 7.8 on one thread, with idle
// threads sleeping as bento has them, and a lone /run 9.5 ms against 12.0); small ones
// lose, each parallel step waking a second thread for less work than the wake-up costs (the
// OCR classifier: 2.2 ms against 1.85), and lose more under load (about two thirds of the
// throughput at c=32). Requests at once are not timed: two callers running Run back to back
// on wide cost MobileNetV2 an item 6-25% more than on narrow at load, yet served at c=32 both
// made 144-147 requests/s, since each worker also decodes and encodes a request and wide's
// threads take the core the other worker leaves meanwhile; and the timing was too noisy to
// decide on.
inline constexpr double kMinWideGain = 0.15;
bool WideThreadsPay(double lone_narrow, double lone_wide);

// "6.02 ms/item", "355 us/item": seconds an item, for the log.
std::string PerItem(double seconds);

}  // namespace bento::batching

#endif  // BENTO_BATCHING_BATCH_PROBE_H_
