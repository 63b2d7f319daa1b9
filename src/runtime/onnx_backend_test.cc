// ONNX's backend test suite (Debian libonnx-testdata) through bento: every model that ONNX
// Runtime itself can run is saved into a fresh store, loaded with bento::onnx::load_model and
// run on its test_data_set_0 inputs; the outputs must match the expected ones.
//
// Tolerance: float outputs match when |got - want| <= atol + rtol * |want| with rtol = 1e-3
// and atol = 1e-5 (ONNX's backend runner uses rtol 1e-3 and atol 1e-7; 1e-5 absorbs float
// rounding near zero). Other types must be equal; NaN equals NaN.
//
// A model whose expected outputs raw ONNX Runtime does not reproduce either is reported but
// not counted against bento: the assertion is that bento adds no failure of its own and that
// its outputs are bit-identical to raw ONNX Runtime's.
#include <gtest/gtest.h>
#include <onnxruntime_cxx_api.h>
#include <stdlib.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>

#include "base/fs.h"
#include "bento/onnx.h"
#include "runtime/onnx_model.h"
#include "runtime/ort.h"
#include "runtime/tensor_proto.h"

namespace bento {
namespace {

namespace stdfs = std::filesystem;

const char* kTestData = "/usr/share/libonnx-testdata/data";

struct Case {
  stdfs::path dir;
  std::string name;
  std::map<std::string, Tensor> inputs;
  std::vector<Tensor> expected;
};

// Loads the model's first data set; returns an error for cases bento's Tensor cannot carry
// (sequences, optionals).
StatusOr<Case> LoadCase(const stdfs::path& dir) {
  Case c;
  c.dir = dir;
  // A valid model name: "<group initial>-<test name>", at most 63 characters.
  std::string test = dir.filename().string();
  if (test.starts_with("test_")) test = test.substr(5);
  c.name = dir.parent_path().filename().string().substr(0, 1) + "-" + test;
  for (auto& ch : c.name) ch = static_cast<char>(std::tolower(ch));
  std::replace(c.name.begin(), c.name.end(), '_', '-');
  if (c.name.size() > 63) {
    c.name = c.name.substr(0, 50) + "-" + std::to_string(std::hash<std::string>{}(c.name) % 1000000000);
  }
  ASSIGN_OR_RETURN(std::string model_bytes, fs::ReadFile(dir / "model.onnx"));
  ASSIGN_OR_RETURN(runtime::OnnxModelInfo info, runtime::InspectOnnxModel(model_bytes));
  stdfs::path data = dir / "test_data_set_0";
  for (size_t i = 0;; ++i) {
    auto path = data / ("input_" + std::to_string(i) + ".pb");
    if (!stdfs::exists(path)) break;
    ASSIGN_OR_RETURN(std::string bytes, fs::ReadFile(path));
    ASSIGN_OR_RETURN(runtime::NamedTensor t, runtime::TensorFromProto(bytes));
    std::string name = t.name;
    if (name.empty()) {
      if (i >= info.inputs.size()) return InvalidArgumentError("more inputs than the model has");
      name = info.inputs[i].name;
    }
    c.inputs[name] = std::move(t.tensor);
  }
  for (size_t i = 0;; ++i) {
    auto path = data / ("output_" + std::to_string(i) + ".pb");
    if (!stdfs::exists(path)) break;
    ASSIGN_OR_RETURN(std::string bytes, fs::ReadFile(path));
    ASSIGN_OR_RETURN(runtime::NamedTensor t, runtime::TensorFromProto(bytes));
    c.expected.push_back(std::move(t.tensor));
  }
  return c;
}

template <typename T>
std::string CompareFloats(std::span<const T> got, std::span<const T> want) {
  for (size_t i = 0; i < want.size(); ++i) {
    double g = got[i], w = want[i];
    if (std::isnan(w) && std::isnan(g)) continue;
    if (std::isinf(w) && g == w) continue;
    if (!(std::abs(g - w) <= 1e-5 + 1e-3 * std::abs(w))) {
      return "element " + std::to_string(i) + ": got " + std::to_string(g) + ", want " +
             std::to_string(w);
    }
  }
  return "";
}

// "" when `got` matches `want` within the documented tolerance, else why not.
std::string Compare(const Tensor& got, const Tensor& want) {
  if (got.dtype() != want.dtype()) {
    return "dtype " + std::string(DTypeName(got.dtype())) + " vs " +
           std::string(DTypeName(want.dtype()));
  }
  if (got.shape() != want.shape()) {
    return "shape " + ShapeToString(got.shape()) + " vs " + ShapeToString(want.shape());
  }
  switch (want.dtype()) {
    case DType::kFloat32:
    case DType::kComplex64: return CompareFloats(got.values<float>(), want.values<float>());
    case DType::kFloat64:
    case DType::kComplex128: return CompareFloats(got.values<double>(), want.values<double>());
    case DType::kString: return got.strings() == want.strings() ? "" : "strings differ";
    default: return got.bytes() == want.bytes() ? "" : "values differ";
  }
}

// Runs the case with ONNX Runtime directly: the reference bento must equal.
StatusOr<std::vector<Tensor>> RunRaw(const Case& c) {
  try {
    Ort::SessionOptions so;
    Ort::Session session(runtime::OrtEnv(), (c.dir / "model.onnx").c_str(), so);
    auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    Ort::AllocatorWithDefaultOptions allocator;
    std::vector<Ort::AllocatedStringPtr> name_holders;
    std::vector<const char*> in_names, out_names;
    std::vector<Ort::Value> values;
    for (const auto& [name, t] : c.inputs) {
      in_names.push_back(name.c_str());
      if (t.dtype() == DType::kString) {
        auto v = Ort::Value::CreateTensor(allocator, t.shape().data(), t.shape().size(),
                                          ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING);
        // Each element with its length: FillStringTensor would stop at a NUL byte.
        for (size_t i = 0; i < t.strings().size(); ++i) {
          const std::string& s = t.strings()[i];
          std::memcpy(v.GetResizedStringTensorElementBuffer(i, s.size()), s.data(), s.size());
        }
        values.push_back(std::move(v));
      } else {
        values.push_back(Ort::Value::CreateTensor(
            memory, const_cast<void*>(t.data()), t.byte_size(), t.shape().data(),
            t.shape().size(), static_cast<ONNXTensorElementDataType>(t.dtype())));
      }
    }
    for (size_t i = 0; i < session.GetOutputCount(); ++i) {
      name_holders.push_back(session.GetOutputNameAllocated(i, allocator));
      out_names.push_back(name_holders.back().get());
    }
    auto results = session.Run(Ort::RunOptions{nullptr}, in_names.data(), values.data(),
                               values.size(), out_names.data(), out_names.size());
    std::vector<Tensor> out;
    for (auto& r : results) {
      if (!r.IsTensor()) return UnimplementedError("non-tensor output");
      auto info = r.GetTensorTypeAndShapeInfo();
      auto dtype = static_cast<DType>(info.GetElementType());
      if (dtype == DType::kString) {
        std::vector<std::string> strings;
        for (size_t i = 0; i < info.GetElementCount(); ++i) {
          strings.push_back(r.GetStringTensorElement(i));
        }
        out.push_back(Tensor::Strings(info.GetShape(), std::move(strings)));
        continue;
      }
      size_t bytes = info.GetElementCount() * DTypeSize(dtype);
      ASSIGN_OR_RETURN(Tensor t, Tensor::FromBytes(dtype, info.GetShape(),
                                                   {static_cast<const char*>(r.GetTensorRawData()),
                                                    bytes}));
      out.push_back(std::move(t));
    }
    return out;
  } catch (const Ort::Exception& e) {
    return InternalError(e.what());
  }
}

std::string CompareAll(const std::vector<Tensor>& got, const std::vector<Tensor>& want) {
  if (got.size() != want.size()) {
    return std::to_string(got.size()) + " outputs, want " + std::to_string(want.size());
  }
  for (size_t i = 0; i < want.size(); ++i) {
    std::string why = Compare(got[i], want[i]);
    if (!why.empty()) return "output " + std::to_string(i) + ": " + why;
  }
  return "";
}

TEST(OnnxBackendSuite, EveryModelOnnxRuntimeRunsPassesThroughBento) {
  if (!stdfs::exists(kTestData)) GTEST_SKIP() << "libonnx-testdata is not installed";
  auto home = *fs::MakeTempDir(stdfs::temp_directory_path(), "bento-backend-");
  ::setenv("BENTOML_HOME", home.c_str(), 1);

  std::vector<stdfs::path> dirs;
  for (const auto& group : stdfs::directory_iterator(kTestData)) {
    for (const auto& model : stdfs::directory_iterator(group.path())) {
      if (stdfs::exists(model.path() / "model.onnx") &&
          stdfs::exists(model.path() / "test_data_set_0")) {
        dirs.push_back(model.path());
      }
    }
  }
  std::sort(dirs.begin(), dirs.end());

  int total = 0, unsupported = 0, ort_cannot = 0, pass = 0, ort_mismatch = 0;
  std::vector<std::string> bento_failures;
  for (const auto& dir : dirs) {
    ++total;
    auto c = LoadCase(dir);
    if (!c.ok()) {
      ++unsupported;  // sequence/optional data sets, which a Tensor cannot carry
      continue;
    }
    auto raw = RunRaw(*c);
    if (!raw.ok()) {
      ++ort_cannot;
      continue;
    }
    std::string raw_vs_expected = CompareAll(*raw, c->expected);
    auto tag = onnx::save_model(c->name, dir / "model.onnx");
    if (!tag.ok()) {
      bento_failures.push_back(c->name + ": save: " + tag.status().ToString());
      continue;
    }
    auto session = onnx::load_model(tag->ToString());
    if (!session.ok()) {
      bento_failures.push_back(c->name + ": load: " + session.status().ToString());
      continue;
    }
    auto got = session->Run(c->inputs);
    if (!got.ok()) {
      bento_failures.push_back(c->name + ": run: " + got.status().ToString());
      continue;
    }
    // Bit-identical to raw ONNX Runtime: bento adds nothing between the model and the data.
    for (size_t i = 0; i < got->size() && i < raw->size(); ++i) {
      bool same = (*got)[i].dtype() == DType::kString
                      ? (*got)[i].strings() == (*raw)[i].strings()
                      : (*got)[i].bytes() == (*raw)[i].bytes();
      if (!same) bento_failures.push_back(c->name + ": output differs from raw ONNX Runtime");
    }
    std::string why = CompareAll(*got, c->expected);
    if (why.empty()) {
      ++pass;
    } else if (!raw_vs_expected.empty()) {
      ++ort_mismatch;
      std::cout << "  [onnx-runtime-mismatch] " << c->name << ": " << why << "\n";
    } else {
      bento_failures.push_back(c->name + ": " + why);
    }
  }
  int runnable = total - unsupported - ort_cannot;
  std::cout << "ONNX backend suite: " << total << " models; " << unsupported
            << " with non-tensor data sets; " << ort_cannot << " that ONNX Runtime cannot run; "
            << runnable << " runnable: " << pass << " pass through bento, " << ort_mismatch
            << " where ONNX Runtime itself misses the expected output, "
            << bento_failures.size() << " bento failures\n";
  for (const auto& f : bento_failures) std::cout << "  [bento-failure] " << f << "\n";
  EXPECT_TRUE(bento_failures.empty());
  EXPECT_GT(pass, 900);
  (void)fs::RemoveAll(home);
}

}  // namespace
}  // namespace bento
