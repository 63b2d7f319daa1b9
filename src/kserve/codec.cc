#include "kserve/codec.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <utility>

#include "tensor/json_codec.h"
#include "tensor/json_codec_simdjson.h"

namespace bento::kserve {
namespace {

using simdjson::ondemand::field;
using simdjson::ondemand::object;
using simdjson::ondemand::value;

struct NamedType {
  std::string_view name;
  DType dtype;
};
constexpr std::array<NamedType, 14> kTypes = {{
    {"BOOL", DType::kBool},       {"UINT8", DType::kUInt8},     {"UINT16", DType::kUInt16},
    {"UINT32", DType::kUInt32},   {"UINT64", DType::kUInt64},   {"INT8", DType::kInt8},
    {"INT16", DType::kInt16},     {"INT32", DType::kInt32},     {"INT64", DType::kInt64},
    {"FP16", DType::kFloat16},    {"FP32", DType::kFloat32},    {"FP64", DType::kFloat64},
    {"BF16", DType::kBFloat16},   {"BYTES", DType::kString},
}};

constexpr size_t kMaxRank = kMaxJsonTensorRank;  // as for tensors in BentoML's JSON
constexpr int kMaxParameterDepth = 64;
constexpr size_t kCachedParserCapacity = 1 << 20;

// "[2,3]", the way the request wrote it.
std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "]";
}

bool KeyIs(field& f, std::string_view name) { return f.key() == name; }

// Reads a "parameters" value: a JSON object, at most kMaxParameterDepth deep.
Status ReadParameters(value v, std::string_view owner, Json* out) {
  object obj;
  if (v.get_object().get(obj)) {
    return InvalidArgumentError(std::string(owner) + ": 'parameters' must be a JSON object");
  }
  std::string_view raw;
  if (auto error = obj.raw_json().get(raw)) return JsonSyntaxError(error);
  bool too_deep = false;
  Json parsed = Json::parse(
      raw,
      [&](int depth, Json::parse_event_t, Json&) {
        if (depth > kMaxParameterDepth) too_deep = true;
        return !too_deep;
      },
      /*allow_exceptions=*/false);
  if (too_deep || parsed.is_discarded() || !parsed.is_object()) {
    return InvalidArgumentError(std::string(owner) + ": 'parameters' must be a JSON object " +
                                "at most " + std::to_string(kMaxParameterDepth) + " levels deep");
  }
  *out = std::move(parsed);
  return OkStatus();
}

// Reads the bool parameter `key` of `params` into `*out`, if present.
Status ReadBool(const Json& params, const char* key, std::optional<bool>* out) {
  if (!params.is_object() || !params.contains(key)) return OkStatus();
  const Json& b = params[key];
  if (!b.is_boolean()) return InvalidArgumentError("'" + std::string(key) + "' must be a bool");
  *out = b.get<bool>();
  return OkStatus();
}

Status ReadString(value v, std::string_view what, std::string* out) {
  std::string_view s;
  if (v.get_string().get(s)) return InvalidArgumentError(std::string(what) + " must be a string");
  *out = std::string(s);
  return OkStatus();
}

// Takes the next `size` bytes of the binary part of the body (`*rest`) for input `name`.
StatusOr<std::string_view> TakeBinary(std::string_view* rest, const std::string& name,
                                      uint64_t size) {
  if (size > rest->size()) {
    return InvalidArgumentError("binary data of input '" + name + "' is " + std::to_string(size) +
                                " bytes but only " + std::to_string(rest->size()) + " remain");
  }
  std::string_view out = rest->substr(0, size);
  rest->remove_prefix(size);
  return out;
}

// Decodes Triton's BYTES framing: per element a 4-byte little-endian length, then the bytes.
StatusOr<std::vector<std::string>> DecodeBinaryStrings(const std::string& label,
                                                       std::string_view data) {
  std::vector<std::string> values;
  size_t index = 0;
  while (!data.empty()) {
    if (data.size() < 4) {
      return InvalidArgumentError(label + ": BYTES element " + std::to_string(index) +
                                  " has a truncated 4-byte length");
    }
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    uint32_t len = p[0] | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    data.remove_prefix(4);
    if (len > data.size()) {
      return InvalidArgumentError(label + ": BYTES element " + std::to_string(index) + " is " +
                                  std::to_string(len) + " bytes but only " +
                                  std::to_string(data.size()) + " remain");
    }
    values.emplace_back(data.substr(0, len));
    data.remove_prefix(len);
    ++index;
  }
  return values;
}

Status ParseInput(object obj, size_t index, std::string_view* binary, std::set<std::string>* names,
                  InferInput* out) {
  std::optional<std::string> datatype;
  std::optional<std::vector<int64_t>> shape;
  int data_fields = 0;
  bool has_name = false;
  auto label = [&] {
    return has_name ? "input '" + out->name + "'" : "input #" + std::to_string(index);
  };
  auto bad = [&](std::string_view what) {
    return InvalidArgumentError(label() + std::string(what));
  };
  for (auto field_result : obj) {
    field f;
    if (auto error = std::move(field_result).get(f)) return JsonSyntaxError(error);
    value v = f.value();
    if (KeyIs(f, "name")) {
      RETURN_IF_ERROR(ReadString(v, label() + " name", &out->name));
      has_name = true;
    } else if (KeyIs(f, "datatype")) {
      datatype.emplace();
      RETURN_IF_ERROR(ReadString(v, label() + ": 'datatype'", &*datatype));
    } else if (KeyIs(f, "shape")) {
      simdjson::ondemand::array dims;
      if (v.get_array().get(dims)) return bad(": 'shape' must be an array of integers");
      shape.emplace();
      for (auto dim_result : dims) {
        int64_t dim;
        if (auto error = dim_result.get_int64().get(dim)) {
          if (error != simdjson::INCORRECT_TYPE && error != simdjson::NUMBER_OUT_OF_RANGE) {
            return JsonSyntaxError(error);
          }
          return bad(": 'shape' must be an array of integers");
        }
        if (shape->size() >= kMaxRank) return bad(": 'shape' has too many dimensions");
        shape->push_back(dim);
      }
    } else if (KeyIs(f, "parameters")) {
      RETURN_IF_ERROR(ReadParameters(v, label(), &out->parameters));
    } else if (KeyIs(f, "data")) {
      ++data_fields;  // decoded below, once the datatype is known
    }
  }
  if (!has_name) return bad(" has no 'name'");
  if (!names->insert(out->name).second) return bad(": duplicate input name '" + out->name + "'");
  if (!datatype) return bad(" has no 'datatype'");
  if (!shape) return bad(" has no 'shape'");
  std::optional<DType> dtype = DTypeFromKServe(*datatype);
  if (!dtype) return bad(": unknown datatype '" + *datatype + "'");
  ASSIGN_OR_RETURN(int64_t count, ElementCount(label(), *shape));
  auto count_error = [&](int64_t got) {
    return bad(": shape " + ShapeText(*shape) + " needs " + std::to_string(count) +
               " elements, got " + std::to_string(got));
  };
  ASSIGN_OR_RETURN(out->region, RegionParameters(label(), out->parameters));
  if (out->region) {
    if (data_fields || out->parameters.contains("binary_data_size")) {
      return bad(" has both data and a 'shared_memory_region'");
    }
    out->dtype = *dtype;
    out->shape = std::move(*shape);
    return OkStatus();
  }
  std::optional<uint64_t> binary_size;
  if (out->parameters.is_object() && out->parameters.contains("binary_data_size")) {
    const Json& size = out->parameters["binary_data_size"];
    if (!size.is_number_unsigned()) return bad(": 'binary_data_size' must be an integer >= 0");
    binary_size = size.get<uint64_t>();
  }
  if (data_fields > 1) return bad(" has more than one 'data'");
  if (binary_size && data_fields) return bad(" has both 'data' and 'binary_data_size'");
  if (!binary_size && !data_fields) return bad(" has no 'data' and no 'binary_data_size'");
  if (binary_size) {
    ASSIGN_OR_RETURN(std::string_view bytes, TakeBinary(binary, out->name, *binary_size));
    ASSIGN_OR_RETURN(out->tensor, DecodeRawTensor(label(), *dtype, *shape, bytes));
    return OkStatus();
  }
  // Second pass for "data": the On-Demand document is read forward, so rewind this object.
  if (auto error = obj.reset().error()) return JsonSyntaxError(error);
  for (auto field_result : obj) {
    field f;
    if (auto error = std::move(field_result).get(f)) return JsonSyntaxError(error);
    if (!KeyIs(f, "data")) continue;
    value v = f.value();
    StatusOr<Tensor> t = DecodeJsonTensor(v, *dtype);
    if (!t.ok()) return t.status().WithContext(label());
    if (t->num_elements() != count) return count_error(t->num_elements());
    ASSIGN_OR_RETURN(out->tensor, t->Reshaped(*shape));
    return OkStatus();
  }
  return bad(" has no 'data'");  // e.g. an escaped key
}

Status ParseOutput(object obj, size_t index, RequestedOutput* out, std::optional<bool>* binary) {
  bool has_name = false;
  std::string label = "output #" + std::to_string(index);
  for (auto field_result : obj) {
    field f;
    if (auto error = std::move(field_result).get(f)) return JsonSyntaxError(error);
    value v = f.value();
    if (KeyIs(f, "name")) {
      RETURN_IF_ERROR(ReadString(v, label + " name", &out->name));
      has_name = true;
    } else if (KeyIs(f, "parameters")) {
      RETURN_IF_ERROR(ReadParameters(v, label, &out->parameters));
    }
  }
  if (!has_name) return InvalidArgumentError(label + " has no 'name'");
  ASSIGN_OR_RETURN(out->region, RegionParameters("output '" + out->name + "'", out->parameters));
  return ReadBool(out->parameters, "binary_data", binary).WithContext("output '" + out->name + "'");
}

}  // namespace

std::optional<DType> DTypeFromKServe(std::string_view name) {
  auto it = std::ranges::find(kTypes, name, &NamedType::name);
  return it == kTypes.end() ? std::nullopt : std::optional<DType>(it->dtype);
}

std::string_view KServeName(DType dtype) {
  auto it = std::ranges::find(kTypes, dtype, &NamedType::dtype);
  return it == kTypes.end() ? std::string_view() : it->name;
}

std::vector<int64_t> KServeShape(const TensorSpec& spec, bool without_batch) {
  std::vector<int64_t> shape;
  for (size_t i = without_batch ? 1 : 0; i < spec.dims.size(); ++i) {
    shape.push_back(spec.dims[i].fixed() ? spec.dims[i].value : -1);
  }
  return shape;
}

std::string ConfigTypeName(DType dtype) {
  std::string_view name = KServeName(dtype);
  if (name.empty()) return "TYPE_INVALID";
  return "TYPE_" + std::string(name == "BYTES" ? "STRING" : name);
}

StatusOr<int64_t> ElementCount(const std::string& label, const std::vector<int64_t>& shape) {
  if (shape.size() > kMaxRank) {
    return InvalidArgumentError(label + ": 'shape' has too many dimensions");
  }
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0) {
      return InvalidArgumentError(label + ": negative dimension in shape " + ShapeText(shape));
    }
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) {
      return InvalidArgumentError(label + ": shape " + ShapeText(shape) + " is too large");
    }
    count *= dim;
  }
  return count;
}

StatusOr<Tensor> DecodeRawTensor(const std::string& label, DType dtype, std::vector<int64_t> shape,
                                 std::string_view bytes) {
  ASSIGN_OR_RETURN(int64_t count, ElementCount(label, shape));
  auto count_error = [&](int64_t got) {
    return InvalidArgumentError(label + ": shape " + ShapeText(shape) + " needs " +
                                std::to_string(count) + " elements, got " + std::to_string(got));
  };
  if (dtype == DType::kString) {
    ASSIGN_OR_RETURN(std::vector<std::string> values, DecodeBinaryStrings(label, bytes));
    if (std::ssize(values) != count) return count_error(std::ssize(values));
    return Tensor::Strings(std::move(shape), std::move(values));
  }
  size_t elem = DTypeSize(dtype);
  if (elem == 0) return InvalidArgumentError(label + ": datatype has no raw layout");
  if (bytes.size() % elem != 0) {
    return InvalidArgumentError(label + ": binary data size " + std::to_string(bytes.size()) +
                                " is not a multiple of the " + std::string(KServeName(dtype)) +
                                " element size " + std::to_string(elem));
  }
  int64_t got = static_cast<int64_t>(bytes.size() / elem);
  if (got != count) return count_error(got);
  return Tensor::FromBytes(dtype, std::move(shape), bytes);
}

void AppendRawTensor(const Tensor& tensor, std::string* out) {
  if (tensor.dtype() != DType::kString) {
    out->append(tensor.bytes());
    return;
  }
  for (const std::string& s : tensor.strings()) {
    uint32_t len = static_cast<uint32_t>(s.size());
    for (int shift = 0; shift < 32; shift += 8) *out += static_cast<char>(len >> shift);
    *out += s;
  }
}

StatusOr<InferRequest> ParseInferRequest(std::string_view body,
                                         std::optional<size_t> header_length) {
  if (header_length && *header_length > body.size()) {
    return InvalidArgumentError("Inference-Header-Content-Length " +
                                std::to_string(*header_length) + " exceeds the body size " +
                                std::to_string(body.size()));
  }
  size_t json_size = header_length.value_or(body.size());
  std::string_view binary = body.substr(json_size);
  simdjson::padded_string padded(body.substr(0, json_size));
  if (json_size != 0 && padded.data() == nullptr) {
    return ResourceExhaustedError("the request header is too large");
  }
  // Each thread keeps one parser for headers up to 1 MiB; larger ones get their own.
  thread_local simdjson::ondemand::parser cached_parser;
  std::unique_ptr<simdjson::ondemand::parser> own_parser;
  if (json_size > kCachedParserCapacity) own_parser.reset(new simdjson::ondemand::parser());
  simdjson::ondemand::document doc;
  auto& parser = own_parser ? *own_parser : cached_parser;
  if (auto error = parser.iterate(padded).get(doc)) return JsonSyntaxError(error);
  object root;
  if (auto error = doc.get_object().get(root)) {
    if (error == simdjson::INCORRECT_TYPE) {
      return InvalidArgumentError("the inference request must be a JSON object");
    }
    return JsonSyntaxError(error);
  }
  InferRequest request;
  std::vector<std::optional<bool>> output_binary;
  std::set<std::string> input_names;
  bool has_inputs = false;
  for (auto field_result : root) {
    field f;
    if (auto error = std::move(field_result).get(f)) return JsonSyntaxError(error);
    value v = f.value();
    if (KeyIs(f, "id")) {
      RETURN_IF_ERROR(ReadString(v, "'id'", &request.id));
    } else if (KeyIs(f, "parameters")) {
      RETURN_IF_ERROR(ReadParameters(v, "request", &request.parameters));
    } else if (KeyIs(f, "inputs") || KeyIs(f, "outputs")) {
      bool inputs = KeyIs(f, "inputs");
      if (inputs && has_inputs) return InvalidArgumentError("the request has two 'inputs'");
      has_inputs |= inputs;
      std::string not_array =
          std::string(inputs ? "'inputs'" : "'outputs'") + " must be an array of objects";
      simdjson::ondemand::array items;
      if (v.get_array().get(items)) return InvalidArgumentError(not_array);
      size_t index = 0;
      for (auto item : items) {
        object obj;
        if (auto error = item.get_object().get(obj)) {
          if (error != simdjson::INCORRECT_TYPE) return JsonSyntaxError(error);
          return InvalidArgumentError(not_array);
        }
        if (inputs) {
          InferInput& in = request.inputs.emplace_back();
          RETURN_IF_ERROR(ParseInput(obj, index, &binary, &input_names, &in));
        } else {
          RequestedOutput& out = request.outputs.emplace_back();
          RETURN_IF_ERROR(ParseOutput(obj, index, &out, &output_binary.emplace_back()));
        }
        ++index;
      }
    }
  }
  const char* rest = nullptr;
  if (!doc.current_location().get(rest)) {  // an error here means the end of the document
    for (const char* end = padded.data() + padded.size(); rest < end; ++rest) {
      if (*rest != ' ' && *rest != '\t' && *rest != '\n' && *rest != '\r') {
        return InvalidArgumentError("unexpected text after the JSON inference request");
      }
    }
  }
  if (!has_inputs) return InvalidArgumentError("the request has no 'inputs'");
  std::optional<bool> binary_default;
  RETURN_IF_ERROR(ReadBool(request.parameters, "binary_data_output", &binary_default));
  request.binary_outputs_default = binary_default.value_or(false);
  for (size_t i = 0; i < request.outputs.size(); ++i) {
    request.outputs[i].binary_data = output_binary[i].value_or(request.binary_outputs_default);
  }
  if (binary.size() != 0) {
    return InvalidArgumentError(std::to_string(binary.size()) +
                                " bytes of binary data left over after the last input");
  }
  return request;
}

std::string EncodeInferResponse(std::string_view model_name, std::string_view model_version,
                                std::string_view id, const Json& parameters,
                                const std::vector<InferOutput>& outputs, size_t* header_length) {
  auto quote = [](std::string_view s) {
    return Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  std::string out = "{\"model_name\":" + quote(model_name) +
                    ",\"model_version\":" + quote(model_version);
  if (!id.empty()) out += ",\"id\":" + quote(id);
  if (!parameters.is_null()) {
    out += ",\"parameters\":" + parameters.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  out += ",\"outputs\":[";
  std::string binary;
  bool any_binary = false;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i].tensor;
    if (i) out += ',';
    out += "{\"name\":" + quote(outputs[i].name) + ",\"datatype\":\"" +
           std::string(KServeName(t.dtype())) + "\",\"shape\":" + ShapeText(t.shape());
    if (KServeName(t.dtype()).empty()) {
      out += '}';
    } else if (const auto& region = outputs[i].region) {
      out += ",\"parameters\":{\"shared_memory_region\":" + quote(region->region) +
             ",\"shared_memory_byte_size\":" + std::to_string(region->byte_size);
      if (region->offset != 0) {
        out += ",\"shared_memory_offset\":" + std::to_string(region->offset);
      }
      out += "}}";
    } else if (outputs[i].binary) {
      any_binary = true;
      size_t before = binary.size();
      AppendRawTensor(t, &binary);
      out += ",\"parameters\":{\"binary_data_size\":" + std::to_string(binary.size() - before) +
             "}}";
    } else {
      StatusOr<Tensor> flat = t.Reshaped({t.num_elements()});
      std::string data;
      if (!flat.ok() || !EncodeJsonTensor(*flat, &data).ok()) data = "[]";
      out += ",\"data\":" + data + '}';
    }
  }
  out += "]}";
  if (header_length) *header_length = any_binary ? out.size() : 0;
  out += binary;
  return out;
}

}  // namespace bento::kserve
