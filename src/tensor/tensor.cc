#include "bento/tensor.h"

#include <cstring>

namespace bento {
namespace {

struct DTypeInfo {
  DType dtype;
  size_t size;
  std::string_view name;
  std::string_view onnx_name;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::kFloat32, 4, "float32", "float"},     {DType::kUInt8, 1, "uint8", "uint8"},
    {DType::kInt8, 1, "int8", "int8"},            {DType::kUInt16, 2, "uint16", "uint16"},
    {DType::kInt16, 2, "int16", "int16"},         {DType::kInt32, 4, "int32", "int32"},
    {DType::kInt64, 8, "int64", "int64"},         {DType::kString, 0, "string", "string"},
    {DType::kBool, 1, "bool", "bool"},            {DType::kFloat16, 2, "float16", "float16"},
    {DType::kFloat64, 8, "float64", "double"},    {DType::kUInt32, 4, "uint32", "uint32"},
    {DType::kUInt64, 8, "uint64", "uint64"},      {DType::kComplex64, 8, "complex64", "complex64"},
    {DType::kComplex128, 16, "complex128", "complex128"},
    {DType::kBFloat16, 2, "bfloat16", "bfloat16"},
};

const DTypeInfo* Find(DType dtype) {
  for (const auto& info : kDTypes) {
    if (info.dtype == dtype) return &info;
  }
  return nullptr;
}

}  // namespace

size_t DTypeSize(DType dtype) {
  const DTypeInfo* info = Find(dtype);
  return info ? info->size : 0;
}

std::string_view DTypeName(DType dtype) {
  const DTypeInfo* info = Find(dtype);
  return info ? info->name : "undefined";
}

std::optional<DType> DTypeFromName(std::string_view name) {
  for (const auto& info : kDTypes) {
    if (info.name == name || info.onnx_name == name) return info.dtype;
  }
  if (name == "half") return DType::kFloat16;
  return std::nullopt;
}

std::string OnnxTypeString(DType dtype) {
  const DTypeInfo* info = Find(dtype);
  return "tensor(" + std::string(info ? info->onnx_name : "undefined") + ")";
}

int64_t NumElements(std::span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d < 0 ? 0 : d;
  return n;
}

std::string ShapeToString(std::span<const int64_t> shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

Tensor Tensor::Zeros(DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  int64_t n = NumElements(t.shape_);
  if (dtype == DType::kString) {
    t.strings_ = std::make_shared<std::vector<std::string>>(static_cast<size_t>(n));
    return t;
  }
  t.size_ = static_cast<size_t>(n) * DTypeSize(dtype);
  // operator new memory is suitably aligned for every element type.
  std::shared_ptr<char[]> buf(new char[t.size_ ? t.size_ : 1]());
  t.data_ = buf.get();
  t.owner_ = std::move(buf);
  return t;
}

StatusOr<Tensor> Tensor::FromBytes(DType dtype, std::vector<int64_t> shape,
                                   std::string_view bytes) {
  if (dtype == DType::kString || DTypeSize(dtype) == 0) {
    return InvalidArgumentError("FromBytes: dtype " + std::string(DTypeName(dtype)) +
                                " has no fixed element size");
  }
  size_t want = static_cast<size_t>(NumElements(shape)) * DTypeSize(dtype);
  if (bytes.size() != want) {
    return InvalidArgumentError("expected " + std::to_string(want) + " bytes for " +
                                std::string(DTypeName(dtype)) + ShapeToString(shape) + ", got " +
                                std::to_string(bytes.size()));
  }
  Tensor t = Zeros(dtype, std::move(shape));
  if (want) std::memcpy(t.mutable_data(), bytes.data(), want);
  return t;
}

Tensor Tensor::Borrow(DType dtype, std::vector<int64_t> shape, const void* data,
                      std::shared_ptr<const void> keep_alive) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.size_ = static_cast<size_t>(NumElements(t.shape_)) * DTypeSize(dtype);
  t.data_ = data;
  t.owner_ = std::move(keep_alive);
  return t;
}

Tensor Tensor::Adopt(DType dtype, std::vector<int64_t> shape, void* data,
                     std::shared_ptr<void> owner) {
  return Borrow(dtype, std::move(shape), data, std::move(owner));
}

Tensor Tensor::Strings(std::vector<int64_t> shape, std::vector<std::string> values) {
  Tensor t;
  t.dtype_ = DType::kString;
  t.shape_ = std::move(shape);
  t.strings_ = std::make_shared<std::vector<std::string>>(std::move(values));
  return t;
}

StatusOr<Tensor> Tensor::Reshaped(std::vector<int64_t> shape) const {
  if (NumElements(shape) != num_elements()) {
    return InvalidArgumentError("cannot reshape " + ShapeToString(shape_) + " to " +
                                ShapeToString(shape));
  }
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

std::string TensorSpec::ToString() const {
  std::string out = name + ": " + std::string(DTypeName(dtype));
  if (!has_shape) return out + "[...]";
  out += "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) out += ", ";
    if (dims[i].fixed()) out += std::to_string(dims[i].value);
    else out += dims[i].param.empty() ? "?" : dims[i].param;
  }
  return out + "]";
}

Status TensorSpec::Check(DType got_dtype, std::span<const int64_t> shape) const {
  auto mismatch = [&](std::string_view what) {
    return InvalidArgumentError("input '" + name + "': " + std::string(what) + ": expected " +
                                ToString() + ", got " + std::string(DTypeName(got_dtype)) +
                                ShapeToString(shape));
  };
  if (got_dtype != dtype) return mismatch("wrong dtype");
  if (!has_shape) return OkStatus();
  if (shape.size() != dims.size()) return mismatch("wrong rank");
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i].fixed() && dims[i].value != shape[i]) return mismatch("wrong shape");
  }
  return OkStatus();
}

}  // namespace bento
