#include "bento/ocr.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

namespace bento::ocr {
namespace {

// An NCHW float tensor of RGB `image` with its planes in B, G, R order, normalized per B, G, R
// plane with `mean` and `std`: ToTensor normalizes the R, G, B planes with the reversed
// values, then the R and B planes swap places.
Tensor BgrTensor(const Image& image, std::span<const double> mean, std::span<const double> std) {
  std::vector<double> rgb_mean(mean.rbegin(), mean.rend());
  std::vector<double> rgb_std(std.rbegin(), std.rend());
  Tensor t = image.ToTensor(Image::Layout::kNCHW, rgb_mean, rgb_std);
  std::span<float> values = t.mutable_values<float>();
  const size_t plane = values.size() / 3;
  std::swap_ranges(values.begin(), values.begin() + plane, values.begin() + 2 * plane);
  return t;
}

}  // namespace

std::pair<int, int> DetectorSize(int width, int height, int limit_side_len) {
  double ratio = 1.0;
  if (std::max(width, height) > limit_side_len) {
    ratio = static_cast<double>(limit_side_len) / std::max(width, height);
  }
  auto side = [&](int size) {
    int scaled = static_cast<int>(size * ratio);
    // std::nearbyint rounds half to even in the default rounding mode, as Python's round.
    return std::max(static_cast<int>(std::nearbyint(scaled / 32.0)) * 32, 32);
  };
  return {side(width), side(height)};
}

DetectorInput PrepareDetectorInput(const Image& image, int limit_side_len,
                                   std::span<const double> mean, std::span<const double> std) {
  auto [width, height] = DetectorSize(image.width(), image.height(), limit_side_len);
  Image resized = image.ConvertRGB().Resize(width, height, Image::Resample::kBilinear);
  return {BgrTensor(resized, mean, std), width, height, image.width(), image.height()};
}

StatusOr<std::vector<Box>> TextBoxes(const Tensor& probability_map, const DetectorInput& input,
                                     const TextBoxOptions& options) {
  ASSIGN_OR_RETURN(std::vector<Box> regions,
                   BoxesFromProbabilityMap(probability_map, options.map));
  std::erase_if(regions, [&](const Box& b) { return !(b.score > options.confidence_threshold); });
  const auto& shape = probability_map.shape();
  const double map_height = static_cast<double>(shape[shape.size() - 2]);
  const double map_width = static_cast<double>(shape[shape.size() - 1]);
  std::vector<Box> boxes;
  for (size_t i : NonMaxSuppression(regions, options.nms_threshold)) {
    boxes.push_back(ScaleBox(regions[i], input.image_width / map_width,
                             input.image_height / map_height, input.image_width,
                             input.image_height));
  }
  std::stable_sort(boxes.begin(), boxes.end(), [](const Box& a, const Box& b) {
    return std::pair(a.y1, a.x1) < std::pair(b.y1, b.x1);
  });
  return boxes;
}

Image Crop(const Image& image, const Box& box) {
  const int x1 = std::clamp(static_cast<int>(std::floor(box.x1)), 0, image.width());
  const int y1 = std::clamp(static_cast<int>(std::floor(box.y1)), 0, image.height());
  const int x2 = std::clamp(static_cast<int>(std::ceil(box.x2)), x1, image.width());
  const int y2 = std::clamp(static_cast<int>(std::ceil(box.y2)), y1, image.height());
  if (x2 == x1 || y2 == y1) return Image();
  const int c = image.channels();
  std::vector<uint8_t> pixels(static_cast<size_t>(x2 - x1) * (y2 - y1) * c);
  std::span<const uint8_t> src = image.pixels();
  const size_t row = static_cast<size_t>(x2 - x1) * c;
  for (int y = y1; y < y2; ++y) {
    std::memcpy(pixels.data() + (y - y1) * row,
                src.data() + (static_cast<size_t>(y) * image.width() + x1) * c, row);
  }
  return Image::FromPixels(x2 - x1, y2 - y1, c, pixels, image.format()).value();
}

Tensor PrepareRecognizerInput(const Image& line, int height, int min_width, int max_width) {
  const double width = std::ceil(height * static_cast<double>(line.width()) / line.height());
  const int columns = static_cast<int>(std::clamp(width, 1.0, static_cast<double>(max_width)));
  Image resized = line.ConvertRGB().Resize(columns, height, Image::Resample::kBilinear);
  const double half[3] = {0.5, 0.5, 0.5};
  Tensor line_tensor = BgrTensor(resized, half, half);
  const int padded = std::max(min_width, resized.width());
  if (padded == resized.width()) return line_tensor;
  Tensor out = Tensor::Zeros(DType::kFloat32, {1, 3, height, padded});
  std::span<const float> src = line_tensor.values<float>();
  std::span<float> dst = out.mutable_values<float>();
  for (int row = 0; row < 3 * height; ++row) {
    std::copy_n(src.begin() + static_cast<size_t>(row) * resized.width(), resized.width(),
                dst.begin() + static_cast<size_t>(row) * padded);
  }
  return out;
}

StatusOr<Recognition> CtcGreedyDecode(const Tensor& probabilities,
                                      std::span<const std::string> characters) {
  const auto& shape = probabilities.shape();
  if (probabilities.dtype() != DType::kFloat32 || shape.size() != 3 || shape[0] != 1 ||
      shape[2] != static_cast<int64_t>(characters.size()) + 1) {
    return InvalidArgumentError(
        "CTC decoding needs float32 probabilities of shape [1, T, " +
        std::to_string(characters.size() + 1) + "], not " +
        std::string(DTypeName(probabilities.dtype())) + " " + ShapeToString(shape));
  }
  const int64_t steps = shape[1], classes = shape[2];
  std::span<const float> p = probabilities.values<float>();
  Recognition out;
  double confidence_sum = 0;
  int64_t read = 0, previous = -1;
  for (int64_t t = 0; t < steps; ++t) {
    auto step = p.subspan(static_cast<size_t>(t * classes), static_cast<size_t>(classes));
    int64_t best = std::max_element(step.begin(), step.end()) - step.begin();
    if (best != 0 && best != previous) {
      out.text += characters[static_cast<size_t>(best - 1)];
      confidence_sum += step[static_cast<size_t>(best)];
      ++read;
    }
    previous = best;
  }
  out.confidence = read > 0 ? confidence_sum / read : 0;
  return out;
}

}  // namespace bento::ocr
