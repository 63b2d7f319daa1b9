#include "runtime/onnx_model.h"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace bento::runtime {
namespace {

TensorSpec SpecFromValueInfo(const onnx::ValueInfoProto& value) {
  TensorSpec spec;
  spec.name = value.name();
  if (!value.type().has_tensor_type()) {
    spec.has_shape = false;  // sequence, map or optional: no tensor spec to check
    return spec;
  }
  const auto& tensor = value.type().tensor_type();
  spec.dtype = static_cast<DType>(tensor.elem_type());
  spec.has_shape = tensor.has_shape();
  for (const auto& dim : tensor.shape().dim()) {
    Dim d;
    if (dim.has_dim_value()) d.value = dim.dim_value();
    if (dim.has_dim_param()) d.param = dim.dim_param();
    spec.dims.push_back(std::move(d));
  }
  return spec;
}

// Collects external-data locations from a tensor, checking each is a safe relative path.
Status CollectExternal(const onnx::TensorProto& tensor, std::set<std::string>* out) {
  if (tensor.data_location() != onnx::TensorProto::EXTERNAL) return OkStatus();
  for (const auto& entry : tensor.external_data()) {
    if (entry.key() != "location") continue;
    std::filesystem::path location(entry.value());
    bool escapes = location.empty() || location.is_absolute() ||
                   std::any_of(location.begin(), location.end(),
                               [](const auto& part) { return part == ".."; });
    if (escapes) {
      return InvalidArgumentError("tensor '" + tensor.name() + "' has external data at '" +
                                  entry.value() +
                                  "', which is not a relative path inside the model's folder");
    }
    out->insert(location.lexically_normal().string());
  }
  return OkStatus();
}

Status WalkGraph(const onnx::GraphProto& graph, int depth, std::set<std::string>* external) {
  if (depth > 64) return InvalidArgumentError("subgraphs nested too deeply");
  for (const auto& init : graph.initializer()) RETURN_IF_ERROR(CollectExternal(init, external));
  for (const auto& node : graph.node()) {
    if (node.op_type().empty()) {
      return InvalidArgumentError("node '" + node.name() + "' has no op_type");
    }
    for (const auto& attr : node.attribute()) {
      if (attr.has_t()) RETURN_IF_ERROR(CollectExternal(attr.t(), external));
      if (attr.has_g()) RETURN_IF_ERROR(WalkGraph(attr.g(), depth + 1, external));
      for (const auto& g : attr.graphs()) RETURN_IF_ERROR(WalkGraph(g, depth + 1, external));
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<OnnxModelInfo> InspectOnnxModel(std::string_view bytes) {
  if (bytes.empty()) return InvalidArgumentError("not an ONNX model: the file is empty");
  onnx::ModelProto model;
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                static_cast<int>(std::min<size_t>(
                                                    bytes.size(), INT32_MAX)));
  stream.SetRecursionLimit(200);
  if (bytes.size() > INT32_MAX || !model.ParseFromCodedStream(&stream) ||
      !stream.ConsumedEntireMessage()) {
    return InvalidArgumentError(
        "not an ONNX model: the bytes do not parse as an ONNX ModelProto (truncated or not "
        "an .onnx file)");
  }
  if (model.ir_version() <= 0) {
    return InvalidArgumentError("not an ONNX model: ir_version is missing");
  }
  if (!model.has_graph()) return InvalidArgumentError("not an ONNX model: it has no graph");
  if (model.opset_import_size() == 0) {
    return InvalidArgumentError("invalid ONNX model: it imports no opset");
  }
  const auto& graph = model.graph();
  if (graph.output_size() == 0) return InvalidArgumentError("invalid ONNX model: no outputs");

  OnnxModelInfo info;
  info.ir_version = model.ir_version();
  info.producer = model.producer_name();
  for (const auto& opset : model.opset_import()) {
    if (opset.domain().empty() || opset.domain() == "ai.onnx") info.opset = opset.version();
  }
  std::set<std::string> initializers;
  for (const auto& init : graph.initializer()) initializers.insert(init.name());
  for (const auto& input : graph.input()) {
    if (input.name().empty()) return InvalidArgumentError("invalid ONNX model: unnamed input");
    if (!initializers.contains(input.name())) info.inputs.push_back(SpecFromValueInfo(input));
  }
  for (const auto& output : graph.output()) {
    if (output.name().empty()) return InvalidArgumentError("invalid ONNX model: unnamed output");
    info.outputs.push_back(SpecFromValueInfo(output));
  }
  std::set<std::string> external;
  RETURN_IF_ERROR(WalkGraph(graph, 0, &external).WithContext("invalid ONNX model"));
  info.external_data.assign(external.begin(), external.end());
  return info;
}

}  // namespace bento::runtime
