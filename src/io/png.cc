#include "io/png.h"

#include <png.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>

namespace bento::io {
namespace {

struct Source {
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
};

// libpng's state and the message of its last error. The destructor frees what libpng made;
// the functions that call libpng hold none of this state themselves.
struct Decoder {
  png_structp png = nullptr;
  png_infop info = nullptr;
  char error[200] = "";
  ~Decoder() { png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr); }
};

void ReadBytes(png_structp png, png_bytep out, size_t n) {
  auto* source = static_cast<Source*>(png_get_io_ptr(png));
  if (n > source->size - source->pos) png_error(png, "truncated");
  std::memcpy(out, source->data + source->pos, n);
  source->pos += n;
}

void OnError(png_structp png, png_const_charp message) {
  auto* decoder = static_cast<Decoder*>(png_get_error_ptr(png));
  std::snprintf(decoder->error, sizeof(decoder->error), "%s", message);
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp message) { spdlog::debug("png: {}", message); }

struct Layout {
  uint32_t width = 0, height = 0;
  int channels = 0;
  bool sixteen = false;
  size_t row_bytes = 0;
};

// Reads the chunks before the image data and sets the transforms. No C++ objects here:
// OnError longjmps back to the setjmp.
bool ReadInfo(Decoder& d, Source& source, Layout* layout) {
  d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d, OnError, OnWarning);
  if (d.png == nullptr) return false;
  d.info = png_create_info_struct(d.png);
  if (d.info == nullptr) return false;
  if (setjmp(png_jmpbuf(d.png))) return false;
  png_set_read_fn(d.png, &source, ReadBytes);
  // A profile libpng knows to be wrong (in many PNGs, README's own image among them) is
  // harmless: the profile is not used.
  png_set_option(d.png, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
  png_read_info(d.png, d.info);
  const int color = png_get_color_type(d.png, d.info);
  const int depth = png_get_bit_depth(d.png, d.info);
  const bool transparent_colour = png_get_valid(d.png, d.info, PNG_INFO_tRNS) != 0;
  int channels = 1;
  if (color == PNG_COLOR_TYPE_GRAY_ALPHA || color == PNG_COLOR_TYPE_RGB_ALPHA) {
    channels = 4;
  } else if (color == PNG_COLOR_TYPE_RGB || color == PNG_COLOR_TYPE_PALETTE) {
    channels = transparent_colour ? 4 : 3;
  }
  if (channels == 4) {
    png_set_tRNS_to_alpha(d.png);
  } else {
    png_set_strip_alpha(d.png);
  }
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(d.png);
  if ((color & PNG_COLOR_MASK_COLOR) == 0) {
    if (depth < 8) png_set_expand_gray_1_2_4_to_8(d.png);
    if (channels == 4) png_set_gray_to_rgb(d.png);
  }
  png_set_interlace_handling(d.png);
  png_read_update_info(d.png, d.info);
  layout->width = png_get_image_width(d.png, d.info);
  layout->height = png_get_image_height(d.png, d.info);
  layout->channels = png_get_channels(d.png, d.info);
  layout->sixteen = png_get_bit_depth(d.png, d.info) == 16;
  layout->row_bytes = png_get_rowbytes(d.png, d.info);
  return layout->channels == channels;
}

// Reads the image data into `rows` and the chunks after it.
bool ReadRows(Decoder& d, png_bytepp rows) {
  if (setjmp(png_jmpbuf(d.png))) return false;
  png_read_image(d.png, rows);
  png_read_end(d.png, nullptr);
  return true;
}

Status NotAPng(const Decoder& d) {
  std::string why = "corrupt or truncated png";
  if (d.error[0] != '\0') why += std::string(": ") + d.error;
  return InvalidArgumentError("not an image: " + why);
}

}  // namespace

StatusOr<DecodedPixels> DecodePng(std::string_view bytes) {
  Decoder decoder;
  Source source{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
  Layout layout;
  if (!ReadInfo(decoder, source, &layout)) return NotAPng(decoder);
  const size_t samples = size_t{layout.width} * layout.channels;
  if (layout.row_bytes != samples * (layout.sixteen ? 2 : 1)) {
    return InvalidArgumentError("not an image: unsupported png layout");
  }
  std::vector<uint8_t> data(layout.row_bytes * layout.height);
  std::vector<png_bytep> rows(layout.height);
  for (uint32_t y = 0; y < layout.height; ++y) rows[y] = data.data() + y * layout.row_bytes;
  if (!ReadRows(decoder, rows.data())) return NotAPng(decoder);

  DecodedPixels out{static_cast<int>(layout.width), static_cast<int>(layout.height),
                    layout.channels, {}};
  if (!layout.sixteen) {
    out.pixels = std::move(data);
    return out;
  }
  // Big-endian 16-bit samples to 8 bits, as Pillow reduces them.
  out.pixels.resize(data.size() / 2);
  for (size_t i = 0; i < out.pixels.size(); ++i) {
    const uint16_t v = static_cast<uint16_t>(data[2 * i] << 8 | data[2 * i + 1]);
    out.pixels[i] = static_cast<uint8_t>(layout.channels == 1 ? std::min<uint16_t>(v, 255)
                                                              : v >> 8);
  }
  return out;
}

}  // namespace bento::io
