// Image: decoding through OpenCV's imgcodecs, conversion and the float tensor. Resizing is in
// resample.cc. OpenCV types stay inside this file.
#include "bento/image.h"

#include <algorithm>
#include <cassert>
#include <exception>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "io/image_header.h"
#include "io/png.h"
#include "io/resample.h"

namespace bento {
namespace {

Status NotAnImage(std::string_view why) {
  return InvalidArgumentError("not an image: " + std::string(why));
}

// Copies an 8- or 16-bit OpenCV image into interleaved RGB(A)/gray bytes: BGR(A) becomes
// RGB(A). 16-bit samples are reduced as Pillow reduces them: colour keeps the high byte
// (Pillow's RGB;16 unpackers), gray is clipped to 255 (Pillow's I;16 -> L/RGB conversion).
StatusOr<std::vector<uint8_t>> FromMat(const cv::Mat& mat) {
  const int channels = mat.channels();
  if (channels != 1 && channels != 3 && channels != 4) {
    return NotAnImage("unsupported channel count " + std::to_string(channels));
  }
  const int depth = mat.depth();
  if (depth != CV_8U && depth != CV_16U) return NotAnImage("unsupported sample depth");
  std::vector<uint8_t> out(static_cast<size_t>(mat.rows) * mat.cols * channels);
  uint8_t* dst = out.data();
  for (int y = 0; y < mat.rows; ++y) {
    for (int x = 0; x < mat.cols; ++x) {
      for (int c = 0; c < channels; ++c) {
        // BGR(A) -> RGB(A): swap channels 0 and 2.
        const int from = (channels >= 3 && c < 3) ? 2 - c : c;
        if (depth == CV_8U) {
          *dst++ = mat.ptr<uint8_t>(y)[x * channels + from];
        } else {
          const uint16_t v = mat.ptr<uint16_t>(y)[x * channels + from];
          *dst++ = static_cast<uint8_t>(channels == 1 ? std::min<uint16_t>(v, 255) : v >> 8);
        }
      }
    }
  }
  return out;
}

}  // namespace

Image::Image(int width, int height, int channels,
             std::shared_ptr<const std::vector<uint8_t>> pixels, std::string format)
    : width_(width),
      height_(height),
      channels_(channels),
      pixels_(std::move(pixels)),
      format_(std::move(format)) {}

StatusOr<Image> Image::Decode(std::string_view bytes) {
  ASSIGN_OR_RETURN(const io::ImageHeader header, io::ReadImageHeader(bytes));
  // width * height > kMaxPixels, without overflow (both are at least 1, at most 2^32 - 1).
  if (header.width > kMaxPixels / header.height) {
    return InvalidArgumentError("image too large: " + std::to_string(header.width) + "x" +
                                std::to_string(header.height) + " is over " +
                                std::to_string(kMaxPixels / 1'000'000) + " megapixels");
  }
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return InvalidArgumentError("image too large: over 2 GiB encoded");
  }
  if (header.format == "png") {
    ASSIGN_OR_RETURN(io::DecodedPixels png, io::DecodePng(bytes));
    return Image(png.width, png.height, png.channels,
                 std::make_shared<const std::vector<uint8_t>>(std::move(png.pixels)), "png");
  }
  cv::Mat mat;
  // OpenCV's message names its source files; the caller gets the format only.
  try {
    // imdecode does not write to the buffer; the Mat header only wraps it.
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U,
                         const_cast<char*>(bytes.data()));
    mat = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  } catch (const std::exception&) {  // cv::Exception, std::bad_alloc
    return NotAnImage("corrupt " + header.format);
  }
  if (mat.empty()) return NotAnImage("corrupt or truncated " + header.format);
  // The header said one size; a decoder must not have produced a bigger one, but check.
  if (int64_t{mat.rows} * mat.cols > kMaxPixels) return NotAnImage("image too large");
  ASSIGN_OR_RETURN(std::vector<uint8_t> pixels, FromMat(mat));
  return Image(mat.cols, mat.rows, mat.channels(),
               std::make_shared<const std::vector<uint8_t>>(std::move(pixels)), header.format);
}

StatusOr<Image> Image::FromPixels(int width, int height, int channels,
                                  std::span<const uint8_t> pixels, std::string format) {
  if (width < 0 || height < 0) return InvalidArgumentError("negative image size");
  if (channels != 1 && channels != 3 && channels != 4) {
    return InvalidArgumentError("an image has 1, 3 or 4 channels, not " +
                                std::to_string(channels));
  }
  if (int64_t{width} * height > kMaxPixels) return InvalidArgumentError("image too large");
  const size_t expected = static_cast<size_t>(width) * height * channels;
  if (pixels.size() != expected) {
    return InvalidArgumentError("expected " + std::to_string(expected) + " pixel bytes, got " +
                                std::to_string(pixels.size()));
  }
  return Image(width, height, channels,
               std::make_shared<const std::vector<uint8_t>>(pixels.begin(), pixels.end()),
               std::move(format));
}

std::span<const uint8_t> Image::pixels() const {
  if (!pixels_) return {};
  return {pixels_->data(), pixels_->size()};
}

Image Image::ConvertRGB() const {
  if (channels_ == 3 || empty()) return *this;
  const std::span<const uint8_t> in = pixels();
  auto out = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(width_) * height_ * 3);
  uint8_t* dst = out->data();
  for (size_t i = 0; i < in.size(); i += channels_) {
    const bool gray = channels_ == 1;
    *dst++ = in[i];
    *dst++ = in[gray ? i : i + 1];
    *dst++ = in[gray ? i : i + 2];
  }
  return Image(width_, height_, 3, std::move(out), format_);
}

Image Image::Resize(int width, int height, Resample resample) const {
  assert(width > 0 && height > 0);
  if (width <= 0 || height <= 0) return Image();
  if (width == width_ && height == height_) return *this;
  if (empty()) return Image();
  std::vector<uint8_t> out =
      io::ResampleLikePillow(pixels(), width_, height_, channels_, width, height, resample);
  return Image(width, height, channels_,
               std::make_shared<const std::vector<uint8_t>>(std::move(out)), format_);
}

Tensor Image::ToTensor(Layout layout, std::span<const double> mean,
                       std::span<const double> std, double scale) const {
  assert(mean.empty() || mean.size() == 1 || mean.size() == static_cast<size_t>(channels_));
  assert(std.empty() || std.size() == 1 || std.size() == static_cast<size_t>(channels_));
  const int64_t h = height_, w = width_, c = channels_;
  std::vector<int64_t> shape = layout == Layout::kNCHW ? std::vector<int64_t>{1, c, h, w}
                                                       : std::vector<int64_t>{1, h, w, c};
  Tensor tensor = Tensor::Zeros(DType::kFloat32, std::move(shape));
  if (empty()) return tensor;
  // A lookup table per channel of the 256 possible values, computed as numpy does.
  std::vector<float> table(static_cast<size_t>(c) * 256);
  for (int64_t i = 0; i < c; ++i) {
    const double m = mean.empty() ? 0.0 : mean[i % mean.size()];
    const double s = std.empty() ? 1.0 : std[i % std.size()];
    for (int p = 0; p < 256; ++p) {
      const float x = static_cast<float>(p * scale);  // np.array(img, float32) / 255.0
      table[i * 256 + p] = mean.empty() && std.empty() ? x : static_cast<float>((x - m) / s);
    }
  }
  const std::span<const uint8_t> in = pixels();
  float* out = tensor.mutable_values<float>().data();
  const int64_t plane = h * w;
  for (int64_t px = 0; px < plane; ++px) {
    for (int64_t ch = 0; ch < c; ++ch) {
      const float v = table[ch * 256 + in[px * c + ch]];
      if (layout == Layout::kNCHW) out[ch * plane + px] = v;
      else out[px * c + ch] = v;
    }
  }
  return tensor;
}

Tensor Image::ToTensor(Layout layout, std::span<const float> mean, std::span<const float> std,
                       double scale) const {
  const std::vector<double> mean64(mean.begin(), mean.end());
  const std::vector<double> std64(std.begin(), std.end());
  return ToTensor(layout, mean64, std64, scale);
}

}  // namespace bento
