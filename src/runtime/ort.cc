#include "runtime/ort.h"

#include <string>

#include "base/strings.h"

namespace bento::runtime {

Ort::Env& OrtEnv() {
  static Ort::Env* env = new Ort::Env(ORT_LOGGING_LEVEL_ERROR, "bento");
  return *env;
}

Status FromOrtException(const Ort::Exception& e, std::string_view context, bool during_run) {
  std::string message = std::string(context) + ": " + e.what();
  switch (e.GetOrtErrorCode()) {
    case ORT_INVALID_ARGUMENT:
    case ORT_INVALID_PROTOBUF:
    case ORT_INVALID_GRAPH: return InvalidArgumentError(std::move(message));
    case ORT_NO_SUCHFILE: return NotFoundError(std::move(message));
    case ORT_NO_MODEL: return NotFoundError(std::move(message));
    case ORT_NOT_IMPLEMENTED: return UnimplementedError(std::move(message));
    case ORT_FAIL:
    case ORT_RUNTIME_EXCEPTION:
      if (during_run) return InvalidArgumentError(std::move(message));
      return InternalError(std::move(message));
    default: return InternalError(std::move(message));
  }
}

std::string_view OrtErrorText(std::string_view what) {
  std::string_view text = FirstLine(what);
  constexpr std::string_view kTag = "[ONNXRuntimeError]";
  size_t tag = text.find(kTag);
  if (tag == std::string_view::npos) return text;
  // "[ONNXRuntimeError] : <code> : <name> : <message>"
  size_t at = tag + kTag.size();
  for (int field = 0; field < 3; ++field) {
    size_t sep = text.find(" : ", at);
    if (sep == std::string_view::npos) return text;
    at = sep + 3;
  }
  return text.substr(at);
}

}  // namespace bento::runtime
