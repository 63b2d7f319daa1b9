#include "batching/cost_model.h"

#include <algorithm>
#include <cmath>

namespace bento::batching {

CostModel::CostModel(const Options& options)
    : options_(options),
      a_(std::max(0.0, options.prior_a)),
      b_(std::max(0.0, options.prior_b)) {}

void CostModel::Observe(int64_t items, double seconds) {
  if (items <= 0 || !std::isfinite(seconds) || seconds < 0) return;
  const double n = static_cast<double>(items);
  const double d = options_.decay;
  w_ = w_ * d + 1;
  sn_ = sn_ * d + n;
  st_ = st_ * d + seconds;
  snn_ = snn_ * d + n * n;
  snt_ = snt_ * d + n * seconds;
  Fit();
}

void CostModel::Fit() {
  const double r = std::max(options_.prior_weight, 1e-9);
  // The prior's shape, scaled so that it passes through the data's weighted mean.
  const double pa = std::max(0.0, options_.prior_a), pb = std::max(0.0, options_.prior_b);
  const double mean_n = sn_ / w_, mean_t = st_ / w_;
  const double prior_at_mean = pa * mean_n + pb;
  const double s = prior_at_mean > 0 ? mean_t / prior_at_mean : 0;
  const double a0 = s * pa;
  const double b0 = prior_at_mean > 0 ? s * pb : mean_t;
  // Normal equations of the ridge problem in the header:
  //   [snn + r, sn    ] [a]   [snt + r·a0]
  //   [sn,      w + r ] [b] = [st  + r·b0]
  const double m11 = snn_ + r, m12 = sn_, m22 = w_ + r;
  const double y1 = snt_ + r * a0, y2 = st_ + r * b0;
  const double det = m11 * m22 - m12 * m12;  // > 0: r > 0 makes the matrix positive definite
  double a = (y1 * m22 - m12 * y2) / det;
  double b = (m11 * y2 - m12 * y1) / det;
  if (a < 0) {  // best fit with a = 0
    a = 0;
    b = y2 / m22;
  } else if (b < 0) {  // best fit with b = 0
    b = 0;
    a = y1 / m11;
  }
  if (std::isfinite(a) && std::isfinite(b)) {
    a_ = std::max(0.0, a);
    b_ = std::max(0.0, b);
  }
}

}  // namespace bento::batching
