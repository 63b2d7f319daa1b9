#include "kserve/grpc_codec.h"

#include <set>
#include <utility>
#include <set>

namespace bento::kserve {
namespace {

using Contents = inference::InferTensorContents;

// How many typed-contents fields are set; a request may use at most one per input.
int FilledFields(const Contents& c) {
  return (c.bool_contents_size() > 0) + (c.int_contents_size() > 0) +
         (c.int64_contents_size() > 0) + (c.uint_contents_size() > 0) +
         (c.uint64_contents_size() > 0) + (c.fp32_contents_size() > 0) +
         (c.fp64_contents_size() > 0) + (c.bytes_contents_size() > 0);
}

// Copies `values` into a tensor of element type T, refusing values T cannot hold.
template <typename T, typename Repeated>
StatusOr<Tensor> Narrow(const std::string& label, DType dtype, std::vector<int64_t> shape,
                        const Repeated& values) {
  std::vector<T> out;
  out.reserve(values.size());
  for (auto v : values) {
    using V = decltype(v);
    if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
      if (!std::in_range<T>(v)) {
        return InvalidArgumentError(label + ": value " + std::to_string(v) +
                                    " is out of range for " +
                                    std::string(KServeName(dtype)));
      }
    }
    out.push_back(static_cast<T>(v));
  }
  std::string_view bytes(reinterpret_cast<const char*>(out.data()), out.size() * sizeof(T));
  return Tensor::FromBytes(dtype, std::move(shape), bytes);
}

StatusOr<Tensor> FromContents(const std::string& label, DType dtype, std::vector<int64_t> shape,
                              const Contents& c) {
  if (FilledFields(c) > 1) return InvalidArgumentError(label + ": contents in more than one field");
  ASSIGN_OR_RETURN(int64_t count, ElementCount(label, shape));
  std::string field;
  int64_t got = 0;
  StatusOr<Tensor> tensor = InvalidArgumentError("");
  switch (dtype) {
    case DType::kBool:
      field = "bool_contents", got = c.bool_contents_size();
      if (got == count) tensor = Narrow<uint8_t>(label, dtype, shape, c.bool_contents());
      break;
    case DType::kInt8:
      field = "int_contents", got = c.int_contents_size();
      if (got == count) tensor = Narrow<int8_t>(label, dtype, shape, c.int_contents());
      break;
    case DType::kInt16:
      field = "int_contents", got = c.int_contents_size();
      if (got == count) tensor = Narrow<int16_t>(label, dtype, shape, c.int_contents());
      break;
    case DType::kInt32:
      field = "int_contents", got = c.int_contents_size();
      if (got == count) tensor = Narrow<int32_t>(label, dtype, shape, c.int_contents());
      break;
    case DType::kInt64:
      field = "int64_contents", got = c.int64_contents_size();
      if (got == count) tensor = Narrow<int64_t>(label, dtype, shape, c.int64_contents());
      break;
    case DType::kUInt8:
      field = "uint_contents", got = c.uint_contents_size();
      if (got == count) tensor = Narrow<uint8_t>(label, dtype, shape, c.uint_contents());
      break;
    case DType::kUInt16:
      field = "uint_contents", got = c.uint_contents_size();
      if (got == count) tensor = Narrow<uint16_t>(label, dtype, shape, c.uint_contents());
      break;
    case DType::kUInt32:
      field = "uint_contents", got = c.uint_contents_size();
      if (got == count) tensor = Narrow<uint32_t>(label, dtype, shape, c.uint_contents());
      break;
    case DType::kUInt64:
      field = "uint64_contents", got = c.uint64_contents_size();
      if (got == count) tensor = Narrow<uint64_t>(label, dtype, shape, c.uint64_contents());
      break;
    case DType::kFloat32:
      field = "fp32_contents", got = c.fp32_contents_size();
      if (got == count) tensor = Narrow<float>(label, dtype, shape, c.fp32_contents());
      break;
    case DType::kFloat64:
      field = "fp64_contents", got = c.fp64_contents_size();
      if (got == count) tensor = Narrow<double>(label, dtype, shape, c.fp64_contents());
      break;
    case DType::kString:
      field = "bytes_contents", got = c.bytes_contents_size();
      if (got == count) {
        tensor = Tensor::Strings(shape, {c.bytes_contents().begin(), c.bytes_contents().end()});
      }
      break;
    default:
      return InvalidArgumentError(label + ": " + std::string(KServeName(dtype)) +
                                  " data must come as raw_input_contents");
  }
  if (got != count) {
    return InvalidArgumentError(label + ": shape needs " + std::to_string(count) +
                                " elements, got " + std::to_string(got) + " in " + field);
  }
  return tensor;
}

}  // namespace

Json ParametersToJson(const google::protobuf::Map<std::string, inference::InferParameter>& params) {
  if (params.empty()) return nullptr;
  Json out = Json::object();
  for (const auto& [key, p] : params) {
    switch (p.parameter_choice_case()) {
      case inference::InferParameter::kBoolParam: out[key] = p.bool_param(); break;
      case inference::InferParameter::kInt64Param: out[key] = p.int64_param(); break;
      case inference::InferParameter::kStringParam: out[key] = p.string_param(); break;
      case inference::InferParameter::kDoubleParam: out[key] = p.double_param(); break;
      case inference::InferParameter::kUint64Param: out[key] = p.uint64_param(); break;
      default: out[key] = nullptr;
    }
  }
  return out;
}

void ParametersFromJson(const Json& params,
                        google::protobuf::Map<std::string, inference::InferParameter>* out) {
  if (!params.is_object()) return;
  for (const auto& [key, v] : params.items()) {
    inference::InferParameter p;
    if (v.is_boolean()) p.set_bool_param(v.get<bool>());
    else if (v.is_number_unsigned()) p.set_uint64_param(v.get<uint64_t>());
    else if (v.is_number_integer()) p.set_int64_param(v.get<int64_t>());
    else if (v.is_number_float()) p.set_double_param(v.get<double>());
    else if (v.is_string()) p.set_string_param(v.get<std::string>());
    else p.set_string_param(v.dump());
    (*out)[key] = std::move(p);
  }
}

StatusOr<InferRequest> FromProto(const inference::ModelInferRequest& request) {
  InferRequest out;
  out.id = request.id();
  out.parameters = ParametersToJson(request.parameters());
  const bool raw = request.raw_input_contents_size() > 0;
  // raw_input_contents holds one entry per input that is not in shared memory, in order.
  int in_memory = 0;
  for (const auto& input : request.inputs()) {
    in_memory += input.parameters().contains("shared_memory_region") ? 0 : 1;
  }
  if (raw && request.raw_input_contents_size() != in_memory) {
    return InvalidArgumentError(
        "raw_input_contents has " + std::to_string(request.raw_input_contents_size()) +
        " entries for " + std::to_string(in_memory) + " inputs not in shared memory");
  }
  std::set<std::string> names;
  int next_raw = 0;
  for (int i = 0; i < request.inputs_size(); ++i) {
    const auto& input = request.inputs(i);
    std::string label = "input '" + input.name() + "'";
    if (!names.insert(input.name()).second) {
      return InvalidArgumentError("duplicate input name '" + input.name() + "'");
    }
    std::optional<DType> dtype = DTypeFromKServe(input.datatype());
    if (!dtype) {
      return InvalidArgumentError(label + ": unknown datatype '" + input.datatype() + "'");
    }
    std::vector<int64_t> shape(input.shape().begin(), input.shape().end());
    InferInput parsed{input.name(), Tensor(), ParametersToJson(input.parameters())};
    ASSIGN_OR_RETURN(parsed.region, RegionParameters(label, parsed.parameters));
    if (parsed.region) {
      if (input.has_contents() && FilledFields(input.contents()) > 0) {
        return InvalidArgumentError(label + ": has both contents and a 'shared_memory_region'");
      }
      RETURN_IF_ERROR(ElementCount(label, shape).status());
      parsed.dtype = *dtype;
      parsed.shape = std::move(shape);
    } else if (raw) {
      if (input.has_contents() && FilledFields(input.contents()) > 0) {
        return InvalidArgumentError(label + ": has contents while raw_input_contents is used");
      }
      ASSIGN_OR_RETURN(parsed.tensor, DecodeRawTensor(label, *dtype, std::move(shape),
                                                      request.raw_input_contents(next_raw++)));
    } else {
      ASSIGN_OR_RETURN(parsed.tensor,
                       FromContents(label, *dtype, std::move(shape), input.contents()));
    }
    out.inputs.push_back(std::move(parsed));
  }
  for (const auto& output : request.outputs()) {
    RequestedOutput& o = out.outputs.emplace_back();
    o.name = output.name();
    o.parameters = ParametersToJson(output.parameters());
    ASSIGN_OR_RETURN(o.region, RegionParameters("output '" + o.name + "'", o.parameters));
  }
  return out;
}

void ToProto(const InferResponse& response, inference::ModelInferResponse* out) {
  out->set_model_name(response.model_name);
  out->set_model_version(response.model_version);
  out->set_id(response.id);
  ParametersFromJson(response.parameters, out->mutable_parameters());
  for (const auto& output : response.outputs) {
    auto* tensor = out->add_outputs();
    tensor->set_name(output.name);
    tensor->set_datatype(std::string(KServeName(output.tensor.dtype())));
    for (int64_t d : output.tensor.shape()) tensor->add_shape(d);
    // An output in shared memory keeps its place in raw_output_contents, empty, so that
    // clients find the others by position.
    std::string* raw = out->add_raw_output_contents();
    if (const auto& region = output.region) {
      Json params = {{"shared_memory_region", region->region},
                     {"shared_memory_byte_size", region->byte_size}};
      if (region->offset != 0) params["shared_memory_offset"] = region->offset;
      ParametersFromJson(params, tensor->mutable_parameters());
    } else if (!KServeName(output.tensor.dtype()).empty()) {
      AppendRawTensor(output.tensor, raw);
    }
  }
}

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace bento::kserve
