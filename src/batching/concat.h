// Forming a batch: concatenating request inputs along the batch dimension and slicing the
// batch's outputs back into per-request pieces, plus the shape key that decides which
// requests may share a batch at all.
//
// All functions work on any dimension (not only 0), on row-major tensors of every fixed-size
// dtype and on STRING tensors. Results never alias mutable state of their arguments: a slice
// along dim 0 (or along any dim whose outer size is 1) borrows the source bytes without
// copying and keeps the source's buffer alive; everything else is copied.
//
// Thread-safety: pure functions of their arguments; safe from any thread.
#ifndef BENTO_BATCHING_CONCAT_H_
#define BENTO_BATCHING_CONCAT_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "bento/ops.h"
#include "bento/status.h"
#include "bento/tensor.h"

namespace bento::batching {

// Named tensors: a request's inputs or a batch's outputs.
using TensorMap = std::map<std::string, Tensor>;

// Concat, Slice and Split live in bento/ops.h; the batcher uses them by these names.
using bento::Concat;
using bento::Slice;
using bento::Split;

// Per-name versions: every tensor of the map is sliced, or the maps are concatenated name
// by name. ConcatMaps requires every map to have the same names.
StatusOr<TensorMap> SliceMap(const TensorMap& tensors, int dim, int64_t begin, int64_t end);
StatusOr<TensorMap> ConcatMaps(std::span<const TensorMap> parts, int dim);

// The number of items a request carries: the size of every input along `batch_dim`.
// INVALID_ARGUMENT when there are no inputs, an input has rank <= batch_dim, a STRING input's
// value count does not match its shape, or two inputs disagree on the batch size.
StatusOr<int64_t> BatchSize(const TensorMap& inputs, int batch_dim);

// Requests may share a batch only when their keys are equal. The key names every input with
// its dtype and all its dimensions except `batch_dim`, e.g. "1:x:float32[*,3];1:y:int64[*];"
// (each name prefixed by its length, so that no name can forge another key).
// REQUIRES: BatchSize(inputs, batch_dim) is OK.
std::string ShapeKey(const TensorMap& inputs, int batch_dim);

}  // namespace bento::batching

#endif  // BENTO_BATCHING_CONCAT_H_
