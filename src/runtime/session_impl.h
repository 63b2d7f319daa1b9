// Internal: what a bento::onnx::Session holds, and how one is created from a stored model.
#ifndef BENTO_RUNTIME_SESSION_IMPL_H_
#define BENTO_RUNTIME_SESSION_IMPL_H_

#include <onnxruntime_cxx_api.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bento/onnx.h"

namespace bento::onnx {

// Immutable after creation; Ort::Session::Run is thread-safe, so one Impl serves every
// thread.
class Session::Impl {
 public:
  Tag tag;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  std::vector<std::string> providers;  // really in use, in priority order
  std::unique_ptr<Ort::Session> session;
  Ort::MemoryInfo memory_info = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
};

// Creates an ONNX Runtime session for the .onnx file at `model_file` (external data resolves
// beside it). Providers that this build lacks are skipped with a warning. `declared_inputs`
// (from model.yaml) are preferred over ONNX Runtime's view of an input with the same name.
StatusOr<Session> CreateSession(const Tag& tag, const std::filesystem::path& model_file,
                                const std::vector<Provider>& providers,
                                const SessionOptions& options,
                                const std::vector<TensorSpec>& declared_inputs);

}  // namespace bento::onnx

#endif  // BENTO_RUNTIME_SESSION_IMPL_H_
