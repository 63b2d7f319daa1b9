// bento::onnx::Session: an ONNX Runtime session with bento's tensors in and out.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "bento/onnx.h"
#include "bento/validation.h"
#include "runtime/ort.h"
#include "runtime/session_impl.h"

namespace bento::onnx {
namespace {

using runtime::FromOrtException;

ONNXTensorElementDataType ToOrt(DType dtype) {
  return static_cast<ONNXTensorElementDataType>(dtype);  // both follow TensorProto numbering
}

StatusOr<Tensor> FromOrtValue(Ort::Value value, const std::string& name) {
  if (!value.IsTensor()) {
    return UnimplementedError("output '" + name +
                              "' is not a tensor (a sequence or map), which bento cannot return");
  }
  auto info = value.GetTensorTypeAndShapeInfo();
  auto dtype = static_cast<DType>(info.GetElementType());
  std::vector<int64_t> shape = info.GetShape();
  if (dtype == DType::kString) {
    size_t count = info.GetElementCount();
    size_t total = value.GetStringTensorDataLength();
    std::string buffer(total, '\0');
    std::vector<size_t> offsets(count);
    if (count) value.GetStringTensorContent(buffer.data(), total, offsets.data(), count);
    std::vector<std::string> strings(count);
    for (size_t i = 0; i < count; ++i) {
      size_t end = i + 1 < count ? offsets[i + 1] : total;
      strings[i] = buffer.substr(offsets[i], end - offsets[i]);
    }
    return Tensor::Strings(std::move(shape), std::move(strings));
  }
  if (DTypeSize(dtype) == 0) {
    return UnimplementedError("output '" + name + "' has element type " +
                              std::to_string(static_cast<int>(dtype)) +
                              ", which bento cannot return");
  }
  const void* data = value.GetTensorRawData();
  auto owner = std::make_shared<Ort::Value>(std::move(value));
  return Tensor::Borrow(dtype, std::move(shape), data, std::move(owner));
}

}  // namespace

const Tag& Session::tag() const { return impl_->tag; }
const std::vector<TensorSpec>& Session::inputs() const { return impl_->inputs; }
const std::vector<TensorSpec>& Session::outputs() const { return impl_->outputs; }
const std::vector<std::string>& Session::providers() const { return impl_->providers; }

StatusOr<std::vector<Tensor>> Session::Run(const std::map<std::string, Tensor>& inputs,
                                           const std::vector<std::string>& output_names,
                                           const RunOptions& options) const {
  const Impl& impl = *impl_;
  RETURN_IF_ERROR(ValidateInputs(inputs, impl.inputs));
  std::vector<const char*> in_names;
  std::vector<Ort::Value> in_values;
  in_names.reserve(impl.inputs.size());
  in_values.reserve(impl.inputs.size());
  try {
    for (const auto& spec : impl.inputs) {
      const Tensor& t = inputs.at(spec.name);  // present: ValidateInputs
      in_names.push_back(spec.name.c_str());
      if (t.dtype() == DType::kString) {
        Ort::AllocatorWithDefaultOptions allocator;
        auto value = Ort::Value::CreateTensor(allocator, t.shape().data(), t.shape().size(),
                                              ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING);
        // Copy each element with its length. FillStringTensor takes C strings, so ONNX Runtime
        // would keep each element only up to its first NUL byte.
        const auto& strings = t.strings();
        for (size_t i = 0; i < strings.size(); ++i) {
          std::memcpy(value.GetResizedStringTensorElementBuffer(i, strings[i].size()),
                      strings[i].data(), strings[i].size());
        }
        in_values.push_back(std::move(value));
      } else {
        // Borrow the request's bytes: ONNX Runtime only reads inputs.
        in_values.push_back(Ort::Value::CreateTensor(
            impl.memory_info, const_cast<void*>(t.data()), t.byte_size(), t.shape().data(),
            t.shape().size(), ToOrt(t.dtype())));
      }
    }
    std::vector<const char*> out_names;
    if (output_names.empty()) {
      for (const auto& spec : impl.outputs) out_names.push_back(spec.name.c_str());
    } else {
      for (const auto& name : output_names) {
        bool known = std::any_of(impl.outputs.begin(), impl.outputs.end(),
                                 [&](const TensorSpec& s) { return s.name == name; });
        if (!known) return InvalidArgumentError("unknown output '" + name + "'");
        out_names.push_back(name.c_str());
      }
    }
    Ort::RunOptions run_options{nullptr};
    if (options.shrink_arena) {
      run_options = Ort::RunOptions();
      run_options.AddConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
    }
    auto results = impl.session->Run(run_options, in_names.data(), in_values.data(),
                                     in_values.size(), out_names.data(), out_names.size());
    std::vector<Tensor> outputs;
    outputs.reserve(results.size());
    for (size_t i = 0; i < results.size(); ++i) {
      ASSIGN_OR_RETURN(Tensor t, FromOrtValue(std::move(results[i]), out_names[i]));
      outputs.push_back(std::move(t));
    }
    return outputs;
  } catch (const Ort::Exception& e) {
    return FromOrtException(e, "inference failed for " + impl.tag.ToString(), true);
  }
}

std::vector<std::string> available_providers() { return Ort::GetAvailableProviders(); }

std::string runtime_version() { return Ort::GetVersionString(); }

}  // namespace bento::onnx
