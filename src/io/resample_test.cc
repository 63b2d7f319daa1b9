// Resize against golden values generated once with Pillow 13.0.0 from a 7x5 synthetic image
// whose pixel (x, y, c) is (x*37 + y*53 + c*91) % 256 (sharp edges, so bicubic and Lanczos
// overshoot and the clipping is exercised):
//   np.asarray(Image.fromarray(a, mode).resize(size, filter))
// The tolerance is zero: bento::Image::Resize reproduces Pillow bit for bit.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "bento/image.h"

namespace bento {
namespace {

using R = Image::Resample;

constexpr uint8_t kBicubic3x4[] = {
    34, 131, 154, 120, 201, 46, 190, 72, 127, 99, 185, 82, 197, 130, 104, 126, 94, 205,
    175, 143, 88, 139, 72, 177, 84, 173, 134, 197, 79, 165, 68, 155, 181, 138, 155, 60,
};
constexpr uint8_t kBicubic11x9[] = {
    0, 84, 173, 9, 100, 214, 36, 127, 224, 60, 151, 49, 83, 173, 0, 107, 198, 33,
    131, 255, 57, 153, 204, 80, 177, 28, 104, 217, 25, 131, 243, 56, 147, 12, 101, 206,
    26, 116, 194, 53, 144, 151, 77, 175, 43, 100, 204, 16, 124, 224, 50, 147, 208, 74,
    175, 144, 97, 206, 40, 121, 185, 47, 148, 162, 73, 164, 44, 135, 254, 60, 150, 151,
    87, 178, 23, 111, 210, 34, 134, 247, 59, 158, 255, 84, 181, 120, 108, 214, 38, 131,
    248, 64, 155, 122, 89, 182, 18, 107, 198, 73, 164, 157, 90, 193, 93, 117, 215, 20,
    140, 150, 58, 168, 143, 90, 202, 168, 114, 233, 82, 137, 225, 44, 164, 161, 92, 198,
    73, 122, 226, 17, 137, 241, 103, 194, 29, 119, 224, 45, 146, 223, 72, 170, 63, 96,
    193, 10, 119, 217, 52, 143, 255, 76, 167, 206, 99, 190, 46, 123, 214, 45, 150, 241,
    75, 166, 255, 132, 246, 43, 147, 196, 66, 177, 108, 102, 225, 44, 126, 187, 34, 148,
    101, 67, 172, 124, 101, 220, 119, 129, 201, 54, 152, 107, 76, 190, 116, 105, 214, 140,
    162, 241, 88, 180, 147, 104, 205, 21, 131, 231, 55, 155, 149, 88, 179, 9, 111, 202,
    22, 135, 231, 59, 159, 172, 91, 183, 20, 119, 198, 20, 134, 204, 49, 196, 104, 122,
    222, 84, 138, 229, 63, 165, 125, 94, 189, 61, 122, 220, 45, 145, 236, 65, 169, 142,
    94, 197, 67, 125, 223, 46, 153, 135, 65, 168, 62, 85, 213, 27, 139, 244, 52, 155,
    241, 92, 182, 65, 116, 206, 14, 138, 241, 71, 162, 253, 96, 186, 91, 118, 217, 9,
    142, 243, 66, 169, 98, 96, 185, 0, 111,
};
constexpr uint8_t kBilinear3x4[] = {
    45, 136, 145, 124, 185, 62, 181, 80, 129, 107, 175, 86, 180, 133, 112, 128, 100, 191,
    169, 141, 95, 136, 89, 165, 94, 162, 136, 190, 89, 157, 84, 145, 176, 133, 156, 73,
};
constexpr uint8_t kLanczos3x4[] = {
    30, 128, 158, 117, 210, 40, 194, 69, 126, 91, 192, 78, 210, 127, 98, 126, 89, 219,
    179, 143, 81, 142, 58, 183, 77, 184, 135, 200, 72, 172, 59, 164, 181, 141, 157, 49,
};
constexpr uint8_t kNearest11x9[] = {
    0, 91, 182, 0, 91, 182, 37, 128, 219, 74, 165, 0, 74, 165, 0, 111, 202, 37,
    148, 239, 74, 148, 239, 74, 185, 20, 111, 222, 57, 148, 222, 57, 148, 0, 91, 182,
    0, 91, 182, 37, 128, 219, 74, 165, 0, 74, 165, 0, 111, 202, 37, 148, 239, 74,
    148, 239, 74, 185, 20, 111, 222, 57, 148, 222, 57, 148, 53, 144, 235, 53, 144, 235,
    90, 181, 16, 127, 218, 53, 127, 218, 53, 164, 255, 90, 201, 36, 127, 201, 36, 127,
    238, 73, 164, 19, 110, 201, 19, 110, 201, 53, 144, 235, 53, 144, 235, 90, 181, 16,
    127, 218, 53, 127, 218, 53, 164, 255, 90, 201, 36, 127, 201, 36, 127, 238, 73, 164,
    19, 110, 201, 19, 110, 201, 106, 197, 32, 106, 197, 32, 143, 234, 69, 180, 15, 106,
    180, 15, 106, 217, 52, 143, 254, 89, 180, 254, 89, 180, 35, 126, 217, 72, 163, 254,
    72, 163, 254, 159, 250, 85, 159, 250, 85, 196, 31, 122, 233, 68, 159, 233, 68, 159,
    14, 105, 196, 51, 142, 233, 51, 142, 233, 88, 179, 14, 125, 216, 51, 125, 216, 51,
    159, 250, 85, 159, 250, 85, 196, 31, 122, 233, 68, 159, 233, 68, 159, 14, 105, 196,
    51, 142, 233, 51, 142, 233, 88, 179, 14, 125, 216, 51, 125, 216, 51, 212, 47, 138,
    212, 47, 138, 249, 84, 175, 30, 121, 212, 30, 121, 212, 67, 158, 249, 104, 195, 30,
    104, 195, 30, 141, 232, 67, 178, 13, 104, 178, 13, 104, 212, 47, 138, 212, 47, 138,
    249, 84, 175, 30, 121, 212, 30, 121, 212, 67, 158, 249, 104, 195, 30, 104, 195, 30,
    141, 232, 67, 178, 13, 104, 178, 13, 104,
};
// 7x5 -> 6x2 loses 3 rows and 1 column: Pillow 13 runs the vertical pass first.
constexpr uint8_t kBicubic6x2VerticalFirst[] = {
    48, 149, 160, 93, 167, 80, 140, 168, 55, 182, 151, 109, 180, 74, 151, 108, 102, 190,
    174, 161, 94, 195, 89, 132, 118, 87, 188, 101, 129, 180, 102, 178, 96, 120, 143, 112,
};
// RGBA with alpha (3 * red) % 256: resized premultiplied, as Pillow does.
constexpr uint8_t kRgbaBicubic3x4[] = {
    48, 144, 130, 90, 114, 206, 43, 152, 206, 95, 129, 110, 88, 203, 123, 89, 197, 158,
    109, 156, 158, 97, 200, 154, 173, 182, 85, 131, 182, 65, 184, 116, 96, 160, 188, 119,
    210, 89, 159, 168, 78, 149, 207, 130, 130, 217, 52, 82,
};
// The red channel alone, as an L image.
constexpr uint8_t kGrayBicubic3x4[] = {
    34, 120, 190, 99, 197, 126, 175, 139, 84, 197, 68, 138,
};

Image Pattern(int channels) {
  std::vector<uint8_t> pixels;
  for (int y = 0; y < 5; ++y) {
    for (int x = 0; x < 7; ++x) {
      const int red = (x * 37 + y * 53) % 256;
      if (channels == 1) {
        pixels.push_back(static_cast<uint8_t>(red));
        continue;
      }
      for (int c = 0; c < 3; ++c) {
        pixels.push_back(static_cast<uint8_t>((x * 37 + y * 53 + c * 91) % 256));
      }
      if (channels == 4) pixels.push_back(static_cast<uint8_t>(red * 3 % 256));
    }
  }
  return *Image::FromPixels(7, 5, channels, pixels);
}

template <size_t N>
void ExpectPixels(const Image& image, int width, int height, const uint8_t (&expected)[N]) {
  ASSERT_EQ(image.width(), width);
  ASSERT_EQ(image.height(), height);
  const std::vector<uint8_t> got(image.pixels().begin(), image.pixels().end());
  const std::vector<uint8_t> want(expected, expected + N);
  EXPECT_EQ(got, want);
}

TEST(ResampleTest, BicubicDownMatchesPillow) {
  ExpectPixels(Pattern(3).Resize(3, 4), 3, 4, kBicubic3x4);
}

TEST(ResampleTest, BicubicUpMatchesPillow) {
  ExpectPixels(Pattern(3).Resize(11, 9, R::kBicubic), 11, 9, kBicubic11x9);
}

TEST(ResampleTest, BilinearMatchesPillow) {
  ExpectPixels(Pattern(3).Resize(3, 4, R::kBilinear), 3, 4, kBilinear3x4);
}

TEST(ResampleTest, LanczosMatchesPillow) {
  ExpectPixels(Pattern(3).Resize(3, 4, R::kLanczos), 3, 4, kLanczos3x4);
}

TEST(ResampleTest, NearestMatchesPillow) {
  ExpectPixels(Pattern(3).Resize(11, 9, R::kNearest), 11, 9, kNearest11x9);
}

TEST(ResampleTest, VerticalPassFirstWhenRowsShrinkMostMatchesPillow) {
  ExpectPixels(Pattern(3).Resize(6, 2), 6, 2, kBicubic6x2VerticalFirst);
}

TEST(ResampleTest, RgbaIsResizedPremultipliedLikePillow) {
  ExpectPixels(Pattern(4).Resize(3, 4), 3, 4, kRgbaBicubic3x4);
}

TEST(ResampleTest, GrayMatchesPillow) {
  ExpectPixels(Pattern(1).Resize(3, 4), 3, 4, kGrayBicubic3x4);
}

TEST(ResampleTest, SameSizeSharesPixels) {
  const Image image = Pattern(3);
  const Image same = image.Resize(7, 5);
  EXPECT_EQ(same.pixels().data(), image.pixels().data());
}

TEST(ResampleTest, OneAxisOnlyKeepsTheOtherAxisExact) {
  // Resizing only the width must leave each row's constant value intact.
  std::vector<uint8_t> rows;
  for (int y = 0; y < 4; ++y) rows.insert(rows.end(), 6, static_cast<uint8_t>(y * 60));
  const Image image = *Image::FromPixels(6, 4, 1, rows);
  const Image wide = image.Resize(13, 4, R::kLanczos);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 13; ++x) EXPECT_EQ(wide.pixels()[y * 13 + x], y * 60);
  }
}

TEST(ResampleTest, ResizeToOnePixelAveragesWithBox) {
  const std::vector<uint8_t> pixels = {0, 100, 200, 100};
  const Image image = *Image::FromPixels(2, 2, 1, pixels);
  const Image one = image.Resize(1, 1, R::kBox);
  ASSERT_EQ(one.pixels().size(), 1u);
  EXPECT_EQ(one.pixels()[0], 100);
}

TEST(ResampleTest, EmptyImageResizesToEmpty) {
  EXPECT_TRUE(Image().Resize(3, 3).empty());
}

}  // namespace
}  // namespace bento
