// kserve::Protocol over a real ModelManager, with no transport: metadata, readiness, inference
// and Triton's statistics.
#include "kserve/protocol.h"

#include <gtest/gtest.h>

#include <future>

#include "runtime/test_models.h"

namespace bento::kserve {
namespace {

class ProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(onnx::save_model("add", onnx::ModelBytes{testing::AddModel(4)}).ok());
    manager::ManagerOptions options;
    options.session_options.intra_op_num_threads = 1;
    models_ = *manager::ModelManager::Create({"add"}, options);
    protocol_ = std::make_unique<Protocol>(*models_);
  }
  StatusOr<InferResponse> Infer(std::string_view name, std::vector<float> x,
                                std::vector<std::string> outputs = {}) {
    std::promise<StatusOr<InferResponse>> promise;
    protocol_->Infer(
        name, "",
        [&]() -> StatusOr<InferRequest> {
          InferRequest request;
          request.id = "r1";
          int64_t n = static_cast<int64_t>(x.size());
          request.inputs.push_back({"x", Tensor::Of<float>({n}, x), Json()});
          for (auto& o : outputs) {
            request.outputs.push_back({o, true, Json{{"binary_data", true}}});
          }
          return request;
        },
        [&](StatusOr<InferResponse> r) { promise.set_value(std::move(r)); });
    return promise.get_future().get();
  }

  testing::ScopedStore store_;
  std::unique_ptr<manager::ModelManager> models_;
  std::unique_ptr<Protocol> protocol_;
};

TEST_F(ProtocolTest, MetadataAndReadinessFollowTheManager) {
  EXPECT_FALSE(protocol_->Ready());
  EXPECT_EQ(protocol_->ModelReady("add", "").code(), StatusCode::kUnavailable);
  ASSERT_TRUE(models_->LoadAll().ok());
  EXPECT_TRUE(protocol_->Ready());
  EXPECT_TRUE(protocol_->ModelReady("add", "").ok());
  auto meta = protocol_->Metadata("add", "");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->name, "add");
  EXPECT_EQ(meta->inputs.size(), 1u);
  EXPECT_EQ(meta->max_batch_size, 0);
  EXPECT_TRUE(protocol_->Metadata("add", meta->version).ok());
  EXPECT_EQ(protocol_->Metadata("add", "nope").status(),
            NotFoundError("Request for unknown model: 'add' version nope is not found"));
  EXPECT_EQ(protocol_->Metadata("other", "").status(),
            NotFoundError("Request for unknown model: 'other' is not found"));
  EXPECT_EQ(protocol_->ModelReady("other", "").code(), StatusCode::kNotFound);
  EXPECT_EQ(Protocol::Server().name, "bento");
}

TEST_F(ProtocolTest, InferSelectsOutputsAndCountsAsTritonDoes) {
  ASSERT_TRUE(models_->LoadAll().ok());
  auto ok = Infer("add", {0, 1, 2, 3}, {"y"});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->id, "r1");
  ASSERT_EQ(ok->outputs.size(), 1u);
  EXPECT_TRUE(ok->outputs[0].binary);
  auto y = ok->outputs[0].tensor.values<float>();
  EXPECT_EQ(std::vector<float>(y.begin(), y.end()), (std::vector<float>{1, 3, 5, 7}));
  ASSERT_TRUE(Infer("add", {1, 1, 1, 1}).ok());

  EXPECT_EQ(Infer("add", {1, 2}).status().code(), StatusCode::kInvalidArgument);  // shape
  auto unknown = Infer("add", {0, 1, 2, 3}, {"nope"});
  EXPECT_NE(unknown.status().message().find("unknown output 'nope'"), std::string::npos);
  EXPECT_EQ(Infer("other", {0}).status().code(), StatusCode::kNotFound);

  auto stats = protocol_->Statistics("add", "");
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->size(), 1u);
  const ModelStatistics& st = (*stats)[0];
  EXPECT_EQ(st.inference_count, 2u);  // items of successful requests (unbatched: 1 each)
  EXPECT_EQ(st.execution_count, 2u);  // runs; the failures never ran
  EXPECT_EQ(st.success.count, 2u);
  EXPECT_EQ(st.fail.count, 2u);       // the unknown model is not this model's failure
  EXPECT_GT(st.last_inference_ms, 0u);
  EXPECT_EQ(protocol_->Statistics("", "")->size(), 1u);
  EXPECT_EQ(protocol_->Statistics("other", "").status().code(), StatusCode::kNotFound);
}

TEST(InputFormatsTest, FromTheModelsMetadata) {
  std::vector<TensorSpec> inputs(2);
  inputs[0].name = "image";
  inputs[1].name = "scale";
  using V = std::vector<std::string>;
  EXPECT_EQ(InputFormats(Json::object(), inputs), (V{"FORMAT_NONE", "FORMAT_NONE"}));
  EXPECT_EQ(InputFormats(Json{{"input_format", "nchw"}}, inputs),
            (V{"FORMAT_NCHW", "FORMAT_NCHW"}));
  EXPECT_EQ(InputFormats(Json{{"input_format", {{"image", "FORMAT_NHWC"}}}}, inputs),
            (V{"FORMAT_NHWC", "FORMAT_NONE"}));
  EXPECT_EQ(InputFormats(Json{{"input_format", "CHW"}}, inputs), (V{"FORMAT_NONE", "FORMAT_NONE"}));
  EXPECT_EQ(InputFormats(Json{{"input_format", 3}}, inputs), (V{"FORMAT_NONE", "FORMAT_NONE"}));
}

}  // namespace
}  // namespace bento::kserve
