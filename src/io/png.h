// PNG decoding into the interleaved 8-bit samples bento::Image holds.
//
// The common PNGs (8-bit gray, gray+alpha, RGB or RGBA, not interlaced, no palette, no tRNS:
// what Pillow, OpenCV and most cameras' tools write) take a direct path: libdeflate inflates
// the image data in one call and the rows are unfiltered here, 1.3 to 2.9 times as fast as
// libpng on the python3-skimage images (chelsea.png, 451x300 RGB: 4.6 ms to 2.7 ms). Every
// other PNG, and any the direct path finds wrong (a bad CRC, a short or long stream, an
// unknown filter), is decoded by libpng, which also gives the error. Both give the same samples
// (src/io/png_test.cc checks it on every skimage PNG and on random images through each filter).
//
// The samples are those OpenCV's imdecode(IMREAD_UNCHANGED) gave (the decoder bento used
// before, whose output the Pillow parity checks pinned), reduced to 8 bits as Pillow reduces
// them:
//   - gray: 1 channel; RGB and palette: 3, or 4 when a tRNS chunk makes one colour
//     transparent; gray+alpha and RGBA: 4 (gray+alpha is expanded to RGBA);
//   - 16-bit colour keeps its high byte (Pillow's RGB;16 unpackers); 16-bit gray is clipped
//     to 255 (Pillow's I;16 to L);
//   - interlaced images are deinterlaced; gamma, sBIT and colour profiles are ignored.
// libpng's warnings (an sRGB profile known to be wrong, an over-long chunk) go to the debug
// log, never to stderr; its errors become INVALID_ARGUMENT "not an image: ...".
//
// Thread-safety: a pure function. libpng reports errors by longjmp, so every libpng call
// happens in a function that owns no C++ object with a destructor.
#ifndef BENTO_IO_PNG_H_
#define BENTO_IO_PNG_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "bento/status.h"

namespace bento::io {

struct DecodedPixels {
  int width = 0;
  int height = 0;
  int channels = 0;             // 1, 3 or 4
  std::vector<uint8_t> pixels;  // rows top to bottom, channels interleaved (RGB(A) order)
};

// REQUIRES: the caller has checked the header's dimensions (io::ReadImageHeader).
StatusOr<DecodedPixels> DecodePng(std::string_view bytes);

// libpng alone, DecodePng's fallback: for the tests that hold the direct path to it.
StatusOr<DecodedPixels> DecodePngWithLibpng(std::string_view bytes);

}  // namespace bento::io

#endif  // BENTO_IO_PNG_H_
