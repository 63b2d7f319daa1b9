// Reading ONNX TensorProto files (the input_N.pb / output_N.pb of ONNX's test data sets)
// into bento Tensors. Thread-safe: pure functions.
#ifndef BENTO_RUNTIME_TENSOR_PROTO_H_
#define BENTO_RUNTIME_TENSOR_PROTO_H_

#include <string>
#include <string_view>

#include "bento/status.h"
#include "bento/tensor.h"

namespace bento::runtime {

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

// Parses a serialized TensorProto (raw_data or the typed repeated fields). Tensors kept in
// external files are refused. Garbage gives INVALID_ARGUMENT.
StatusOr<NamedTensor> TensorFromProto(std::string_view bytes);

}  // namespace bento::runtime

#endif  // BENTO_RUNTIME_TENSOR_PROTO_H_
