// Image: the decoded picture a service API takes as a parameter (the guide's PIL `Image.Image`),
// with the preprocessing the guide does on it: convert('RGB'), resize, and the float tensor.
//
// An Image is 8 bits per channel, `channels()` of 1 (gray), 3 (RGB) or 4 (RGBA), row-major
// with channels interleaved and no row padding. The pixels live in a shared, immutable buffer:
// copying an Image is cheap and never copies pixels; every operation returns a new Image.
//
// Decode() accepts PNG, JPEG, BMP, WebP and TIFF (first page), through OpenCV's imgcodecs.
// EXIF orientation is not applied, as Pillow's Image.open does not apply it.
// Resize() reproduces Pillow's Image.resize bit for bit (see src/io/resample.h).
//
// Thread-safety: an Image is immutable; any number of threads may use one at once.
#ifndef BENTO_IMAGE_H_
#define BENTO_IMAGE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bento/status.h"
#include "bento/tensor.h"

namespace bento {

class Image {
 public:
  // Pillow's resampling filters, by the same names.
  enum class Resample { kNearest, kBox, kBilinear, kHamming, kBicubic, kLanczos };
  // Axis order of ToTensor's result.
  enum class Layout { kNCHW, kNHWC };

  // Decoded images larger than this are refused (Pillow's DecompressionBombError is at
  // about 179 megapixels; we refuse earlier).
  static constexpr int64_t kMaxPixels = 100'000'000;

  // An empty image: 0×0, no channels.
  Image() = default;

  // Decodes an encoded image. Palette images come out expanded (RGB or RGBA) and gray+alpha
  // becomes RGBA. 16-bit samples become 8-bit exactly as Pillow's convert('RGB') makes them:
  // colour keeps the high byte, gray is clipped to 255 (not scaled: a 16-bit gray image with
  // values over 255 turns white, as in Pillow).
  // Errors: INVALID_ARGUMENT "not an image: ..." for empty, unknown, garbage or truncated
  // input, and for images over kMaxPixels (checked from the header, before decoding).
  static StatusOr<Image> Decode(std::string_view bytes);

  // Wraps raw interleaved pixels (copies them). `pixels` must hold width*height*channels
  // bytes; channels must be 1, 3 or 4. `format` is a label only ("raw" by default).
  static StatusOr<Image> FromPixels(int width, int height, int channels,
                                    std::span<const uint8_t> pixels,
                                    std::string format = "raw");

  int width() const { return width_; }
  int height() const { return height_; }
  int channels() const { return channels_; }
  bool empty() const { return width_ == 0 || height_ == 0; }
  // Lower-case source format: "png", "jpeg", "bmp", "webp", "tiff", or "raw".
  const std::string& format() const { return format_; }
  // width*height*channels bytes, row-major, channels interleaved.
  std::span<const uint8_t> pixels() const;

  // Pillow's convert('RGB'): gray is replicated into three channels, RGBA loses its alpha
  // without compositing. An RGB image is returned as is (no pixel copy).
  Image ConvertRGB() const;

  // Pillow's resize((width, height), resample). RGBA is resized with premultiplied alpha, as
  // Pillow does. Same size: returns this image. REQUIRES: width > 0 && height > 0 (else
  // an empty Image is returned).
  Image Resize(int width, int height, Resample resample = Resample::kBicubic) const;

  // A float32 tensor of shape [1, C, H, W] (kNCHW) or [1, H, W, C] (kNHWC) holding
  //   (pixel * scale - mean[c]) / std[c]
  // which is the guide's `(np.array(img, float32) / 255.0 - mean) / std`, transposed and
  // expanded, computed as numpy computes it: pixel * scale is rounded to float32 (numpy's
  // float32 array), the normalization is done in double (numpy promotes to the float64 mean
  // and std) and the result is rounded to float32 once. With double mean and std equal to
  // the guide's, the tensor is bit-identical to the guide's.
  // REQUIRES: mean and std are each empty (0 and 1), of size 1 (used for every channel) or
  // of size channels().
  Tensor ToTensor(Layout layout = Layout::kNCHW, std::span<const double> mean = {},
                  std::span<const double> std = {}, double scale = 1.0 / 255) const;
  // The same with float mean and std (e.g. read from JSON as std::vector<float>). A float
  // such as 0.485f is not the guide's 0.485, so values may differ from the guide's by about
  // 1e-7; pass doubles for bit-exact parity.
  Tensor ToTensor(Layout layout, std::span<const float> mean, std::span<const float> std,
                  double scale = 1.0 / 255) const;

 private:
  Image(int width, int height, int channels, std::shared_ptr<const std::vector<uint8_t>> pixels,
        std::string format);

  int width_ = 0;
  int height_ = 0;
  int channels_ = 0;
  std::shared_ptr<const std::vector<uint8_t>> pixels_;  // shared by copies; never mutated
  std::string format_;
};

}  // namespace bento

#endif  // BENTO_IMAGE_H_
