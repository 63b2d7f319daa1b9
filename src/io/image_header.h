// Reads an encoded image's format and dimensions from its header, without decoding it, so
// that decompression bombs are refused before any pixel memory is allocated and so that only
// the formats we mean to accept ever reach a decoder.
//
// Knows PNG (IHDR), JPEG (the first SOFn marker), BMP (the DIB header), WebP (VP8, VP8L and
// VP8X) and TIFF (the first IFD, both byte orders). A JPEG must also hold an end-of-image
// marker after its scan: libjpeg decodes a truncated JPEG without error, filling the rest
// with gray, where Pillow refuses it. Every read is bounds-checked; any input, however
// malformed, yields a value or an error in time linear in its size.
//
// Thread-safety: pure functions.
#ifndef BENTO_IO_IMAGE_HEADER_H_
#define BENTO_IO_IMAGE_HEADER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "bento/status.h"

namespace bento::io {

struct ImageHeader {
  std::string format;  // "png", "jpeg", "bmp", "webp" or "tiff"
  int64_t width = 0;
  int64_t height = 0;
};

// Errors: INVALID_ARGUMENT "not an image: ..." when the bytes are not one of the formats
// above or the header is truncated or inconsistent.
StatusOr<ImageHeader> ReadImageHeader(std::string_view bytes);

}  // namespace bento::io

#endif  // BENTO_IO_IMAGE_HEADER_H_
