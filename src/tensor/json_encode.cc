// Encoding tensors as nested JSON lists (see json_codec.h).
//
// The writer works on the output string's own buffer: it sizes it from an estimate, writes
// through a pointer and trims at the end, so the per-element cost is std::to_chars alone.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <new>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tensor/half.h"
#include "tensor/json_codec.h"

namespace bento {
namespace {

// Longest element text: a float64 such as "-2.2250738585072014e-308" is 24 characters.
constexpr size_t kMaxNumberChars = 32;

class Writer {
 public:
  Writer(std::string* out, size_t estimate) : out_(out), start_(out->size()) {
    out_->resize(start_ + estimate);
    cur_ = out_->data() + start_;
    end_ = out_->data() + out_->size();
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Room for `n` more characters; returns where to write them.
  char* Reserve(size_t n) {
    if (static_cast<size_t>(end_ - cur_) < n) [[unlikely]] Grow(n);
    return cur_;
  }
  void Advance(char* to) { cur_ = to; }
  void Put(char c) { *Reserve(1) = c, ++cur_; }

  void Finish() { out_->resize(static_cast<size_t>(cur_ - out_->data())); }

 private:
  void Grow(size_t n) {
    const size_t used = static_cast<size_t>(cur_ - out_->data());
    out_->resize(std::max(out_->size() * 2, used + n));
    cur_ = out_->data() + used;
    end_ = out_->data() + out_->size();
  }

  std::string* out_;
  size_t start_;
  char* cur_;
  char* end_;
};

// Writes a float or double as Python's json.dumps would read it back: the shortest text that
// round-trips in the value's own type, with ".0" added to integral values.
template <typename F>
char* WriteFloat(char* p, F value) {
  if (std::isnan(value)) return std::copy_n("NaN", 3, p);
  if (std::isinf(value)) {
    return value < 0 ? std::copy_n("-Infinity", 9, p) : std::copy_n("Infinity", 8, p);
  }
  char* end = std::to_chars(p, p + kMaxNumberChars, value).ptr;
  for (char* c = p; c < end; ++c) {
    if (*c == '.' || *c == 'e') return end;
  }
  end[0] = '.';
  end[1] = '0';
  return end + 2;
}

// ---- Strings ----

void WriteString(Writer& w, std::string_view s) {
  w.Advance(WriteJsonString(s, w.Reserve(JsonStringMaxLength(s.size()))));
}

// ---- Nested lists ----

// Writes dimension `dim` and below; `next` is the flat index of the next element.
template <typename WriteElem>
void WriteLevel(Writer& w, const std::vector<int64_t>& shape, size_t dim, int64_t& next,
                WriteElem& write_elem) {
  const int64_t n = shape[dim];
  w.Put('[');
  if (dim + 1 == shape.size()) {
    for (int64_t i = 0; i < n; ++i) {
      if (i) w.Put(',');
      write_elem(w, next++);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      if (i) w.Put(',');
      WriteLevel(w, shape, dim + 1, next, write_elem);
    }
  }
  w.Put(']');
}

template <typename WriteElem>
void WriteNested(const Tensor& t, size_t chars_per_element, std::string* out,
                 WriteElem write_elem) {
  const auto& shape = t.shape();
  const int64_t n = t.num_elements();
  const int64_t rows = shape.empty() || shape.back() == 0 ? n : n / shape.back();
  Writer w(out, static_cast<size_t>(n) * chars_per_element + static_cast<size_t>(rows) * 3 + 16);
  int64_t next = 0;
  if (shape.empty()) {
    write_elem(w, next);
  } else {
    WriteLevel(w, shape, 0, next, write_elem);
  }
  w.Finish();
}

template <typename T, typename ToNumber>
void WriteNumbers(const Tensor& t, size_t chars_per_element, std::string* out, ToNumber to) {
  const T* data = static_cast<const T*>(t.data());
  WriteNested(t, chars_per_element, out, [&](Writer& w, int64_t i) {
    char* p = w.Reserve(kMaxNumberChars);
    const auto value = to(data[i]);
    if constexpr (std::is_floating_point_v<decltype(value)>) {
      w.Advance(WriteFloat(p, value));
    } else {
      w.Advance(std::to_chars(p, p + kMaxNumberChars, value).ptr);
    }
  });
}

template <typename T>
void WriteIntegers(const Tensor& t, size_t chars, std::string* out) {
  // Widen 8-bit types so that they print as numbers.
  WriteNumbers<T>(t, chars, out, [](T v) {
    if constexpr (std::is_signed_v<T>) return static_cast<int64_t>(v);
    else return static_cast<uint64_t>(v);
  });
}

Status Encode(const Tensor& t, std::string* out) {
  for (int64_t d : t.shape()) {
    if (d < 0) return InvalidArgumentError("cannot encode a tensor of shape " +
                                           ShapeToString(t.shape()));
  }
  const size_t n = static_cast<size_t>(t.num_elements());
  if (t.dtype() == DType::kString) {
    if (t.strings().size() != n) {
      return InternalError("string tensor of shape " + ShapeToString(t.shape()) + " holds " +
                           std::to_string(t.strings().size()) + " strings");
    }
    size_t chars = 0;
    for (const std::string& s : t.strings()) chars += s.size() + 3;
    const auto& strings = t.strings();
    WriteNested(t, n ? chars / n + 1 : 0, out,
                [&](Writer& w, int64_t i) { WriteString(w, strings[static_cast<size_t>(i)]); });
    return OkStatus();
  }
  const size_t elem = DTypeSize(t.dtype());
  if (elem == 0 || t.dtype() == DType::kComplex64 || t.dtype() == DType::kComplex128) {
    return UnimplementedError("cannot encode a " + std::string(DTypeName(t.dtype())) +
                              " tensor as JSON");
  }
  if (t.byte_size() != n * elem || (n > 0 && t.data() == nullptr)) {
    return InternalError("tensor of " + std::string(DTypeName(t.dtype())) +
                         ShapeToString(t.shape()) + " holds " + std::to_string(t.byte_size()) +
                         " bytes");
  }
  switch (t.dtype()) {
    case DType::kFloat32: WriteNumbers<float>(t, 12, out, [](float v) { return v; }); break;
    case DType::kFloat64: WriteNumbers<double>(t, 20, out, [](double v) { return v; }); break;
    case DType::kFloat16: WriteNumbers<uint16_t>(t, 8, out, HalfToFloat); break;
    case DType::kBFloat16: WriteNumbers<uint16_t>(t, 8, out, BFloat16ToFloat); break;
    case DType::kInt8: WriteIntegers<int8_t>(t, 4, out); break;
    case DType::kInt16: WriteIntegers<int16_t>(t, 6, out); break;
    case DType::kInt32: WriteIntegers<int32_t>(t, 8, out); break;
    case DType::kInt64: WriteIntegers<int64_t>(t, 10, out); break;
    case DType::kUInt8: WriteIntegers<uint8_t>(t, 4, out); break;
    case DType::kUInt16: WriteIntegers<uint16_t>(t, 6, out); break;
    case DType::kUInt32: WriteIntegers<uint32_t>(t, 8, out); break;
    case DType::kUInt64: WriteIntegers<uint64_t>(t, 10, out); break;
    case DType::kBool: {
      const auto* data = static_cast<const uint8_t*>(t.data());
      WriteNested(t, 6, out, [&](Writer& w, int64_t i) {
        char* p = w.Reserve(5);
        w.Advance(data[i] ? std::copy_n("true", 4, p) : std::copy_n("false", 5, p));
      });
      break;
    }
    default:
      return UnimplementedError("cannot encode a " + std::string(DTypeName(t.dtype())) +
                                " tensor as JSON");
  }
  return OkStatus();
}

void WriteValue(Writer& w, const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
    case Json::value_t::binary: {  // nlohmann's binary values have no JSON text form
      char* p = w.Reserve(4);
      w.Advance(std::copy_n("null", 4, p));
      break;
    }
    case Json::value_t::boolean: {
      char* p = w.Reserve(5);
      w.Advance(value.get<bool>() ? std::copy_n("true", 4, p) : std::copy_n("false", 5, p));
      break;
    }
    case Json::value_t::number_integer: {
      char* p = w.Reserve(kMaxNumberChars);
      w.Advance(std::to_chars(p, p + kMaxNumberChars, value.get<int64_t>()).ptr);
      break;
    }
    case Json::value_t::number_unsigned: {
      char* p = w.Reserve(kMaxNumberChars);
      w.Advance(std::to_chars(p, p + kMaxNumberChars, value.get<uint64_t>()).ptr);
      break;
    }
    case Json::value_t::number_float:
      w.Advance(WriteFloat(w.Reserve(kMaxNumberChars), value.get<double>()));
      break;
    case Json::value_t::string:
      WriteString(w, value.get_ref<const std::string&>());
      break;
    case Json::value_t::array: {
      w.Put('[');
      bool first = true;
      for (const auto& item : value) {
        if (!first) w.Put(',');
        first = false;
        WriteValue(w, item);
      }
      w.Put(']');
      break;
    }
    case Json::value_t::object: {
      w.Put('{');
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) w.Put(',');
        first = false;
        WriteString(w, key);
        w.Put(':');
        WriteValue(w, item);
      }
      w.Put('}');
      break;
    }
  }
}

}  // namespace

void EncodeJsonValue(const Json& value, std::string* out) {
  Writer w(out, 64);
  WriteValue(w, value);
  w.Finish();
}

Status EncodeJsonTensor(const Tensor& tensor, std::string* out) {
  const size_t size = out->size();
  try {
    return Encode(tensor, out);
  } catch (const std::bad_alloc&) {
    out->resize(size);
    return ResourceExhaustedError("out of memory encoding a " +
                                  std::string(DTypeName(tensor.dtype())) +
                                  ShapeToString(tensor.shape()) + " tensor as JSON");
  }
}

}  // namespace bento
