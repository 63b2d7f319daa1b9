#include "io/image_header.h"

#include <cstdlib>
#include <optional>

namespace bento::io {
namespace {

// Bounds-checked little- and big-endian reads; nullopt past the end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  std::optional<uint32_t> Byte(size_t at) const {
    if (at >= bytes_.size()) return std::nullopt;
    return static_cast<uint8_t>(bytes_[at]);
  }
  std::optional<uint32_t> Le(size_t at, int n) const { return Read(at, n, false); }
  std::optional<uint32_t> Be(size_t at, int n) const { return Read(at, n, true); }
  bool Has(size_t at, std::string_view magic) const {
    return at <= bytes_.size() && bytes_.substr(at).starts_with(magic);
  }
  size_t size() const { return bytes_.size(); }

 private:
  std::optional<uint32_t> Read(size_t at, int n, bool big_endian) const {
    if (at > bytes_.size() || bytes_.size() - at < static_cast<size_t>(n)) return std::nullopt;
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      const uint32_t b = static_cast<uint8_t>(bytes_[at + (big_endian ? i : n - 1 - i)]);
      v = (v << 8) | b;
    }
    return v;
  }

  std::string_view bytes_;
};

Status NotAnImage(std::string_view why) {
  return InvalidArgumentError("not an image: " + std::string(why));
}

StatusOr<ImageHeader> Make(std::string format, std::optional<uint32_t> width,
                           std::optional<uint32_t> height) {
  if (!width || !height) return NotAnImage("truncated " + format + " header");
  if (*width == 0 || *height == 0) return NotAnImage(format + " image of zero size");
  return ImageHeader{std::move(format), *width, *height};
}

StatusOr<ImageHeader> Png(const Reader& r) {
  if (!r.Has(12, "IHDR")) return NotAnImage("PNG without IHDR");
  return Make("png", r.Be(16, 4), r.Be(20, 4));
}

bool IsSof(uint32_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Walks the JPEG markers to the first start-of-frame (the size) and on to the start of scan.
// libjpeg decodes a truncated file without complaint, filling the missing part with gray, so
// the end-of-image marker must follow the scan: inside entropy-coded data 0xFF is always
// followed by 0x00 or a restart marker, so 0xFF 0xD9 there is the real end.
StatusOr<ImageHeader> Jpeg(const Reader& r, std::string_view bytes) {
  std::optional<StatusOr<ImageHeader>> frame;
  size_t at = 2;  // after SOI
  while (at < r.size()) {
    // libjpeg skips stray bytes before a marker (with a warning); so do we.
    if (*r.Byte(at) != 0xFF) {
      ++at;
      continue;
    }
    while (r.Byte(at) == 0xFFu) ++at;  // fill bytes
    const std::optional<uint32_t> marker = r.Byte(at);
    if (!marker) break;
    ++at;
    if (*marker == 0x01 || (*marker >= 0xD0 && *marker <= 0xD7)) continue;  // no length
    if (*marker == 0xD9) break;
    if (*marker == 0xDA) {
      if (!frame) return NotAnImage("JPEG without a frame header");
      if (bytes.find("\xff\xd9", at) == std::string_view::npos) {
        return NotAnImage("truncated jpeg (no end-of-image marker)");
      }
      return *frame;
    }
    const std::optional<uint32_t> length = r.Be(at, 2);
    if (!length || *length < 2) break;
    if (IsSof(*marker) && !frame) frame = Make("jpeg", r.Be(at + 5, 2), r.Be(at + 3, 2));
    if (frame && !frame->ok()) return *frame;
    at += *length;
  }
  return NotAnImage("truncated jpeg header");
}

StatusOr<ImageHeader> Bmp(const Reader& r) {
  const std::optional<uint32_t> dib_size = r.Le(14, 4);
  if (!dib_size) return NotAnImage("truncated bmp header");
  if (*dib_size == 12) return Make("bmp", r.Le(18, 2), r.Le(20, 2));
  std::optional<uint32_t> width = r.Le(18, 4);
  std::optional<uint32_t> height = r.Le(22, 4);
  if (width && static_cast<int32_t>(*width) < 0) return NotAnImage("bmp of negative width");
  // A negative height means rows stored top-down.
  if (height) height = static_cast<uint32_t>(std::abs(int64_t{static_cast<int32_t>(*height)}));
  return Make("bmp", width, height);
}

StatusOr<ImageHeader> Webp(const Reader& r) {
  constexpr size_t kData = 20;  // the first chunk's payload
  if (r.Has(12, "VP8 ")) {
    if (!r.Has(kData + 3, "\x9d\x01\x2a")) return NotAnImage("bad webp VP8 header");
    std::optional<uint32_t> w = r.Le(kData + 6, 2), h = r.Le(kData + 8, 2);
    if (w) *w &= 0x3FFF;
    if (h) *h &= 0x3FFF;
    return Make("webp", w, h);
  }
  if (r.Has(12, "VP8L")) {
    if (r.Byte(kData) != 0x2Fu) return NotAnImage("bad webp VP8L header");
    const std::optional<uint32_t> bits = r.Le(kData + 1, 4);
    if (!bits) return NotAnImage("truncated webp header");
    return Make("webp", (*bits & 0x3FFF) + 1, ((*bits >> 14) & 0x3FFF) + 1);
  }
  if (r.Has(12, "VP8X")) {
    std::optional<uint32_t> w = r.Le(kData + 4, 3), h = r.Le(kData + 7, 3);
    if (w) *w += 1;
    if (h) *h += 1;
    return Make("webp", w, h);
  }
  return NotAnImage("unknown webp chunk");
}

// Reads ImageWidth (256) and ImageLength (257) from the first IFD.
StatusOr<ImageHeader> Tiff(const Reader& r, bool big_endian) {
  auto read = [&](size_t at, int n) { return big_endian ? r.Be(at, n) : r.Le(at, n); };
  const std::optional<uint32_t> ifd = read(4, 4);
  if (!ifd) return NotAnImage("truncated tiff header");
  const std::optional<uint32_t> entries = read(*ifd, 2);
  if (!entries) return NotAnImage("truncated tiff header");
  std::optional<uint32_t> width, height;
  for (uint32_t i = 0; i < *entries; ++i) {
    const size_t entry = size_t{*ifd} + 2 + size_t{i} * 12;
    const std::optional<uint32_t> tag = read(entry, 2);
    const std::optional<uint32_t> type = read(entry + 2, 2);
    if (!tag || !type) return NotAnImage("truncated tiff header");
    if (*tag != 256 && *tag != 257) continue;
    std::optional<uint32_t> value;
    if (*type == 3) value = read(entry + 8, 2);       // SHORT
    else if (*type == 4) value = read(entry + 8, 4);  // LONG
    else return NotAnImage("bad tiff dimension type");
    // libtiff keeps the first of repeated tags and Pillow the last: refuse what they would
    // read differently, and what would let a decoder see another size than the one checked.
    std::optional<uint32_t>& dimension = *tag == 256 ? width : height;
    if (dimension) return NotAnImage("repeated tiff dimension tag");
    dimension = value;
  }
  return Make("tiff", width, height);
}

}  // namespace

StatusOr<ImageHeader> ReadImageHeader(std::string_view bytes) {
  if (bytes.empty()) return NotAnImage("empty input");
  const Reader r(bytes);
  if (r.Has(0, "\x89PNG\r\n\x1a\n")) return Png(r);
  if (r.Has(0, "\xff\xd8")) return Jpeg(r, bytes);
  if (r.Has(0, "BM")) return Bmp(r);
  if (r.Has(0, "RIFF") && r.Has(8, "WEBP")) return Webp(r);
  if (r.Has(0, std::string_view("II*\0", 4))) return Tiff(r, false);
  if (r.Has(0, std::string_view("MM\0*", 4))) return Tiff(r, true);
  return NotAnImage("unrecognized format (expected PNG, JPEG, BMP, WebP or TIFF)");
}

}  // namespace bento::io
