#include "batching/batch_probe.h"

#include <algorithm>

#include <fmt/format.h>

namespace bento::batching {

BatchSizeProbe::BatchSizeProbe(int max_batch_size, double budget_seconds)
    : max_batch_size_(std::max(1, max_batch_size)),
      budget_seconds_(budget_seconds),
      chosen_(max_batch_size_) {}

void BatchSizeProbe::Record(int size, double fastest_seconds, double spent_seconds) {
  if (next_ != size) return;
  spent_seconds_ += spent_seconds;
  double per_item = fastest_seconds / size;
  per_item_.emplace_back(size, per_item);
  if (per_item_.size() == 1 || per_item <= cheapest_per_item_ * (1 - kMinGain)) {
    cheapest_per_item_ = per_item;
    chosen_ = size;
  } else {
    next_.reset();  // an item no longer gets cheaper
    return;
  }
  if (size >= max_batch_size_ || spent_seconds_ >= budget_seconds_) {
    next_.reset();
    return;
  }
  next_ = std::min(size * 2, max_batch_size_);
}

std::string BatchSizeProbe::Summary() const {
  std::string out;
  for (const auto& [size, per_item] : per_item_) {
    out += fmt::format("{}{}: {}", out.empty() ? "" : ", ", size, PerItem(per_item));
  }
  if (out.empty()) out = "no sizes timed";
  return out + fmt::format(" (largest batch: {})", chosen_);
}

std::string PerItem(double seconds) {
  return seconds < 1e-3 ? fmt::format("{:.3g} us/item", seconds * 1e6)
                        : fmt::format("{:.3g} ms/item", seconds * 1e3);
}

bool BatchingPays(double batched, double unbatched) {
  return batched + kHandOffSeconds <= unbatched * (1 - kMinBatchingGain);
}

bool WideThreadsPay(double lone_narrow, double lone_wide) {
  return lone_wide <= lone_narrow * (1 - kMinWideGain);
}

}  // namespace bento::batching
