#include "runtime/onnx_model.h"

#include <gtest/gtest.h>

#include "base/fs.h"
#include "runtime/test_models.h"

namespace bento::runtime {
namespace {

TEST(InspectOnnxModelTest, ReadsSpecsOfARealModel) {
  auto bytes = fs::ReadFile(testing::OcrModel("ch_PP-OCRv4_det_infer.onnx"));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto info = InspectOnnxModel(*bytes);
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->inputs.size(), 1u);
  EXPECT_EQ(info->inputs[0].dtype, DType::kFloat32);
  ASSERT_EQ(info->inputs[0].dims.size(), 4u);
  EXPECT_FALSE(info->inputs[0].dims[0].fixed());  // dynamic batch
  EXPECT_EQ(info->inputs[0].dims[1].value, 3);
  EXPECT_EQ(info->outputs.size(), 1u);
  EXPECT_GT(info->opset, 0);
}

TEST(InspectOnnxModelTest, InitializersAreNotInputs) {
  auto info = InspectOnnxModel(testing::AddModel(4));
  ASSERT_TRUE(info.ok()) << info.status();
  ASSERT_EQ(info->inputs.size(), 1u);
  EXPECT_EQ(info->inputs[0].ToString(), "x: float32[4]");
  EXPECT_TRUE(info->external_data.empty());
}

TEST(InspectOnnxModelTest, ListsExternalData) {
  auto dir = *fs::MakeTempDir(std::filesystem::temp_directory_path(), "bento-inspect-");
  auto info = InspectOnnxModel(testing::AddModel(4, dir, "weights/w.bin"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->external_data, std::vector<std::string>{"weights/w.bin"});
  (void)fs::RemoveAll(dir);
}

TEST(InspectOnnxModelTest, RefusesExternalDataOutsideTheFolder) {
  auto dir = *fs::MakeTempDir(std::filesystem::temp_directory_path(), "bento-inspect-");
  auto info = InspectOnnxModel(testing::AddModel(4, dir / "sub", "../escape.bin"));
  EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(info.status().message().find("escape.bin"), std::string::npos);
  (void)fs::RemoveAll(dir);
}

TEST(InspectOnnxModelTest, RefusesGarbage) {
  std::string model = testing::AddModel(4);
  for (std::string bad : {std::string(), std::string("hello, this is not a model\n"),
                          model.substr(0, model.size() / 2), std::string(1000, '\xff')}) {
    auto info = InspectOnnxModel(bad);
    EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument) << bad.size();
  }
}

}  // namespace
}  // namespace bento::runtime
