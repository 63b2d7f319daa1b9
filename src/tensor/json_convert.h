// Internal to the JSON codec: converting one JSON scalar (a simdjson On-Demand value or
// document) into one tensor element, with the error messages json_codec.h promises.
//
// Each converter has
//   Elem                          the element type stored in the tensor
//   kExpected                     what a leaf must be, for messages ("a number")
//   bool Fast(V&, Elem*)          the common case, no message; false to fall back to Decode
//   Status Decode(V&, Elem*, path)  every case, with the error message
// V is simdjson::ondemand::value or simdjson::ondemand::document (a scalar root).
//
// Thread-safety: stateless.
#ifndef BENTO_TENSOR_JSON_CONVERT_H_
#define BENTO_TENSOR_JSON_CONVERT_H_

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "bento/status.h"
#include "bento/tensor.h"
#include "tensor/half.h"

namespace bento::json_internal {

namespace od = simdjson::ondemand;

// Where an element sits: "[1][0]", or "the top level" for a scalar root.
class ElementPath {
 public:
  // REQUIRES: index holds at least `depth` entries, alive while this path is used.
  ElementPath(const int64_t* index, int depth) : index_(index), depth_(depth) {}
  std::string ToString() const {
    if (depth_ == 0) return "the top level";
    std::string out;
    for (int i = 0; i < depth_; ++i) out += "[" + std::to_string(index_[i]) + "]";
    return out;
  }

 private:
  const int64_t* index_;
  int depth_;
};

inline std::string_view Describe(od::json_type type) {
  switch (type) {
    case od::json_type::array: return "an array";
    case od::json_type::object: return "an object";
    case od::json_type::number: return "a number";
    case od::json_type::string: return "a string";
    case od::json_type::boolean: return "a boolean";
    case od::json_type::null: return "null";
  }
  return "an unknown value";
}

// A raw token without the whitespace simdjson leaves after it.
inline std::string_view TrimToken(std::string_view token) {
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t' ||
                            token.back() == '\n' || token.back() == '\r')) {
    token.remove_suffix(1);
  }
  return token;
}

inline std::string_view RawToken(od::value& value) { return TrimToken(value.raw_json_token()); }
inline std::string_view RawToken(od::document& doc) {
  std::string_view token;
  if (doc.raw_json_token().get(token)) return {};
  return TrimToken(token);
}

// A token for a message, cut short if long (at a UTF-8 character boundary).
inline std::string Clip(std::string_view token) {
  constexpr size_t kMax = 40;
  if (token.size() <= kMax) return std::string(token);
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(token[cut]) & 0xC0) == 0x80) --cut;
  return std::string(token.substr(0, cut)) + "...";
}
inline std::string Quote(std::string_view token) { return "'" + Clip(token) + "'"; }

inline std::string DTypeString(DType dtype) { return std::string(DTypeName(dtype)); }

// The error for a leaf that is not `expected`. When it is of the kind expected (`kind`) but
// still failed, or is no JSON at all, the token itself is malformed.
template <typename V>
Status LeafError(V& value, const ElementPath& path, std::string_view expected, DType dtype,
                 od::json_type kind) {
  od::json_type type;
  const std::string_view token = RawToken(value);
  if (value.type().get(type)) {
    return InvalidArgumentError("malformed JSON at " + path.ToString() + ": unexpected " +
                                Quote(token));
  }
  // type() looks at the first character only: "nan" passes for null, "tru" for a boolean.
  const bool bad_literal = (type == od::json_type::null && token != "null") ||
                           (type == od::json_type::boolean && token != "true" && token != "false");
  if (bad_literal || (type == kind && kind != od::json_type::number)) {
    const char* what = type == od::json_type::string ? "string " : "literal ";
    return InvalidArgumentError("malformed JSON at " + path.ToString() + ": invalid " + what +
                                Quote(token));
  }
  if (type == kind) {
    return InvalidArgumentError("invalid value at " + path.ToString() + ": cannot read " +
                                Quote(token) + " as " + DTypeString(dtype) +
                                " (malformed, or beyond the range of float64)");
  }
  return InvalidArgumentError("invalid value at " + path.ToString() + ": expected " +
                              std::string(expected) + " for " + DTypeString(dtype) + ", got " +
                              std::string(Describe(type)));
}

inline double DoubleToDouble(double value) { return value; }
inline float DoubleToFloat(double value) { return static_cast<float>(value); }

// float32, float64, float16 and bfloat16: any number, or NaN / Infinity / -Infinity.
template <typename E, E (*kFromDouble)(double), DType kDType>
struct FloatConv {
  using Elem = E;
  static constexpr std::string_view kExpected = "a number";

  template <typename V>
  static bool Fast(V& value, E* out) {
    double d;
    if (value.get_double().get(d)) return false;
    *out = kFromDouble(d);
    return true;
  }

  template <typename V>
  static Status Decode(V& value, E* out, const ElementPath& path) {
    if (Fast(value, out)) return OkStatus();
    // Python's json module writes and reads these; simdjson does not know them.
    std::string_view token = RawToken(value);
    double d;
    if (token == "NaN") {
      d = std::numeric_limits<double>::quiet_NaN();
    } else if (token == "Infinity") {
      d = std::numeric_limits<double>::infinity();
    } else if (token == "-Infinity") {
      d = -std::numeric_limits<double>::infinity();
    } else {
      return LeafError(value, path, kExpected, kDType, od::json_type::number);
    }
    *out = kFromDouble(d);
    return OkStatus();
  }
};

template <typename I>
constexpr DType IntDType() {
  if constexpr (std::is_same_v<I, int8_t>) return DType::kInt8;
  if constexpr (std::is_same_v<I, int16_t>) return DType::kInt16;
  if constexpr (std::is_same_v<I, int32_t>) return DType::kInt32;
  if constexpr (std::is_same_v<I, int64_t>) return DType::kInt64;
  if constexpr (std::is_same_v<I, uint8_t>) return DType::kUInt8;
  if constexpr (std::is_same_v<I, uint16_t>) return DType::kUInt16;
  if constexpr (std::is_same_v<I, uint32_t>) return DType::kUInt32;
  if constexpr (std::is_same_v<I, uint64_t>) return DType::kUInt64;
}

// Integers: integral numbers within the type's range. 2.0 and 2e3 are integral; 2.5 is not.
template <typename I>
struct IntConv {
  using Elem = I;
  using Limits = std::numeric_limits<I>;
  static constexpr DType kDType = IntDType<I>();
  static constexpr std::string_view kExpected = "an integer";

  template <typename V>
  static bool Fast(V& value, I* out) {
    if constexpr (std::is_signed_v<I>) {
      int64_t x;
      if (value.get_int64().get(x)) return false;
      if constexpr (sizeof(I) < sizeof(int64_t)) {
        if (x < Limits::min() || x > Limits::max()) return false;
      }
      *out = static_cast<I>(x);
    } else {
      uint64_t x;
      if (value.get_uint64().get(x)) return false;
      if constexpr (sizeof(I) < sizeof(uint64_t)) {
        if (x > Limits::max()) return false;
      }
      *out = static_cast<I>(x);
    }
    return true;
  }

  template <typename V>
  static Status Decode(V& value, I* out, const ElementPath& path) {
    if (Fast(value, out)) return OkStatus();
    std::string_view token = RawToken(value);
    int64_t i;
    uint64_t u;
    if (!value.get_int64().get(i) || !value.get_uint64().get(u)) return RangeError(token, path);
    double d;
    if (value.get_double().get(d)) {
      return LeafError(value, path, kExpected, kDType, od::json_type::number);
    }
    if (d != std::trunc(d)) {
      return InvalidArgumentError("invalid value at " + path.ToString() + ": expected " +
                                  std::string(kExpected) + " for " + DTypeString(kDType) +
                                  ", got " + Clip(token));
    }
    // An integer literal that fits neither int64 nor uint64 is out of range whatever its
    // double rounds to; otherwise compare the exact double with the exact bounds.
    const bool literal = token.find_first_of(".eE") == std::string_view::npos;
    const double min = static_cast<double>(Limits::min());
    const double max_plus_one = std::ldexp(1.0, Limits::digits);
    if (literal || d < min || d >= max_plus_one) return RangeError(token, path);
    *out = static_cast<I>(d);
    return OkStatus();
  }

  static Status RangeError(std::string_view token, const ElementPath& path) {
    return InvalidArgumentError("invalid value at " + path.ToString() + ": " + Clip(token) +
                                " is out of range for " +
                                DTypeString(kDType) + " [" + std::to_string(Limits::min()) +
                                ", " + std::to_string(Limits::max()) + "]");
  }
};

// bool: true and false, or the numbers 0 and 1 (any spelling: 0, 1.0, 1e0).
struct BoolConv {
  using Elem = uint8_t;
  static constexpr std::string_view kExpected = "a boolean";

  template <typename V>
  static bool Fast(V& value, uint8_t* out) {
    bool b;
    if (value.get_bool().get(b)) return false;
    *out = b ? 1 : 0;
    return true;
  }

  template <typename V>
  static Status Decode(V& value, uint8_t* out, const ElementPath& path) {
    if (Fast(value, out)) return OkStatus();
    double d;
    if (!value.get_double().get(d)) {
      if (d == 0 || d == 1) {
        *out = d == 1 ? 1 : 0;
        return OkStatus();
      }
      return InvalidArgumentError("invalid value at " + path.ToString() +
                                  ": expected true, false, 0 or 1 for bool, got " +
                                  Clip(RawToken(value)));
    }
    return LeafError(value, path, kExpected, DType::kBool, od::json_type::boolean);
  }
};

// string: JSON strings, unescaped.
struct StringConv {
  using Elem = std::string;
  static constexpr std::string_view kExpected = "a string";

  template <typename V>
  static bool Fast(V& value, std::string* out) {
    std::string_view s;
    if (value.get_string().get(s)) return false;
    out->assign(s);
    return true;
  }

  template <typename V>
  static Status Decode(V& value, std::string* out, const ElementPath& path) {
    if (Fast(value, out)) return OkStatus();
    return LeafError(value, path, kExpected, DType::kString, od::json_type::string);
  }
};

}  // namespace bento::json_internal

#endif  // BENTO_TENSOR_JSON_CONVERT_H_
