// Fuzzes the Open Inference Protocol codec (src/kserve/codec.h): an infer request body
// as JSON alone or with Triton's binary tensor extension. The first two bytes give the
// Inference-Header-Content-Length (0xffff: no such header); the rest is the body. A parsed
// request's inputs are encoded back as a response, binary and not, which must not fail, and
// each input's raw layout reads back as the same tensor, bit for bit.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "kserve/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t prefix = static_cast<size_t>(data[0]) << 8 | data[1];
  std::optional<size_t> header_length;
  if (prefix != 0xffff) header_length = prefix;
  std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);

  auto request = bento::kserve::ParseInferRequest(body, header_length);
  if (!request.ok()) return 0;

  std::vector<bento::kserve::InferOutput> outputs;
  bool binary = false;
  for (const auto& input : request->inputs) {
    outputs.push_back({input.name, input.tensor, binary});
    binary = !binary;
    // The binary layout must read back as the same tensor.
    std::string raw;
    bento::kserve::AppendRawTensor(input.tensor, &raw);
    auto back = bento::kserve::DecodeRawTensor(input.name, input.tensor.dtype(),
                                               input.tensor.shape(), raw);
    FUZZ_CHECK(back.ok(), "raw round trip of '%s' failed: %s", input.name.c_str(),
               back.status().ToString().c_str());
    FUZZ_CHECK(back->shape() == input.tensor.shape(), "raw round trip of '%s' changed its shape",
               input.name.c_str());
    if (input.tensor.dtype() == bento::DType::kString) {
      FUZZ_CHECK(back->strings() == input.tensor.strings(),
                 "raw round trip of '%s' changed its strings", input.name.c_str());
    } else {
      FUZZ_CHECK(back->bytes() == input.tensor.bytes(), "raw round trip of '%s' changed its bytes",
                 input.name.c_str());
    }
  }
  size_t response_header_length = 0;
  std::string response = bento::kserve::EncodeInferResponse(
      "m", "1", request->id, request->parameters, outputs, &response_header_length);
  FUZZ_CHECK(response_header_length <= response.size(), "header length %zu over %zu",
             response_header_length, response.size());
  return 0;
}
