// Tensor: a typed n-dimensional array, the value that flows between codecs, the batcher and
// ONNX Runtime. TensorSpec: what a model input or output accepts, with symbolic dimensions.
//
// A Tensor holds its bytes in a shared buffer: copies of a Tensor share the bytes (cheap),
// and a Tensor may also borrow bytes it does not own (Tensor::Borrow), for zero-copy views of
// a request body. STRING tensors hold std::strings instead of bytes.
//
// Thread-safety: a Tensor may be read from many threads; mutating its data while others
// read it is the caller's business.
#ifndef BENTO_TENSOR_H_
#define BENTO_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bento/status.h"

namespace bento {

// Element types, numbered as ONNX's TensorProto.DataType so they convert without a table.
enum class DType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kUInt16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kFloat64 = 11,
  kUInt32 = 12,
  kUInt64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBFloat16 = 16,
};

// Bytes per element; 0 for kString and kUndefined.
size_t DTypeSize(DType dtype);
// numpy-style name: "float32", "int64", "bool", "string", ...
std::string_view DTypeName(DType dtype);
// Parses a numpy-style name ("float32", "float", "int64", ...).
std::optional<DType> DTypeFromName(std::string_view name);
// ONNX Runtime's type string as Python shows it: "tensor(float)", "tensor(int64)", ...
std::string OnnxTypeString(DType dtype);

// Number of elements of a shape; 1 for a scalar. Negative dims count as 0.
int64_t NumElements(std::span<const int64_t> shape);
// "[1, 3, 224, 224]"
std::string ShapeToString(std::span<const int64_t> shape);

class Tensor {
 public:
  Tensor() = default;

  // A zero-filled tensor (empty strings for kString).
  static Tensor Zeros(DType dtype, std::vector<int64_t> shape);
  // Copies `bytes`, which must hold NumElements(shape) * DTypeSize(dtype) bytes.
  static StatusOr<Tensor> FromBytes(DType dtype, std::vector<int64_t> shape,
                                    std::string_view bytes);
  // Borrows `data` without copying. `keep_alive` owns the memory and is held as long as any
  // copy of the tensor lives. REQUIRES: data holds the right number of bytes.
  static Tensor Borrow(DType dtype, std::vector<int64_t> shape, const void* data,
                       std::shared_ptr<const void> keep_alive);
  // Takes over a buffer that the tensor owns and may write to (unlike Borrow): `owner` frees it
  // when the last copy of the tensor goes. Decoders use it to hand over what they filled.
  // REQUIRES: data holds NumElements(shape) * DTypeSize(dtype) bytes, aligned for dtype.
  static Tensor Adopt(DType dtype, std::vector<int64_t> shape, void* data,
                      std::shared_ptr<void> owner);
  static Tensor Strings(std::vector<int64_t> shape, std::vector<std::string> values);

  // Typed constructor: Tensor::Of<float>({2, 2}, {1, 2, 3, 4}). (BOOL: use FromBytes.)
  template <typename T>
  static Tensor Of(std::vector<int64_t> shape, const std::vector<T>& values);

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t num_elements() const { return NumElements(shape_); }
  size_t byte_size() const { return size_; }

  // Raw element bytes (not for kString).
  const void* data() const { return data_; }
  // Mutable access; REQUIRES: the tensor owns its buffer (not Borrow).
  void* mutable_data() { return const_cast<void*>(data_); }
  std::string_view bytes() const {
    return {static_cast<const char*>(data_), size_};
  }
  template <typename T>
  std::span<const T> values() const {
    return {static_cast<const T*>(data_), size_ / sizeof(T)};
  }
  template <typename T>
  std::span<T> mutable_values() {
    return {static_cast<T*>(mutable_data()), size_ / sizeof(T)};
  }

  // kString only.
  const std::vector<std::string>& strings() const { return *strings_; }

  // Same data, new shape with the same element count.
  StatusOr<Tensor> Reshaped(std::vector<int64_t> shape) const;

 private:
  DType dtype_ = DType::kUndefined;
  std::vector<int64_t> shape_;
  std::shared_ptr<const void> owner_;  // keeps data_ alive
  const void* data_ = nullptr;
  size_t size_ = 0;
  std::shared_ptr<std::vector<std::string>> strings_;
};

template <typename T>
Tensor Tensor::Of(std::vector<int64_t> shape, const std::vector<T>& values) {
  std::string_view bytes(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  DType dtype = DType::kUndefined;
  if constexpr (std::is_same_v<T, float>) dtype = DType::kFloat32;
  else if constexpr (std::is_same_v<T, double>) dtype = DType::kFloat64;
  else if constexpr (std::is_same_v<T, int64_t>) dtype = DType::kInt64;
  else if constexpr (std::is_same_v<T, int32_t>) dtype = DType::kInt32;
  else if constexpr (std::is_same_v<T, int16_t>) dtype = DType::kInt16;
  else if constexpr (std::is_same_v<T, int8_t>) dtype = DType::kInt8;
  else if constexpr (std::is_same_v<T, uint8_t>) dtype = DType::kUInt8;
  else if constexpr (std::is_same_v<T, uint16_t>) dtype = DType::kUInt16;
  else if constexpr (std::is_same_v<T, uint32_t>) dtype = DType::kUInt32;
  else if constexpr (std::is_same_v<T, uint64_t>) dtype = DType::kUInt64;
  else static_assert(sizeof(T) == 0, "unsupported element type");
  return *FromBytes(dtype, std::move(shape), bytes);
}

// One dimension of a TensorSpec: a fixed size, a symbolic name ("batch"), or unknown.
struct Dim {
  int64_t value = -1;   // >= 0 when fixed
  std::string param;    // non-empty when symbolic
  bool fixed() const { return value >= 0; }
  friend bool operator==(const Dim&, const Dim&) = default;
};

// A model input or output as declared in the .onnx file.
struct TensorSpec {
  std::string name;
  DType dtype = DType::kUndefined;
  std::vector<Dim> dims;
  bool has_shape = true;  // false when the model declares no shape at all (any rank)
  friend bool operator==(const TensorSpec&, const TensorSpec&) = default;

  // "x: float32[batch, 3, 224, 224]"
  std::string ToString() const;
  // OK if `dtype` and `shape` fit this spec; symbolic and unknown dims match any size.
  // The error names the input, the expected spec and what came.
  Status Check(DType dtype, std::span<const int64_t> shape) const;
};

}  // namespace bento

#endif  // BENTO_TENSOR_H_
