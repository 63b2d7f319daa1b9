// ModelManager on its own, with no HTTP: loading, readiness, finding, input checks, inference
// through a session and through a batcher, and statistics, on real models in a temporary store.
#include "manager/model_manager.h"

#include <gtest/gtest.h>
#include <future>
#include <thread>

#include "base/fs.h"
#include "runtime/load_scope.h"
#include "runtime/test_models.h"

namespace bento::manager {
namespace {

namespace stdfs = std::filesystem;

class ModelManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(onnx::save_model("add", onnx::ModelBytes{testing::AddModel(4)}).ok());
    onnx::SaveOptions batchable;
    batchable.signatures = {{"run", Signature{.batchable = true}}};
    ASSERT_TRUE(onnx::save_model("cls", testing::OcrModel("ch_ppocr_mobile_v2.0_cls_infer.onnx"),
                                 batchable)
                    .ok());
  }
  static ManagerOptions Options() {
    ManagerOptions options;
    options.session_options.intra_op_num_threads = 1;
    options.max_latency_ms = 2000;
    return options;
  }

  // Runs Infer and waits for its answer.
  static StatusOr<std::vector<Tensor>> InferNow(const ServedModel& model,
                                                std::map<std::string, Tensor> inputs) {
    std::promise<StatusOr<std::vector<Tensor>>> promise;
    model.Infer(std::move(inputs),
                [&promise](StatusOr<std::vector<Tensor>> out) { promise.set_value(std::move(out)); });
    return promise.get_future().get();
  }

  testing::ScopedStore store_;
};

TEST_F(ModelManagerTest, CreateResolvesTagsAndRefusesBadOnes) {
  EXPECT_EQ(ModelManager::Create({}, Options()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ModelManager::Create({"missing"}, Options()).status().code(), StatusCode::kNotFound);
  auto twice = ModelManager::Create({"add", "add:latest"}, Options());
  EXPECT_EQ(twice.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(twice.status().message().find("given twice"), std::string::npos);
  auto manager = ModelManager::Create({"add", "cls"}, Options());
  ASSERT_TRUE(manager.ok()) << manager.status();
  EXPECT_EQ((*manager)->models().size(), 2u);
  ASSERT_NE((*manager)->Find("add"), nullptr);
  EXPECT_NE((*manager)->Find("add", (*manager)->Find("add")->version()), nullptr);
  EXPECT_EQ((*manager)->Find("add", "nope"), nullptr);
  EXPECT_EQ((*manager)->Find("other"), nullptr);
}

TEST_F(ModelManagerTest, NotReadyUntilLoadedThenServes) {
  auto manager = *ModelManager::Create({"add"}, Options());
  const ServedModel* add = manager->Find("add");
  EXPECT_FALSE(manager->ready());
  EXPECT_EQ(add->Serving().code(), StatusCode::kUnavailable);
  EXPECT_NE(add->Serving().message().find("still loading"), std::string::npos);
  ASSERT_TRUE(manager->LoadAll().ok());
  EXPECT_TRUE(manager->ready());
  ASSERT_TRUE(add->Serving().ok());

  std::map<std::string, Tensor> inputs;
  inputs.emplace("x", Tensor::Of<float>({4}, {0, 1, 2, 3}));
  ASSERT_TRUE(add->CheckInputs(inputs).ok());
  auto out = InferNow(*add, std::move(inputs));
  ASSERT_TRUE(out.ok()) << out.status();
  auto y = (*out)[0].values<float>();
  EXPECT_EQ(std::vector<float>(y.begin(), y.end()), (std::vector<float>{1, 3, 5, 7}));
  EXPECT_EQ(add->max_batch_size(), 0);
  EXPECT_FALSE(add->batcher_stats().has_value());
}

TEST_F(ModelManagerTest, CheckInputsNamesWhatIsWrong) {
  auto manager = *ModelManager::Create({"add"}, Options());
  ASSERT_TRUE(manager->LoadAll().ok());
  const ServedModel* add = manager->Find("add");
  std::map<std::string, Tensor> none;
  EXPECT_NE(add->CheckInputs(none).message().find("missing input 'x'"), std::string::npos);
  std::map<std::string, Tensor> extra;
  extra.emplace("x", Tensor::Of<float>({4}, {0, 1, 2, 3}));
  extra.emplace("z", Tensor::Of<float>({1}, {0}));
  EXPECT_NE(add->CheckInputs(extra).message().find("unknown input 'z'"), std::string::npos);
  std::map<std::string, Tensor> misfit;
  misfit.emplace("x", Tensor::Of<float>({3}, {0, 1, 2}));
  EXPECT_EQ(add->CheckInputs(misfit).code(), StatusCode::kInvalidArgument);
}

TEST_F(ModelManagerTest, AFailedLoadKeepsItsReasonAndTheOthersServe) {
  auto manager = *ModelManager::Create({"add", "cls"}, Options());
  // Corrupt cls's model file after the tag was resolved, before the load.
  stdfs::path file = manager->Find("cls")->model().path / "saved_model.onnx";
  ASSERT_TRUE(fs::WriteFileAtomic(file, "not an onnx model").ok());
  Status loaded = manager->LoadAll();
  EXPECT_FALSE(loaded.ok());
  EXPECT_FALSE(manager->ready());
  EXPECT_TRUE(manager->Find("add")->Serving().ok());
  Status cls = manager->Find("cls")->Serving();
  EXPECT_EQ(cls.code(), StatusCode::kUnavailable);
  EXPECT_NE(cls.message().find("is not available"), std::string::npos) << cls;
}

TEST_F(ModelManagerTest, BatchableModelsInferThroughTheirBatcher) {
  auto manager = *ModelManager::Create({"cls"}, Options());
  ASSERT_TRUE(manager->LoadAll().ok());
  const ServedModel* cls = manager->Find("cls");
  EXPECT_EQ(cls->max_batch_size(), 32);
  auto solo = *onnx::load_model("cls", {"CPUExecutionProvider"}, {});
  std::vector<std::thread> threads;
  std::vector<StatusOr<std::vector<Tensor>>> got(6, InternalError("unset"));
  std::vector<Tensor> images;
  for (int i = 0; i < 6; ++i) {
    std::vector<float> pixels(3 * 48 * 192);
    for (size_t k = 0; k < pixels.size(); ++k) pixels[k] = static_cast<float>((k * (i + 3)) % 17) / 17;
    images.push_back(Tensor::Of<float>({1, 3, 48, 192}, pixels));
  }
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      std::map<std::string, Tensor> inputs;
      inputs.emplace("x", images[i]);
      EXPECT_EQ(cls->Items(inputs), 1u);
      got[i] = InferNow(*cls, std::move(inputs));
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(got[i].ok()) << got[i].status();
    std::map<std::string, Tensor> inputs;
    inputs.emplace("x", images[i]);
    auto want = *solo.Run(inputs);
    auto a = (*got[i])[0].values<float>();
    auto b = want[0].values<float>();
    ASSERT_EQ(a.size(), b.size());
    for (size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k], b[k], 1e-5) << i << " " << k;
  }
  auto stats = cls->batcher_stats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->batch_size.count, stats->batches_total);
  EXPECT_EQ(static_cast<uint64_t>(stats->batch_size.sum), 6u);  // every item went through it
}

// A C++ service's own loads, inside a LoadScope, take the executable's --providers and
// --threads over the code's, and the manager then serves the very sessions the service made.
TEST_F(ModelManagerTest, AdoptsTheSessionsAServiceLoadedInALoadScope) {
  std::vector<onnx::Session> loaded;
  {
    runtime::LoadScope scope({.providers = {"CPUExecutionProvider"}, .threads = 1});
    // The code asks for a provider no build has: the scope's providers replace it.
    for (const char* tag : {"add", "cls", "add:latest"}) {
      auto session = onnx::load_model(tag, {"NoSuchExecutionProvider"});
      ASSERT_TRUE(session.ok()) << session.status();
      EXPECT_EQ(session->providers(), std::vector<std::string>{"CPUExecutionProvider"});
    }
    loaded = scope.sessions();
  }
  ASSERT_EQ(loaded.size(), 3u);
  // Out of the scope, the code's own choice holds again, and nothing is recorded.
  EXPECT_EQ(onnx::load_model("add", {"NoSuchExecutionProvider"}).status().code(),
            StatusCode::kInvalidArgument);

  auto manager = ModelManager::Adopt(loaded, Options());
  ASSERT_TRUE(manager.ok()) << manager.status();
  ASSERT_EQ((*manager)->models().size(), 2u);  // "add" once: its first session
  EXPECT_TRUE((*manager)->ready());
  const ServedModel* add = (*manager)->Find("add");
  ASSERT_NE(add, nullptr);
  EXPECT_TRUE(add->Serving().ok());
  EXPECT_FALSE(add->batcher_stats().has_value());
  EXPECT_TRUE((*manager)->Find("cls")->batcher_stats().has_value());  // batchable: batched
  std::map<std::string, Tensor> inputs;
  inputs.emplace("x", Tensor::Of<float>({4}, {0, 1, 2, 3}));
  auto out = InferNow(*add, std::move(inputs));
  ASSERT_TRUE(out.ok()) << out.status();
  auto y = (*out)[0].values<float>();
  EXPECT_EQ(std::vector<float>(y.begin(), y.end()), (std::vector<float>{1, 3, 5, 7}));

  auto none = ModelManager::Adopt({}, Options());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)->models().empty());
}

}  // namespace
}  // namespace bento::manager
