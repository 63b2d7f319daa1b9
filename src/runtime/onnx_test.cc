// bento::onnx::{save_model, load_model, get} against a temporary store and real models.
#include "bento/onnx.h"

#include <gtest/gtest.h>
#include <onnxruntime_cxx_api.h>
#include <stdlib.h>

#include <algorithm>
#include <random>
#include <thread>

#include "base/fs.h"
#include "bento/models.h"
#include "runtime/ort.h"
#include "runtime/test_models.h"
#include "store/model_store.h"

namespace bento::onnx {
namespace {

namespace stdfs = std::filesystem;

class OnnxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = *fs::MakeTempDir(stdfs::temp_directory_path(), "bento-onnx-test-");
    ::setenv("BENTOML_HOME", home_.c_str(), 1);
    work_ = home_ / "work";
    ASSERT_TRUE(fs::MakeDirs(work_).ok());
  }
  void TearDown() override { (void)fs::RemoveAll(home_); }

  // Number of saved model versions in the store.
  int StoredCount() {
    auto store = store::ModelStore::Open(home_);
    auto list = store->List();
    return list.ok() ? static_cast<int>(list->size()) : -1;
  }

  stdfs::path home_, work_;
};

TEST_F(OnnxTest, SaveGetLoadRunFromBytes) {
  SaveOptions options;
  options.labels = {{"stage", "test"}};
  options.metadata = {{"accuracy", 0.95}, {"input_shape", {1, 4}}};
  options.custom_objects = {{"class_names", {"a", "b"}}};
  auto tag = save_model("adder", ModelBytes{testing::AddModel(4)}, options);
  ASSERT_TRUE(tag.ok()) << tag.status();
  EXPECT_EQ(tag->name, "adder");
  EXPECT_EQ(tag->version.size(), 16u);

  auto model = get("adder:latest");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->tag, *tag);
  EXPECT_EQ(model->info.labels.at("stage"), "test");
  EXPECT_EQ(model->info.metadata["accuracy"], 0.95);
  EXPECT_EQ(model->custom_objects["class_names"][1], "b");
  EXPECT_EQ(model->info.inputs("run").at(0).ToString(), "x: float32[4]");
  EXPECT_TRUE(stdfs::exists(model->path_of("saved_model.onnx")));

  auto session = load_model("adder");
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_EQ(session->providers(), std::vector<std::string>{"CPUExecutionProvider"});
  auto out = session->Run({{"x", Tensor::Of<float>({4}, {10, 20, 30, 40})}});
  ASSERT_TRUE(out.ok()) << out.status();
  auto y = (*out)[0].values<float>();
  EXPECT_EQ(std::vector<float>(y.begin(), y.end()), (std::vector<float>{11, 22, 33, 44}));
}

// bentoml.models' list, get, delete, export_model and import_model, through bento::models.
TEST_F(OnnxTest, ModelsListExportDeleteImport) {
  SaveOptions options;
  options.custom_objects = {{"k", 1}};
  auto first = save_model("adder", ModelBytes{testing::AddModel(4)}, options);
  auto second = save_model("adder", ModelBytes{testing::AddModel(4)});
  auto other = save_model("other", ModelBytes{testing::AddModel(2)});
  ASSERT_TRUE(first.ok() && second.ok() && other.ok());
  auto all = models::list();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 3u);
  auto adders = models::list("adder");
  ASSERT_TRUE(adders.ok());
  ASSERT_EQ(adders->size(), 2u);
  EXPECT_EQ((*adders)[0].tag, *second);  // newest first
  EXPECT_EQ((*adders)[1].custom_objects["k"], 1);
  EXPECT_EQ(models::get("adder")->tag, *second);

  auto archive = models::export_model(first->ToString(), work_ / "adder.bentomodel");
  ASSERT_TRUE(archive.ok()) << archive.status();
  EXPECT_EQ(models::import_model(*archive).status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(models::delete_model(first->ToString()).ok());
  EXPECT_EQ(models::get(first->ToString()).status().code(), StatusCode::kNotFound);
  auto imported = models::import_model(*archive);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(*imported, *first);
  EXPECT_EQ(models::get(first->ToString())->custom_objects["k"], 1);
  EXPECT_EQ(models::delete_model("nope").code(), StatusCode::kNotFound);
}

TEST_F(OnnxTest, RunChecksInputsAgainstTheSpec) {
  ASSERT_TRUE(save_model("adder", ModelBytes{testing::AddModel(4)}).ok());
  auto session = *load_model("adder");
  auto wrong_dtype = session.Run({{"x", Tensor::Of<int64_t>({4}, {1, 2, 3, 4})}});
  EXPECT_EQ(wrong_dtype.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_dtype.status().message().find("x: float32[4]"), std::string::npos);
  auto wrong_shape = session.Run({{"x", Tensor::Of<float>({2}, {1, 2})}});
  EXPECT_EQ(wrong_shape.status().code(), StatusCode::kInvalidArgument);
  auto missing = session.Run({});
  EXPECT_NE(missing.status().message().find("missing input 'x'"), std::string::npos);
  auto unknown = session.Run({{"x", Tensor::Of<float>({4}, {1, 2, 3, 4})},
                              {"z", Tensor::Of<float>({1}, {1})}});
  EXPECT_NE(unknown.status().message().find("unknown input 'z'"), std::string::npos);
}

TEST_F(OnnxTest, UnavailableProviderFallsBackToCpu) {
  ASSERT_TRUE(save_model("adder", ModelBytes{testing::AddModel(4)}).ok());
  std::vector<Provider> providers = {
      {"CUDAExecutionProvider",
       {{"device_id", 0}, {"arena_extend_strategy", "kNextPowerOfTwo"},
        {"gpu_mem_limit", 2LL * 1024 * 1024 * 1024}, {"cudnn_conv_algo_search", "EXHAUSTIVE"}}},
      {"CPUExecutionProvider", {{"intra_op_num_threads", 2}, {"inter_op_num_threads", 1}}}};
  auto session = load_model("adder", providers);
  ASSERT_TRUE(session.ok()) << session.status();
  auto available = available_providers();
  bool has_cuda = std::find(available.begin(), available.end(), "CUDAExecutionProvider") !=
                  available.end();
  if (!has_cuda) {
    EXPECT_EQ(session->providers(), std::vector<std::string>{"CPUExecutionProvider"});
  }
  EXPECT_TRUE(session->Run({{"x", Tensor::Of<float>({4}, {1, 2, 3, 4})}}).ok());
  auto unknown = load_model("adder", {"WarpDriveExecutionProvider"});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(OnnxTest, SessionOptionsWriteTheOptimizedModel) {
  ASSERT_TRUE(save_model("adder", ModelBytes{testing::AddModel(4)}).ok());
  SessionOptions options;
  options.graph_optimization_level = GraphOptimizationLevel::kExtended;
  options.intra_op_num_threads = 1;
  options.execution_mode = ExecutionMode::kParallel;
  options.optimized_model_filepath = work_ / "optimized.onnx";
  auto session = load_model("adder", {"CPUExecutionProvider"}, options);
  ASSERT_TRUE(session.ok()) << session.status();
  EXPECT_TRUE(stdfs::exists(work_ / "optimized.onnx"));
}

// The optimization level reaches ONNX Runtime: y = x + Identity(w) keeps its Identity node
// with optimizations off, and loses it (folded into a constant) at the basic level and up.
TEST_F(OnnxTest, TheOptimizationLevelReachesOnnxRuntime) {
  ASSERT_TRUE(save_model("id_adder", ModelBytes{testing::AddModel(4, {}, "", true)}).ok());
  auto nodes_after = [&](GraphOptimizationLevel level, const std::string& file) {
    SessionOptions options;
    options.graph_optimization_level = level;
    options.optimized_model_filepath = work_ / file;
    auto session = load_model("id_adder", {"CPUExecutionProvider"}, options);
    EXPECT_TRUE(session.ok()) << session.status();
    if (!session.ok()) return -2;
    auto out = session->Run({{"x", Tensor::Of<float>({4}, {1, 1, 1, 1})}});
    EXPECT_TRUE(out.ok() && (*out)[0].values<float>()[3] == 5.0f);
    return testing::NodeCount(work_ / file);
  };
  EXPECT_EQ(nodes_after(GraphOptimizationLevel::kDisableAll, "off.onnx"), 2);
  EXPECT_EQ(nodes_after(GraphOptimizationLevel::kBasic, "basic.onnx"), 1);
}

TEST_F(OnnxTest, ExternalDataIsCopiedWithTheModel) {
  auto src = work_ / "src";
  ASSERT_TRUE(fs::MakeDirs(src).ok());
  ASSERT_TRUE(fs::WriteFile(src / "model.onnx", testing::AddModel(3, src, "data/w.bin")).ok());
  auto tag = save_model("external", src / "model.onnx");
  ASSERT_TRUE(tag.ok()) << tag.status();
  ASSERT_TRUE(fs::RemoveAll(src).ok());  // the originals are gone
  auto session = load_model("external");
  ASSERT_TRUE(session.ok()) << session.status();
  auto out = session->Run({{"x", Tensor::Of<float>({3}, {0, 0, 0})}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].values<float>()[2], 3.0f);
}

TEST_F(OnnxTest, ExternalDataFromBytesIsRefused) {
  auto tag = save_model("external", ModelBytes{testing::AddModel(3, work_, "w.bin")});
  EXPECT_EQ(tag.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(tag.status().message().find("w.bin"), std::string::npos);
}

TEST_F(OnnxTest, BadInputIsRefusedAndTheStoreUnchanged) {
  std::string model = testing::AddModel(4);
  ASSERT_TRUE(fs::WriteFile(work_ / "truncated.onnx", model.substr(0, model.size() - 7)).ok());
  ASSERT_TRUE(fs::WriteFile(work_ / "text.onnx", "I am not a model\n").ok());
  ASSERT_TRUE(fs::WriteFile(work_ / "good.onnx", model).ok());
  EXPECT_EQ(save_model("m", work_ / "truncated.onnx").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(save_model("m", work_ / "text.onnx").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(save_model("m", work_ / "missing.onnx").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(save_model("../x", work_ / "good.onnx").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(save_model("Bad Name", work_ / "good.onnx").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(StoredCount(), 0);
  EXPECT_EQ(get("nothing:here").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(load_model("nothing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(get("a:b:c").status().code(), StatusCode::kInvalidArgument);
}

// Uniform [0, 1) floats from a fixed seed.
Tensor RandomFloats(const std::vector<int64_t>& shape) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(0.f, 1.f);
  Tensor t = Tensor::Zeros(DType::kFloat32, shape);
  for (float& v : t.mutable_values<float>()) v = uniform(rng);
  return t;
}

// ONNX Runtime itself, on the model file as it came: one float input, the first output.
std::vector<float> RunOriginal(const stdfs::path& file, const Tensor& x) {
  Ort::SessionOptions options;
  Ort::Session session(runtime::OrtEnv(), file.c_str(), options);
  Ort::AllocatorWithDefaultOptions allocator;
  auto in = session.GetInputNameAllocated(0, allocator);
  auto out = session.GetOutputNameAllocated(0, allocator);
  auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  Ort::Value value = Ort::Value::CreateTensor<float>(
      memory, const_cast<float*>(x.values<float>().data()), x.values<float>().size(),
      x.shape().data(), x.shape().size());
  const char* in_name = in.get();
  const char* out_name = out.get();
  auto results = session.Run(Ort::RunOptions{nullptr}, &in_name, &value, 1, &out_name, 1);
  const float* data = results[0].GetTensorData<float>();
  return {data, data + results[0].GetTensorTypeAndShapeInfo().GetElementCount()};
}

TEST_F(OnnxTest, RealOcrModelsSaveLoadAndRun) {
  struct Case {
    const char* file;
    std::vector<int64_t> shape;
  };
  for (const Case& c : {Case{"ch_PP-OCRv4_det_infer.onnx", {1, 3, 64, 96}},
                        Case{"ch_PP-OCRv4_rec_infer.onnx", {1, 3, 48, 160}},
                        Case{"ch_ppocr_mobile_v2.0_cls_infer.onnx", {1, 3, 48, 192}}}) {
    auto tag = save_model("ocr", testing::OcrModel(c.file));
    ASSERT_TRUE(tag.ok()) << c.file << ": " << tag.status();
    auto session = load_model(tag->ToString());
    ASSERT_TRUE(session.ok()) << c.file << ": " << session.status();
    Tensor x = RandomFloats(c.shape);
    auto out = session->Run({{session->inputs()[0].name, x}});
    ASSERT_TRUE(out.ok()) << c.file << ": " << out.status();
    ASSERT_EQ((*out)[0].dtype(), DType::kFloat32);
    // The stored model answers exactly as ONNX Runtime does on the original file.
    std::vector<float> want = RunOriginal(testing::OcrModel(c.file), x);
    auto got = (*out)[0].values<float>();
    ASSERT_EQ(got.size(), want.size()) << c.file;
    EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin())) << c.file;
  }
  EXPECT_EQ(StoredCount(), 3);
}

TEST_F(OnnxTest, RunIsSafeFromManyThreads) {
  ASSERT_TRUE(save_model("adder", ModelBytes{testing::AddModel(64)}).ok());
  auto session = *load_model("adder");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::vector<float> x(64, static_cast<float>(t * 1000 + i));
        auto out = session.Run({{"x", Tensor::Of<float>({64}, x)}});
        if (!out.ok() || (*out)[0].values<float>()[5] != x[5] + 6) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace bento::onnx

namespace bento::runtime {
namespace {

// A provider that cannot start is logged on one line, without ONNX Runtime's internals.
TEST(OrtErrorTextTest, KeepsOnlyTheMessage) {
  EXPECT_EQ(OrtErrorText("/onnxruntime_src/core/session/provider_bridge_ort.cc:1988 "
                         "onnxruntime::Provider& Get() [ONNXRuntimeError] : 1 : FAIL : Failed "
                         "to load library libcuda.so: cannot open shared object file\n"
                         "Stacktrace:\n  0x1"),
            "Failed to load library libcuda.so: cannot open shared object file");
  EXPECT_EQ(OrtErrorText("plain message\nmore"), "plain message");
  EXPECT_EQ(OrtErrorText("[ONNXRuntimeError] : 1 : FAIL"), "[ONNXRuntimeError] : 1 : FAIL");
}

}  // namespace
}  // namespace bento::runtime
