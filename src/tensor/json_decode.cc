// Decoding nested JSON arrays into tensors with simdjson On-Demand (see json_codec.h).
//
// One pass: Decoder<Conv> walks the arrays depth first. The first leaf fixes the rank; each
// dimension's size is fixed when the first array at that depth closes, and every later array
// at that depth must match it. Elements go straight into a growing buffer that the tensor
// adopts at the end. Conv (json_convert.h) turns one JSON scalar into one element.
#include <simdjson.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "tensor/json_codec.h"
#include "tensor/json_codec_simdjson.h"
#include "tensor/json_convert.h"

namespace bento {
namespace {

namespace od = simdjson::ondemand;
using json_internal::ElementPath;

// Elements decoded so far, in a malloc'd buffer that grows by realloc (which can move large
// blocks without copying) and is handed to the tensor without a copy.
template <typename T>
class PodBuffer {
 public:
  PodBuffer() = default;
  PodBuffer(const PodBuffer&) = delete;
  PodBuffer& operator=(const PodBuffer&) = delete;
  ~PodBuffer() { std::free(data_); }

  // A slot for the next element.
  T* Append() {
    if (size_ == capacity_) [[unlikely]] Grow();
    return &data_[size_++];
  }

  Tensor Release(DType dtype, std::vector<int64_t> shape) {
    if (size_ == 0) return Tensor::Zeros(dtype, std::move(shape));
    T* data = data_;
    if (capacity_ - size_ > size_ / 4) {  // give most of the slack back; shrinking is cheap
      if (void* p = std::realloc(data, size_ * sizeof(T))) data = static_cast<T*>(p);
    }
    data_ = nullptr;
    size_ = capacity_ = 0;
    return Tensor::Adopt(dtype, std::move(shape), data, std::shared_ptr<void>(data, std::free));
  }

 private:
  void Grow() {
    size_t capacity = capacity_ ? capacity_ * 2 : 64;
    void* p = std::realloc(data_, capacity * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<T*>(p);
    capacity_ = capacity;
  }

  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

class StringBuffer {
 public:
  std::string* Append() { return &values_.emplace_back(); }
  Tensor Release(DType, std::vector<int64_t> shape) {
    return Tensor::Strings(std::move(shape), std::move(values_));
  }

 private:
  std::vector<std::string> values_;
};

// ---- Parsing whole texts ----

// A thread's cached parser, or a fresh one when it is busy (a JsonDTypeFn that decodes) or the
// text is large (so that no thread keeps a huge buffer).
class ParserLease {
 public:
  explicit ParserLease(size_t text_size) {
    Cache& cache = ThisThread();
    if (!cache.in_use && text_size <= kMaxCachedBytes) {
      cache.in_use = true;
      cached_ = &cache;
      parser_ = &cache.parser;
    } else {
      own_ = std::make_unique<od::parser>();
      parser_ = own_.get();
    }
  }
  ~ParserLease() {
    if (cached_) cached_->in_use = false;
  }
  ParserLease(const ParserLease&) = delete;
  ParserLease& operator=(const ParserLease&) = delete;

  od::parser& parser() { return *parser_; }

 private:
  // A parser keeps about five bytes per byte of the largest text it parsed. Reuse pays off
  // for small texts (a fresh parser costs ~0.4 us); for large ones it is lost in the parse.
  static constexpr size_t kMaxCachedBytes = size_t{1} << 20;
  struct Cache {
    od::parser parser;
    bool in_use = false;
  };
  static Cache& ThisThread() {
    thread_local Cache cache;
    return cache;
  }

  Cache* cached_ = nullptr;
  std::unique_ptr<od::parser> own_;
  od::parser* parser_ = nullptr;
};

// A parsed text: the padded copy, the parser and the document over it.
class ParsedText {
 public:
  explicit ParsedText(std::string_view text) : padded_(text), lease_(text.size()) {}

  Status Start() {
    if (padded_.size() != 0 && padded_.data() == nullptr) {
      return ResourceExhaustedError("out of memory copying a JSON body");
    }
    if (auto error = lease_.parser().iterate(padded_).get(doc_)) return JsonSyntaxError(error);
    started_ = true;
    return OkStatus();
  }

  od::document& doc() { return doc_; }

  // The rest of the padded copy from `p`, a pointer into it.
  std::string_view From(const char* p) const {
    return std::string_view(p, static_cast<size_t>(padded_.data() + padded_.size() - p));
  }

  // A syntax error with the byte offset where simdjson stopped.
  Status SyntaxError(simdjson::error_code error) {
    Status status = JsonSyntaxError(error);
    const char* where = nullptr;
    if (!started_ || doc_.current_location().get(where)) return status;
    return InvalidArgumentError(status.message() + " (near byte " +
                                std::to_string(where - padded_.data()) + ")");
  }

  // OK if nothing but whitespace follows the root value. `root_end` is where a scalar root
  // ended, or null for an array or object root that has been consumed to its end.
  Status CheckEnd(const char* root_end) {
    const char* rest = root_end;
    if (rest == nullptr && doc_.current_location().get(rest)) return OkStatus();
    const char* end = padded_.data() + padded_.size();
    for (const char* p = rest; p < end; ++p) {
      if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
        return InvalidArgumentError(
            "malformed JSON: unexpected content after the value (near byte " +
            std::to_string(p - padded_.data()) + ")");
      }
    }
    return OkStatus();
  }

 private:
  simdjson::padded_string padded_;
  ParserLease lease_;
  od::document doc_;
  bool started_ = false;  // doc_ is valid
};

template <typename Conv>
using BufferFor = std::conditional_t<std::is_same_v<typename Conv::Elem, std::string>,
                                     StringBuffer, PodBuffer<typename Conv::Elem>>;

template <typename Conv>
class Decoder {
 public:
  // `text`, when not null, is the whole text being decoded: syntax errors then say where.
  Decoder(DType dtype, ParsedText* text) : dtype_(dtype), text_(text) {}

  // Decodes the root value (a value or a whole document) at depth 0.
  template <typename V>
  Status DecodeRoot(V& root) {
    od::json_type type;
    // An error here is a token that is not JSON (NaN, say): the scalar path sorts it out.
    if (!root.type().get(type) && type == od::json_type::array) {
      od::array array;
      if (auto error = root.get_array().get(array)) return SyntaxError(error);
      return DecodeArray(array, 0);
    }
    rank_ = 0;
    return Conv::Decode(root, out_.Append(), Path(0));
  }

  Tensor Finish() {
    return out_.Release(dtype_, std::vector<int64_t>(dims_, dims_ + (rank_ < 0 ? 0 : rank_)));
  }

 private:
  // Decodes an array at `depth` (0 for the outermost).
  Status DecodeArray(od::array& array, int depth) {
    if (depth >= kMaxJsonTensorRank) {
      return InvalidArgumentError("arrays nested deeper than " +
                                  std::to_string(kMaxJsonTensorRank) + " levels");
    }
    if (rank_ == depth + 1) return DecodeLeaves(array, depth);
    int64_t count = 0;
    for (auto child : array) {
      od::value value;
      if (auto error = child.get(value)) return SyntaxError(error);
      index_[depth] = count++;
      if (rank_ < 0) {
        od::json_type type;
        if (!value.type().get(type) && type == od::json_type::array) {
          RETURN_IF_ERROR(DecodeChildArray(value, depth + 1));
        } else {
          rank_ = depth + 1;
          RETURN_IF_ERROR(Conv::Decode(value, out_.Append(), Path(depth + 1)));
        }
      } else if (rank_ > depth + 1) {
        RETURN_IF_ERROR(DecodeChildArray(value, depth + 1));
      } else {
        RETURN_IF_ERROR(DecodeLeaf(value, depth + 1));
      }
    }
    return CloseArray(depth, count);
  }

  // The hot loop: an array whose elements are all scalars.
  Status DecodeLeaves(od::array& array, int depth) {
    int64_t count = 0;
    for (auto child : array) {
      od::value value;
      if (auto error = child.get(value)) [[unlikely]] return SyntaxError(error);
      index_[depth] = count++;
      RETURN_IF_ERROR(DecodeLeaf(value, depth + 1));
    }
    return CloseArray(depth, count);
  }

  Status DecodeLeaf(od::value& value, int depth) {
    typename Conv::Elem* slot = out_.Append();
    if (Conv::Fast(value, slot)) [[likely]] return OkStatus();
    od::json_type type;
    if (!value.type().get(type) && type == od::json_type::array) {
      return InvalidArgumentError("ragged array at depth " + std::to_string(depth) +
                                  ": expected " + std::string(Conv::kExpected) +
                                  ", got an array at " + Path(depth).ToString());
    }
    return Conv::Decode(value, slot, Path(depth));
  }

  // `value` must be an array at `depth`.
  Status DecodeChildArray(od::value& value, int depth) {
    od::array array;
    if (auto error = value.get_array().get(array)) {
      od::json_type type;
      if (value.type().get(type)) {
        return InvalidArgumentError("malformed JSON at " + Path(depth).ToString() +
                                    ": unexpected " +
                                    json_internal::Quote(json_internal::RawToken(value)));
      }
      if (type == od::json_type::array) return SyntaxError(error);
      return InvalidArgumentError("ragged array at depth " + std::to_string(depth) +
                                  ": expected an array, got " +
                                  std::string(json_internal::Describe(type)) + " at " +
                                  Path(depth).ToString());
    }
    return DecodeArray(array, depth);
  }

  Status CloseArray(int depth, int64_t count) {
    if (rank_ < 0) rank_ = depth + 1;  // the first leaf is an empty array
    if (!known_[depth]) {
      known_[depth] = true;
      dims_[depth] = count;
    } else if (dims_[depth] != count) {
      return InvalidArgumentError("ragged array at depth " + std::to_string(depth) +
                                  ": expected " + std::to_string(dims_[depth]) +
                                  " elements, got " + std::to_string(count));
    }
    return OkStatus();
  }

  ElementPath Path(int depth) const { return ElementPath(index_, depth); }

  Status SyntaxError(simdjson::error_code error) {
    return text_ ? text_->SyntaxError(error) : JsonSyntaxError(error);
  }

  const DType dtype_;
  ParsedText* const text_;
  int rank_ = -1;                          // -1 until the first leaf
  int64_t dims_[kMaxJsonTensorRank] = {};  // valid where known_
  bool known_[kMaxJsonTensorRank] = {};
  int64_t index_[kMaxJsonTensorRank] = {};  // position within the array at each depth
  BufferFor<Conv> out_;
};

template <typename Conv, typename V>
StatusOr<Tensor> Run(V& root, DType dtype, ParsedText* text) {
  Decoder<Conv> decoder(dtype, text);
  RETURN_IF_ERROR(decoder.DecodeRoot(root));
  return decoder.Finish();
}

// Decodes `root` (an od::value or od::document) in `dtype`.
template <typename V>
StatusOr<Tensor> DecodeAny(V& root, DType dtype, ParsedText* text) {
  namespace ji = json_internal;
  using Float32 = ji::FloatConv<float, ji::DoubleToFloat, DType::kFloat32>;
  using Float64 = ji::FloatConv<double, ji::DoubleToDouble, DType::kFloat64>;
  using Float16 = ji::FloatConv<uint16_t, DoubleToHalf, DType::kFloat16>;
  using BFloat16 = ji::FloatConv<uint16_t, DoubleToBFloat16, DType::kBFloat16>;
  try {
    switch (dtype) {
      case DType::kFloat32: return Run<Float32>(root, dtype, text);
      case DType::kFloat64: return Run<Float64>(root, dtype, text);
      case DType::kFloat16: return Run<Float16>(root, dtype, text);
      case DType::kBFloat16: return Run<BFloat16>(root, dtype, text);
      case DType::kInt8: return Run<ji::IntConv<int8_t>>(root, dtype, text);
      case DType::kInt16: return Run<ji::IntConv<int16_t>>(root, dtype, text);
      case DType::kInt32: return Run<ji::IntConv<int32_t>>(root, dtype, text);
      case DType::kInt64: return Run<ji::IntConv<int64_t>>(root, dtype, text);
      case DType::kUInt8: return Run<ji::IntConv<uint8_t>>(root, dtype, text);
      case DType::kUInt16: return Run<ji::IntConv<uint16_t>>(root, dtype, text);
      case DType::kUInt32: return Run<ji::IntConv<uint32_t>>(root, dtype, text);
      case DType::kUInt64: return Run<ji::IntConv<uint64_t>>(root, dtype, text);
      case DType::kBool: return Run<ji::BoolConv>(root, dtype, text);
      case DType::kString: return Run<ji::StringConv>(root, dtype, text);
      default:
        return UnimplementedError("cannot decode JSON into a " + std::string(DTypeName(dtype)) +
                                  " tensor");
    }
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("out of memory decoding JSON");
  }
}

// Where the root scalar of `doc` ends, or null when the root is an array or object.
const char* ScalarRootEnd(od::document& doc) {
  std::string_view raw;
  if (doc.raw_json_token().get(raw) || raw.empty() || raw[0] == '[' || raw[0] == '{') {
    return nullptr;
  }
  return raw.data() + json_internal::TrimToken(raw).size();
}

}  // namespace

Status JsonSyntaxError(simdjson::error_code error) {
  std::string message = "malformed JSON: ";
  message += simdjson::error_message(error);
  switch (error) {
    case simdjson::EMPTY:
      message += " (the body is empty)";
      break;
    case simdjson::UTF8_ERROR:
      message += " (send text as UTF-8)";
      break;
    case simdjson::CAPACITY:
      message += " (the body is too large)";
      break;
    default:
      message += " (check for a missing or extra comma, bracket or quote)";
      break;
  }
  return InvalidArgumentError(std::move(message));
}

StatusOr<Tensor> DecodeJsonTensor(od::value value, DType dtype) {
  return DecodeAny(value, dtype, nullptr);
}

namespace {

StatusOr<Tensor> DecodeText(std::string_view json, DType dtype) {
  ParsedText text(json);
  RETURN_IF_ERROR(text.Start());
  // A scalar root is checked first: simdjson would refuse to read it with trailing content.
  const char* scalar_end = ScalarRootEnd(text.doc());
  if (scalar_end != nullptr) RETURN_IF_ERROR(text.CheckEnd(scalar_end));
  StatusOr<Tensor> tensor = DecodeAny(text.doc(), dtype, &text);
  if (!tensor.ok()) return tensor.status();
  if (scalar_end == nullptr) RETURN_IF_ERROR(text.CheckEnd(nullptr));
  return tensor;
}

Status NotATensor(std::string_view got) {
  return InvalidArgumentError("must be a tensor (nested lists of numbers), got " +
                              std::string(got));
}

// InferJsonTensorDType's rule over `text`, which starts at the value.
StatusOr<DType> InferDType(std::string_view text) {
  size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (i < text.size() && (text[i] == '[' || space(text[i]))) ++i;
  if (i == text.size() || text[i] == ']') return DType::kFloat32;
  switch (text[i]) {
    case 't':
    case 'f': return DType::kBool;
    case '"': return NotATensor("a string");
    case '{': return NotATensor("an object");
    case 'n': return NotATensor("null");
    default: break;
  }
  if (text[i] != '-' && (text[i] < '0' || text[i] > '9')) return DType::kFloat32;  // NaN, ...
  for (size_t j = i + 1; j < text.size(); ++j) {
    char c = text[j];
    if (c == '.' || c == 'e' || c == 'E' || c == 'I') return DType::kFloat32;  // -Infinity
    if (c < '0' || c > '9') break;
  }
  return DType::kInt64;
}

// The whole text of `value` (consumed), with no surrounding whitespace.
StatusOr<std::string_view> RawJson(od::value& value, ParsedText& text) {
  od::json_type type;
  if (auto error = value.type().get(type)) return text.SyntaxError(error);
  std::string_view raw;
  simdjson::error_code error = simdjson::SUCCESS;
  if (type == od::json_type::array) {
    od::array array;
    error = value.get_array().get(array);
    if (!error) error = array.raw_json().get(raw);
  } else if (type == od::json_type::object) {
    od::object object;
    error = value.get_object().get(object);
    if (!error) error = object.raw_json().get(raw);
  } else {
    raw = json_internal::RawToken(value);
  }
  if (error) return text.SyntaxError(error);
  return json_internal::TrimToken(raw);  // simdjson keeps the whitespace that follows
}

StatusOr<JsonMembers> DecodeObject(std::string_view body, const JsonPlanFn& plan,
                                   std::string_view noun) {
  ParsedText text(body);
  RETURN_IF_ERROR(text.Start());
  od::object object;
  if (auto error = text.doc().get_object().get(object)) {
    od::json_type type;
    if (error != simdjson::INCORRECT_TYPE || text.doc().type().get(type)) {
      return text.SyntaxError(error);
    }
    std::string n(noun);
    return InvalidArgumentError("the body must be a JSON object of named " + n +
                                "s, such as {\"" + n + "\": [[1.0, 2.0]]}; got " +
                                std::string(json_internal::Describe(type)));
  }
  JsonMembers members;
  for (auto member : object) {
    od::field field;
    if (auto error = std::move(member).get(field)) return text.SyntaxError(error);
    std::string_view key;
    if (auto error = field.unescaped_key().get(key)) return text.SyntaxError(error);
    std::string name(key);
    ASSIGN_OR_RETURN(JsonMemberPlan what, plan(name));
    if (what.kind == JsonMemberPlan::Kind::kSkip) continue;  // simdjson steps over it
    std::string context = std::string(noun) + " '" + name + "'";
    if (members.tensors.count(name) || members.texts.count(name)) {
      return InvalidArgumentError(context + " given twice");
    }
    if (what.kind == JsonMemberPlan::Kind::kText) {
      std::string_view raw;
      ASSIGN_OR_RETURN(raw, RawJson(field.value(), text));
      members.texts.emplace(std::move(name), raw);
      continue;
    }
    DType dtype = what.dtype;
    if (dtype == DType::kUndefined) {
      std::string_view token = field.value().raw_json_token();  // does not consume the value
      StatusOr<DType> inferred = InferDType(text.From(token.data()));
      if (!inferred.ok()) return inferred.status().WithContext(context);
      dtype = *inferred;
    }
    StatusOr<Tensor> tensor = DecodeAny(field.value(), dtype, &text);
    if (!tensor.ok()) return tensor.status().WithContext(context);
    members.tensors.emplace(std::move(name), *std::move(tensor));
  }
  RETURN_IF_ERROR(text.CheckEnd(nullptr));
  return members;
}

Status OutOfMemory() { return ResourceExhaustedError("out of memory decoding JSON"); }

}  // namespace

StatusOr<Tensor> DecodeJsonTensor(std::string_view json, DType dtype) {
  try {
    return DecodeText(json, dtype);
  } catch (const std::bad_alloc&) {
    return OutOfMemory();
  }
}

StatusOr<JsonMembers> DecodeJsonObject(std::string_view body, const JsonPlanFn& plan,
                                       std::string_view noun) {
  try {
    return DecodeObject(body, plan, noun);
  } catch (const std::bad_alloc&) {
    return OutOfMemory();
  }
}

StatusOr<std::map<std::string, Tensor>> DecodeJsonTensors(std::string_view body,
                                                          const JsonDTypeFn& dtype_for) {
  auto plan = [&dtype_for](std::string_view name) -> StatusOr<JsonMemberPlan> {
    ASSIGN_OR_RETURN(DType dtype, dtype_for(name));
    if (dtype == DType::kUndefined) return JsonMemberPlan{};
    return JsonMemberPlan{JsonMemberPlan::Kind::kTensor, dtype};
  };
  ASSIGN_OR_RETURN(JsonMembers members, DecodeJsonObject(body, plan, "input"));
  return std::move(members.tensors);
}

StatusOr<DType> InferJsonTensorDType(std::string_view json) { return InferDType(json); }

}  // namespace bento
