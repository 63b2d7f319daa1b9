// The boundary between libbento and libbento_imgcodecs.so, the plugin that decodes the image
// formats bento does not decode itself (JPEG, BMP, WebP, TIFF...) through OpenCV's imgcodecs.
//
// OpenCV's imgcodecs, as Debian builds it, loads about 140 shared libraries (GDAL, GDCM,
// OpenEXR, HEIF...): on its own, an empty program linked with it takes ~0.1 s and ~50 MB of
// resident memory to start. So libbento does not link it: image.cc loads the plugin with
// dlopen the first time it meets such an image, from the lib/ folder beside libbento
// (fs::InstallRoot()), and a process that decodes none (every no-code server, every PNG
// upload, every CLI command) never loads OpenCV. The plugin's ABI is one C function, so that
// no C++ type crosses the boundary.
#ifndef BENTO_IO_IMGCODECS_PLUGIN_H_
#define BENTO_IO_IMGCODECS_PLUGIN_H_

#include <stddef.h>
#include <stdint.h>

#define BENTO_IMGCODECS_PLUGIN "libbento_imgcodecs.so"

extern "C" {

// What bento_imgcodecs_decode says of the bytes it was given.
enum BentoImgcodecsResult {
  kBentoImgcodecsOk = 0,
  kBentoImgcodecsCorrupt = 1,       // the decoder threw
  kBentoImgcodecsTruncated = 2,     // the decoder gave no image
  kBentoImgcodecsTooLarge = 3,      // more than max_pixels pixels
  kBentoImgcodecsBadChannels = 4,   // not 1, 3 or 4 channels (in `channels`)
  kBentoImgcodecsBadDepth = 5,      // samples neither 8 nor 16 bits
  kBentoImgcodecsOutOfMemory = 6,
};

// A decoded image's size. Its width * height * channels bytes, row-major, channels
// interleaved as RGB(A) or gray, go where the caller's allocator says.
struct BentoImgcodecsImage {
  int width;
  int height;
  int channels;
};

// Where to write a decoded image's `size` bytes: the caller's buffer, or null when it could
// not be had. Called at most once per decode.
using BentoImgcodecsAlloc = uint8_t* (*)(void* context, size_t size);

// Decodes `size` encoded bytes. 16-bit samples are reduced as Pillow reduces them: colour
// keeps the high byte, gray is clipped to 255. On kBentoImgcodecsOk `out` holds the image's
// size and its pixels are in the buffer from `alloc`; on kBentoImgcodecsBadChannels
// out->channels holds the count. Thread-safe.
int bento_imgcodecs_decode(const char* bytes, size_t size, int64_t max_pixels,
                           BentoImgcodecsImage* out, BentoImgcodecsAlloc alloc, void* context);

using BentoImgcodecsDecodeFn = int (*)(const char*, size_t, int64_t, BentoImgcodecsImage*,
                                       BentoImgcodecsAlloc, void*);

}  // extern "C"

#endif  // BENTO_IO_IMGCODECS_PLUGIN_H_
