#include "base/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <string>

namespace bento {

void InitLogging(std::string_view level) {
  auto logger = spdlog::stderr_logger_mt("bento");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  const char* env = std::getenv("BENTO_LOG_LEVEL");
  logger->set_level(spdlog::level::from_str(env != nullptr ? env : std::string(level)));
  spdlog::set_default_logger(logger);
}

}  // namespace bento
