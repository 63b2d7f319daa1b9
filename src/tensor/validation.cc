// bento/validation.h: inputs checked against, and built from, a model's input specs.
#include "bento/validation.h"

#include <random>

namespace bento {

Status ValidateInput(const Tensor& input, const TensorSpec& spec) {
  return spec.Check(input.dtype(), input.shape());
}

StatusOr<const TensorSpec*> FindInputSpec(const std::vector<TensorSpec>& specs,
                                          std::string_view name) {
  for (const TensorSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  std::string known;
  for (const TensorSpec& spec : specs) known += (known.empty() ? "" : ", ") + spec.name;
  return InvalidArgumentError("unknown input '" + std::string(name) +
                              "'; the model's inputs are: " + known);
}

Status ValidateInputs(const std::map<std::string, Tensor>& inputs,
                      const std::vector<TensorSpec>& specs) {
  for (const auto& [name, tensor] : inputs) RETURN_IF_ERROR(FindInputSpec(specs, name).status());
  for (const TensorSpec& spec : specs) {
    auto it = inputs.find(spec.name);
    if (it == inputs.end()) {
      return InvalidArgumentError("missing input '" + spec.name + "': expected " +
                                  spec.ToString());
    }
    RETURN_IF_ERROR(ValidateInput(it->second, spec));
  }
  return OkStatus();
}

StatusOr<Tensor> DummyInput(const TensorSpec& spec, int64_t dynamic_size) {
  if (!spec.has_shape) {
    return FailedPreconditionError("input '" + spec.name +
                                   "' declares no shape: cannot build a dummy input for it");
  }
  std::vector<int64_t> shape;
  for (const Dim& dim : spec.dims) shape.push_back(dim.fixed() ? dim.value : dynamic_size);
  Tensor tensor = Tensor::Zeros(spec.dtype, shape);
  std::mt19937 random(0);  // a fixed seed: the same warm-up input every time
  std::normal_distribution<double> randn;
  if (spec.dtype == DType::kFloat32) {
    for (float& x : tensor.mutable_values<float>()) x = static_cast<float>(randn(random));
  } else if (spec.dtype == DType::kFloat64) {
    for (double& x : tensor.mutable_values<double>()) x = randn(random);
  }
  return tensor;
}

}  // namespace bento
