// Internal: the process's ONNX Runtime environment and the conversion of ONNX Runtime's
// exceptions into Status. Only src/runtime includes ONNX Runtime headers.
#ifndef BENTO_RUNTIME_ORT_H_
#define BENTO_RUNTIME_ORT_H_

#include <onnxruntime_cxx_api.h>

#include <string_view>

#include "bento/status.h"

namespace bento::runtime {

// The one Ort::Env of the process, created on first use and never destroyed (ONNX Runtime
// requires it to outlive every session). Thread-safe.
Ort::Env& OrtEnv();

// Converts an ONNX Runtime exception into a Status. `during_run` marks errors raised while
// running a model, where a runtime failure is caused by the request's data (400), not a bug.
Status FromOrtException(const Ort::Exception& e, std::string_view context, bool during_run);

// ONNX Runtime's error text for a one-line log: its first line, from after the source
// location and the "[ONNXRuntimeError] : 1 : FAIL : " prefix when they are there.
std::string_view OrtErrorText(std::string_view what);

}  // namespace bento::runtime

#endif  // BENTO_RUNTIME_ORT_H_
