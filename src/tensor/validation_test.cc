#include "bento/validation.h"

#include <gtest/gtest.h>

#include "bento/lists.h"

namespace bento {
namespace {

// The digits model's input: float32[batch, 64].
TensorSpec DigitsInput() { return {"input", DType::kFloat32, {Dim{-1, "batch"}, Dim{64, ""}}}; }

TEST(ValidateInputsTest, ExactlyTheDeclaredInputsPass) {
  std::vector<TensorSpec> specs = {DigitsInput(), {"mask", DType::kBool, {Dim{-1, "batch"}}}};
  std::map<std::string, Tensor> inputs;
  inputs.emplace("input", Tensor::Zeros(DType::kFloat32, {2, 64}));
  inputs.emplace("mask", Tensor::Zeros(DType::kBool, {2}));
  EXPECT_TRUE(ValidateInputs(inputs, specs).ok());
}

TEST(ValidateInputsTest, NamesAnUnknownThenAMissingOrMisfitInput) {
  std::vector<TensorSpec> specs = {DigitsInput(), {"mask", DType::kBool, {Dim{-1, "batch"}}}};
  std::map<std::string, Tensor> inputs;
  inputs.emplace("input", Tensor::Zeros(DType::kFloat32, {2, 64}));
  inputs.emplace("z", Tensor::Zeros(DType::kBool, {2}));
  Status s = ValidateInputs(inputs, specs);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "unknown input 'z'; the model's inputs are: input, mask");
  inputs.erase("z");
  EXPECT_EQ(ValidateInputs(inputs, specs).message(),
            "missing input 'mask': expected mask: bool[batch]");
  inputs.emplace("mask", Tensor::Zeros(DType::kBool, {2}));
  inputs["input"] = Tensor::Zeros(DType::kFloat32, {2, 5});
  EXPECT_NE(ValidateInputs(inputs, specs).message().find("input 'input': wrong shape"),
            std::string::npos);
}

TEST(ValidateInputsTest, FindInputSpecListsTheKnownNames) {
  std::vector<TensorSpec> specs = {DigitsInput()};
  auto found = FindInputSpec(specs, "input");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, &specs[0]);
  EXPECT_EQ(FindInputSpec(specs, "x").status().message(),
            "unknown input 'x'; the model's inputs are: input");
}

TEST(ValidateInputTest, SymbolicDimsAcceptAnySize) {
  for (int64_t batch : {0, 1, 3, 17}) {
    EXPECT_TRUE(ValidateInput(Tensor::Zeros(DType::kFloat32, {batch, 64}), DigitsInput()).ok())
        << batch;
  }
}

TEST(ValidateInputTest, UnknownDimsAcceptAnySize) {
  TensorSpec spec{"x", DType::kFloat32, {Dim{}, Dim{2, ""}}};  // no value, no name
  EXPECT_TRUE(ValidateInput(Tensor::Zeros(DType::kFloat32, {5, 2}), spec).ok());
}

TEST(ValidateInputTest, WrongFixedDimNamesTheExpectedShape) {
  Status s = ValidateInput(Tensor::Zeros(DType::kFloat32, {2, 5}), DigitsInput());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "input 'input': wrong shape: expected input: float32[batch, 64], got float32[2, 5]");
}

TEST(ValidateInputTest, WrongRankIsRefused) {
  Status s = ValidateInput(Tensor::Zeros(DType::kFloat32, {64}), DigitsInput());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("wrong rank"), std::string::npos) << s;
  EXPECT_NE(s.message().find("[batch, 64]"), std::string::npos) << s;
  EXPECT_FALSE(ValidateInput(Tensor::Zeros(DType::kFloat32, {1, 64, 1}), DigitsInput()).ok());
}

TEST(ValidateInputTest, WrongDTypeIsRefused) {
  Status s = ValidateInput(Tensor::Zeros(DType::kInt64, {1, 64}), DigitsInput());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("wrong dtype"), std::string::npos) << s;
}

TEST(ValidateInputTest, ASpecWithoutShapeAcceptsAnyRank) {
  TensorSpec spec{"x", DType::kFloat32, {}, /*has_shape=*/false};
  EXPECT_TRUE(ValidateInput(Tensor::Zeros(DType::kFloat32, {2, 3, 4}), spec).ok());
}

TEST(DummyInputTest, FitsTheSpecWithABatchOfOne) {
  auto dummy = DummyInput(DigitsInput());
  ASSERT_TRUE(dummy.ok()) << dummy.status();
  EXPECT_EQ(dummy->shape(), (std::vector<int64_t>{1, 64}));
  EXPECT_TRUE(ValidateInput(*dummy, DigitsInput()).ok());
  EXPECT_EQ(DummyInput(DigitsInput(), 4)->shape(), (std::vector<int64_t>{4, 64}));
}

TEST(DummyInputTest, FloatsAreStandardNormalAndRepeatable) {
  auto a = DummyInput(DigitsInput(), 100).value();
  auto b = DummyInput(DigitsInput(), 100).value();
  double sum = 0, sum_sq = 0;
  for (float x : a.values<float>()) sum += x, sum_sq += x * x;
  double n = static_cast<double>(a.num_elements());
  EXPECT_NEAR(sum / n, 0.0, 0.05);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.05);
  EXPECT_EQ(a.bytes(), b.bytes());
}

TEST(DummyInputTest, OtherDTypesAreZeros) {
  TensorSpec ids{"ids", DType::kInt64, {Dim{-1, "batch"}, Dim{-1, "seq"}}};
  auto dummy = DummyInput(ids, 2).value();
  EXPECT_EQ(dummy.shape(), (std::vector<int64_t>{2, 2}));
  for (int64_t x : dummy.values<int64_t>()) EXPECT_EQ(x, 0);
}

TEST(DummyInputTest, ASpecWithoutShapeIsAFailedPrecondition) {
  TensorSpec spec{"x", DType::kFloat32, {}, /*has_shape=*/false};
  EXPECT_EQ(DummyInput(spec).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace bento
