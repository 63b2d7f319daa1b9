// Test fixture for the store tests: a fresh store in a temporary $BENTOML_HOME, removed after
// each test, and helpers to save models and look at the folders. Never touches ~/bentoml.
#ifndef BENTO_STORE_STORE_TEST_UTIL_H_
#define BENTO_STORE_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "base/fs.h"
#include "store/model_store.h"

namespace bento::store {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = *fs::MakeTempDir(stdfs::temp_directory_path(), "bento-store-test-");
    auto store = ModelStore::Open(home_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_.emplace(std::move(*store));
  }
  void TearDown() override { (void)fs::RemoveAll(home_); }

  ModelStore& store() { return *store_; }

  // Saves a model whose creation_time is `seconds` after a fixed date and whose
  // saved_model.onnx holds `content`.
  StoredModel Save(const std::string& name, int seconds = 0, const std::string& content = "onnx",
                   const Json& custom_objects = nullptr) {
    auto pending = store().BeginSave(name);
    EXPECT_TRUE(pending.ok()) << pending.status();
    EXPECT_TRUE(fs::WriteFile(pending->dir() / kModelFile, content).ok());
    ModelInfo info;
    info.creation_time = std::chrono::system_clock::time_point(std::chrono::seconds(1764000000)) +
                         std::chrono::seconds(seconds);
    info.input_specs["run"] = {TensorSpec{"x", DType::kFloat32, {Dim{-1, "n"}, Dim{3, ""}}}};
    auto stored = store().Commit(std::move(*pending), std::move(info), custom_objects);
    EXPECT_TRUE(stored.ok()) << stored.status();
    return *stored;
  }

  // Names in a folder, sorted; empty when it does not exist.
  static std::vector<std::string> Names(const stdfs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : stdfs::directory_iterator(dir, ec)) {
      out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string Latest(const std::string& name) {
    auto text = fs::ReadFile(store().models_dir() / name / "latest");
    return text.ok() ? *text : "<none>";
  }

  stdfs::path home_;
  std::optional<ModelStore> store_;
};

}  // namespace bento::store

#endif  // BENTO_STORE_STORE_TEST_UTIL_H_
