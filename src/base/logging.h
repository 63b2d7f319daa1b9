// Logging: bento logs through spdlog to stderr. Call InitLogging once from main(); code
// elsewhere uses spdlog's free functions (spdlog::info, spdlog::warn, ...), which are
// thread-safe.
#ifndef BENTO_BASE_LOGGING_H_
#define BENTO_BASE_LOGGING_H_

#include <spdlog/spdlog.h>

#include <string_view>

namespace bento {

// Sets the default logger to stderr with bento's format. `level` is one of spdlog's names
// ("trace", "debug", "info", "warn", "error", "critical", "off"); the BENTO_LOG_LEVEL
// environment variable, when it names a level, wins. One that does not is warned about.
void InitLogging(std::string_view level = "info");

// Whether BENTO_LOG_LEVEL names a level, so that a command's own default must not replace it.
bool LogLevelFromEnvironment();

}  // namespace bento

#endif  // BENTO_BASE_LOGGING_H_
