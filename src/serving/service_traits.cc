// The non-template halves of include/bento/api_traits.h: parsing parameter values.
#include "bento/detail/api_traits.h"

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
  if (j.is_array()) return "a list";
  return "an object";
}

// A JSON Schema of the kinds JsonValueSchema and ParamInfo build, in words: "a number",
// "a list of lists of integers".
std::string SchemaWords(const Json& schema, bool plural = false) {
  std::string type = schema.is_object() ? schema.value("type", "") : "";
  if (type == "array") {
    const Json& items = schema.contains("items") ? schema["items"] : Json();
    std::string inner = items.is_object() && items.contains("type") ? SchemaWords(items, true)
                                                                     : "values";
    return (plural ? "lists of " : "a list of ") + inner;
  }
  if (type == "integer") return plural ? "integers" : "an integer";
  if (type == "number") return plural ? "numbers" : "a number";
  if (type == "boolean") return plural ? "booleans" : "a boolean";
  if (type == "string") return plural ? "strings" : "a string";
  return plural ? "JSON values" : "a JSON value";
}

}  // namespace

Status TypeError(std::string_view name, const Json& expected, const Json& got) {
  return InvalidArgumentError("parameter '" + std::string(name) + "' must be " +
                              SchemaWords(expected) + ", got " + JsonTypeName(got));
}

StatusOr<Json> ParseJson(std::string_view name, Argument& arg) {
  if (arg.json) return std::move(*arg.json);
  if (arg.files.empty()) return Missing(name);
  Json parsed = Json::parse(arg.files.front().bytes, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return InvalidArgumentError("parameter '" + std::string(name) + "' is not valid JSON");
  }
  return parsed;
}

StatusOr<std::string> ParseText(std::string_view name, Argument& arg) {
  if (arg.json) {
    if (!arg.json->is_string()) return TypeError(name, {{"type", "string"}}, *arg.json);
    return arg.json->get<std::string>();
  }
  if (arg.files.empty()) return Missing(name);
  // A form field that holds a JSON string is that string, as BentoML's server reads it: its
  // client sends every non-file field of a multipart request through json.dumps.
  const File& field = arg.files.front();
  if (field.filename.empty() && field.content_type.empty() && field.bytes.starts_with('"')) {
    Json parsed = Json::parse(field.bytes, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_string()) return parsed.get<std::string>();
  }
  return field.bytes;
}

StatusOr<Image> ParseImage(std::string_view name, const Argument& arg) {
  if (arg.files.empty()) {
    if (arg.json || arg.tensor) {
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

StatusOr<Tensor> ParseTensor(std::string_view name, Argument& arg) {
  // From a JSON body, the tensor was decoded as the body was parsed (service_adapter.cc);
  // from a form field or a raw body, its text is decoded here. Either way, booleans stay
  // booleans, integers become int64 and anything else float32 (InferJsonTensorDType).
  if (arg.tensor) return std::move(*arg.tensor);
  if (arg.files.empty()) return Missing(name);
  std::string context = "parameter '" + std::string(name) + "'";
  const std::string& text = arg.files.front().bytes;
  StatusOr<DType> dtype = InferJsonTensorDType(text);
  if (!dtype.ok()) return dtype.status().WithContext(context);
  StatusOr<Tensor> tensor = DecodeJsonTensor(text, *dtype);
  if (!tensor.ok()) return tensor.status().WithContext(context);
  return tensor;
}

Json FileSchema() {
  return {{"type", "string"}, {"format", "binary"},
          {"x-bentoml", {{"type", "file"}, {"format", "binary"}}}};
}

Json ImageSchema() {
  return {{"type", "string"}, {"format", "binary"},
          {"x-bentoml", {{"type", "file"}, {"format", "image"}, {"pil", true}}}};
}

Json AnyTensorSchema() {
  return {{"type", "array"}, {"items", Json::object()}, {"description", "a tensor as nested lists"},
          {"x-bentoml", {{"type", "tensor"}, {"format", "numpy-array"}}}};
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
