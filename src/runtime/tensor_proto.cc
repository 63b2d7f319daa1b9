#include "runtime/tensor_proto.h"

#include <onnx/onnx_pb.h>

#include <cstring>

namespace bento::runtime {
namespace {

// Copies a repeated proto field into the tensor, narrowing each element to T.
template <typename T, typename Field>
void CopyNarrowed(const Field& field, Tensor* t) {
  auto out = t->mutable_values<T>();
  for (int i = 0; i < field.size() && static_cast<size_t>(i) < out.size(); ++i) {
    out[i] = static_cast<T>(field.Get(i));
  }
}

}  // namespace

StatusOr<NamedTensor> TensorFromProto(std::string_view bytes) {
  onnx::TensorProto proto;
  if (!proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return InvalidArgumentError("not a TensorProto");
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    return UnimplementedError("tensor '" + proto.name() + "' keeps its data in an external file");
  }
  auto dtype = static_cast<DType>(proto.data_type());
  std::vector<int64_t> shape(proto.dims().begin(), proto.dims().end());
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) return InvalidArgumentError("negative dimension in tensor '" + proto.name() + "'");
    if (__builtin_mul_overflow(count, d, &count)) {
      return InvalidArgumentError("tensor '" + proto.name() +
                                  "' has more elements than int64 holds: " + ShapeToString(shape));
    }
  }
  NamedTensor out{proto.name(), {}};
  if (dtype == DType::kString) {
    if (proto.string_data_size() != count) {
      return InvalidArgumentError("string tensor '" + proto.name() + "' has " +
                                  std::to_string(proto.string_data_size()) + " values for shape " +
                                  ShapeToString(shape));
    }
    out.tensor = Tensor::Strings(std::move(shape), {proto.string_data().begin(),
                                                    proto.string_data().end()});
    return out;
  }
  size_t element = DTypeSize(dtype);
  if (element == 0) {
    return UnimplementedError("tensor '" + proto.name() + "' has unsupported element type " +
                              std::to_string(proto.data_type()));
  }
  if (proto.has_raw_data()) {
    ASSIGN_OR_RETURN(out.tensor, Tensor::FromBytes(dtype, std::move(shape), proto.raw_data()));
    return out;
  }
  // Check the value count before allocating: a corrupt proto may claim enormous dims.
  int64_t have = 0;
  switch (dtype) {
    case DType::kFloat32: have = proto.float_data_size(); break;
    case DType::kComplex64: have = proto.float_data_size() / 2; break;
    case DType::kFloat64: have = proto.double_data_size(); break;
    case DType::kComplex128: have = proto.double_data_size() / 2; break;
    case DType::kInt64: have = proto.int64_data_size(); break;
    case DType::kUInt32:
    case DType::kUInt64: have = proto.uint64_data_size(); break;
    default: have = proto.int32_data_size(); break;
  }
  if (have != count) {
    return InvalidArgumentError("tensor '" + proto.name() + "' has " + std::to_string(have) +
                                " values, its shape needs " + std::to_string(count));
  }
  Tensor t = Tensor::Zeros(dtype, std::move(shape));
  auto want = static_cast<int>(count);
  auto check = [&](int have) -> Status {
    if (have != want) {
      return InvalidArgumentError("tensor '" + proto.name() + "' has " + std::to_string(have) +
                                  " values, its shape needs " + std::to_string(want));
    }
    return OkStatus();
  };
  switch (dtype) {
    case DType::kFloat32:
      RETURN_IF_ERROR(check(proto.float_data_size()));
      CopyNarrowed<float>(proto.float_data(), &t);
      break;
    case DType::kComplex64:
      RETURN_IF_ERROR(check(proto.float_data_size() / 2));
      CopyNarrowed<float>(proto.float_data(), &t);
      break;
    case DType::kFloat64:
      RETURN_IF_ERROR(check(proto.double_data_size()));
      CopyNarrowed<double>(proto.double_data(), &t);
      break;
    case DType::kComplex128:
      RETURN_IF_ERROR(check(proto.double_data_size() / 2));
      CopyNarrowed<double>(proto.double_data(), &t);
      break;
    case DType::kInt64:
      RETURN_IF_ERROR(check(proto.int64_data_size()));
      CopyNarrowed<int64_t>(proto.int64_data(), &t);
      break;
    case DType::kUInt32:
    case DType::kUInt64:
      RETURN_IF_ERROR(check(proto.uint64_data_size()));
      if (dtype == DType::kUInt32) CopyNarrowed<uint32_t>(proto.uint64_data(), &t);
      else CopyNarrowed<uint64_t>(proto.uint64_data(), &t);
      break;
    case DType::kInt32: RETURN_IF_ERROR(check(proto.int32_data_size()));
      CopyNarrowed<int32_t>(proto.int32_data(), &t);
      break;
    case DType::kInt16: RETURN_IF_ERROR(check(proto.int32_data_size()));
      CopyNarrowed<int16_t>(proto.int32_data(), &t);
      break;
    case DType::kInt8: RETURN_IF_ERROR(check(proto.int32_data_size()));
      CopyNarrowed<int8_t>(proto.int32_data(), &t);
      break;
    case DType::kUInt16:
    case DType::kFloat16:
    case DType::kBFloat16:  // 16-bit patterns stored in int32_data
      RETURN_IF_ERROR(check(proto.int32_data_size()));
      CopyNarrowed<uint16_t>(proto.int32_data(), &t);
      break;
    case DType::kUInt8:
    case DType::kBool:
      RETURN_IF_ERROR(check(proto.int32_data_size()));
      CopyNarrowed<uint8_t>(proto.int32_data(), &t);
      break;
    default:
      return UnimplementedError("tensor '" + proto.name() + "' has unsupported element type " +
                                std::to_string(proto.data_type()));
  }
  out.tensor = std::move(t);
  return out;
}

}  // namespace bento::runtime
