// What bento._core's two sources share: its error and tensor conversions (core.cc) and the
// serving of Python services (serve.cc).
#ifndef BENTO_PYTHON_CORE_H_
#define BENTO_PYTHON_CORE_H_

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <string>
#include <utility>
#include <vector>

#include "bento/status.h"
#include "bento/tensor.h"

namespace bento::python {

namespace nb = nanobind;

using StringTensor = std::pair<std::vector<int64_t>, std::vector<std::string>>;
using Array = nb::ndarray<nb::ro, nb::c_contig, nb::device::cpu>;

// Raises the failed `status` as bento.exceptions' class for its code. REQUIRES: the GIL.
[[noreturn]] void Raise(const Status& status);
// A numpy array that owns the tensor (no copy), or a StringTensor for a string tensor.
// REQUIRES: the GIL.
nb::object TensorToPython(Tensor tensor);
// A borrowed view of a numpy array, valid while the array lives.
StatusOr<Tensor> ArrayToTensor(const std::string& name, const Array& array);

// Adds serve() to the module (serve.cc).
void BindServe(nb::module_& m);

}  // namespace bento::python

#endif  // BENTO_PYTHON_CORE_H_
