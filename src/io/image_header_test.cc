#include "io/image_header.h"

#include <gtest/gtest.h>

#include <string>

#include "base/fs.h"

namespace bento::io {
namespace {

const char kSkimage[] = "/usr/lib/python3/dist-packages/skimage/data/";

std::string Skimage(const std::string& name) {
  StatusOr<std::string> bytes = fs::ReadFile(kSkimage + name);
  EXPECT_TRUE(bytes.ok()) << bytes.status() << " (install python3-skimage)";
  return bytes.ok() ? *bytes : std::string();
}

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string Le(uint32_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>(v >> (8 * i));
  return out;
}

void ExpectHeader(const std::string& bytes, const std::string& format, int64_t width,
                  int64_t height) {
  StatusOr<ImageHeader> header = ReadImageHeader(bytes);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->format, format);
  EXPECT_EQ(header->width, width);
  EXPECT_EQ(header->height, height);
}

void ExpectNotAnImage(const std::string& bytes) {
  StatusOr<ImageHeader> header = ReadImageHeader(bytes);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(header.status().message().starts_with("not an image: ")) << header.status();
}

TEST(ImageHeaderTest, ReadsRealFiles) {
  ExpectHeader(Skimage("chelsea.png"), "png", 451, 300);
  ExpectHeader(Skimage("page.png"), "png", 384, 191);
  ExpectHeader(Skimage("hubble_deep_field.jpg"), "jpeg", 1000, 872);
  ExpectHeader(Skimage("chessboard_GRAY_U16.tif"), "tiff", 200, 200);   // little-endian
  ExpectHeader(Skimage("chessboard_GRAY_U16B.tif"), "tiff", 200, 200);  // big-endian
}

TEST(ImageHeaderTest, ReadsCraftedHeaders) {
  const std::string png = "\x89PNG\r\n\x1a\n" + Be32(13) + "IHDR" + Be32(70000) + Be32(3);
  ExpectHeader(png, "png", 70000, 3);

  std::string bmp = "BM" + std::string(12, '\0') + Le(40, 4) + Le(640, 4) + Le(-480, 4);
  ExpectHeader(bmp, "bmp", 640, 480);  // negative height: top-down rows

  const std::string riff = "RIFF" + Le(100, 4) + "WEBP";
  ExpectHeader(riff + "VP8X" + Le(10, 4) + Le(0, 4) + Le(16383, 3) + Le(9999, 3), "webp",
               16384, 10000);
  ExpectHeader(riff + "VP8L" + Le(5, 4) + "\x2f" + Le((99 << 14) | 199, 4), "webp", 200, 100);
  const std::string vp8_start("\0\0\0\x9d\x01\x2a", 6);
  ExpectHeader(riff + "VP8 " + Le(10, 4) + vp8_start + Le(320, 2) + Le(240, 2), "webp", 320, 240);

  // SOI, an APP0 segment, SOF0 (height 2, width 3), SOS, one byte of scan, EOI.
  const std::string jpeg = std::string("\xff\xd8\xff\xe0\x00\x04\x00\x00", 8) +
                           std::string("\xff\xc0\x00\x0b\x08\x00\x02\x00\x03\x01\x01\x11\x00",
                                       13) +
                           std::string("\xff\xda\x00\x02\x55\xff\xd9", 7);
  ExpectHeader(jpeg, "jpeg", 3, 2);
}

TEST(ImageHeaderTest, RefusesUnknownTruncatedAndZeroSized) {
  ExpectNotAnImage("");
  ExpectNotAnImage("hello world, not an image");
  ExpectNotAnImage("GIF89a");  // GIF is not accepted
  ExpectNotAnImage("\x89PNG\r\n\x1a\n");        // signature only
  ExpectNotAnImage("\x89PNG\r\n\x1a\n" + Be32(13) + "IHDR" + Be32(0) + Be32(5));
  ExpectNotAnImage("\xff\xd8\xff");
  ExpectNotAnImage("BM");
  ExpectNotAnImage(std::string("RIFF\0\0\0\0WEBPVP8 ", 16));
  ExpectNotAnImage(std::string("II*\0\x08\0\0\0", 8));  // IFD beyond the end
}

// Found by fuzz/image_fuzzer: ImageLength twice (3, then 1). libtiff decodes with the first
// and this reader kept the last, so the size checked against kMaxPixels was not the size
// decoded. Pillow keeps the last too; such a file is refused.
TEST(ImageHeaderTest, RepeatedTiffDimensionTagIsRefused) {
  auto entry = [](int tag, uint32_t value) {
    return Le(tag, 2) + Le(4, 2) + Le(1, 4) + Le(value, 4);  // a LONG, one value
  };
  const std::string head = "II*" + std::string(1, '\0') + Le(8, 4);
  const std::string once = head + Le(2, 2) + entry(256, 4) + entry(257, 3) + Le(0, 4);
  ExpectHeader(once, "tiff", 4, 3);
  const std::string twice =
      head + Le(3, 2) + entry(256, 4) + entry(257, 3) + entry(257, 1) + Le(0, 4);
  StatusOr<ImageHeader> header = ReadImageHeader(twice);
  ASSERT_FALSE(header.ok());
  EXPECT_NE(header.status().message().find("repeated tiff dimension tag"), std::string::npos)
      << header.status();
}

TEST(ImageHeaderTest, TruncatedJpegHasNoEndMarker) {
  const std::string jpeg = Skimage("hubble_deep_field.jpg");
  ExpectNotAnImage(jpeg.substr(0, jpeg.size() / 2));
  ExpectNotAnImage(jpeg.substr(0, jpeg.size() - 2));
  // Trailing bytes after the end marker are common (camera padding) and accepted.
  ExpectHeader(jpeg + "trailing", "jpeg", 1000, 872);
}

TEST(ImageHeaderTest, EveryPrefixOfARealFileIsHandled) {
  // No prefix may crash or read out of bounds (run under ASan to see the latter), and none
  // may read as another image: each is refused, or reads as the whole file does. (A JPEG
  // needs its end-of-image marker, so every prefix of one is refused.)
  struct File {
    std::string whole;
    size_t prefix;
  };
  for (const File& f : {File{Skimage("page.png"), 200},
                        File{Skimage("hubble_deep_field.jpg"), 2000},
                        File{Skimage("chessboard_GRAY_U16.tif"), 400}}) {
    const std::string_view file = std::string_view(f.whole).substr(0, f.prefix);
    StatusOr<ImageHeader> whole = ReadImageHeader(f.whole);
    ASSERT_TRUE(whole.ok()) << whole.status();
    size_t first_ok = file.size();
    for (size_t n = 0; n < file.size(); ++n) {
      // A copy of its own, so that ASan sees a read past its end.
      StatusOr<ImageHeader> h = ReadImageHeader(std::string(file.substr(0, n)));
      if (!h.ok()) {
        EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument) << whole->format << " " << n;
        EXPECT_EQ(h.status().message().rfind("not an image: ", 0), 0u) << h.status();
        continue;
      }
      first_ok = std::min(first_ok, n);
      EXPECT_EQ(h->format, whole->format) << n;
      EXPECT_EQ(h->width, whole->width) << whole->format << " " << n;
      EXPECT_EQ(h->height, whole->height) << whole->format << " " << n;
    }
    EXPECT_GT(first_ok, 8u) << whole->format << ": a header cannot fit in 8 bytes";
  }
}

}  // namespace
}  // namespace bento::io
