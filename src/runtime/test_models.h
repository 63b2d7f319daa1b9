// Test helpers: small ONNX models built in memory with the ONNX protobuf definitions, and
// paths of the real models that scripts/install-deps installs.
#ifndef BENTO_RUNTIME_TEST_MODELS_H_
#define BENTO_RUNTIME_TEST_MODELS_H_

#include <filesystem>
#include <string>

namespace bento::testing {

// y = x + w, x and y float32[n], where w (float32[n], values 1..n) is an initializer.
// With `external_location` set, w's data is written to that file beside the model instead
// of inside it. Returns the serialized model; writes the external file into `dir`. With
// `identity`, w reaches the Add through an Identity node, which ONNX Runtime's basic
// optimizations fold away.
std::string AddModel(int n, const std::filesystem::path& dir = {},
                     const std::string& external_location = "", bool identity = false);

// y = x + w, x and y float32[batch, n] with a free batch dimension, w (float32[n], values
// 1..n) an initializer. With `batch_of_one`, x first goes through a Reshape to [1, n], so any
// batch but one fails inside ONNX Runtime although the declared shapes allow it.
std::string BatchAddModel(int n, bool batch_of_one = false);

// y = x + 0 * (the sum of x's rows times w, `matmuls` times over), x and y float32[batch, n],
// w the n-by-n identity: y = x for finite x, in a Run whose cost is almost all fixed (the
// matmuls of one row), whatever the batch. With `free_width`, x and y declare their second
// dimension free (named "width"), although only n fits.
std::string FixedCostBatchModel(int n, int matmuls, bool free_width = false);

// The number of nodes in the graph of the ONNX model file at `path`; -1 if it cannot be read.
int NodeCount(const std::filesystem::path& path);

// y = Identity(x), x and y string tensors. The model gives them no shape, so any rank and any
// dims (zero included) are accepted. Returns the serialized model.
std::string StringIdentityModel();

// A temporary model store for one test: made on construction and pointed at by
// $BENTOML_HOME, removed with everything in it on destruction.
class ScopedStore {
 public:
  ScopedStore();
  ~ScopedStore();
  ScopedStore(const ScopedStore&) = delete;
  ScopedStore& operator=(const ScopedStore&) = delete;
  const std::filesystem::path& home() const { return home_; }

 private:
  std::filesystem::path home_;
};

// The repository root (BENTO_SOURCE_DIR, set by ctest) and the npm-installed OCR models.
std::filesystem::path SourceDir();
std::filesystem::path OcrModel(const std::string& file);

}  // namespace bento::testing

#endif  // BENTO_RUNTIME_TEST_MODELS_H_
