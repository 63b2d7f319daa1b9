// PNG decoding: the direct path (libdeflate and bento's unfiltering) against libpng, on real
// files and as a round trip of random images written through every filter.
#include "io/png.h"

#include <gtest/gtest.h>
#include <libdeflate.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/fs.h"

namespace bento::io {
namespace {

void ExpectSame(const StatusOr<DecodedPixels>& got, const StatusOr<DecodedPixels>& want,
                const std::string& what) {
  ASSERT_EQ(got.ok(), want.ok()) << what << ": " << got.status() << " / " << want.status();
  if (!got.ok()) return;
  EXPECT_EQ(got->width, want->width) << what;
  EXPECT_EQ(got->height, want->height) << what;
  EXPECT_EQ(got->channels, want->channels) << what;
  EXPECT_TRUE(got->pixels == want->pixels) << what << ": the samples differ";
}

TEST(PngTest, EverySkimagePngDecodesAsLibpngDecodesIt) {
  const std::filesystem::path dir = "/usr/lib/python3/dist-packages/skimage/data";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".png") continue;
    StatusOr<std::string> bytes = fs::ReadFile(entry.path());
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ExpectSame(DecodePng(*bytes), DecodePngWithLibpng(*bytes), entry.path().filename());
    ++files;
  }
  EXPECT_GE(files, 20) << "python3-skimage's data folder (install python3-skimage)";
}

// ---- a PNG writer for the tests: each row through a chosen filter ---------------------------

void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

void PutChunk(std::string* png, const std::string& type, const std::string& data) {
  PutU32(png, static_cast<uint32_t>(data.size()));
  const std::string body = type + data;
  png->append(body);
  PutU32(png, static_cast<uint32_t>(libdeflate_crc32(0, body.data(), body.size())));
}

int PaethOf(int a, int b, int c) {
  const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

struct Written {
  std::string png;
  std::vector<uint8_t> samples;  // what a decoder must give (gray+alpha as RGBA)
  int channels = 0;
};

// A `width` x `height` 8-bit PNG of colour type `color` with random samples, each row filtered
// with filters[y % filters.size()], its zlib stream split over IDAT chunks of `idat_size` bytes.
Written WritePng(uint32_t width, uint32_t height, int color, const std::vector<int>& filters,
                 size_t idat_size, std::mt19937& rng) {
  const size_t bpp = color == 0 ? 1 : color == 4 ? 2 : color == 2 ? 3 : 4;
  const size_t stride = width * bpp;
  std::vector<uint8_t> image(stride * height);
  for (auto& v : image) v = static_cast<uint8_t>(rng());
  // Some runs of equal bytes too, where Sub and Up give zeros.
  for (size_t i = 0; i + 1 < image.size(); i += 7) image[i + 1] = image[i];
  std::string raw;
  for (uint32_t y = 0; y < height; ++y) {
    const int filter = filters[y % filters.size()];
    raw.push_back(static_cast<char>(filter));
    for (size_t i = 0; i < stride; ++i) {
      const int x = image[y * stride + i];
      const int a = i >= bpp ? image[y * stride + i - bpp] : 0;
      const int b = y > 0 ? image[(y - 1) * stride + i] : 0;
      const int c = y > 0 && i >= bpp ? image[(y - 1) * stride + i - bpp] : 0;
      const int predicted = filter == 1 ? a : filter == 2 ? b : filter == 3 ? (a + b) / 2
                            : filter == 4 ? PaethOf(a, b, c) : 0;
      raw.push_back(static_cast<char>(x - predicted));
    }
  }
  std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)> compressor(
      libdeflate_alloc_compressor(6), libdeflate_free_compressor);
  std::string stream(libdeflate_zlib_compress_bound(compressor.get(), raw.size()), '\0');
  stream.resize(libdeflate_zlib_compress(compressor.get(), raw.data(), raw.size(), stream.data(),
                                         stream.size()));
  Written w;
  w.png = std::string("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  PutU32(&ihdr, width);
  PutU32(&ihdr, height);
  ihdr += std::string{8, static_cast<char>(color), 0, 0, 0};
  PutChunk(&w.png, "IHDR", ihdr);
  PutChunk(&w.png, "tEXt", std::string("Comment\0written by png_test", 27));
  for (size_t at = 0; at < stream.size(); at += idat_size) {
    PutChunk(&w.png, "IDAT", stream.substr(at, idat_size));
  }
  PutChunk(&w.png, "IEND", "");
  w.channels = color == 4 ? 4 : static_cast<int>(bpp);
  if (color != 4) {
    w.samples = std::move(image);
  } else {
    for (size_t i = 0; i < image.size(); i += 2) {
      w.samples.insert(w.samples.end(), {image[i], image[i], image[i], image[i + 1]});
    }
  }
  return w;
}

TEST(PngTest, RandomImagesRoundTripThroughEveryFilterAndColourType) {
  std::mt19937 rng(7);
  const std::vector<std::pair<uint32_t, uint32_t>> sizes = {{1, 1}, {1, 9}, {9, 1}, {17, 13},
                                                            {64, 33}, {301, 7}};
  const std::vector<std::vector<int>> filter_sets = {{0}, {1}, {2}, {3}, {4}, {4, 0, 3, 1, 2}};
  for (int color : {0, 2, 4, 6}) {
    for (auto [width, height] : sizes) {
      for (const auto& filters : filter_sets) {
        for (size_t idat_size : {size_t{1} << 20, size_t{100}, size_t{1}}) {
          const Written w = WritePng(width, height, color, filters, idat_size, rng);
          const std::string what = "colour type " + std::to_string(color) + ", " +
                                   std::to_string(width) + "x" + std::to_string(height) +
                                   ", filter " + std::to_string(filters[0]) + ", IDATs of " +
                                   std::to_string(idat_size);
          StatusOr<DecodedPixels> got = DecodePng(w.png);
          ASSERT_TRUE(got.ok()) << what << ": " << got.status();
          EXPECT_EQ(got->width, static_cast<int>(width)) << what;
          EXPECT_EQ(got->height, static_cast<int>(height)) << what;
          EXPECT_EQ(got->channels, w.channels) << what;
          EXPECT_TRUE(got->pixels == w.samples) << what;
          ExpectSame(got, DecodePngWithLibpng(w.png), what + ", against libpng");
        }
      }
    }
  }
}

// What the direct path does not take, or finds wrong, is libpng's to decode or refuse.
TEST(PngTest, WhatTheDirectPathRefusesLibpngDecidesAlike) {
  std::mt19937 rng(11);
  const Written w = WritePng(40, 30, 2, {4, 1}, 512, rng);
  auto idat_at = w.png.find("IDAT");
  ASSERT_NE(idat_at, std::string::npos);
  auto with_byte = [&](size_t at, char value) {
    std::string png = w.png;
    png[at] = value;
    return png;
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"a bad IDAT CRC", with_byte(idat_at + 4 + 512, static_cast<char>(w.png[idat_at + 516] ^ 1))},
      {"a bad tEXt CRC (ancillary: libpng drops the chunk)", with_byte(33 + 8 + 27, 'x')},
      {"truncated", w.png.substr(0, w.png.size() / 2)},
      {"no IEND", w.png.substr(0, w.png.size() - 12)},
      {"trailing bytes after IEND", w.png + "garbage"},
      {"an IHDR changed after its CRC", with_byte(24, 16)},
  };
  for (const auto& [what, png] : cases) ExpectSame(DecodePng(png), DecodePngWithLibpng(png), what);
  EXPECT_FALSE(DecodePng(cases[0].second).ok());
  EXPECT_TRUE(DecodePng(cases[1].second).ok());

  // An unknown filter type (5) in an otherwise sound stream: refused.
  std::string raw(1 + 3, '\0');
  raw[0] = 5;
  std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)> compressor(
      libdeflate_alloc_compressor(6), libdeflate_free_compressor);
  std::string stream(64, '\0');
  stream.resize(libdeflate_zlib_compress(compressor.get(), raw.data(), raw.size(), stream.data(),
                                         stream.size()));
  std::string png("\x89PNG\r\n\x1a\n", 8), ihdr;
  PutU32(&ihdr, 1);
  PutU32(&ihdr, 1);
  ihdr += std::string{8, 2, 0, 0, 0};
  PutChunk(&png, "IHDR", ihdr);
  PutChunk(&png, "IDAT", stream);
  PutChunk(&png, "IEND", "");
  StatusOr<DecodedPixels> bad_filter = DecodePng(png);
  ASSERT_FALSE(bad_filter.ok());
  EXPECT_EQ(bad_filter.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bento::io
