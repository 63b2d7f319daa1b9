// Execution providers and session options: the guide's `providers=[...]` list in C++.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "base/cpu.h"
#include "runtime/ort.h"
#include "runtime/session_impl.h"

namespace bento::onnx {
namespace {

using runtime::FromOrtException;

// Every provider name ONNX Runtime knows, as Python's onnxruntime.get_all_providers().
constexpr std::string_view kKnownProviders[] = {
    "TensorrtExecutionProvider", "CUDAExecutionProvider",   "MIGraphXExecutionProvider",
    "ROCMExecutionProvider",     "OpenVINOExecutionProvider", "DnnlExecutionProvider",
    "VitisAIExecutionProvider",  "QNNExecutionProvider",    "NnapiExecutionProvider",
    "VSINPUExecutionProvider",   "JsExecutionProvider",     "CoreMLExecutionProvider",
    "ArmNNExecutionProvider",    "ACLExecutionProvider",    "DmlExecutionProvider",
    "RknpuExecutionProvider",    "WebNNExecutionProvider",  "WebGpuExecutionProvider",
    "XnnpackExecutionProvider",  "CANNExecutionProvider",   "AzureExecutionProvider",
    "NvTensorRTRTXExecutionProvider", "CPUExecutionProvider",
};

// Provider option values may be JSON strings, numbers or booleans; ONNX Runtime takes text.
StatusOr<std::unordered_map<std::string, std::string>> OptionStrings(const Provider& p) {
  std::unordered_map<std::string, std::string> out;
  if (p.options.is_null()) return out;
  if (!p.options.is_object()) {
    return InvalidArgumentError("options of " + p.name + " must be an object");
  }
  for (const auto& [key, value] : p.options.items()) {
    if (value.is_string()) out[key] = value.get<std::string>();
    else if (value.is_boolean()) out[key] = value.get<bool>() ? "1" : "0";
    else if (value.is_number()) out[key] = value.dump();
    else return InvalidArgumentError(p.name + " option '" + key + "' must be a string or number");
  }
  return out;
}

// Applies one provider to `so`. Returns false (after a warning) when this build lacks it.
StatusOr<bool> AppendProvider(Ort::SessionOptions& so, const Provider& p,
                              const std::vector<std::string>& available,
                              const SessionOptions& options) {
  ASSIGN_OR_RETURN(auto opts, OptionStrings(p));
  if (p.name == "CPUExecutionProvider") {
    // The guide passes thread counts as CPU provider options; they are session settings.
    for (const auto& [key, value] : opts) {
      int n = 0;
      try {
        n = std::stoi(value);
      } catch (const std::exception&) {
        return InvalidArgumentError("CPUExecutionProvider option '" + key +
                                    "' must be an integer, got '" + value + "'");
      }
      if (key == "intra_op_num_threads") {
        if (options.intra_op_num_threads == 0) so.SetIntraOpNumThreads(n);
      } else if (key == "inter_op_num_threads") {
        if (options.inter_op_num_threads == 0) so.SetInterOpNumThreads(n);
      } else {
        spdlog::warn("CPUExecutionProvider: ignoring unknown option '{}'", key);
      }
    }
    return true;
  }
  if (std::find(available.begin(), available.end(), p.name) == available.end()) {
    spdlog::warn("{} is not available in this ONNX Runtime build (available: {}); falling back "
                 "to the next provider",
                 p.name, fmt::join(available, ", "));
    return false;
  }
  if (p.name == "CUDAExecutionProvider") {
    struct R {
      void operator()(OrtCUDAProviderOptionsV2* o) const { Ort::GetApi().ReleaseCUDAProviderOptions(o); }
    };
    const OrtApi& api = Ort::GetApi();
    OrtCUDAProviderOptionsV2* v2 = nullptr;
    Ort::ThrowOnError(api.CreateCUDAProviderOptions(&v2));
    std::unique_ptr<OrtCUDAProviderOptionsV2, R> guard(v2);
    std::vector<const char*> keys, values;
    for (const auto& [k, v] : opts) keys.push_back(k.c_str()), values.push_back(v.c_str());
    Ort::ThrowOnError(api.UpdateCUDAProviderOptions(v2, keys.data(), values.data(), keys.size()));
    so.AppendExecutionProvider_CUDA_V2(*v2);
  } else if (p.name == "TensorrtExecutionProvider") {
    struct R {
      void operator()(OrtTensorRTProviderOptionsV2* o) const {
        Ort::GetApi().ReleaseTensorRTProviderOptions(o);
      }
    };
    const OrtApi& api = Ort::GetApi();
    OrtTensorRTProviderOptionsV2* v2 = nullptr;
    Ort::ThrowOnError(api.CreateTensorRTProviderOptions(&v2));
    std::unique_ptr<OrtTensorRTProviderOptionsV2, R> guard(v2);
    std::vector<const char*> keys, values;
    for (const auto& [k, v] : opts) keys.push_back(k.c_str()), values.push_back(v.c_str());
    Ort::ThrowOnError(
        api.UpdateTensorRTProviderOptions(v2, keys.data(), values.data(), keys.size()));
    so.AppendExecutionProvider_TensorRT_V2(*v2);
  } else {
    // QNN, OpenVINO, XNNPACK, ...: ONNX Runtime's generic registration by name.
    std::string short_name = p.name.substr(0, p.name.find("ExecutionProvider"));
    so.AppendExecutionProvider(short_name, opts);
  }
  return true;
}

::GraphOptimizationLevel ToOrt(GraphOptimizationLevel level) {
  switch (level) {
    case GraphOptimizationLevel::kDisableAll: return ORT_DISABLE_ALL;
    case GraphOptimizationLevel::kBasic: return ORT_ENABLE_BASIC;
    case GraphOptimizationLevel::kExtended: return ORT_ENABLE_EXTENDED;
    case GraphOptimizationLevel::kAll: return ORT_ENABLE_ALL;
  }
  return ORT_ENABLE_ALL;
}

}  // namespace

StatusOr<Session> CreateSession(const Tag& tag, const std::filesystem::path& model_file,
                                const std::vector<Provider>& providers,
                                const SessionOptions& options,
                                const std::vector<TensorSpec>& declared_inputs) {
  for (const auto& p : providers) {
    if (std::find(std::begin(kKnownProviders), std::end(kKnownProviders), p.name) ==
        std::end(kKnownProviders)) {
      return InvalidArgumentError("unknown execution provider '" + p.name +
                                  "' (ONNX Runtime names end in ExecutionProvider, e.g. "
                                  "CUDAExecutionProvider)");
    }
  }
  auto impl = std::make_shared<Session::Impl>();
  impl->tag = tag;
  try {
    // The environment must exist before providers are appended: CUDA's and TensorRT's
    // registration logs through it, and throws when it is missing (the first load in a process).
    runtime::OrtEnv();
    Ort::SessionOptions so;
    so.SetGraphOptimizationLevel(ToOrt(options.graph_optimization_level));
    so.SetExecutionMode(options.execution_mode == ExecutionMode::kParallel ? ORT_PARALLEL
                                                                           : ORT_SEQUENTIAL);
    if (options.intra_op_num_threads > 0) {
      so.SetIntraOpNumThreads(options.intra_op_num_threads);
    } else if (auto cpus = CgroupCpus()) {
      // ONNX Runtime's default is one thread per core of the machine, not of the pod.
      so.SetIntraOpNumThreads(*cpus);
    }
    if (options.inter_op_num_threads > 0) so.SetInterOpNumThreads(options.inter_op_num_threads);
    if (!options.allow_spinning) {
      so.AddConfigEntry("session.intra_op.allow_spinning", "0");
      so.AddConfigEntry("session.inter_op.allow_spinning", "0");
    }
    if (!options.optimized_model_filepath.empty()) {
      so.SetOptimizedModelFilePath(options.optimized_model_filepath.c_str());
    }
    std::vector<std::string> available = Ort::GetAvailableProviders();
    for (const auto& p : providers) {
      StatusOr<bool> appended = false;
      try {
        appended = AppendProvider(so, p, available, options);
      } catch (const Ort::Exception& e) {
        // Listed as available but cannot start here (e.g. the CUDA libraries are missing).
        // One line: ONNX Runtime's message goes on with its internals (file, line, stack).
        spdlog::warn("{} cannot be used here ({}); falling back to the next provider", p.name,
                     runtime::OrtErrorText(e.what()));
      }
      ASSIGN_OR_RETURN(bool used, std::move(appended));
      if (used && p.name != "CPUExecutionProvider") impl->providers.push_back(p.name);
    }
    impl->providers.push_back("CPUExecutionProvider");  // always the last resort
    impl->session = std::make_unique<Ort::Session>(runtime::OrtEnv(), model_file.c_str(), so);

    Ort::AllocatorWithDefaultOptions allocator;
    auto spec_of = [](const std::string& name, Ort::TypeInfo type) {
      TensorSpec spec;
      spec.name = name;
      if (type.GetONNXType() != ONNX_TYPE_TENSOR) {
        spec.has_shape = false;
        return spec;
      }
      auto info = type.GetTensorTypeAndShapeInfo();
      spec.dtype = static_cast<DType>(info.GetElementType());
      std::vector<int64_t> shape = info.GetShape();
      std::vector<const char*> symbolic(shape.size(), nullptr);
      info.GetSymbolicDimensions(symbolic.data(), symbolic.size());
      for (size_t i = 0; i < shape.size(); ++i) {
        Dim d;
        if (shape[i] >= 0) d.value = shape[i];
        if (symbolic[i] != nullptr) d.param = symbolic[i];
        spec.dims.push_back(std::move(d));
      }
      return spec;
    };
    for (size_t i = 0; i < impl->session->GetInputCount(); ++i) {
      auto name = impl->session->GetInputNameAllocated(i, allocator);
      // The model's own declaration tells "no shape" apart from a scalar; ONNX Runtime's
      // type info cannot.
      auto declared = std::find_if(declared_inputs.begin(), declared_inputs.end(),
                                   [&](const TensorSpec& s) { return s.name == name.get(); });
      impl->inputs.push_back(declared != declared_inputs.end()
                                 ? *declared
                                 : spec_of(name.get(), impl->session->GetInputTypeInfo(i)));
    }
    for (size_t i = 0; i < impl->session->GetOutputCount(); ++i) {
      auto name = impl->session->GetOutputNameAllocated(i, allocator);
      impl->outputs.push_back(spec_of(name.get(), impl->session->GetOutputTypeInfo(i)));
    }
  } catch (const Ort::Exception& e) {
    return FromOrtException(e, "loading " + tag.ToString(), false);
  }
  spdlog::info("loaded {} with providers [{}]", tag.ToString(), fmt::join(impl->providers, ", "));
  return Session(std::move(impl));
}

}  // namespace bento::onnx
