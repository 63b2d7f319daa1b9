// libbento_imgcodecs.so: OpenCV's imgcodecs behind the C ABI of imgcodecs_plugin.h. It holds
// the only OpenCV code in bento, and links nothing of bento's.
#include "io/imgcodecs_plugin.h"

#include <algorithm>
#include <exception>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace {

// Copies an 8- or 16-bit OpenCV image into interleaved RGB(A)/gray bytes: BGR(A) becomes
// RGB(A). 16-bit samples are reduced as Pillow reduces them: colour keeps the high byte
// (Pillow's RGB;16 unpackers), gray is clipped to 255 (Pillow's I;16 -> L/RGB conversion).
void CopyPixels(const cv::Mat& mat, uint8_t* dst) {
  const int channels = mat.channels();
  const bool wide = mat.depth() == CV_16U;
  for (int y = 0; y < mat.rows; ++y) {
    for (int x = 0; x < mat.cols; ++x) {
      for (int c = 0; c < channels; ++c) {
        // BGR(A) -> RGB(A): swap channels 0 and 2.
        const int from = (channels >= 3 && c < 3) ? 2 - c : c;
        if (!wide) {
          *dst++ = mat.ptr<uint8_t>(y)[x * channels + from];
        } else {
          const uint16_t v = mat.ptr<uint16_t>(y)[x * channels + from];
          *dst++ = static_cast<uint8_t>(channels == 1 ? std::min<uint16_t>(v, 255) : v >> 8);
        }
      }
    }
  }
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int bento_imgcodecs_decode(
    const char* bytes, size_t size, int64_t max_pixels, BentoImgcodecsImage* out,
    BentoImgcodecsAlloc alloc, void* context) {
  cv::Mat mat;
  try {
    // imdecode does not write to the buffer; the Mat header only wraps it.
    const cv::Mat buffer(1, static_cast<int>(size), CV_8U, const_cast<char*>(bytes));
    mat = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  } catch (const std::exception&) {  // cv::Exception, std::bad_alloc
    return kBentoImgcodecsCorrupt;
  }
  if (mat.empty()) return kBentoImgcodecsTruncated;
  if (int64_t{mat.rows} * mat.cols > max_pixels) return kBentoImgcodecsTooLarge;
  const int channels = mat.channels();
  if (channels != 1 && channels != 3 && channels != 4) {
    out->channels = channels;
    return kBentoImgcodecsBadChannels;
  }
  if (mat.depth() != CV_8U && mat.depth() != CV_16U) return kBentoImgcodecsBadDepth;
  const size_t bytes_out = static_cast<size_t>(mat.rows) * mat.cols * channels;
  uint8_t* pixels = alloc(context, bytes_out);
  if (pixels == nullptr) return kBentoImgcodecsOutOfMemory;
  CopyPixels(mat, pixels);
  *out = {mat.cols, mat.rows, channels};
  return kBentoImgcodecsOk;
}
