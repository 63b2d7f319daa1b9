// Logging: bento logs through spdlog to stderr. Call InitLogging once from main(); code
// elsewhere uses spdlog's free functions (spdlog::info, spdlog::warn, ...), which are
// thread-safe.
#ifndef BENTO_BASE_LOGGING_H_
#define BENTO_BASE_LOGGING_H_

#include <spdlog/spdlog.h>

#include <string_view>

#include "bento/logging.h"  // InitLogging

namespace bento {

// Text (the default): "2026-11-28T13:44:38.916+00:00 info message". JSON: one object per
// line, {"time": ..., "level": ..., "message": ...}, for cluster log collectors.
enum class LogFormat { kText, kJson };
// REQUIRES: InitLogging was called.
void SetLogFormat(LogFormat format);

// Whether BENTO_LOG_LEVEL names a level, so that a command's own default must not replace it.
bool LogLevelFromEnvironment();

}  // namespace bento

#endif  // BENTO_BASE_LOGGING_H_
