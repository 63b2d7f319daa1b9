// Reading an .onnx file without running it: validation, input and output specs, and the
// external-data files it references. Used by save_model (before anything is written) and by
// `bento models save` to record specs in model.yaml, so a model can be inspected without a
// session.
//
// Parsing uses the ONNX protobuf definitions from Debian's libonnx-dev. Any bytes are safe
// to pass: garbage yields an INVALID_ARGUMENT Status saying what is wrong.
// Thread-safe: these are pure functions.
#ifndef BENTO_RUNTIME_ONNX_MODEL_H_
#define BENTO_RUNTIME_ONNX_MODEL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bento/status.h"
#include "bento/tensor.h"

namespace bento::runtime {

struct OnnxModelInfo {
  int64_t ir_version = 0;
  int64_t opset = 0;  // the default ("" or "ai.onnx") domain's opset
  std::string producer;
  std::vector<TensorSpec> inputs;   // graph inputs that are not initializers
  std::vector<TensorSpec> outputs;
  // Relative paths of external-data files, as written in the model, without duplicates.
  std::vector<std::string> external_data;
};

// Parses and checks the structure of a serialized ModelProto: it must parse, have an IR
// version, an opset import, a graph with at least one output, nodes with op types, and
// external-data locations that are relative paths that stay inside the model's folder.
StatusOr<OnnxModelInfo> InspectOnnxModel(std::string_view bytes);

}  // namespace bento::runtime

#endif  // BENTO_RUNTIME_ONNX_MODEL_H_
