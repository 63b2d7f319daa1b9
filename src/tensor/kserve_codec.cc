#include "tensor/kserve_codec.h"

#include <simdjson.h>

#include <array>
#include <cstdint>
#include <cstring>
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

constexpr size_t kMaxRank = kMaxJsonTensorRank;
constexpr int kMaxParameterDepth = 64;
constexpr size_t kCachedParserCapacity = 1 << 20;

// "[2,3]", the way the request wrote it.
std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

bool KeyIs(field& f, std::string_view name) { return f.key() == name; }

Status Syntax(simdjson::error_code error) { return JsonSyntaxError(error); }

// Reads a "parameters" value: a JSON object, at most kMaxParameterDepth deep.
Status ReadParameters(value v, std::string_view owner, Json* out) {
  object obj;
  if (v.get_object().get(obj)) return InvalidArgumentError(std::string(owner) + ": 'parameters' must be a JSON object");
  std::string_view raw;
  if (auto error = obj.raw_json().get(raw)) return Syntax(error);
  bool too_deep = false;
  Json parsed = Json::parse(
      raw,
      [&](int depth, Json::parse_event_t, Json&) {
        if (depth > kMaxParameterDepth) too_deep = true;
        return !too_deep;
      },
      /*allow_exceptions=*/false);
  if (too_deep) return InvalidArgumentError(std::string(owner) + ": 'parameters' nest too deeply");
  if (parsed.is_discarded() || !parsed.is_object()) {
    return InvalidArgumentError(std::string(owner) + ": 'parameters' is not a valid JSON object");
  }
  *out = std::move(parsed);
  return OkStatus();
}

Status ReadString(value v, std::string_view what, std::string* out) {
  std::string_view s;
  if (v.get_string().get(s)) return InvalidArgumentError(std::string(what) + " must be a string");
  *out = std::string(s);
  return OkStatus();
}

// The binary part of the body, consumed input by input.
class BinaryCursor {
 public:
  explicit BinaryCursor(std::string_view data) : rest_(data) {}
  StatusOr<std::string_view> Take(const std::string& name, uint64_t size) {
    if (size > rest_.size()) {
      return InvalidArgumentError("binary data of input '" + name + "' is " +
                                  std::to_string(size) + " bytes but only " +
                                  std::to_string(rest_.size()) + " remain");
    }
    std::string_view out = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return out;
  }
  size_t remaining() const { return rest_.size(); }

 private:
  std::string_view rest_;
};

// Decodes Triton's BYTES framing: per element a 4-byte little-endian length, then the bytes.
StatusOr<Tensor> DecodeBinaryStrings(const std::string& label, std::string_view data,
                                     std::vector<int64_t> shape, int64_t count) {
  std::vector<std::string> values;
  size_t index = 0;
  while (!data.empty()) {
    if (data.size() < 4) {
      return InvalidArgumentError(label + ": BYTES element " + std::to_string(index) +
                                  " has a truncated 4-byte length");
    }
    const auto* p = reinterpret_cast<const unsigned char*>(data.data());
    uint32_t len = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
                   uint32_t{p[3]} << 24;
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
  if (static_cast<int64_t>(values.size()) != count) {
    return InvalidArgumentError(label + ": shape " + ShapeText(shape) + " needs " +
                                std::to_string(count) + " elements, got " +
                                std::to_string(values.size()));
  }
  return Tensor::Strings(std::move(shape), std::move(values));
}

Status ParseInput(object obj, size_t index, BinaryCursor* binary, std::set<std::string>* names,
                  InferInput* out) {
  std::optional<std::string> datatype;
  std::optional<std::vector<int64_t>> shape;
  int data_fields = 0;
  auto label = [&] {
    return out->name.empty() && index != SIZE_MAX ? "input #" + std::to_string(index)
                                                  : "input '" + out->name + "'";
  };
  bool has_name = false;
  for (auto field_result : obj) {
    field f;
    if (auto error = std::move(field_result).get(f)) return Syntax(error);
    value v = f.value();
    if (KeyIs(f, "name")) {
      if (Status s = ReadString(v, label() + " name", &out->name); !s.ok()) return s;
      has_name = true;
    } else if (KeyIs(f, "datatype")) {
      datatype.emplace();
      if (Status s = ReadString(v, label() + ": 'datatype'", &*datatype); !s.ok()) return s;
    } else if (KeyIs(f, "shape")) {
      simdjson::ondemand::array dims;
      if (v.get_array().get(dims)) return InvalidArgumentError(label() + ": 'shape' must be an array of integers");
      shape.emplace();
      for (auto dim_result : dims) {
        int64_t dim;
        if (auto error = dim_result.get_int64().get(dim)) {
          if (error != simdjson::INCORRECT_TYPE && error != simdjson::NUMBER_OUT_OF_RANGE) return Syntax(error);
          return InvalidArgumentError(label() + ": 'shape' must be an array of integers");
        }
        if (shape->size() >= kMaxRank) return InvalidArgumentError(label() + ": shape has more than " + std::to_string(kMaxRank) + " dimensions");
        shape->push_back(dim);
      }
    } else if (KeyIs(f, "parameters")) {
      if (Status s = ReadParameters(v, label(), &out->parameters); !s.ok()) return s;
    } else if (KeyIs(f, "data")) {
      ++data_fields;  // decoded below, once the datatype is known
    }
  }
  if (!has_name) return InvalidArgumentError(label() + " has no 'name'");
  if (!names->insert(out->name).second) return InvalidArgumentError("duplicate input name '" + out->name + "'");
  if (!datatype) return InvalidArgumentError(label() + " has no 'datatype'");
  if (!shape) return InvalidArgumentError(label() + " has no 'shape'");
  std::optional<DType> dtype = DTypeFromKServe(*datatype);
  if (!dtype) return InvalidArgumentError(label() + ": unknown datatype '" + *datatype + "'");
  int64_t count = 1;
  for (int64_t dim : *shape) {
    if (dim < 0) return InvalidArgumentError(label() + ": negative dimension in shape " + ShapeText(*shape));
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / dim) {
      return InvalidArgumentError(label() + ": shape " + ShapeText(*shape) + " is too large");
    }
    count *= dim;
  }
  auto count_error = [&](int64_t got) {
    return InvalidArgumentError(label() + ": shape " + ShapeText(*shape) + " needs " +
                                std::to_string(count) + " elements, got " + std::to_string(got));
  };
  std::optional<uint64_t> binary_size;
  if (out->parameters.is_object() && out->parameters.contains("binary_data_size")) {
    const Json& size = out->parameters["binary_data_size"];
    if (!size.is_number_unsigned()) return InvalidArgumentError(label() + ": 'binary_data_size' must be a non-negative integer");
    binary_size = size.get<uint64_t>();
  }
  if (data_fields > 1) return InvalidArgumentError(label() + " has more than one 'data'");
  if (binary_size && data_fields) return InvalidArgumentError(label() + " has both 'data' and 'binary_data_size'");
  if (!binary_size && !data_fields) return InvalidArgumentError(label() + " has no 'data' and no 'binary_data_size'");

  if (binary_size) {
    StatusOr<std::string_view> bytes = binary->Take(out->name, *binary_size);
    if (!bytes.ok()) return bytes.status();
    if (*dtype == DType::kString) {
      StatusOr<Tensor> t = DecodeBinaryStrings(label(), *bytes, *shape, count);
      if (!t.ok()) return t.status();
      out->tensor = std::move(*t);
      return OkStatus();
    }
    size_t elem = DTypeSize(*dtype);
    if (bytes->size() % elem != 0) {
      return InvalidArgumentError(label() + ": binary data size " + std::to_string(bytes->size()) +
                                  " is not a multiple of the " + *datatype + " element size " +
                                  std::to_string(elem));
    }
    if (static_cast<uint64_t>(count) != bytes->size() / elem) return count_error(static_cast<int64_t>(bytes->size() / elem));
    StatusOr<Tensor> t = Tensor::FromBytes(*dtype, *shape, *bytes);
    if (!t.ok()) return t.status();
    out->tensor = std::move(*t);
    return OkStatus();
  }
  // Second pass for "data": the On-Demand document is read forward, so rewind this object.
  bool nonempty = false;
  if (auto error = obj.reset().get(nonempty)) return Syntax(error);
  for (auto field_result : obj) {
    field f;
    if (auto error = std::move(field_result).get(f)) return Syntax(error);
    if (!KeyIs(f, "data")) continue;
    value v = f.value();
    StatusOr<Tensor> t = DecodeJsonTensor(v, *dtype);
    if (!t.ok()) return t.status().WithContext(label());
    if (t->num_elements() != count) return count_error(t->num_elements());
    StatusOr<Tensor> shaped = t->Reshaped(*shape);
    if (!shaped.ok()) return shaped.status().WithContext(label());
    out->tensor = std::move(*shaped);
    return OkStatus();
  }
  return InvalidArgumentError(label() + " has no 'data'");  // e.g. an escaped key
}

Status ParseOutput(object obj, size_t index, RequestedOutput* out, std::optional<bool>* binary) {
  bool has_name = false;
  std::string label = "output #" + std::to_string(index);
  for (auto field_result : obj) {
    field f;
    if (auto error = std::move(field_result).get(f)) return Syntax(error);
    value v = f.value();
    if (KeyIs(f, "name")) {
      if (Status s = ReadString(v, label + " name", &out->name); !s.ok()) return s;
      has_name = true;
    } else if (KeyIs(f, "parameters")) {
      if (Status s = ReadParameters(v, label, &out->parameters); !s.ok()) return s;
    }
  }
  if (!has_name) return InvalidArgumentError(label + " has no 'name'");
  if (out->parameters.is_object() && out->parameters.contains("binary_data")) {
    const Json& b = out->parameters["binary_data"];
    if (!b.is_boolean()) return InvalidArgumentError("output '" + out->name + "': 'binary_data' must be true or false");
    *binary = b.get<bool>();
  }
  return OkStatus();
}

class ParserLease {
 public:
  explicit ParserLease(size_t size) {
    if (size <= kCachedParserCapacity) {
      thread_local simdjson::ondemand::parser cached;
      parser_ = &cached;
    } else {
      own_ = std::make_unique<simdjson::ondemand::parser>();
      parser_ = own_.get();
    }
  }
  simdjson::ondemand::parser& parser() { return *parser_; }

 private:
  std::unique_ptr<simdjson::ondemand::parser> own_;
  simdjson::ondemand::parser* parser_;
};

}  // namespace

std::optional<DType> DTypeFromKServe(std::string_view name) {
  for (const NamedType& t : kTypes) {
    if (t.name == name) return t.dtype;
  }
  return std::nullopt;
}

std::string_view KServeName(DType dtype) {
  for (const NamedType& t : kTypes) {
    if (t.dtype == dtype) return t.name;
  }
  return "";
}

StatusOr<InferRequest> ParseInferRequest(std::string_view body,
                                         std::optional<size_t> header_length) {
  size_t json_size = body.size();
  if (header_length) {
    if (*header_length > body.size()) {
      return InvalidArgumentError("Inference-Header-Content-Length " +
                                  std::to_string(*header_length) + " exceeds the body size " +
                                  std::to_string(body.size()));
    }
    json_size = *header_length;
  }
  BinaryCursor binary(body.substr(json_size));
  simdjson::padded_string padded(body.substr(0, json_size));
  if (json_size != 0 && padded.data() == nullptr) return ResourceExhaustedError("request header too large");
  ParserLease lease(json_size);
  simdjson::ondemand::document doc;
  if (auto error = lease.parser().iterate(padded).get(doc)) return Syntax(error);
  object root;
  if (auto error = doc.get_object().get(root)) {
    if (error == simdjson::INCORRECT_TYPE) return InvalidArgumentError("the inference request must be a JSON object");
    return Syntax(error);
  }
  InferRequest request;
  std::vector<std::optional<bool>> output_binary;
  std::set<std::string> input_names;
  bool has_inputs = false;
  for (auto field_result : root) {
    field f;
    if (auto error = std::move(field_result).get(f)) return Syntax(error);
    value v = f.value();
    if (KeyIs(f, "id")) {
      if (Status s = ReadString(v, "'id'", &request.id); !s.ok()) return s;
    } else if (KeyIs(f, "parameters")) {
      if (Status s = ReadParameters(v, "request", &request.parameters); !s.ok()) return s;
    } else if (KeyIs(f, "inputs") || KeyIs(f, "outputs")) {
      bool inputs = KeyIs(f, "inputs");
      if (inputs && has_inputs) return InvalidArgumentError("the request has more than one 'inputs'");
      has_inputs |= inputs;
      simdjson::ondemand::array items;
      if (v.get_array().get(items)) return InvalidArgumentError(std::string(inputs ? "'inputs'" : "'outputs'") + " must be an array of objects");
      size_t index = 0;
      for (auto item : items) {
        object obj;
        if (auto error = item.get_object().get(obj)) {
          if (error != simdjson::INCORRECT_TYPE) return Syntax(error);
          return InvalidArgumentError(std::string(inputs ? "'inputs'" : "'outputs'") + " must be an array of objects");
        }
        if (inputs) {
          InferInput& in = request.inputs.emplace_back();
          if (Status s = ParseInput(obj, index, &binary, &input_names, &in); !s.ok()) return s;
        } else {
          RequestedOutput& out = request.outputs.emplace_back();
          if (Status s = ParseOutput(obj, index, &out, &output_binary.emplace_back()); !s.ok()) return s;
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
  if (request.parameters.is_object() && request.parameters.contains("binary_data_output")) {
    const Json& b = request.parameters["binary_data_output"];
    if (!b.is_boolean()) return InvalidArgumentError("'binary_data_output' must be true or false");
    request.binary_outputs_default = b.get<bool>();
  }
  for (size_t i = 0; i < request.outputs.size(); ++i) {
    request.outputs[i].binary_data = output_binary[i].value_or(request.binary_outputs_default);
  }
  if (binary.remaining() != 0) {
    return InvalidArgumentError(std::to_string(binary.remaining()) +
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
      continue;
    }
    if (outputs[i].binary) {
      any_binary = true;
      size_t before = binary.size();
      if (t.dtype() == DType::kString) {
        for (const std::string& s : t.strings()) {
          uint32_t len = static_cast<uint32_t>(s.size());
          const char frame[4] = {static_cast<char>(len), static_cast<char>(len >> 8),
                                 static_cast<char>(len >> 16), static_cast<char>(len >> 24)};
          binary.append(frame, 4);
          binary += s;
        }
      } else {
        binary += t.bytes();
      }
      out += ",\"parameters\":{\"binary_data_size\":" + std::to_string(binary.size() - before) + "}}";
      continue;
    }
    out += ",\"data\":";
    StatusOr<Tensor> flat = t.Reshaped({t.num_elements()});
    std::string data;
    if (!flat.ok() || !EncodeJsonTensor(*flat, &data).ok()) data = "[]";
    out += data + '}';
  }
  out += "]}";
  if (header_length) *header_length = any_binary ? out.size() : 0;
  out += binary;
  return out;
}

}  // namespace bento::kserve
