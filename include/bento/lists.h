// Tensors to and from nested lists, as numpy's np.array(rows, dtype=np.float32) and
// array.tolist() do in the guide's services that take List[List[float]]:
//
//   bento::Json Predict(const std::vector<std::vector<float>>& input_data) {
//     ASSIGN_OR_RETURN(bento::Tensor input_array, bento::FromRows(input_data));
//     ...
//     ASSIGN_OR_RETURN(bento::Json predictions, bento::ToList(outputs[0]));
//
// Thread-safety: pure functions of their arguments; safe from any thread.
#ifndef BENTO_LISTS_H_
#define BENTO_LISTS_H_

#include <vector>

#include "bento/json.h"
#include "bento/status.h"
#include "bento/tensor.h"

namespace bento {

// A float32 tensor of shape [rows.size(), rows[0].size()] holding the rows in order. Rows of
// different lengths are INVALID_ARGUMENT naming the first row that differs (numpy refuses
// ragged lists too). No rows gives shape [0, 0].
StatusOr<Tensor> FromRows(const std::vector<std::vector<float>>& rows);

// The tensor as nested JSON arrays with its shape: numbers (float32 values as the shortest
// decimal that reads back as the same float), booleans or strings; a rank-0 tensor is a bare
// value. INVALID_ARGUMENT for a dtype JSON cannot hold (complex numbers).
StatusOr<Json> ToList(const Tensor& tensor);

}  // namespace bento

#endif  // BENTO_LISTS_H_
