#include "io/png.h"

#include <libdeflate.h>
#include <png.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>

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

// ---- the direct path: libdeflate and our own unfiltering, for the common PNGs -------------

uint32_t ReadU32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

// The Paeth predictor (PNG spec, section 9.4) of `a` left, `b` up and `c` up-left, without
// branches.
inline int Paeth(int a, int b, int c) {
  const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
  const int bc = pb <= pc ? b : c;
  return pa <= pb && pa <= pc ? a : bc;
}

// Undoes one row's filter into `out`: `in` is the filtered row of `n` bytes (a whole number
// of pixels), `prior` the previous unfiltered row (zeros for the first). BPP: bytes per pixel,
// a constant so that the loops over a pixel's bytes unroll. False for an unknown filter.
// `out` may overlap `in` from before it (out <= in): each byte of `in` is read before the
// byte at its offset in `out` is written, and `prior` overlaps neither.
template <size_t BPP>
bool UnfilterT(uint8_t filter, const uint8_t* in, const uint8_t* prior, uint8_t* out, size_t n) {
  switch (filter) {
    case 0:
      std::memmove(out, in, n);
      return true;
    case 1:
      std::memmove(out, in, BPP);
      for (size_t i = BPP; i < n; ++i) out[i] = in[i] + out[i - BPP];
      return true;
    case 2: {
      // Sixteen bytes at a time (GCC's vector extension: SSE2 on x86-64, NEON on arm64).
      using Bytes = uint8_t __attribute__((vector_size(16)));
      size_t i = 0;
      for (; i + 16 <= n; i += 16) {
        Bytes a, b;
        std::memcpy(&a, in + i, 16);
        std::memcpy(&b, prior + i, 16);
        a += b;
        std::memcpy(out + i, &a, 16);
      }
      for (; i < n; ++i) out[i] = in[i] + prior[i];
      return true;
    }
    case 3:
      for (size_t i = 0; i < BPP; ++i) out[i] = in[i] + (prior[i] >> 1);
      for (size_t i = BPP; i < n; ++i) out[i] = in[i] + ((out[i - BPP] + prior[i]) >> 1);
      return true;
    case 4:
      for (size_t i = 0; i < BPP; ++i) out[i] = in[i] + prior[i];  // Paeth(0, b, 0) is b
      for (size_t i = BPP; i < n; i += BPP) {
        for (size_t k = i; k < i + BPP; ++k) {
          out[k] = in[k] + Paeth(out[k - BPP], prior[k], prior[k - BPP]);
        }
      }
      return true;
    default:
      return false;
  }
}

bool Unfilter(uint8_t filter, const uint8_t* in, const uint8_t* prior, uint8_t* out, size_t n,
              size_t bpp) {
  switch (bpp) {
    case 1:
      return UnfilterT<1>(filter, in, prior, out, n);
    case 2:
      return UnfilterT<2>(filter, in, prior, out, n);
    case 3:
      return UnfilterT<3>(filter, in, prior, out, n);
    default:
      return UnfilterT<4>(filter, in, prior, out, n);
  }
}

// The common PNGs (8-bit gray, gray+alpha, RGB or RGBA, not interlaced, no palette and no
// tRNS), decoded without libpng: every chunk's CRC is checked, the IDAT stream is inflated
// in one call by libdeflate (about twice zlib's speed) and the rows are unfiltered here. The
// samples are those libpng gives. nullopt for anything else, and for anything wrong (a bad
// CRC, a short stream): libpng then decodes it, or says what is wrong, as it always did.
std::optional<DecodedPixels> DecodeDirect(std::string_view bytes) {
  static constexpr uint8_t kSignature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t size = bytes.size();
  if (size < 8 || std::memcmp(p, kSignature, 8) != 0) return std::nullopt;
  uint32_t width = 0, height = 0;
  int color = -1;
  std::vector<std::string_view> idat;  // the IDAT chunks' data, in order
  size_t idat_size = 0;
  bool idat_done = false, end = false;
  for (size_t pos = 8; !end;) {
    if (size - pos < 12) return std::nullopt;
    const uint32_t length = ReadU32(p + pos);
    if (length > 0x7fffffffu || size - pos - 12 < length) return std::nullopt;
    const uint8_t* type = p + pos + 4;
    const uint8_t* data = type + 4;
    if (libdeflate_crc32(0, type, length + 4) != ReadU32(data + length)) return std::nullopt;
    const std::string_view name(reinterpret_cast<const char*>(type), 4);
    if (pos == 8 && name != "IHDR") return std::nullopt;
    if (name == "IHDR") {
      if (pos != 8 || length != 13) return std::nullopt;
      width = ReadU32(data);
      height = ReadU32(data + 4);
      color = data[9];
      const bool simple = data[8] == 8 && (color == 0 || color == 2 || color == 4 || color == 6) &&
                          data[10] == 0 && data[11] == 0 && data[12] == 0;
      if (!simple || width == 0 || height == 0) return std::nullopt;
    } else if (name == "IDAT") {
      if (idat_done) return std::nullopt;  // IDAT chunks must be consecutive
      idat.emplace_back(reinterpret_cast<const char*>(data), length);
      idat_size += length;
    } else if (name == "IEND") {
      end = true;
    } else if ((type[0] & 0x20) == 0 || name == "tRNS") {
      return std::nullopt;  // a critical chunk (PLTE, say), or transparency: libpng's
    }
    if (name != "IDAT" && !idat.empty()) idat_done = true;
    pos += 12 + size_t{length};
  }
  const size_t channels = color == 0 ? 1 : color == 4 ? 2 : color == 2 ? 3 : 4;
  const size_t stride = size_t{width} * channels;
  if (idat.empty() || stride / channels != width ||
      stride + 1 > std::numeric_limits<size_t>::max() / height) {
    return std::nullopt;
  }
  // libdeflate takes the stream whole: the chunks' data are joined, unless there is one.
  std::string joined;
  std::string_view stream = idat[0];
  if (idat.size() > 1) {
    joined.reserve(idat_size);
    for (std::string_view part : idat) joined.append(part);
    stream = joined;
  }
  // Each row is its filter byte and `stride` bytes. They are unfiltered in place, each moved
  // back over the filter bytes before it, so the buffer ends as the image.
  std::vector<uint8_t> pixels((stride + 1) * height);
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> inflater(
      libdeflate_alloc_decompressor(), libdeflate_free_decompressor);
  size_t inflated = 0;
  if (inflater == nullptr ||
      libdeflate_zlib_decompress(inflater.get(), stream.data(), stream.size(), pixels.data(),
                                 pixels.size(), &inflated) != LIBDEFLATE_SUCCESS ||
      inflated != pixels.size()) {
    return std::nullopt;
  }
  const std::vector<uint8_t> zeros(stride, 0);
  for (size_t y = 0; y < height; ++y) {
    // Row y's bytes move back by y + 1: each is read before its place is written, and the
    // previous row, already in place, ends where this one begins.
    const uint8_t* in = pixels.data() + y * (stride + 1);
    uint8_t* row = pixels.data() + y * stride;
    if (!Unfilter(in[0], in + 1, y == 0 ? zeros.data() : row - stride, row, stride, channels)) {
      return std::nullopt;
    }
  }
  pixels.resize(stride * height);
  DecodedPixels out{static_cast<int>(width), static_cast<int>(height),
                    color == 4 ? 4 : static_cast<int>(channels), {}};
  if (color != 4) {
    out.pixels = std::move(pixels);
    return out;
  }
  // Gray+alpha to RGBA, as libpng's gray_to_rgb transform makes it.
  out.pixels.resize(size_t{width} * height * 4);
  for (size_t i = 0, j = 0; i < pixels.size(); i += 2, j += 4) {
    out.pixels[j] = out.pixels[j + 1] = out.pixels[j + 2] = pixels[i];
    out.pixels[j + 3] = pixels[i + 1];
  }
  return out;
}

Status NotAPng(const Decoder& d) {
  std::string why = "corrupt or truncated png";
  if (d.error[0] != '\0') why += std::string(": ") + d.error;
  return InvalidArgumentError("not an image: " + why);
}

}  // namespace

StatusOr<DecodedPixels> DecodePng(std::string_view bytes) {
  if (auto direct = DecodeDirect(bytes)) return *std::move(direct);
  return DecodePngWithLibpng(bytes);
}

StatusOr<DecodedPixels> DecodePngWithLibpng(std::string_view bytes) {
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
