#include "bento/lists.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace bento {
namespace {

TEST(FromRowsTest, RowsBecomeARowMajorMatrix) {
  auto t = FromRows({{1, 2, 3}, {4, 5, 6}});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->dtype(), DType::kFloat32);
  EXPECT_EQ(t->shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t->values<float>()[3], 4.0f);
}

TEST(FromRowsTest, RaggedRowsAreRefused) {
  auto t = FromRows({{1, 2, 3}, {4, 5, 6}, {7}});
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(),
            "row 2 has 1 values, but row 0 has 3: rows must have equal lengths");
}

TEST(FromRowsTest, NoRowsIsAnEmptyMatrix) {
  EXPECT_EQ(FromRows({})->shape(), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(FromRows({{}, {}})->shape(), (std::vector<int64_t>{2, 0}));
}

TEST(ToListTest, NestsByShape) {
  auto list = ToList(Tensor::Of<int64_t>({2, 3}, {1, 2, 3, 4, 5, 6}));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->dump(), "[[1,2,3],[4,5,6]]");
  EXPECT_EQ(ToList(Tensor::Of<int32_t>({}, {7}))->dump(), "7");
  EXPECT_EQ(ToList(Tensor::Zeros(DType::kFloat32, {2, 0}))->dump(), "[[],[]]");
}

TEST(ToListTest, Float32PrintsItsShortestDecimal) {
  EXPECT_EQ(ToList(Tensor::Of<float>({3}, {0.1f, 1.0f, -2.5e-8f}))->dump(), "[0.1,1.0,-2.5e-08]");
  // Read back as float32, every value is the same float.
  Tensor t = Tensor::Of<float>({1}, {0.123456789f});
  EXPECT_EQ(static_cast<float>(ToList(t)->at(0).get<double>()), 0.123456789f);
}

TEST(ToListTest, NonFiniteFloatsAreNull) {
  float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(ToList(Tensor::Of<float>({2}, {inf, std::nanf("")}))->dump(), "[null,null]");
}

TEST(ToListTest, BoolsAndStrings) {
  auto b = Tensor::FromBytes(DType::kBool, {2}, std::string("\x01\x00", 2)).value();
  EXPECT_EQ(ToList(b)->dump(), "[true,false]");
  EXPECT_EQ(ToList(Tensor::Strings({2}, {"a", "b"}))->dump(), R"(["a","b"])");
}

TEST(ToListTest, ComplexIsRefused) {
  auto c = Tensor::Zeros(DType::kComplex64, {1});
  EXPECT_EQ(ToList(c).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bento
