// CostModel: what a batch of n items is expected to cost on the executor, learnt online as
// time(n) ≈ a·n + b from the batches that actually ran.
//
// The fit is exponentially weighted least squares: every sample (n, seconds) enters decayed
// sums with weight 1, and all earlier samples are multiplied by `decay` (so the last
// ~1/(1-decay) batches count). To stay sane with few samples, or with samples all of one
// size (at low traffic every batch has n = 1 and the slope is not identifiable), the fit is
// a ridge regression pulled, with weight `prior_weight` (in samples), towards the prior's
// shape scaled to the data, (s·a0, s·b0), where s = mean(t) / (a0·mean(n) + b0):
//
//   minimise  Σ w_i (t_i - a·n_i - b)²  +  r·(a - s·a0)²  +  r·(b - s·b0)²
//
// With no samples the cost is the prior; with samples at one size the prior line is scaled
// to pass through their mean; with many samples at several sizes the data wins. a and b are
// clamped at zero (the other re-fitted alone), so a cost is never negative.
//
// Thread-safety: none; the Batcher that owns it is externally synchronised.
#ifndef BENTO_BATCHING_COST_MODEL_H_
#define BENTO_BATCHING_COST_MODEL_H_

#include <cstdint>

namespace bento::batching {

class CostModel {
 public:
  struct Options {
    double prior_a = 0.0005;     // seconds per item
    double prior_b = 0.002;      // seconds per batch
    double prior_weight = 0.1;   // r, in samples
    double decay = 0.95;         // weight kept by older samples at each new one
  };

  CostModel() : CostModel(Options{}) {}
  explicit CostModel(const Options& options);

  // Records that a batch of `items` (> 0) ran in `seconds` (>= 0).
  void Observe(int64_t items, double seconds);

  // Expected seconds for a batch of `items`: a·items + b, never negative.
  double Cost(double items) const { return a_ * items + b_; }
  double a() const { return a_; }
  double b() const { return b_; }
  // Decayed number of samples behind the fit.
  double weight() const { return w_; }

 private:
  void Fit();

  Options options_;
  // Decayed sums over samples: Σw, Σw·n, Σw·t, Σw·n², Σw·n·t.
  double w_ = 0, sn_ = 0, st_ = 0, snn_ = 0, snt_ = 0;
  double a_, b_;
};

}  // namespace bento::batching

#endif  // BENTO_BATCHING_COST_MODEL_H_
