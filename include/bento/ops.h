// Tensor operations that the batcher, services and examples share:
//   - Concat, Slice and Split along any dimension (row-major, every fixed-size dtype and
//     STRING). A single part or a slice whose outer size is 1 borrows the source's bytes
//     without copying and keeps its buffer alive; everything else is copied.
//   - Row, Softmax and TopK for classifier outputs.
//
// Thread-safety: pure functions of their arguments; safe from any thread.
#ifndef BENTO_OPS_H_
#define BENTO_OPS_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "bento/status.h"
#include "bento/tensor.h"

namespace bento {

// Concatenates `parts` along `dim`. Every part must have the same dtype and rank
// (> dim), and equal sizes in every dimension but `dim`; otherwise INVALID_ARGUMENT.
// A single part is returned as is (no copy).
StatusOr<Tensor> Concat(std::span<const Tensor> parts, int dim);

// The items [begin, end) of `tensor` along `dim`.
// REQUIRES (checked, INVALID_ARGUMENT): dim < rank, 0 <= begin <= end <= shape[dim].
StatusOr<Tensor> Slice(const Tensor& tensor, int dim, int64_t begin, int64_t end);

// Cuts `tensor` along `dim` into consecutive pieces of `sizes` items; the sizes must add up
// to shape[dim].
StatusOr<std::vector<Tensor>> Split(const Tensor& tensor, int dim, std::span<const int64_t> sizes);

// OK when `t` can be concatenated or sliced along `dim`: a fixed-size or STRING dtype and
// dim < rank. INVALID_ARGUMENT otherwise.
Status CheckSplittable(const Tensor& t, int dim);

// Row `i` (along dim 0) of a float32 tensor, e.g. one image's scores in a [N, classes]
// output. Empty when the tensor is not float32 or `i` is out of range.
std::span<const float> Row(const Tensor& tensor, int64_t i);

// exp(x - max) / sum: probabilities from logits, computed stably.
std::vector<float> Softmax(std::span<const float> scores);

// Indices of the k highest scores, highest first (ties: lower index first).
std::vector<size_t> TopK(std::span<const float> scores, size_t k);

}  // namespace bento

#endif  // BENTO_OPS_H_
