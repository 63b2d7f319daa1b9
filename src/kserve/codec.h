// The Open Inference Protocol (KServe v2) codec: inference requests and responses as JSON, with
// Triton's binary tensor extension.
//
//   POST /v2/models/m/infer
//   {"id": "1", "inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2],
//                           "data": [[1, 2], [3, 4]]}],
//    "outputs": [{"name": "y", "parameters": {"binary_data": true}}]}
//
// With the binary extension the HTTP header Inference-Header-Content-Length gives the length of
// the JSON header; the bytes after it are the tensors of the inputs whose parameters hold
// "binary_data_size", in input order, each in little-endian row-major layout (BYTES elements are
// each a 4-byte little-endian length followed by that many bytes). Responses may carry binary
// outputs the same way.
//
// "data" is decoded in place with the simdjson path of json_codec_simdjson.h (same rules, e.g.
// integral numbers for integer types); it may be flat or nested (nested arrays are flattened
// row-major and reshaped to "shape"). Every malformed request gives INVALID_ARGUMENT with a
// message for the API's user; no input, however broken, crashes or allocates more than a
// small multiple of its own size.
//
// Ownership: parsed tensors own copies of their bytes; the body may be freed after parsing.
// Thread-safety: all functions are thread-safe (each thread caches one simdjson parser for
// headers up to 1 MiB).
#ifndef BENTO_KSERVE_CODEC_H_
#define BENTO_KSERVE_CODEC_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bento/json.h"
#include "bento/status.h"
#include "bento/tensor.h"
#include "kserve/shared_memory.h"

namespace bento::kserve {

// "FP32" -> kFloat32, "BYTES" -> kString, ...; nullopt for names KServe does not define.
std::optional<DType> DTypeFromKServe(std::string_view name);
// kFloat32 -> "FP32", kString -> "BYTES", ...; "" for dtypes KServe cannot carry (complex).
std::string_view KServeName(DType dtype);

// The element count of `shape`; INVALID_ARGUMENT (prefixed with `label`) for a negative
// dimension, too many dimensions or an overflowing product.
StatusOr<int64_t> ElementCount(const std::string& label, const std::vector<int64_t>& shape);

// A tensor from its raw bytes, as Triton's binary extension and gRPC's raw contents carry it:
// little-endian row-major elements, or for BYTES (kString) a 4-byte little-endian length then
// the bytes, per element. INVALID_ARGUMENT, prefixed with `label`, when the bytes do not hold
// exactly the shape's element count.
StatusOr<Tensor> DecodeRawTensor(const std::string& label, DType dtype, std::vector<int64_t> shape,
                                 std::string_view bytes);
// Appends `tensor`'s raw bytes to `*out` in the layout DecodeRawTensor reads.
void AppendRawTensor(const Tensor& tensor, std::string* out);

// A spec's shape as the protocol writes it: -1 for a dimension of any size. With
// `without_batch`, the first dimension is left out (Triton's config form for batching models).
std::vector<int64_t> KServeShape(const TensorSpec& spec, bool without_batch = false);

// kFloat32 -> "TYPE_FP32", kString -> "TYPE_STRING", ...: Triton's model configuration names;
// "TYPE_INVALID" for dtypes KServe cannot carry.
std::string ConfigTypeName(DType dtype);

struct InferInput {
  std::string name;
  Tensor tensor;    // dtype from "datatype", shape from "shape"
  Json parameters;  // the input's "parameters" object, or null
  // Set when the input is in a shared-memory region (shared_memory.h): `tensor` is then empty
  // until the Protocol reads it, as `dtype` and `shape`.
  std::optional<RegionRef> region;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
};

struct RequestedOutput {
  std::string name;
  // Whether to return this output as binary: its "binary_data" parameter, or else the
  // request's "binary_data_output" (binary_outputs_default).
  bool binary_data = false;
  Json parameters;  // the output's "parameters" object, or null
  std::optional<RegionRef> region;  // write it into this shared-memory region
};

struct InferRequest {
  std::string id;
  Json parameters;  // the request's "parameters" object, or null
  std::vector<InferInput> inputs;
  std::vector<RequestedOutput> outputs;  // empty: return all outputs
  bool binary_outputs_default = false;   // request parameter "binary_data_output"
};

// Parses a request body. `header_length` is the Inference-Header-Content-Length header when the
// request has one: the JSON is then body[0, header_length) and the rest is binary tensor data.
StatusOr<InferRequest> ParseInferRequest(std::string_view body,
                                         std::optional<size_t> header_length);

struct InferOutput {
  std::string name;
  Tensor tensor;
  bool binary = false;  // send as binary data after the JSON header
  // Written into this shared-memory region: the answer names the region instead of the data.
  std::optional<RegionRef> region;
};

// Writes a response body: the JSON header, then the bytes of the binary outputs in output order.
// "id" is written only when non-empty, "parameters" only when not null. Sets `*header_length`
// (if not null) to the JSON header's length when any output is binary, else to 0; the caller
// then sends it as Inference-Header-Content-Length. An output whose dtype KServe cannot carry
// is written with its shape, an empty "datatype" and no data.
std::string EncodeInferResponse(std::string_view model_name, std::string_view model_version,
                                std::string_view id, const Json& parameters,
                                const std::vector<InferOutput>& outputs, size_t* header_length);

}  // namespace bento::kserve

#endif  // BENTO_KSERVE_CODEC_H_
