#include "bento/detection.h"

#include <gtest/gtest.h>

#include <vector>

namespace bento {
namespace {

TEST(IoUTest, OverlapOverUnion) {
  Box a{0, 0, 10, 10};
  EXPECT_DOUBLE_EQ(IoU(a, a), 1.0);
  EXPECT_DOUBLE_EQ(IoU(a, {5, 0, 15, 10}), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(IoU(a, {10, 0, 20, 10}), 0.0);  // touching edges do not overlap
  EXPECT_DOUBLE_EQ(IoU(a, {20, 20, 30, 30}), 0.0);
  EXPECT_DOUBLE_EQ(IoU({0, 0, 0, 0}, {0, 0, 0, 0}), 0.0);  // empty union
  EXPECT_DOUBLE_EQ(IoU(a, {2, 2, 4, 4}), 4.0 / 100.0);     // one inside the other
}

TEST(NonMaxSuppressionTest, KeepsTheBestOfOverlappingBoxes) {
  std::vector<Box> boxes = {
      {0, 0, 10, 10, 0.7},   // overlaps box 1 with IoU 0.68: suppressed by it
      {1, 0, 11, 10, 0.9},   // best
      {20, 0, 30, 10, 0.8},  // disjoint: kept
      {0, 0, 10, 10, 0.95, /*class_id=*/1},  // same place, other class: kept
  };
  EXPECT_EQ(NonMaxSuppression(boxes, 0.4), (std::vector<size_t>{3, 1, 2}));
  // A threshold above their IoU keeps both overlapping boxes.
  EXPECT_EQ(NonMaxSuppression(boxes, 0.9), (std::vector<size_t>{3, 1, 2, 0}));
  EXPECT_TRUE(NonMaxSuppression({}, 0.5).empty());
}

TEST(NonMaxSuppressionTest, EqualScoresKeepTheFirst) {
  std::vector<Box> boxes = {{0, 0, 10, 10, 0.5}, {0, 0, 10, 10, 0.5}};
  EXPECT_EQ(NonMaxSuppression(boxes, 0.5), (std::vector<size_t>{0}));
}

// A [1, 1, h, w] map from rows of text: '#' is 0.9, '+' is 0.5, '.' is 0.1.
Tensor Map(const std::vector<std::string>& rows) {
  std::vector<float> p;
  for (const auto& row : rows) {
    for (char c : row) p.push_back(c == '#' ? 0.9f : c == '+' ? 0.5f : 0.1f);
  }
  return Tensor::Of<float>({1, 1, static_cast<int64_t>(rows.size()),
                            static_cast<int64_t>(rows[0].size())},
                           p);
}

std::vector<double> Corners(const Box& b) { return {b.x1, b.y1, b.x2, b.y2}; }

TEST(BoxesFromProbabilityMapTest, OneBoxPerConnectedRegion) {
  Tensor map = Map({
      "..........",
      ".###......",
      ".#+#...##.",
      ".###...##.",
      "..........",
      "....#.....",  // diagonal neighbours of nothing: a 1x1 region, under min_size
  });
  auto boxes = BoxesFromProbabilityMap(map, {.unclip_ratio = 0, .min_size = 2}).value();
  ASSERT_EQ(boxes.size(), 2u);
  EXPECT_EQ(Corners(boxes[0]), (std::vector<double>{1, 1, 4, 4}));
  EXPECT_EQ(Corners(boxes[1]), (std::vector<double>{7, 2, 9, 4}));
  // The score is the mean probability over the region (float32 inputs, so 1e-6).
  EXPECT_NEAR(boxes[0].score, (8 * 0.9 + 0.5) / 9, 1e-6);
  EXPECT_NEAR(boxes[1].score, 0.9, 1e-6);
}

TEST(BoxesFromProbabilityMapTest, EightConnectivityJoinsDiagonals) {
  Tensor map = Map({
      "#...",
      ".#..",
      "..#.",
  });
  auto boxes = BoxesFromProbabilityMap(map, {.unclip_ratio = 0, .min_size = 1}).value();
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_EQ(boxes[0].x1, 0);
  EXPECT_EQ(boxes[0].x2, 3);
  EXPECT_EQ(boxes[0].y2, 3);
}

TEST(BoxesFromProbabilityMapTest, UnclipGrowsBoxesAndClipsToTheMap) {
  // A 6x2 region: grows by 12 * 1.5 / 16 = 1.125 on each side.
  Tensor map = Map({
      "..........",
      "..######..",
      "..######..",
      "..........",
  });
  auto boxes = BoxesFromProbabilityMap(map, {.unclip_ratio = 1.5, .min_size = 1}).value();
  ASSERT_EQ(boxes.size(), 1u);
  EXPECT_DOUBLE_EQ(boxes[0].x1, 2 - 1.125);
  EXPECT_DOUBLE_EQ(boxes[0].x2, 8 + 1.125);
  EXPECT_DOUBLE_EQ(boxes[0].y1, 0);  // clipped: 1 - 1.125 < 0
  EXPECT_DOUBLE_EQ(boxes[0].y2, 4);  // clipped: 3 + 1.125 > 4
}

TEST(BoxesFromProbabilityMapTest, ThresholdAndCandidatesLimit) {
  Tensor map = Map({
      "++.##.++",
      "++.##.++",
  });
  // '+' (0.5) is under a 0.6 mask threshold: only the middle region remains.
  auto high = BoxesFromProbabilityMap(map, {.mask_threshold = 0.6f, .unclip_ratio = 0,
                                            .min_size = 1}).value();
  ASSERT_EQ(high.size(), 1u);
  EXPECT_EQ(high[0].x1, 3);
  auto first_two = BoxesFromProbabilityMap(map, {.unclip_ratio = 0, .min_size = 1,
                                                 .max_candidates = 2}).value();
  EXPECT_EQ(first_two.size(), 2u);
}

TEST(BoxesFromProbabilityMapTest, RejectsOtherShapesAndTypes) {
  Tensor two_maps = Tensor::Of<float>({2, 1, 2, 2}, std::vector<float>(8));
  EXPECT_FALSE(BoxesFromProbabilityMap(two_maps).ok());
  EXPECT_FALSE(BoxesFromProbabilityMap(Tensor::Of<float>({4}, std::vector<float>(4))).ok());
  StatusOr<std::vector<Box>> wrong_type =
      BoxesFromProbabilityMap(Tensor::Of<double>({2, 2}, std::vector<double>(4)));
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.status().message().find("float32"), std::string::npos);
  EXPECT_TRUE(BoxesFromProbabilityMap(Tensor::Of<float>({2, 2}, std::vector<float>(4)))->empty());
}

TEST(ScaleBoxTest, ScalesAndClips) {
  Box box{10, 20, 30, 40, 0.8, 2};
  EXPECT_EQ(ScaleBox(box, 2, 0.5, 100, 100), (Box{20, 10, 60, 20, 0.8, 2}));
  EXPECT_EQ(ScaleBox(box, 4, 4, 100, 100), (Box{40, 80, 100, 100, 0.8, 2}));
}

}  // namespace
}  // namespace bento
