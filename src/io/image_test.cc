// Image decoding, conversion and tensor tests. Expected pixel values come from Pillow 13.0.0
// (Image.open(path).getpixel(...)) on the python3-skimage data files, which the project's
// install script provides.
#include "bento/image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "base/fs.h"

namespace bento {
namespace {

using Rgb = std::array<int, 3>;

std::string Skimage(const std::string& name) {
  StatusOr<std::string> bytes = fs::ReadFile("/usr/lib/python3/dist-packages/skimage/data/" + name);
  EXPECT_TRUE(bytes.ok()) << bytes.status() << " (install python3-skimage)";
  return bytes.ok() ? *bytes : std::string();
}

Image DecodeOrDie(const std::string& bytes) {
  StatusOr<Image> image = Image::Decode(bytes);
  EXPECT_TRUE(image.ok()) << image.status();
  return image.ok() ? *image : Image();
}

Rgb PixelAt(const Image& image, int x, int y) {
  const size_t at = (static_cast<size_t>(y) * image.width() + x) * image.channels();
  return {image.pixels()[at], image.pixels()[at + 1], image.pixels()[at + 2]};
}

void ExpectNotAnImage(std::string_view bytes, std::string_view what) {
  StatusOr<Image> image = Image::Decode(bytes);
  ASSERT_FALSE(image.ok()) << what;
  EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument) << what;
  EXPECT_TRUE(image.status().message().starts_with("not an image: ")) << image.status();
}

TEST(ImageTest, DecodesPng) {
  const Image chelsea = DecodeOrDie(Skimage("chelsea.png"));
  EXPECT_EQ(chelsea.width(), 451);
  EXPECT_EQ(chelsea.height(), 300);
  EXPECT_EQ(chelsea.channels(), 3);
  EXPECT_EQ(chelsea.format(), "png");
  EXPECT_EQ(PixelAt(chelsea, 0, 0), (Rgb{143, 120, 104}));  // RGB order, not OpenCV's BGR
  EXPECT_EQ(PixelAt(chelsea, 200, 100), (Rgb{76, 39, 13}));

  const Image coffee = DecodeOrDie(Skimage("coffee.png"));
  EXPECT_EQ(coffee.width(), 600);
  EXPECT_EQ(coffee.height(), 400);
  EXPECT_EQ(PixelAt(coffee, 300, 200), (Rgb{248, 250, 255}));

  const Image page = DecodeOrDie(Skimage("page.png"));  // gray
  EXPECT_EQ(page.channels(), 1);
  EXPECT_EQ(page.pixels()[0], 136);
  EXPECT_EQ(page.pixels()[50 * 384 + 100], 168);
}

TEST(ImageTest, DecodesJpeg) {
  const Image hubble = DecodeOrDie(Skimage("hubble_deep_field.jpg"));
  EXPECT_EQ(hubble.width(), 1000);
  EXPECT_EQ(hubble.height(), 872);
  EXPECT_EQ(hubble.format(), "jpeg");
  EXPECT_EQ(PixelAt(hubble, 0, 0), (Rgb{15, 7, 4}));
  EXPECT_EQ(PixelAt(hubble, 300, 400), (Rgb{33, 66, 75}));
}

TEST(ImageTest, DecodesSixteenBitGrayTiffClippedLikePillow) {
  // Values 0..205 stored in 16 bits: Pillow's convert('L') clips, so they survive unscaled.
  const Image u16 = DecodeOrDie(Skimage("chessboard_GRAY_U16B.tif"));
  const Image u8 = DecodeOrDie(Skimage("chessboard_GRAY.png"));
  EXPECT_EQ(u16.format(), "tiff");
  ASSERT_EQ(u16.channels(), 1);
  EXPECT_TRUE(std::ranges::equal(u16.pixels(), u8.pixels()));
}

TEST(ImageTest, SeedPreprocessingMatchesPillow) {
  // image.convert('RGB').resize((224, 224)) in Pillow 13.0.0.
  const Image chelsea = DecodeOrDie(Skimage("chelsea.png")).ConvertRGB().Resize(224, 224);
  EXPECT_EQ(PixelAt(chelsea, 0, 0), (Rgb{143, 120, 104}));
  EXPECT_EQ(PixelAt(chelsea, 150, 100), (Rgb{78, 66, 30}));
  EXPECT_EQ(std::accumulate(chelsea.pixels().begin(), chelsea.pixels().end(), int64_t{0}),
            17356438);
  const Image coffee = DecodeOrDie(Skimage("coffee.png")).ConvertRGB().Resize(224, 224);
  EXPECT_EQ(PixelAt(coffee, 0, 0), (Rgb{21, 12, 9}));
  EXPECT_EQ(PixelAt(coffee, 150, 100), (Rgb{157, 34, 10}));
  EXPECT_EQ(std::accumulate(coffee.pixels().begin(), coffee.pixels().end(), int64_t{0}),
            14844024);
}

TEST(ImageTest, RefusesEmptyGarbageAndTruncatedInput) {
  ExpectNotAnImage("", "empty");
  ExpectNotAnImage("this is not an image", "garbage");
  ExpectNotAnImage(std::string(1000, '\xff'), "0xff bytes");
  const std::string png = Skimage("chelsea.png");
  ExpectNotAnImage(png.substr(0, 8), "PNG signature only");
  ExpectNotAnImage(png.substr(0, png.size() / 2), "half a PNG");
  ExpectNotAnImage(png.substr(0, 100), "PNG header and a little data");
  std::string corrupt = png;
  for (size_t i = 200; i < corrupt.size(); i += 97) corrupt[i] = static_cast<char>(~corrupt[i]);
  ExpectNotAnImage(corrupt, "PNG with flipped bytes (CRC errors)");
  const std::string jpeg = Skimage("hubble_deep_field.jpg");
  ExpectNotAnImage(jpeg.substr(0, jpeg.size() / 2), "half a JPEG");
  ExpectNotAnImage(jpeg.substr(0, 300), "JPEG header only");
}

TEST(ImageTest, RefusesDecompressionBombsFromTheHeader) {
  // A PNG that claims 20000 x 20000 (400 megapixels) and holds no pixel data at all.
  auto be32 = [](uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
  };
  const std::string bomb = "\x89PNG\r\n\x1a\n" + be32(13) + "IHDR" + be32(20000) + be32(20000) +
                           std::string("\x08\x02\x00\x00\x00", 5) + be32(0);
  StatusOr<Image> image = Image::Decode(bomb);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(image.status().message().find("too large"), std::string::npos) << image.status();
}

TEST(ImageTest, HugeHeaderDimensionsDoNotOverflowTheBombCheck) {
  // Found by fuzzing: 0xffffffff * 0xffffffff overflowed int64 in the pixel-count check.
  const std::string header = std::string("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16) +
                             std::string(8, '\xff') + std::string("\x08\x02\0\0\0", 5);
  StatusOr<Image> image = Image::Decode(header);
  ASSERT_FALSE(image.ok());
  EXPECT_NE(image.status().message().find("too large"), std::string::npos) << image.status();
}

TEST(ImageTest, ConvertRgbReplicatesGrayAndDropsAlpha) {
  const std::vector<uint8_t> gray = {0, 128, 255};
  const Image g = *Image::FromPixels(3, 1, 1, gray);
  const Image rgb = g.ConvertRGB();
  EXPECT_EQ(rgb.channels(), 3);
  EXPECT_EQ(std::vector<uint8_t>(rgb.pixels().begin(), rgb.pixels().end()),
            (std::vector<uint8_t>{0, 0, 0, 128, 128, 128, 255, 255, 255}));

  // Pillow drops alpha without compositing: a transparent pixel keeps its colour.
  const std::vector<uint8_t> rgba = {10, 20, 30, 0, 40, 50, 60, 255};
  const Image dropped = Image::FromPixels(2, 1, 4, rgba)->ConvertRGB();
  EXPECT_EQ(std::vector<uint8_t>(dropped.pixels().begin(), dropped.pixels().end()),
            (std::vector<uint8_t>{10, 20, 30, 40, 50, 60}));

  // RGB stays as it is, sharing its pixels.
  EXPECT_EQ(rgb.ConvertRGB().pixels().data(), rgb.pixels().data());
}

TEST(ImageTest, CopiesSharePixels) {
  const Image a = DecodeOrDie(Skimage("page.png"));
  const Image b = a;  // NOLINT: the copy is the point
  EXPECT_EQ(a.pixels().data(), b.pixels().data());
}

TEST(ImageTest, ToTensorNchwNormalizesExactlyAsNumpy) {
  // Two RGB pixels: (0, 51, 255) and (255, 102, 0).
  const std::vector<uint8_t> pixels = {0, 51, 255, 255, 102, 0};
  const Image image = *Image::FromPixels(2, 1, 3, pixels);
  const std::array<double, 3> mean = {0.485, 0.456, 0.406};
  const std::array<double, 3> std = {0.229, 0.224, 0.225};
  const Tensor t = image.ToTensor(Image::Layout::kNCHW, mean, std);
  EXPECT_EQ(t.dtype(), DType::kFloat32);
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{1, 3, 1, 2}));
  const auto v = t.values<float>();
  // numpy: float32 pixels / 255.0 stay float32; minus a float64 mean is float64; the guide's
  // tensor is that, cast to float32.
  auto numpy = [&](int p, int c) {
    const float x = static_cast<float>(p) / 255.0f;
    return static_cast<float>((x - mean[c]) / std[c]);
  };
  // Channel-major: R of both pixels, then G, then B.
  EXPECT_EQ(v[0], numpy(0, 0));
  EXPECT_EQ(v[1], numpy(255, 0));
  EXPECT_EQ(v[2], numpy(51, 1));
  EXPECT_EQ(v[3], numpy(102, 1));
  EXPECT_EQ(v[4], numpy(255, 2));
  EXPECT_EQ(v[5], numpy(0, 2));
}

TEST(ImageTest, ToTensorTakesFloatMeanAndStd) {
  const std::vector<uint8_t> pixels = {0, 51, 255, 255, 102, 0};
  const std::vector<float> mean = {0.485f, 0.456f, 0.406f};
  const std::vector<float> std = {0.229f, 0.224f, 0.225f};
  const Tensor t = Image::FromPixels(2, 1, 3, pixels)->ToTensor(Image::Layout::kNCHW, mean, std);
  EXPECT_FLOAT_EQ(t.values<float>()[3], (102 / 255.0 - 0.456) / 0.224);
}

TEST(ImageTest, ToTensorNhwcWithDefaultsIsPixelsOver255) {
  const std::vector<uint8_t> pixels = {0, 51, 255, 255, 102, 0};
  const Tensor t = Image::FromPixels(2, 1, 3, pixels)->ToTensor(Image::Layout::kNHWC);
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{1, 1, 2, 3}));
  const auto v = t.values<float>();
  ASSERT_EQ(v.size(), 6u);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_FLOAT_EQ(v[i], pixels[i] / 255.0f) << i;
}

TEST(ImageTest, ToTensorBroadcastsOneMeanAndCustomScale) {
  const std::vector<uint8_t> pixels = {10, 20};
  const std::array<double, 1> mean = {5.0};
  const std::array<double, 1> std = {2.0};
  const Tensor t =
      Image::FromPixels(2, 1, 1, pixels)->ToTensor(Image::Layout::kNCHW, mean, std, 1.0);
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{1, 1, 1, 2}));
  EXPECT_FLOAT_EQ(t.values<float>()[0], 2.5f);
  EXPECT_FLOAT_EQ(t.values<float>()[1], 7.5f);
}

TEST(ImageTest, FromPixelsValidates) {
  const std::vector<uint8_t> six(6);
  EXPECT_TRUE(Image::FromPixels(2, 1, 3, six).ok());
  EXPECT_FALSE(Image::FromPixels(2, 2, 3, six).ok());  // too few bytes
  EXPECT_FALSE(Image::FromPixels(3, 1, 2, six).ok());  // two channels
  EXPECT_FALSE(Image::FromPixels(-1, 1, 3, six).ok());
}

}  // namespace
}  // namespace bento
