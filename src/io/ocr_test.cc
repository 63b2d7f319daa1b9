#include "bento/ocr.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace bento::ocr {
namespace {

Image Solid(int width, int height, uint8_t r, uint8_t g, uint8_t b) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < width * height; ++i) pixels.insert(pixels.end(), {r, g, b});
  return Image::FromPixels(width, height, 3, pixels).value();
}

TEST(DetectorSizeTest, RoundsToMultiplesOf32LikePaddleOcr) {
  EXPECT_EQ(DetectorSize(384, 191, 960), std::pair(384, 192));  // skimage's page.png
  EXPECT_EQ(DetectorSize(2000, 1000, 960), std::pair(960, 480));  // longer side limited
  EXPECT_EQ(DetectorSize(10, 5, 960), std::pair(32, 32));         // at least 32
  // Python's round: 1.5 -> 2 and 2.5 -> 2 (ties to even).
  EXPECT_EQ(DetectorSize(48, 80, 960), std::pair(64, 64));
}

TEST(PrepareDetectorInputTest, BgrPlanesNormalizedWithPpOcrMeanAndStd) {
  DetectorInput input = PrepareDetectorInput(Solid(40, 20, 255, 0, 0), 960);
  EXPECT_EQ(input.width, 32);
  EXPECT_EQ(input.height, 32);
  EXPECT_EQ(input.image_width, 40);
  EXPECT_EQ(input.image_height, 20);
  ASSERT_EQ(input.tensor.shape(), (std::vector<int64_t>{1, 3, 32, 32}));
  auto v = input.tensor.values<float>();
  const size_t plane = 32 * 32;
  // A pure red image: blue (plane 0) is 0, red (plane 2) is 1.
  EXPECT_NEAR(v[0], (0 - 0.485) / 0.229, 1e-6);
  EXPECT_NEAR(v[plane], (0 - 0.456) / 0.224, 1e-6);
  EXPECT_NEAR(v[2 * plane + 5], (1 - 0.406) / 0.225, 1e-6);
}

TEST(TextBoxesTest, ThresholdsSuppressesScalesAndSortsInReadingOrder) {
  // An 8x8 map for a 16x32 image: two regions, of which NonMaxSuppression puts the lower,
  // higher-scoring one first, and a weak one under the confidence threshold.
  std::vector<float> p(64, 0.0f);
  auto fill = [&](int x1, int y1, int x2, int y2, float v) {
    for (int y = y1; y < y2; ++y)
      for (int x = x1; x < x2; ++x) p[y * 8 + x] = v;
  };
  fill(4, 1, 7, 3, 0.7f);  // top right
  fill(0, 2, 3, 4, 0.8f);  // lower left, starts on a later row
  fill(0, 6, 8, 8, 0.4f);  // weak: dropped by confidence_threshold 0.6
  Tensor map = Tensor::Of<float>({1, 1, 8, 8}, p);
  DetectorInput input{Tensor(), 8, 8, 16, 32};
  auto boxes =
      TextBoxes(map, input, {.map = {.unclip_ratio = 0, .min_size = 1}}).value();
  ASSERT_EQ(boxes.size(), 2u);
  EXPECT_EQ(boxes[0].x1, 8);  // x scaled by 16 / 8
  EXPECT_EQ(boxes[0].y1, 4);  // y scaled by 32 / 8
  EXPECT_EQ(boxes[0].x2, 14);
  EXPECT_EQ(boxes[0].y2, 12);
  EXPECT_NEAR(boxes[0].score, 0.7, 1e-6);
  EXPECT_EQ(boxes[1].x1, 0);
  EXPECT_EQ(boxes[1].y1, 8);
  EXPECT_FALSE(TextBoxes(Tensor::Of<float>({3}, {1, 2, 3}), input).ok());
}

TEST(CropTest, CutsWholePixelsAndClips) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < 4 * 3; ++i) pixels.push_back(static_cast<uint8_t>(i));
  Image gray = Image::FromPixels(4, 3, 1, pixels).value();
  Image crop = Crop(gray, {0.5, 1.2, 2.1, 5});  // -> x [0, 3), y [1, 3)
  ASSERT_EQ(crop.width(), 3);
  ASSERT_EQ(crop.height(), 2);
  EXPECT_EQ(std::vector<uint8_t>(crop.pixels().begin(), crop.pixels().end()),
            (std::vector<uint8_t>{4, 5, 6, 8, 9, 10}));
  EXPECT_TRUE(Crop(gray, {2, 2, 2, 3}).empty());
}

TEST(PrepareRecognizerInputTest, ResizesToHeightKeepingRatioAndPads) {
  Tensor t = PrepareRecognizerInput(Solid(20, 10, 255, 255, 255), 48, 320);
  ASSERT_EQ(t.shape(), (std::vector<int64_t>{1, 3, 48, 320}));
  auto v = t.values<float>();
  EXPECT_FLOAT_EQ(v[0], 1.0f);     // white: (1 - 0.5) / 0.5
  EXPECT_FLOAT_EQ(v[95], 1.0f);    // the resized line is 96 columns wide
  EXPECT_FLOAT_EQ(v[96], 0.0f);    // then padding
  // A long line is not padded: 48 * 400 / 10 = 1920 columns.
  EXPECT_EQ(PrepareRecognizerInput(Solid(400, 10, 0, 0, 0)).shape(),
            (std::vector<int64_t>{1, 3, 48, 1920}));
  // A sliver is capped at max_width columns.
  EXPECT_EQ(PrepareRecognizerInput(Solid(5000, 1, 0, 0, 0), 48, 320, 4096).shape(),
            (std::vector<int64_t>{1, 3, 48, 4096}));
}

TEST(CtcGreedyDecodeTest, MergesRepeatsAndDropsBlanks) {
  std::vector<std::string> characters = {"a", "b", " "};
  // Best classes per step: a a blank a b b space blank -> "aab " ... merged: "a", "a", "b", " ".
  std::vector<int> best = {1, 1, 0, 1, 2, 2, 3, 0};
  std::vector<float> p;
  for (int b : best) {
    for (int c = 0; c < 4; ++c) p.push_back(c == b ? 0.8f : 0.05f);
  }
  p[4 * 4 + 2] = 0.6f;  // step 4's best, b, at 0.6
  Recognition r =
      CtcGreedyDecode(Tensor::Of<float>({1, 8, 4}, p), characters).value();
  EXPECT_EQ(r.text, "aab ");
  EXPECT_NEAR(r.confidence, (0.8 + 0.8 + 0.6 + 0.8) / 4, 1e-6);
  Recognition nothing =
      CtcGreedyDecode(Tensor::Of<float>({1, 1, 4}, {0.9f, 0, 0, 0}), characters).value();
  EXPECT_EQ(nothing.text, "");
  EXPECT_EQ(nothing.confidence, 0);
  Tensor wrong_classes = Tensor::Of<float>({1, 2, 3}, std::vector<float>(6));
  EXPECT_FALSE(CtcGreedyDecode(wrong_classes, characters).ok());
}

}  // namespace
}  // namespace bento::ocr
