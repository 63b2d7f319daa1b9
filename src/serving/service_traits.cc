// The non-template halves of include/bento/api_traits.h: parsing parameter values.
#include "bento/api_traits.h"

#include "tensor/json_codec.h"

namespace bento::detail {
namespace {

Status Missing(std::string_view name) {
  return InvalidArgumentError("missing parameter '" + std::string(name) + "'");
}

std::string JsonTypeName(const Json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "a boolean";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  return "an object";
}

}  // namespace

Status TypeError(std::string_view name, std::string_view expected, const Json& got) {
  return InvalidArgumentError("parameter '" + std::string(name) + "' must be " +
                              std::string(expected) + ", got " + JsonTypeName(got));
}

StatusOr<Json> ParseJson(std::string_view name, const Argument& arg) {
  if (arg.json != nullptr) return *arg.json;
  if (arg.files.empty()) return Missing(name);
  Json parsed = Json::parse(arg.files.front().bytes, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return InvalidArgumentError("parameter '" + std::string(name) + "' is not valid JSON");
  }
  return parsed;
}

StatusOr<std::string> ParseText(std::string_view name, const Argument& arg) {
  if (arg.json != nullptr) {
    if (!arg.json->is_string()) return TypeError(name, "a string", *arg.json);
    return arg.json->get<std::string>();
  }
  if (arg.files.empty()) return Missing(name);
  return arg.files.front().bytes;
}

StatusOr<Image> ParseImage(std::string_view name, const Argument& arg) {
  if (arg.files.empty()) {
    if (arg.json != nullptr) {
      return InvalidArgumentError("parameter '" + std::string(name) +
                                  "' is an image: send it as multipart/form-data or as the raw "
                                  "body (image/png, image/jpeg), not as JSON");
    }
    return Missing(name);
  }
  auto image = Image::Decode(arg.files.front().bytes);
  if (!image.ok()) return image.status().WithContext("parameter '" + std::string(name) + "'");
  return image;
}

StatusOr<Tensor> ParseTensor(std::string_view name, const Argument& arg) {
  ASSIGN_OR_RETURN(Json json, ParseJson(name, arg));
  // Booleans stay booleans, integers become int64, anything else float32.
  DType dtype = DType::kFloat32;
  const Json* leaf = &json;
  while (leaf->is_array() && !leaf->empty()) leaf = &leaf->front();
  if (leaf->is_boolean()) dtype = DType::kBool;
  else if (leaf->is_number_integer() && !leaf->is_number_float()) dtype = DType::kInt64;
  if (!leaf->is_number() && !leaf->is_boolean() && !(leaf->is_array() && leaf->empty())) {
    return TypeError(name, "a tensor (nested lists of numbers)", *leaf);
  }
  auto tensor = DecodeJsonTensor(json.dump(), dtype);
  if (!tensor.ok()) return tensor.status().WithContext("parameter '" + std::string(name) + "'");
  return tensor;
}

Json NumberArraySchema(int depth, bool integer) {
  Json schema = {{"type", integer ? "integer" : "number"}};
  for (int i = 0; i < depth; ++i) schema = {{"type", "array"}, {"items", schema}};
  return schema;
}

Status EncodeTensorJson(const Tensor& tensor, std::string* out) {
  return EncodeJsonTensor(tensor, out);
}

std::string EncodeJson(const Json& value) {
  std::string out;
  EncodeJsonValue(value, &out);
  return out;
}

}  // namespace bento::detail
