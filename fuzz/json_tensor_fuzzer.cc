// Fuzzes the JSON tensor codec (src/tensor/json_codec.h): the first byte picks the dtype,
// the rest is the JSON. A decoded tensor must encode, and its encoding must decode back to
// the same shape and values. The same bytes are also decoded as a request body of named
// tensors, and as a service's parameters (tensors beside other values).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "tensor/json_codec.h"
#include "tensor/random_tensors.h"

namespace {

constexpr bento::DType kDTypes[] = {
    bento::DType::kFloat32, bento::DType::kUInt8,   bento::DType::kInt8,
    bento::DType::kUInt16,  bento::DType::kInt16,   bento::DType::kInt32,
    bento::DType::kInt64,   bento::DType::kString,  bento::DType::kBool,
    bento::DType::kFloat16, bento::DType::kFloat64, bento::DType::kUInt32,
    bento::DType::kUInt64,  bento::DType::kBFloat16, bento::DType::kComplex64};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bento::DType dtype = kDTypes[data[0] % std::size(kDTypes)];
  std::string_view json(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto tensor = bento::DecodeJsonTensor(json, dtype);
  if (tensor.ok()) {
    std::string encoded;
    bento::Status status = bento::EncodeJsonTensor(*tensor, &encoded);
    FUZZ_CHECK(status.ok(), "encode failed: %s", status.ToString().c_str());
    auto again = bento::DecodeJsonTensor(encoded, dtype);
    FUZZ_CHECK(again.ok(), "re-decode of %s failed: %s", encoded.c_str(),
               again.status().ToString().c_str());
    FUZZ_CHECK(again->shape() == tensor->shape(), "shape changed through %s", encoded.c_str());
    FUZZ_CHECK(again->byte_size() == tensor->byte_size(), "size changed through %s",
               encoded.c_str());
    // The values too: every string, and every element's bits (a NaN stays a NaN; its
    // payload is not text).
    if (dtype == bento::DType::kString) {
      FUZZ_CHECK(again->strings() == tensor->strings(), "strings changed through %s",
                 encoded.c_str());
    } else {
      const size_t n = static_cast<size_t>(tensor->num_elements());
      const size_t width = bento::DTypeSize(dtype);
      const auto* a = static_cast<const uint8_t*>(tensor->data());
      const auto* b = static_cast<const uint8_t*>(again->data());
      for (size_t i = 0; i < n; ++i) {
        const uint8_t* x = a + i * width;
        const uint8_t* y = b + i * width;
        const bool both_nan = bento::testing::IsNan(dtype, x) && bento::testing::IsNan(dtype, y);
        FUZZ_CHECK(both_nan || std::memcmp(x, y, width) == 0, "element %zu changed through %s",
                   i, encoded.c_str());
      }
    }
  }

  auto named = bento::DecodeJsonTensors(json, [dtype](std::string_view name)
                                                  -> bento::StatusOr<bento::DType> {
    if (name == "skip") return bento::DType::kUndefined;
    if (name == "unknown") return bento::InvalidArgumentError("unknown input");
    return dtype;
  });
  (void)named;

  // A C++ service's parameters: inferred-dtype tensors in place, other members as text.
  auto mixed = bento::DecodeJsonObject(
      json,
      [dtype](std::string_view name) -> bento::StatusOr<bento::JsonMemberPlan> {
        using Kind = bento::JsonMemberPlan::Kind;
        if (name == "t") return bento::JsonMemberPlan{Kind::kTensor};
        if (name == "d") return bento::JsonMemberPlan{Kind::kTensor, dtype};
        if (name == "unknown") return bento::NotFoundError("unknown parameter");
        return bento::JsonMemberPlan{Kind::kText};
      },
      "parameter");
  if (mixed.ok()) {
    // Each member handed back as text is one whole JSON value: as a member of its own, it
    // comes back the same.
    for (const auto& [name, text] : mixed->texts) {
      auto again = bento::DecodeJsonObject(
          "{\"v\": " + text + "}",
          [](std::string_view) -> bento::StatusOr<bento::JsonMemberPlan> {
            return bento::JsonMemberPlan{bento::JsonMemberPlan::Kind::kText};
          },
          "parameter");
      FUZZ_CHECK(again.ok() && again->texts.at("v") == text, "member '%s' (%s) did not read back",
                 name.c_str(), text.c_str());
    }
  }
  return 0;
}
