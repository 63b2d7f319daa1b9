#include "bento/detection.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>

namespace bento {

double IoU(const Box& a, const Box& b) {
  Box overlap{std::max(a.x1, b.x1), std::max(a.y1, b.y1), std::min(a.x2, b.x2),
              std::min(a.y2, b.y2)};
  double inter = overlap.area();
  double uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0;
}

std::vector<size_t> NonMaxSuppression(std::span<const Box> boxes, double iou_threshold) {
  std::vector<size_t> order(boxes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t i, size_t j) { return boxes[i].score > boxes[j].score; });
  std::vector<size_t> kept;
  for (size_t i : order) {
    bool suppressed = std::any_of(kept.begin(), kept.end(), [&](size_t k) {
      return boxes[k].class_id == boxes[i].class_id && IoU(boxes[k], boxes[i]) > iou_threshold;
    });
    if (!suppressed) kept.push_back(i);
  }
  return kept;
}

namespace {

// A region's extent and probability sum, gathered by a flood fill.
struct Region {
  int64_t min_x, min_y, max_x, max_y;
  double sum = 0;
  int64_t pixels = 0;
};

// Flood-fills the 8-connected region of above-threshold pixels holding `start`, marking them
// in `seen`. An explicit stack, so a page-sized region cannot overflow the call stack.
Region FillRegion(std::span<const float> p, int64_t w, int64_t h, float threshold, int64_t start,
                  std::vector<uint8_t>& seen, std::vector<int64_t>& stack) {
  Region r{start % w, start / w, start % w, start / w};
  stack.assign(1, start);
  seen[start] = 1;
  while (!stack.empty()) {
    int64_t at = stack.back();
    stack.pop_back();
    int64_t x = at % w, y = at / w;
    r.min_x = std::min(r.min_x, x), r.max_x = std::max(r.max_x, x);
    r.min_y = std::min(r.min_y, y), r.max_y = std::max(r.max_y, y);
    r.sum += p[at];
    ++r.pixels;
    for (int64_t ny = std::max<int64_t>(y - 1, 0); ny <= std::min(y + 1, h - 1); ++ny) {
      for (int64_t nx = std::max<int64_t>(x - 1, 0); nx <= std::min(x + 1, w - 1); ++nx) {
        int64_t n = ny * w + nx;
        if (!seen[n] && p[n] > threshold) {
          seen[n] = 1;
          stack.push_back(n);
        }
      }
    }
  }
  return r;
}

}  // namespace

StatusOr<std::vector<Box>> BoxesFromProbabilityMap(const Tensor& map,
                                                   const ProbabilityMapOptions& options) {
  const auto& shape = map.shape();
  bool leading_ones = shape.size() >= 2 &&
                      std::all_of(shape.begin(), shape.end() - 2, [](int64_t d) { return d == 1; });
  if (map.dtype() != DType::kFloat32 || !leading_ones) {
    return InvalidArgumentError("a probability map must be float32 of shape [H, W] or "
                                "[1, ..., 1, H, W], not " + std::string(DTypeName(map.dtype())) +
                                " " + ShapeToString(shape));
  }
  const int64_t h = shape[shape.size() - 2], w = shape[shape.size() - 1];
  std::span<const float> p = map.values<float>();
  std::vector<uint8_t> seen(p.size(), 0);
  std::vector<int64_t> stack;
  std::vector<Box> boxes;
  size_t regions = 0;
  for (int64_t start = 0; start < w * h && regions < options.max_candidates; ++start) {
    if (seen[start] || !(p[start] > options.mask_threshold)) continue;
    Region r = FillRegion(p, w, h, options.mask_threshold, start, seen, stack);
    ++regions;
    Box box{static_cast<double>(r.min_x), static_cast<double>(r.min_y),
            static_cast<double>(r.max_x + 1), static_cast<double>(r.max_y + 1),
            r.sum / static_cast<double>(r.pixels), 0};
    if (box.width() < options.min_size || box.height() < options.min_size) continue;
    double grow = box.area() * options.unclip_ratio / (2 * (box.width() + box.height()));
    box.x1 = std::max(box.x1 - grow, 0.0);
    box.y1 = std::max(box.y1 - grow, 0.0);
    box.x2 = std::min(box.x2 + grow, static_cast<double>(w));
    box.y2 = std::min(box.y2 + grow, static_cast<double>(h));
    boxes.push_back(box);
  }
  return boxes;
}

Box ScaleBox(const Box& box, double sx, double sy, double width, double height) {
  Box out = box;
  out.x1 = std::clamp(box.x1 * sx, 0.0, width);
  out.x2 = std::clamp(box.x2 * sx, 0.0, width);
  out.y1 = std::clamp(box.y1 * sy, 0.0, height);
  out.y2 = std::clamp(box.y2 * sy, 0.0, height);
  return out;
}

}  // namespace bento
