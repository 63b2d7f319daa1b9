// Detection post-processing shared by detector services: boxes, IoU, non-maximum suppression,
// and turning a segmentation-style probability map (PP-OCR's text detector, DBNet) into boxes.
//
//   auto map = session->Run({{"x", input}}).value()[0];            // [1, 1, H, W] float32
//   auto boxes = bento::BoxesFromProbabilityMap(map, {.mask_threshold = 0.3f}).value();
//   std::erase_if(boxes, [&](const bento::Box& b) { return b.score <= confidence_threshold; });
//   for (size_t i : bento::NonMaxSuppression(boxes, nms_threshold)) { ... boxes[i] ... }
//
// Coordinates are pixels, x to the right and y down; a box covers [x1, x2) × [y1, y2), so a
// box around one pixel at (3, 4) is {3, 4, 4, 5} and has area 1.
//
// Thread-safety: pure functions of their arguments; safe from any thread.
#ifndef BENTO_DETECTION_H_
#define BENTO_DETECTION_H_

#include <cstddef>
#include <span>
#include <vector>

#include "bento/status.h"
#include "bento/tensor.h"

namespace bento {

// An axis-aligned box with the detector's confidence in it and its class.
struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  double score = 0;
  int class_id = 0;

  double width() const { return x2 > x1 ? x2 - x1 : 0; }
  double height() const { return y2 > y1 ? y2 - y1 : 0; }
  double area() const { return width() * height(); }
  friend bool operator==(const Box&, const Box&) = default;
};

// Intersection over union of two boxes, in [0, 1]; 0 when their union is empty.
double IoU(const Box& a, const Box& b);

// Greedy non-maximum suppression: boxes are visited by decreasing score (ties: lower index
// first) and a box is kept unless its IoU with an already kept box of the same class_id is
// greater than `iou_threshold`. Returns the indices of the kept boxes, highest score first.
std::vector<size_t> NonMaxSuppression(std::span<const Box> boxes, double iou_threshold);

// How BoxesFromProbabilityMap finds regions; the defaults are PP-OCR's (DBPostProcess).
struct ProbabilityMapOptions {
  // A pixel belongs to a region when its probability is greater than this.
  float mask_threshold = 0.3f;
  // Each region's box grows on every side by area * unclip_ratio / perimeter of the box,
  // which undoes the shrinking DBNet's training labels apply to text regions. 0: no growth.
  double unclip_ratio = 1.5;
  // Regions whose box (before growing) is narrower or lower than this many pixels are dropped.
  int min_size = 3;
  // At most this many regions are considered, in scan order (DBNet's max_candidates).
  size_t max_candidates = 1000;
};

// One box per 8-connected region of pixels above options.mask_threshold in a float32
// probability map, in the map's pixel coordinates and in row-major order of each region's first
// pixel. A box is the region's bounding box grown by the unclip distance and clipped to the
// map; its score is the mean probability over the region's pixels; class_id is 0.
// `map` has shape [H, W], or [1, ..., 1, H, W] (e.g. PP-OCR's [1, 1, H, W]); anything else,
// or another dtype, is INVALID_ARGUMENT.
StatusOr<std::vector<Box>> BoxesFromProbabilityMap(const Tensor& map,
                                                   const ProbabilityMapOptions& options = {});

// `box` with its x scaled by sx and y by sy, then clipped to [0, width] × [0, height]: from a
// model input's coordinates back to the original image's.
Box ScaleBox(const Box& box, double sx, double sy, double width, double height);

}  // namespace bento

#endif  // BENTO_DETECTION_H_
