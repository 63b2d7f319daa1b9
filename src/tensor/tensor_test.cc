#include "bento/tensor.h"

#include <gtest/gtest.h>

namespace bento {
namespace {

TEST(TensorTest, DTypeNamesRoundTrip) {
  for (DType d : {DType::kFloat32, DType::kInt64, DType::kBool, DType::kFloat16, DType::kString}) {
    EXPECT_EQ(DTypeFromName(DTypeName(d)), d);
  }
  EXPECT_EQ(DTypeFromName("float"), DType::kFloat32);
  EXPECT_EQ(DTypeFromName("double"), DType::kFloat64);
  EXPECT_FALSE(DTypeFromName("float128").has_value());
  EXPECT_EQ(OnnxTypeString(DType::kFloat32), "tensor(float)");
}

TEST(TensorTest, OfAndValues) {
  Tensor t = Tensor::Of<float>({2, 2}, {1, 2, 3, 4});
  EXPECT_EQ(t.dtype(), DType::kFloat32);
  EXPECT_EQ(t.num_elements(), 4);
  EXPECT_EQ(t.byte_size(), 16u);
  EXPECT_EQ(t.values<float>()[3], 4.0f);
}

TEST(TensorTest, FromBytesChecksSize) {
  EXPECT_FALSE(Tensor::FromBytes(DType::kInt32, {3}, "12345678").ok());
  EXPECT_TRUE(Tensor::FromBytes(DType::kInt32, {2}, "12345678").ok());
}

TEST(TensorTest, ReshapeKeepsCount) {
  Tensor t = Tensor::Of<int64_t>({6}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(t.Reshaped({2, 3}).ok());
  EXPECT_FALSE(t.Reshaped({4}).ok());
}

TEST(TensorSpecTest, SymbolicDimsMatchAnySize) {
  TensorSpec spec{"x", DType::kFloat32, {Dim{-1, "batch"}, Dim{3, ""}}};
  std::vector<int64_t> ok_shape{7, 3}, bad_shape{7, 4}, bad_rank{3};
  EXPECT_TRUE(spec.Check(DType::kFloat32, ok_shape).ok());
  Status s = spec.Check(DType::kFloat32, bad_shape);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("x: float32[batch, 3]"), std::string::npos) << s;
  EXPECT_NE(s.message().find("[7, 4]"), std::string::npos) << s;
  EXPECT_FALSE(spec.Check(DType::kFloat32, bad_rank).ok());
  EXPECT_FALSE(spec.Check(DType::kInt64, ok_shape).ok());
}

}  // namespace
}  // namespace bento
