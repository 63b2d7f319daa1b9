#include "io/resample.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>

namespace bento::io {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

// The filters, as functions of the distance from the sampling centre in input pixels
// (already divided by the shrink factor).
double BoxFilter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

double TriangleFilter(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

double HammingFilter(double x) {
  x = std::fabs(x);
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x *= std::numbers::pi;
  // Pillow writes these two constants as floats.
  return std::sin(x) / x * (double{0.54f} + double{0.46f} * std::cos(x));
}

double BicubicFilter(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double Sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= std::numbers::pi;
  return std::sin(x) / x;
}

double LanczosFilter(double x) {
  return (-3.0 <= x && x < 3.0) ? Sinc(x) * Sinc(x / 3) : 0.0;
}

struct Filter {
  double (*fn)(double);
  double support;
};

Filter FilterFor(Image::Resample resample) {
  switch (resample) {
    case Image::Resample::kBox:
      return {BoxFilter, 0.5};
    case Image::Resample::kBilinear:
      return {TriangleFilter, 1.0};
    case Image::Resample::kHamming:
      return {HammingFilter, 1.0};
    case Image::Resample::kLanczos:
      return {LanczosFilter, 3.0};
    case Image::Resample::kBicubic:
    case Image::Resample::kNearest:  // not a convolution; handled apart
      break;
  }
  return {BicubicFilter, 2.0};
}

// Fixed-point weights for one axis: output pixel i reads `count[i]` input pixels starting at
// `first[i]`, weighted by weights[i * ksize + j].
struct AxisWeights {
  int ksize = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;
};

AxisWeights ComputeWeights(int in_size, int out_size, const Filter& filter) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = filter.support * filter_scale;
  AxisWeights w;
  w.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  w.first.resize(out_size);
  w.count.resize(out_size);
  w.weights.assign(static_cast<size_t>(out_size) * w.ksize, 0);
  std::vector<double> k(w.ksize);
  const double inv_scale = 1.0 / filter_scale;  // Pillow multiplies by the reciprocal
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    // Truncation toward zero, then clipping, as Pillow rounds these bounds.
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int n = std::max(hi - lo, 0);
    double sum = 0.0;
    for (int j = 0; j < n; ++j) {
      k[j] = filter.fn((j + lo - center + 0.5) * inv_scale);
      sum += k[j];
    }
    int32_t* out = &w.weights[static_cast<size_t>(i) * w.ksize];
    for (int j = 0; j < n; ++j) {
      const double v = sum != 0.0 ? k[j] / sum : k[j];
      const double fixed = v * (1 << kPrecisionBits);
      out[j] = static_cast<int32_t>(v < 0 ? fixed - 0.5 : fixed + 0.5);
    }
    w.first[i] = lo;
    w.count[i] = n;
  }
  return w;
}

// Accumulators are 32-bit, as Pillow's: the two spare bits of PRECISION_BITS hold the sum of
// 255 times weights whose absolute values add up to less than 2 (at most ~1.3 for Lanczos).
uint8_t Clip8(int32_t acc) {
  return static_cast<uint8_t>(std::clamp<int32_t>(acc >> kPrecisionBits, 0, 255));
}

constexpr int32_t kHalf = int32_t{1} << (kPrecisionBits - 1);

// Resamples rows [row0, row0 + rows) of `in` horizontally into `out` (rows × out_width).
// C is the channel count, a template parameter so that the channel loop unrolls.
template <int C>
void ResampleRowsT(const uint8_t* in, int in_width, int row0, int rows, const AxisWeights& w,
                   uint8_t* out) {
  const int out_width = static_cast<int>(w.first.size());
  for (int y = 0; y < rows; ++y) {
    const uint8_t* src = in + static_cast<size_t>(row0 + y) * in_width * C;
    uint8_t* dst = out + static_cast<size_t>(y) * out_width * C;
    for (int x = 0; x < out_width; ++x) {
      const int32_t* k = &w.weights[static_cast<size_t>(x) * w.ksize];
      const uint8_t* s = src + static_cast<size_t>(w.first[x]) * C;
      const int n = w.count[x];
      // One accumulator per channel, each tap read once: integer sums, so the order of the
      // additions does not change the result.
      int32_t acc[C];
      for (int c = 0; c < C; ++c) acc[c] = kHalf;
      for (int j = 0; j < n; ++j, s += C) {
        const int32_t kj = k[j];
        for (int c = 0; c < C; ++c) acc[c] += s[c] * kj;
      }
      for (int c = 0; c < C; ++c) dst[static_cast<size_t>(x) * C + c] = Clip8(acc[c]);
    }
  }
}

void ResampleRows(const uint8_t* in, int in_width, int row0, int rows, int channels,
                  const AxisWeights& w, uint8_t* out) {
  switch (channels) {
    case 1:
      return ResampleRowsT<1>(in, in_width, row0, rows, w, out);
    case 2:
      return ResampleRowsT<2>(in, in_width, row0, rows, w, out);
    case 3:
      return ResampleRowsT<3>(in, in_width, row0, rows, w, out);
    default:
      return ResampleRowsT<4>(in, in_width, row0, rows, w, out);
  }
}

// Resamples `in` (width × in_rows) vertically into `out` (width × out_height); `w.first` is
// relative to the first row of `in`. Whole rows are accumulated at once, which keeps the
// memory access sequential and lets the compiler vectorize.
void ResampleColumns(const uint8_t* in, int width, int channels, const AxisWeights& w,
                     int first_offset, uint8_t* out) {
  const int out_height = static_cast<int>(w.first.size());
  const size_t stride = static_cast<size_t>(width) * channels;
  std::vector<int32_t> acc(stride);
  for (int y = 0; y < out_height; ++y) {
    const int32_t* k = &w.weights[static_cast<size_t>(y) * w.ksize];
    const uint8_t* src = in + static_cast<size_t>(w.first[y] - first_offset) * stride;
    std::fill(acc.begin(), acc.end(), kHalf);
    for (int j = 0; j < w.count[y]; ++j) {
      const uint8_t* row = src + static_cast<size_t>(j) * stride;
      const int32_t kj = k[j];
      for (size_t i = 0; i < stride; ++i) acc[i] += row[i] * kj;
    }
    uint8_t* dst = out + static_cast<size_t>(y) * stride;
    for (size_t i = 0; i < stride; ++i) dst[i] = Clip8(acc[i]);
  }
}

// Pillow 13 runs the vertical pass first when the image loses more than twice as many rows
// as columns, and the horizontal pass first otherwise. The order matters: the intermediate
// image is rounded to 8 bits.
bool VerticalFirst(int in_width, int in_height, int out_width, int out_height) {
  const int64_t rows_lost = int64_t{in_height} - out_height;
  return rows_lost > 0 && rows_lost > 2 * (int64_t{in_width} - out_width);
}

std::vector<uint8_t> Convolve(std::span<const uint8_t> in, int in_width, int in_height,
                              int channels, int out_width, int out_height, const Filter& filter) {
  const bool horizontal = out_width != in_width;
  const bool vertical = out_height != in_height;
  AxisWeights hw, vw;
  if (horizontal) hw = ComputeWeights(in_width, out_width, filter);
  if (vertical) vw = ComputeWeights(in_height, out_height, filter);
  std::vector<uint8_t> out(static_cast<size_t>(out_width) * out_height * channels);

  if (!vertical) {
    ResampleRows(in.data(), in_width, 0, in_height, channels, hw, out.data());
  } else if (!horizontal) {
    ResampleColumns(in.data(), in_width, channels, vw, 0, out.data());
  } else if (VerticalFirst(in_width, in_height, out_width, out_height)) {
    std::vector<uint8_t> tmp(static_cast<size_t>(in_width) * out_height * channels);
    ResampleColumns(in.data(), in_width, channels, vw, 0, tmp.data());
    ResampleRows(tmp.data(), in_width, 0, out_height, channels, hw, out.data());
  } else {
    // Only the rows the vertical pass reads go through the horizontal pass.
    const int row0 = vw.first.front();
    const int rows = vw.first.back() + vw.count.back() - row0;
    std::vector<uint8_t> tmp(static_cast<size_t>(rows) * out_width * channels);
    ResampleRows(in.data(), in_width, row0, rows, channels, hw, tmp.data());
    ResampleColumns(tmp.data(), out_width, channels, vw, row0, out.data());
  }
  return out;
}

// Pillow's affine nearest-neighbour scaling (ImagingScaleAffine).
std::vector<uint8_t> Nearest(std::span<const uint8_t> in, int in_width, int in_height,
                             int channels, int out_width, int out_height) {
  const double sx = static_cast<double>(in_width) / out_width;
  const double sy = static_cast<double>(in_height) / out_height;
  std::vector<int> xs(out_width);
  double xo = sx * 0.5;
  for (int x = 0; x < out_width; ++x) {
    xs[x] = std::min(static_cast<int>(xo), in_width - 1);
    xo += sx;
  }
  std::vector<uint8_t> out(static_cast<size_t>(out_width) * out_height * channels);
  double yo = sy * 0.5;
  for (int y = 0; y < out_height; ++y) {
    const int yi = std::min(static_cast<int>(yo), in_height - 1);
    const uint8_t* src = in.data() + static_cast<size_t>(yi) * in_width * channels;
    uint8_t* dst = out.data() + static_cast<size_t>(y) * out_width * channels;
    for (int x = 0; x < out_width; ++x) {
      std::copy_n(src + static_cast<size_t>(xs[x]) * channels, channels,
                  dst + static_cast<size_t>(x) * channels);
    }
    yo += sy;
  }
  return out;
}

// Pillow's RGBA -> RGBa: each colour times alpha / 255, rounded.
std::vector<uint8_t> Premultiply(std::span<const uint8_t> in) {
  std::vector<uint8_t> out(in.begin(), in.end());
  for (size_t i = 0; i + 3 < out.size(); i += 4) {
    const unsigned alpha = out[i + 3];
    for (size_t c = 0; c < 3; ++c) {
      const unsigned t = out[i + c] * alpha + 128;
      out[i + c] = static_cast<uint8_t>(((t >> 8) + t) >> 8);
    }
  }
  return out;
}

// Pillow's RGBa -> RGBA: colour * 255 / alpha, truncated and clipped; alpha 0 or 255 kept.
void Unpremultiply(std::vector<uint8_t>& pixels) {
  for (size_t i = 0; i + 3 < pixels.size(); i += 4) {
    const unsigned alpha = pixels[i + 3];
    if (alpha == 0 || alpha == 255) continue;
    for (size_t c = 0; c < 3; ++c) {
      pixels[i + c] = static_cast<uint8_t>(std::min(255u, 255u * pixels[i + c] / alpha));
    }
  }
}

}  // namespace

std::vector<uint8_t> ResampleLikePillow(std::span<const uint8_t> in, int in_width, int in_height,
                                        int channels, int out_width, int out_height,
                                        Image::Resample filter) {
  if (out_width == in_width && out_height == in_height) return {in.begin(), in.end()};
  if (filter == Image::Resample::kNearest) {
    return Nearest(in, in_width, in_height, channels, out_width, out_height);
  }
  if (channels == 4) {
    const std::vector<uint8_t> premultiplied = Premultiply(in);
    std::vector<uint8_t> out = Convolve(premultiplied, in_width, in_height, channels, out_width,
                                        out_height, FilterFor(filter));
    Unpremultiply(out);
    return out;
  }
  return Convolve(in, in_width, in_height, channels, out_width, out_height, FilterFor(filter));
}

}  // namespace bento::io
