#include "batching/concat.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace bento::batching {
namespace {

template <typename T>
std::vector<T> Values(const Tensor& t) {
  auto v = t.values<T>();
  return {v.begin(), v.end()};
}

TEST(ConcatTest, RoundTripAlongDim0) {
  Tensor a = Tensor::Of<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = Tensor::Of<float>({1, 3}, {7, 8, 9});
  auto joined = Concat(std::vector<Tensor>{a, b}, 0);
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(joined->shape(), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(Values<float>(*joined), (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}));

  std::vector<int64_t> sizes = {2, 1};
  auto pieces = Split(*joined, 0, sizes);
  ASSERT_TRUE(pieces.ok()) << pieces.status();
  ASSERT_EQ(pieces->size(), 2u);
  EXPECT_EQ((*pieces)[0].shape(), a.shape());
  EXPECT_EQ(Values<float>((*pieces)[0]), Values<float>(a));
  EXPECT_EQ(Values<float>((*pieces)[1]), Values<float>(b));
}

TEST(ConcatTest, RoundTripAlongDim1) {
  // [2, 1, 2] and [2, 3, 2] along dim 1 interleave per outer row.
  Tensor a = Tensor::Of<int64_t>({2, 1, 2}, {0, 1, 100, 101});
  Tensor b = Tensor::Of<int64_t>({2, 3, 2}, {2, 3, 4, 5, 6, 7, 102, 103, 104, 105, 106, 107});
  auto joined = Concat(std::vector<Tensor>{a, b}, 1);
  ASSERT_TRUE(joined.ok()) << joined.status();
  EXPECT_EQ(joined->shape(), (std::vector<int64_t>{2, 4, 2}));
  EXPECT_EQ(Values<int64_t>(*joined),
            (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 102, 103, 104, 105, 106, 107}));

  std::vector<int64_t> sizes = {1, 3};
  auto pieces = Split(*joined, 1, sizes);
  ASSERT_TRUE(pieces.ok()) << pieces.status();
  EXPECT_EQ((*pieces)[0].shape(), a.shape());
  EXPECT_EQ(Values<int64_t>((*pieces)[0]), Values<int64_t>(a));
  EXPECT_EQ((*pieces)[1].shape(), b.shape());
  EXPECT_EQ(Values<int64_t>((*pieces)[1]), Values<int64_t>(b));
}

TEST(ConcatTest, RoundTripStringsAlongDim0AndDim1) {
  Tensor a = Tensor::Strings({2, 2}, {"a", "b", "c", "d"});
  Tensor b = Tensor::Strings({2, 1}, {"x", "y"});
  auto by_col = Concat(std::vector<Tensor>{a, b}, 1);
  ASSERT_TRUE(by_col.ok()) << by_col.status();
  EXPECT_EQ(by_col->shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(by_col->strings(), (std::vector<std::string>{"a", "b", "x", "c", "d", "y"}));
  std::vector<int64_t> sizes = {2, 1};
  auto pieces = Split(*by_col, 1, sizes);
  ASSERT_TRUE(pieces.ok()) << pieces.status();
  EXPECT_EQ((*pieces)[0].strings(), a.strings());
  EXPECT_EQ((*pieces)[1].strings(), b.strings());

  Tensor c = Tensor::Strings({1, 2}, {"e", "f"});
  auto by_row = Concat(std::vector<Tensor>{a, c}, 0);
  ASSERT_TRUE(by_row.ok()) << by_row.status();
  EXPECT_EQ(by_row->strings(), (std::vector<std::string>{"a", "b", "c", "d", "e", "f"}));
  auto last = Slice(*by_row, 0, 2, 3);
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->strings(), c.strings());
}

TEST(ConcatTest, RoundTripEveryFixedSizeDtypeAlongDim1) {
  for (DType dtype : {DType::kFloat32, DType::kUInt8, DType::kInt8, DType::kUInt16, DType::kInt16,
                      DType::kInt32, DType::kInt64, DType::kBool, DType::kFloat16,
                      DType::kFloat64, DType::kUInt32, DType::kUInt64, DType::kComplex64,
                      DType::kComplex128, DType::kBFloat16}) {
    SCOPED_TRACE(std::string(DTypeName(dtype)));
    const size_t esize = DTypeSize(dtype);
    auto make = [&](std::vector<int64_t> shape, char seed) {
      std::string bytes(static_cast<size_t>(NumElements(shape)) * esize, '\0');
      for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(seed + i);
      if (dtype == DType::kBool) {
        for (char& c : bytes) c = static_cast<char>(c & 1);
      }
      return *Tensor::FromBytes(dtype, std::move(shape), bytes);
    };
    Tensor a = make({3, 2, 2}, 1);
    Tensor b = make({3, 1, 2}, 50);
    auto joined = Concat(std::vector<Tensor>{a, b}, 1);
    ASSERT_TRUE(joined.ok()) << joined.status();
    EXPECT_EQ(joined->shape(), (std::vector<int64_t>{3, 3, 2}));
    std::vector<int64_t> sizes = {2, 1};
    auto pieces = Split(*joined, 1, sizes);
    ASSERT_TRUE(pieces.ok()) << pieces.status();
    EXPECT_EQ((*pieces)[0].bytes(), a.bytes());
    EXPECT_EQ((*pieces)[1].bytes(), b.bytes());
  }
}

TEST(ConcatTest, RejectsMismatchedShapesAndDtypes) {
  Tensor a = Tensor::Of<float>({1, 3}, {1, 2, 3});
  Tensor wide = Tensor::Of<float>({1, 4}, {1, 2, 3, 4});
  Tensor ints = Tensor::Of<int32_t>({1, 3}, {1, 2, 3});
  EXPECT_EQ(Concat(std::vector<Tensor>{a, wide}, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Concat(std::vector<Tensor>{a, ints}, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Concat(std::vector<Tensor>{a, a}, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Slice(a, 0, 0, 2).status().code(), StatusCode::kInvalidArgument);
}

TEST(ConcatTest, SliceAlongDim0BorrowsAndOutlivesItsSource) {
  Tensor slice;
  {
    Tensor source = Tensor::Of<float>({3, 2}, {1, 2, 3, 4, 5, 6});
    auto s = Slice(source, 0, 1, 3);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->data(), static_cast<const char*>(source.data()) + 2 * sizeof(float));
    slice = *s;
  }
  EXPECT_EQ(slice.shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(Values<float>(slice), (std::vector<float>{3, 4, 5, 6}));
}

TEST(ConcatTest, BatchSizeRejectsInconsistentInputs) {
  EXPECT_EQ(*BatchSize({{"x", Tensor::Of<float>({2, 3}, std::vector<float>(6))},
                        {"m", Tensor::Of<int64_t>({2}, {1, 2})}},
                       0),
            2);
  EXPECT_EQ(BatchSize({}, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(BatchSize({{"x", Tensor::Of<float>({}, {1})}}, 0).status().code(),
            StatusCode::kInvalidArgument);  // rank 0 has no batch dim
  auto mismatch = BatchSize({{"x", Tensor::Of<float>({2, 3}, std::vector<float>(6))},
                             {"m", Tensor::Of<int64_t>({3}, {1, 2, 3})}},
                            0);
  EXPECT_EQ(mismatch.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(mismatch.status().message().find("'m'"), std::string::npos);
  EXPECT_EQ(BatchSize({{"s", Tensor::Strings({3}, {"a"})}}, 0).status().code(),
            StatusCode::kInvalidArgument);  // 1 string for 3 elements
}

TEST(ConcatTest, ShapeKeyIgnoresOnlyTheBatchDim) {
  auto key = [](std::vector<int64_t> shape, DType dtype = DType::kFloat32) {
    return ShapeKey({{"x", Tensor::Zeros(dtype, std::move(shape))}}, 1);
  };
  EXPECT_EQ(key({2, 5, 3}), key({2, 9, 3}));
  EXPECT_NE(key({2, 5, 3}), key({2, 5, 4}));
  EXPECT_NE(key({2, 5, 3}), key({3, 5, 3}));
  EXPECT_NE(key({2, 5, 3}), key({2, 5, 3}, DType::kInt32));
  EXPECT_NE(ShapeKey({{"x", Tensor::Zeros(DType::kFloat32, {1})}}, 0),
            ShapeKey({{"y", Tensor::Zeros(DType::kFloat32, {1})}}, 0));
}

}  // namespace
}  // namespace bento::batching
