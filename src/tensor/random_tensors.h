// Random tensors of every dtype a transport carries, for the codecs' round-trip property
// tests (tensor/, kserve/).
//
// Thread-safety: plain functions over the caller's generator.
#ifndef BENTO_TENSOR_RANDOM_TENSORS_H_
#define BENTO_TENSOR_RANDOM_TENSORS_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bento/tensor.h"
#include "tensor/half.h"

namespace bento::testing {

inline constexpr DType kEveryDType[] = {
    DType::kBool,   DType::kInt8,    DType::kInt16,    DType::kInt32,   DType::kInt64,
    DType::kUInt8,  DType::kUInt16,  DType::kUInt32,   DType::kUInt64,  DType::kFloat16,
    DType::kBFloat16, DType::kFloat32, DType::kFloat64, DType::kString};

// Whether the element at `elem` is a NaN (whose payload text cannot carry).
inline bool IsNan(DType dtype, const uint8_t* elem) {
  switch (dtype) {
    case DType::kFloat32: {
      float f;
      std::memcpy(&f, elem, sizeof f);
      return std::isnan(f);
    }
    case DType::kFloat64: {
      double d;
      std::memcpy(&d, elem, sizeof d);
      return std::isnan(d);
    }
    case DType::kFloat16:
    case DType::kBFloat16: {
      uint16_t h;
      std::memcpy(&h, elem, sizeof h);
      return std::isnan(dtype == DType::kFloat16 ? HalfToFloat(h) : BFloat16ToFloat(h));
    }
    default: return false;
  }
}

// Random bits in every element of a numeric tensor (BOOL: 0 or 1); with `no_nan`, none is a
// NaN.
inline void FillRandomBits(Tensor& t, std::mt19937& rng, bool no_nan) {
  auto* bytes = static_cast<uint8_t*>(t.mutable_data());
  const size_t size = DTypeSize(t.dtype());
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    uint8_t* elem = bytes + static_cast<size_t>(i) * size;
    do {
      for (size_t b = 0; b < size; ++b) elem[b] = static_cast<uint8_t>(rng());
      if (t.dtype() == DType::kBool) elem[0] &= 1;
    } while (no_nan && IsNan(t.dtype(), elem));
  }
}

// A tensor of `dtype` with a random shape (rank 0 to 3, empty dims included) and random bits
// in every element (BOOL 0 or 1). Binary transports carry anything: NaN payloads, and
// strings of any bytes with NUL and empty ones. With `text`, what JSON carries exactly: no
// NaN, and strings of valid UTF-8 (NUL, quotes, escapes and 4-byte sequences included).
inline Tensor RandomTensor(DType dtype, std::mt19937& rng, bool text) {
  std::vector<int64_t> shape(rng() % 4);
  for (int64_t& d : shape) d = rng() % 4;
  const int64_t n = NumElements(shape);
  if (dtype == DType::kString) {
    static const std::string kPieces[] = {"a", "\"", "\\", "\n", std::string(1, '\0'),
                                          "\xC3\xA9", "\xF0\x9F\x98\x80", "/", "\x7F"};
    std::vector<std::string> values(static_cast<size_t>(n));
    for (std::string& v : values) {
      for (size_t len = rng() % 7; len > 0; --len) {
        if (text) {
          v += kPieces[rng() % std::size(kPieces)];
        } else {
          v += static_cast<char>(rng() % 4 ? rng() : 0);
        }
      }
    }
    return Tensor::Strings(shape, values);
  }
  Tensor t = Tensor::Zeros(dtype, shape);
  FillRandomBits(t, rng, /*no_nan=*/text);
  return t;
}

}  // namespace bento::testing

#endif  // BENTO_TENSOR_RANDOM_TENSORS_H_
