#include "serving/schema.h"

namespace bento::serving {
namespace {

constexpr int64_t kMaxExampleElements = 256;

// Zeros (or "" / false) shaped like the spec, symbolic dims taken as 1.
Json Example(const TensorSpec& spec, size_t dim, const Json& zero) {
  if (dim == spec.dims.size()) return zero;
  int64_t n = spec.dims[dim].fixed() ? spec.dims[dim].value : 1;
  Json out = Json::array();
  for (int64_t i = 0; i < n; ++i) out.push_back(Example(spec, dim + 1, zero));
  return out;
}

// BentoML's schema of a tensor (its client's numpy conversion): the dtype when numpy has it,
// and the shape when every dimension is fixed, since the client reshapes to it.
Json BentoMLTensor(const TensorSpec& spec) {
  Json bentoml = {{"type", "tensor"}, {"format", "numpy-array"}};
  if (spec.dtype != DType::kUndefined && spec.dtype != DType::kString &&
      spec.dtype != DType::kBFloat16) {
    bentoml["dtype"] = std::string(DTypeName(spec.dtype));
  }
  bool fixed = spec.has_shape;
  int64_t elements = 1;
  for (const auto& d : spec.dims) {
    fixed = fixed && d.fixed();
    elements *= d.fixed() ? d.value : 1;
  }
  if (fixed) {
    Json shape = Json::array();
    for (const auto& d : spec.dims) shape.push_back(d.value);
    bentoml["shape"] = std::move(shape);
    bentoml["dim"] = elements;
  }
  return bentoml;
}

}  // namespace

Json ElementSchema(DType dtype) {
  switch (dtype) {
    case DType::kBool: return {{"type", "boolean"}};
    case DType::kString: return {{"type", "string"}};
    case DType::kInt8:
    case DType::kInt16:
    case DType::kInt32:
    case DType::kInt64:
    case DType::kUInt8:
    case DType::kUInt16:
    case DType::kUInt32:
    case DType::kUInt64: return {{"type", "integer"}};
    default: return {{"type", "number"}};
  }
}

Json TensorSchema(const TensorSpec& spec) {
  Json schema = ElementSchema(spec.dtype);
  if (!spec.has_shape) {
    // Any rank: an element or nested arrays of elements.
    return {{"oneOf", {schema, {{"type", "array"}, {"items", {}}}}},
            {"description", spec.ToString()},
            {"x-bentoml", BentoMLTensor(spec)}};
  }
  for (size_t i = spec.dims.size(); i-- > 0;) {
    Json array = {{"type", "array"}, {"items", schema}};
    if (spec.dims[i].fixed()) {
      array["minItems"] = spec.dims[i].value;
      array["maxItems"] = spec.dims[i].value;
    } else {
      // An empty nested list hides the rank of what it would hold, so JSON cannot carry a
      // zero-sized dynamic dimension.
      array["minItems"] = 1;
    }
    schema = std::move(array);
  }
  schema["description"] = spec.ToString();
  schema["x-bentoml"] = BentoMLTensor(spec);
  int64_t elements = 1;
  for (const auto& d : spec.dims) elements *= d.fixed() ? d.value : 1;
  if (elements <= kMaxExampleElements && spec.dtype != DType::kUndefined) {
    Json zero = spec.dtype == DType::kBool ? Json(false)
                : spec.dtype == DType::kString ? Json("")
                                               : Json(0);
    schema["example"] = Example(spec, 0, zero);
  }
  return schema;
}

Json InputsSchema(const std::vector<TensorSpec>& inputs) {
  Json schema = {{"type", "object"}, {"properties", Json::object()}, {"required", Json::array()}};
  for (const auto& spec : inputs) {
    schema["properties"][spec.name] = TensorSchema(spec);
    schema["required"].push_back(spec.name);
  }
  return schema;
}

Json OutputsSchema(const std::vector<TensorSpec>& outputs) {
  Json schema = {{"type", "object"}, {"properties", Json::object()}};
  for (const auto& spec : outputs) {
    Json s = TensorSchema(spec);
    s.erase("example");
    schema["properties"][spec.name] = std::move(s);
  }
  return schema;
}

}  // namespace bento::serving
