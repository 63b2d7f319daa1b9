// The JSON tensor codec: tensors as nested lists, the way BentoML's HTTP API carries them.
//
//   {"input": [[1.0, 2.0], [3.0, 4.0]], "mask": [[true, false]]}
//
// Decoding walks the nested arrays once with simdjson's On-Demand API (no DOM), infers the shape
// from the nesting and writes each number straight into the tensor, cast to the dtype the
// caller asks for (usually the model input's). Encoding writes a tensor back as nested lists.
// simdjson stays out of this header; json_codec_simdjson.h decodes a simdjson value in place
// for callers that parse a larger document themselves (KServe v2, mixed parameters).
//
// Decoding rules:
//  - A JSON array nests one dimension; the shape must be rectangular. A scalar gives a 0-d
//    tensor, `[]` gives shape [0] and `[[], []]` shape [2, 0]. At most kMaxJsonTensorRank levels.
//  - float32/64, float16, bfloat16: any JSON number, rounded to nearest even from its double
//    value (as numpy does with json.loads output); too large for the dtype gives +-inf. The
//    tokens NaN, Infinity and -Infinity are accepted too, as Python's json module writes them.
//  - int8..int64, uint8..uint64: integral numbers (2 and 2.0 and 2e0; not 2.5) within the dtype.
//  - bool: true/false, or the numbers 0 and 1. string: JSON strings, unescaped to UTF-8.
//  - complex64/128 and undefined are not supported (UNIMPLEMENTED).
// Every failure is INVALID_ARGUMENT with a message meant for the API's user: it names the path of
// the bad element ("[1][0]"), the value or the JSON error and where it happened.
//
// Encoding: compact nested lists (no spaces). Floats use the shortest text that reads back as
// the same value of the tensor's own type (float32 as float, float16/bfloat16 widened to
// float), always with a '.' or exponent ("1.0", not "1"), as Python's json.dumps writes them.
// NaN, Infinity and -Infinity are written as those bare tokens, which is what Python's json
// module writes and reads by default, though strict JSON has no such values. Strings are escaped
// per RFC 8259; bytes that are not valid UTF-8 become U+FFFD so the output is always valid.
//
// Thread-safety: all functions are thread-safe. Each thread caches one simdjson parser for
// texts up to 1 MiB (larger ones get a fresh parser, so no thread keeps a large buffer).
#ifndef BENTO_TENSOR_JSON_CODEC_H_
#define BENTO_TENSOR_JSON_CODEC_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "bento/json.h"
#include "bento/status.h"
#include "bento/tensor.h"

namespace bento {

// Deepest nesting a decoded tensor may have (its largest rank).
inline constexpr int kMaxJsonTensorRank = 32;

// Decodes one JSON value (the whole of `json`) into a tensor of `dtype`. Surrounding
// whitespace is allowed; anything else after the value is an error.
StatusOr<Tensor> DecodeJsonTensor(std::string_view json, DType dtype);

// The dtype for each named member of a request body. Return an error for an unknown name (it is
// passed through unchanged), or DType::kUndefined to skip that member (it is not decoded).
using JsonDTypeFn = std::function<StatusOr<DType>(std::string_view name)>;

// Decodes a JSON object body {"name": <nested lists>, ...} into tensors keyed by name, each in
// the dtype `dtype_for` gives. A decode error is prefixed with "input 'name': ". A repeated
// name is an error. The body may be of any size; it is copied once into a padded buffer.
StatusOr<std::map<std::string, Tensor>> DecodeJsonTensors(std::string_view body,
                                                          const JsonDTypeFn& dtype_for);

// For bodies that mix tensors with other values (a C++ service's parameters): one walk of the
// body decodes each tensor member in place and hands every other member back as its JSON text.
struct JsonMemberPlan {
  enum class Kind { kSkip, kTensor, kText };
  Kind kind = Kind::kSkip;
  // For kTensor: the dtype, or kUndefined to infer it as InferJsonTensorDType does.
  DType dtype = DType::kUndefined;
};
// The plan for each named member. An error is passed through unchanged.
using JsonPlanFn = std::function<StatusOr<JsonMemberPlan>(std::string_view name)>;
struct JsonMembers {
  std::map<std::string, Tensor> tensors;     // the kTensor members
  std::map<std::string, std::string> texts;  // the kText members' JSON text, as sent
};

// Walks a JSON object body once, as `plan` says. `noun` names a member in errors: a decode
// error is prefixed with "<noun> 'name': ", a repeated name is an error, and a body that is no
// object says "the body must be a JSON object of named <noun>s". DecodeJsonTensors is this
// with noun "input" and no kText members.
StatusOr<JsonMembers> DecodeJsonObject(std::string_view body, const JsonPlanFn& plan,
                                       std::string_view noun);

// The dtype of a tensor whose type the JSON alone says, from its first leaf: kBool for true
// or false, kInt64 for a number written with no '.', 'e' or 'E', kFloat32 for any other number
// (NaN and Infinity too) or for no leaf at all (`[]`). A first leaf that is a string, an
// object or null is INVALID_ARGUMENT "must be a tensor (nested lists of numbers), got a
// string". Only the first leaf is read; decoding checks the rest.
StatusOr<DType> InferJsonTensorDType(std::string_view json);

// Appends the nested-list JSON of `tensor` to `*out` (a bare value for a 0-d tensor).
// Fails only for dtypes JSON cannot carry (complex, undefined) or a tensor whose byte size
// does not match its shape; `*out` is then left as it was.
Status EncodeJsonTensor(const Tensor& tensor, std::string* out);

// Appends `value` as compact JSON, with the rules above for floats (NaN, Infinity and
// -Infinity as bare tokens, integral floats with ".0") and strings (invalid UTF-8 becomes
// U+FFFD): the one writer of every JSON answer, so a float reads the same whether an API
// returns a Tensor or a Json.
void EncodeJsonValue(const Json& value, std::string* out);

}  // namespace bento

#endif  // BENTO_TENSOR_JSON_CODEC_H_
