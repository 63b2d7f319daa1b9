// Image: decoding (PNG here, the other formats through the imgcodecs plugin), conversion and
// the float tensor. Resizing is in resample.cc.
#include "bento/image.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cassert>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "base/fs.h"
#include "io/image_header.h"
#include "io/imgcodecs_plugin.h"
#include "io/png.h"
#include "io/resample.h"

namespace bento {
namespace {

Status NotAnImage(std::string_view why) {
  return InvalidArgumentError("not an image: " + std::string(why));
}

// The imgcodecs plugin's entry point (io/imgcodecs_plugin.h), loaded on first use and kept
// for the process's life; null, with `error` saying why, when it could not be loaded.
struct Imgcodecs {
  BentoImgcodecsDecodeFn decode = nullptr;
  std::string error;
};

const Imgcodecs& LoadImgcodecs() {
  static const Imgcodecs loaded = [] {
    Imgcodecs codecs;
    const std::string path = (fs::InstallRoot() / "lib" / BENTO_IMGCODECS_PLUGIN).string();
    if (void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL); handle == nullptr) {
      const char* why = dlerror();
      codecs.error = why ? why : path + ": not loaded";
    } else if (codecs.decode = reinterpret_cast<BentoImgcodecsDecodeFn>(
                   dlsym(handle, "bento_imgcodecs_decode"));
               codecs.decode == nullptr) {
      codecs.error = path + " has no bento_imgcodecs_decode";
    }
    if (!codecs.error.empty()) spdlog::error("image decoding: {}", codecs.error);
    return codecs;
  }();
  return loaded;
}

// The plugin's allocator: the pixels go straight into the vector the Image will hold.
uint8_t* IntoVector(void* context, size_t size) {
  auto* pixels = static_cast<std::vector<uint8_t>*>(context);
  try {
    pixels->resize(size);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
  return pixels->data();
}

// Decodes a format that only OpenCV decodes here, through the plugin.
StatusOr<io::DecodedPixels> DecodeWithImgcodecs(std::string_view bytes,
                                                const std::string& format) {
  const Imgcodecs& codecs = LoadImgcodecs();
  if (codecs.decode == nullptr) {
    // An installation without its plugin, not a bad request.
    return InternalError("decoding " + format + " needs bento's OpenCV plugin, which did not "
                         "load: " + codecs.error);
  }
  io::DecodedPixels image;
  BentoImgcodecsImage decoded{};
  switch (codecs.decode(bytes.data(), bytes.size(), Image::kMaxPixels, &decoded, IntoVector,
                        &image.pixels)) {
    case kBentoImgcodecsOk:
      image.width = decoded.width;
      image.height = decoded.height;
      image.channels = decoded.channels;
      return image;
    // OpenCV's own messages name its source files; the caller gets the format only.
    case kBentoImgcodecsCorrupt:
      return NotAnImage("corrupt " + format);
    case kBentoImgcodecsTruncated:
      return NotAnImage("corrupt or truncated " + format);
    // The header said one size; a decoder must not have produced a bigger one, but check.
    case kBentoImgcodecsTooLarge:
      return NotAnImage("image too large");
    case kBentoImgcodecsBadChannels:
      return NotAnImage("unsupported channel count " + std::to_string(decoded.channels));
    case kBentoImgcodecsBadDepth:
      return NotAnImage("unsupported sample depth");
    case kBentoImgcodecsOutOfMemory:
      return ResourceExhaustedError("out of memory decoding " + format);
  }
  return InternalError("bento's OpenCV plugin gave an unknown result decoding " + format);
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
  ASSIGN_OR_RETURN(io::DecodedPixels decoded, header.format == "png"
                                                 ? io::DecodePng(bytes)
                                                 : DecodeWithImgcodecs(bytes, header.format));
  return Image(decoded.width, decoded.height, decoded.channels,
               std::make_shared<const std::vector<uint8_t>>(std::move(decoded.pixels)),
               header.format);
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
