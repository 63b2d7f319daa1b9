// OpenAPI schemas for tensors: a TensorSpec becomes nested arrays of its element type, one
// level per dimension, with fixed dimensions as minItems/maxItems, and a small example when
// the tensor is small enough to show in Swagger UI.
#ifndef BENTO_SERVING_SCHEMA_H_
#define BENTO_SERVING_SCHEMA_H_

#include <vector>

#include "bento/json.h"
#include "bento/tensor.h"

namespace bento::serving {

// The schema of one JSON element of `dtype`: number, integer, boolean or string.
Json ElementSchema(DType dtype);
// Nested arrays for a spec (any depth when the spec has no shape).
Json TensorSchema(const TensorSpec& spec);
// An object with one required property per input.
Json InputsSchema(const std::vector<TensorSpec>& inputs);
// An object with one property per output.
Json OutputsSchema(const std::vector<TensorSpec>& outputs);

}  // namespace bento::serving

#endif  // BENTO_SERVING_SCHEMA_H_
