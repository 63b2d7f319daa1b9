// Checking inputs against a model's input specs, and building inputs that fit them.
//
//   const bento::TensorSpec& spec = session->inputs()[0];   // "input: float32[batch, 64]"
//   RETURN_IF_ERROR(bento::ValidateInput(input_array, spec));   // 400 on a mismatch
//   auto dummy = bento::DummyInput(spec);                       // float32[1, 64], for warm-up
//
// ValidateInput is the guide's ValidatedONNXService.validate_input: the rank must match, and
// every fixed dimension must equal the spec's, while symbolic ("batch") and unknown
// dimensions accept any size. Unlike the guide, it also checks the dtype, since ONNX Runtime
// would refuse a wrong one anyway. DummyInput is RobustONNXService's warm-up input,
// np.random.randn(1, *shape[1:]).
//
// Thread-safety: pure functions of their arguments; safe from any thread.
#ifndef BENTO_VALIDATION_H_
#define BENTO_VALIDATION_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bento/status.h"
#include "bento/tensor.h"

namespace bento {

// OK when `input` fits `spec`: the same dtype and rank, and every fixed dimension equal to
// the spec's (symbolic and unknown dimensions match any size; a spec that declares no shape
// matches any). Otherwise INVALID_ARGUMENT, which a service API answers as HTTP 400, whose
// message names the input, the expected spec and what came, e.g.
//   input 'input': wrong shape: expected input: float32[batch, 64], got float32[2, 5]
Status ValidateInput(const Tensor& input, const TensorSpec& spec);

// OK when `inputs` hold exactly the inputs `specs` declare, each fitting its spec
// (ValidateInput). Otherwise INVALID_ARGUMENT naming the first wrong one: an unknown name
// (FindInputSpec's message), else the first declared input, in `specs`' order, that is
// missing ("missing input 'x': expected x: float32[batch, 64]") or does not fit. This is
// the one input check of every road to a model: Session::Run, no-code /run and KServe v2
// all call it.
Status ValidateInputs(const std::map<std::string, Tensor>& inputs,
                      const std::vector<TensorSpec>& specs);

// The spec named `name`, or INVALID_ARGUMENT "unknown input 'y'; the model's inputs are: x".
StatusOr<const TensorSpec*> FindInputSpec(const std::vector<TensorSpec>& specs,
                                          std::string_view name);

// An input that fits `spec`, to run a model once at start-up: each symbolic or unknown
// dimension is `dynamic_size` (1: a batch of one), float32 and float64 values are drawn from
// a standard normal distribution with a fixed seed (the same values on every call), and
// other dtypes are zeros (empty strings for STRING). A spec that declares no shape is a
// FAILED_PRECONDITION (there is no rank to build). REQUIRES: dynamic_size >= 0.
StatusOr<Tensor> DummyInput(const TensorSpec& spec, int64_t dynamic_size = 1);

}  // namespace bento

#endif  // BENTO_VALIDATION_H_
