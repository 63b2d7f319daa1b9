// DecodeJsonTensor for a value inside a document the caller is already walking with simdjson's
// On-Demand API: the KServe v2 codec ("data" inside an input object) and the serving layer
// (tensor parameters next to other parameters) decode in place, with no second parse.
// The rules and messages are those of json_codec.h.
//
// Thread-safety: as for any simdjson value, one thread at a time per document.
#ifndef BENTO_TENSOR_JSON_CODEC_SIMDJSON_H_
#define BENTO_TENSOR_JSON_CODEC_SIMDJSON_H_

#include <simdjson.h>

#include "bento/status.h"
#include "bento/tensor.h"
#include "tensor/json_codec.h"

namespace bento {

// Consumes `value` (an array or a scalar) and decodes it into a tensor of `dtype`.
// REQUIRES: `value` has not been consumed yet. On error the document may be left mid-value;
// stop iterating it.
StatusOr<Tensor> DecodeJsonTensor(simdjson::ondemand::value value, DType dtype);

// The INVALID_ARGUMENT status for a simdjson error, with its message and a hint.
Status JsonSyntaxError(simdjson::error_code error);

}  // namespace bento

#endif  // BENTO_TENSOR_JSON_CODEC_SIMDJSON_H_
