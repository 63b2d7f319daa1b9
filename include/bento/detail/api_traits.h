// Internal machinery of bento/service.h: how each C++ parameter type is parsed from a
// request and described in OpenAPI, and how each return type becomes a response. Service
// authors never name these. They are installed with the public headers only because
// service.h's templates instantiate them in the author's code; only the public API and the
// serving layer (src/serving/, which implements them) may include bento/detail/
// (scripts/check-layers).
#ifndef BENTO_DETAIL_API_TRAITS_H_
#define BENTO_DETAIL_API_TRAITS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "bento/file.h"
#include "bento/image.h"
#include "bento/json.h"
#include "bento/status.h"
#include "bento/tensor.h"

namespace bento::detail {

// Where a parameter's value comes from in a request.
enum class ParamSource {
  kJson,    // a JSON value (a member of a JSON object body, or a form field holding JSON)
  kTensor,  // nested lists, decoded straight into a Tensor as the body is parsed
  kText,   // a string: a JSON string, a form field or a text/plain body
  kFile,   // one file part (or the raw body)
  kFiles,  // every file part with the parameter's name
};

struct ParamInfo {
  std::string name;
  ParamSource source = ParamSource::kJson;
  Json schema;
  // The raw body type a single-parameter API accepts ("image/*", "text/plain", ...).
  std::string raw_content_type = "application/json";
  // False for a parameter with a default (a Python service's): it may be left out.
  bool required = true;
};

struct ResultInfo {
  std::string content_type = "application/json";
  Json schema = Json::object();
};

struct Result {
  std::string content_type;
  std::string body;
};

// One parameter's value as the request carried it. Parsing a parameter may move it out.
struct Argument {
  std::optional<Json> json;      // from a JSON body (a member, or the whole body)
  std::optional<Tensor> tensor;  // a kTensor parameter from a JSON body, already decoded
  std::vector<File> files;       // multipart parts with this name, or the raw body
  bool present() const { return json || tensor || !files.empty(); }
};
using Arguments = std::map<std::string, Argument, std::less<>>;

// Adaptive batching for an API (Service::BatchApi): requests' tensors are concatenated along
// batch_dim.first into one call and the result split along batch_dim.second.
struct BatchOptions {
  int max_batch_size = 32;      // items per call, not requests
  double max_latency_ms = 60000;  // a request's budget: queue wait + the call (BentoML's)
  std::pair<int, int> batch_dim{0, 0};
};

struct ApiRegistration {
  std::string name;
  std::string route;  // the HTTP path, "/v1/predict"; empty: "/" + name
  std::string doc;
  // Set for batchable APIs: the method's tensor-to-tensor form, called on whole batches.
  std::optional<BatchOptions> batch;
  std::function<StatusOr<Tensor>(const Tensor&)> batch_call;
  std::vector<ParamInfo> params;
  ResultInfo result;
  std::function<StatusOr<Result>(Arguments&)> invoke;
};

// ---- parameters ------------------------------------------------------------------------

// Helpers implemented in src/serving/service_traits.cc.
StatusOr<Image> ParseImage(std::string_view name, const Argument& arg);
StatusOr<Tensor> ParseTensor(std::string_view name, Argument& arg);
StatusOr<std::string> ParseText(std::string_view name, Argument& arg);
StatusOr<Json> ParseJson(std::string_view name, Argument& arg);
// OpenAPI schemas of the kinds BentoML's clients tell apart, each marked with an "x-bentoml"
// extension that holds BentoML's own schema of it (serving/openapi.h turns the marks into
// /schema.json): an uploaded file, an image, and a tensor as nested lists.
Json FileSchema();
Json ImageSchema();
Json AnyTensorSchema();
// INVALID_ARGUMENT "parameter 'x' must be a list of numbers, got a string": `expected` is a
// JSON Schema, said in words.
Status TypeError(std::string_view name, const Json& expected, const Json& got);

template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};

// Depth of nested std::vector around an arithmetic type, or -1.
template <typename T>
constexpr int NumberDepth() {
  if constexpr (std::is_arithmetic_v<T>) return 0;
  else if constexpr (IsVector<T>::value) {
    constexpr int inner = NumberDepth<typename T::value_type>();
    return inner < 0 ? -1 : inner + 1;
  } else return -1;
}

// The JSON Schema of a value nlohmann writes from T: numbers, strings, booleans and
// std::vector of them; anything else (bento::Json) is any JSON value.
template <typename T>
Json JsonValueSchema() {
  if constexpr (std::is_same_v<T, bool>) return {{"type", "boolean"}};
  else if constexpr (std::is_arithmetic_v<T>) {
    return {{"type", std::is_integral_v<T> ? "integer" : "number"}};
  } else if constexpr (std::is_same_v<T, std::string>) return {{"type", "string"}};
  else if constexpr (IsVector<T>::value) {
    return {{"type", "array"}, {"items", JsonValueSchema<typename T::value_type>()}};
  } else return Json::object();
}

template <typename T, typename = void>
struct ParamTraits {
  static_assert(NumberDepth<T>() >= 0,
                "unsupported API parameter type: use bento::Image, std::vector<bento::Image>, "
                "bento::File, std::string, bento::Tensor, bento::Json, numbers, bool or nested "
                "std::vector of numbers");
  static ParamInfo Info() {
    ParamInfo info;
    info.schema = JsonValueSchema<T>();
    return info;
  }
  static StatusOr<T> Parse(std::string_view name, Argument& arg) {
    ASSIGN_OR_RETURN(Json json, ParseJson(name, arg));
    try {
      return json.get<T>();
    } catch (const Json::exception&) {
      return TypeError(name, Info().schema, json);
    }
  }
};

template <>
struct ParamTraits<Json> {
  static ParamInfo Info() { return {"", ParamSource::kJson, Json::object(), "application/json"}; }
  static StatusOr<Json> Parse(std::string_view name, Argument& arg) {
    return ParseJson(name, arg);
  }
};

template <>
struct ParamTraits<std::string> {
  static ParamInfo Info() { return {"", ParamSource::kText, {{"type", "string"}}, "text/plain"}; }
  static StatusOr<std::string> Parse(std::string_view name, Argument& arg) {
    return ParseText(name, arg);
  }
};

template <>
struct ParamTraits<Tensor> {
  static ParamInfo Info() {
    return {"", ParamSource::kTensor,
AnyTensorSchema(), "application/json"};
  }
  static StatusOr<Tensor> Parse(std::string_view name, Argument& arg) {
    return ParseTensor(name, arg);
  }
};

template <>
struct ParamTraits<Image> {
  static ParamInfo Info() {
    return {"", ParamSource::kFile, ImageSchema(), "image/*"};
  }
  static StatusOr<Image> Parse(std::string_view name, const Argument& arg) {
    return ParseImage(name, arg);
  }
};

template <>
struct ParamTraits<std::vector<Image>> {
  static ParamInfo Info() {
    // At least one: an empty list of parts cannot be told from a missing parameter.
    return {"", ParamSource::kFiles,
            {{"type", "array"}, {"items", ImageSchema()}, {"minItems", 1}},
            "multipart/form-data"};
  }
  static StatusOr<std::vector<Image>> Parse(std::string_view name, const Argument& arg) {
    std::vector<Image> images;
    for (const auto& file : arg.files) {
      Argument one;
      one.files = {file};
      ASSIGN_OR_RETURN(Image image, ParseImage(name, one));
      images.push_back(std::move(image));
    }
    if (images.empty()) return InvalidArgumentError("missing parameter '" + std::string(name) + "'");
    return images;
  }
};

template <>
struct ParamTraits<File> {
  static ParamInfo Info() {
    return {"", ParamSource::kFile, FileSchema(), "application/octet-stream"};
  }
  static StatusOr<File> Parse(std::string_view name, const Argument& arg) {
    if (arg.files.empty()) {
      return InvalidArgumentError("parameter '" + std::string(name) +
                                  "' must be a file: send multipart/form-data");
    }
    return arg.files.front();
  }
};

// ---- results -----------------------------------------------------------------------------

// The one JSON writer of every answer (tensor/json_codec.h): NaN, Infinity and -Infinity as
// bare tokens, as Python's json module writes them, and invalid UTF-8 as U+FFFD.
Status EncodeTensorJson(const Tensor& tensor, std::string* out);
std::string EncodeJson(const Json& value);

template <typename R>
struct ResultTraits {
  static ResultInfo Info() { return {"application/json", JsonValueSchema<R>()}; }
  static StatusOr<Result> Encode(R&& value) {
    // Json, vectors of Json, numbers...: anything nlohmann can hold.
    return Result{"application/json", EncodeJson(Json(std::forward<R>(value)))};
  }
};
template <>
struct ResultTraits<Tensor> {
  static ResultInfo Info() { return {"application/json", AnyTensorSchema()}; }
  static StatusOr<Result> Encode(Tensor&& t) {
    Result r{"application/json", ""};
    RETURN_IF_ERROR(EncodeTensorJson(t, &r.body));
    return r;
  }
};
template <>
struct ResultTraits<std::string> {
  static ResultInfo Info() { return {"text/plain", {{"type", "string"}}}; }
  static StatusOr<Result> Encode(std::string&& s) { return Result{"text/plain; charset=utf-8", std::move(s)}; }
};
template <>
struct ResultTraits<File> {
  static ResultInfo Info() {
    return {"application/octet-stream", FileSchema()};
  }
  static StatusOr<Result> Encode(File&& f) {
    return Result{f.content_type.empty() ? "application/octet-stream" : f.content_type,
                  std::move(f.bytes)};
  }
};
template <typename R>
struct ResultTraits<StatusOr<R>> {
  static ResultInfo Info() { return ResultTraits<R>::Info(); }
  static StatusOr<Result> Encode(StatusOr<R>&& r) {
    if (!r.ok()) return r.status();
    return ResultTraits<R>::Encode(std::move(r).value());
  }
};

// Parses every parameter, then calls `call` with them.
template <typename R, typename... Args, typename F, size_t... I>
StatusOr<Result> Invoke(const F& call, const std::array<std::string_view, sizeof...(Args)>& names,
                        Arguments& args, std::index_sequence<I...>) {
  std::tuple<std::optional<Args>...> parsed;
  Status status;
  auto parse_one = [&]<size_t K>(std::integral_constant<size_t, K>) {
    if (!status.ok()) return;
    using T = std::tuple_element_t<K, std::tuple<Args...>>;
    auto it = args.find(names[K]);
    Argument missing;
    auto value = ParamTraits<T>::Parse(names[K], it == args.end() ? missing : it->second);
    if (!value.ok()) status = value.status();
    else std::get<K>(parsed).emplace(std::move(value).value());
  };
  (parse_one(std::integral_constant<size_t, I>{}), ...);
  RETURN_IF_ERROR(status);
  return ResultTraits<R>::Encode(call(*std::get<I>(parsed)...));
}

}  // namespace bento::detail

#endif  // BENTO_DETAIL_API_TRAITS_H_
