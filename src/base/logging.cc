#include "base/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "base/strings.h"

namespace bento {

namespace {

// BENTO_LOG_LEVEL in lower case (spdlog's names are), or nullopt when unset.
std::optional<std::string> EnvironmentLevel() {
  const char* env = std::getenv("BENTO_LOG_LEVEL");
  if (env == nullptr) return std::nullopt;
  return AsciiLower(env);
}

// spdlog reads any name it does not know as "off".
bool IsLevel(const std::string& name) {
  return name == "off" || spdlog::level::from_str(name) != spdlog::level::off;
}

constexpr const char* kTextPattern = "%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v";

// %* in a pattern: the message as a JSON string, quotes included.
class JsonMessage : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string text;
    AppendJsonString(&text, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessage>();
  }
};

}  // namespace

void SetLogFormat(LogFormat format) {
  if (format == LogFormat::kText) {
    spdlog::default_logger()->set_pattern(kTextPattern);
    return;
  }
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<JsonMessage>('*').set_pattern(
      R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","message":%*})");
  spdlog::default_logger()->set_formatter(std::move(formatter));
}

bool LogLevelFromEnvironment() {
  const std::optional<std::string> env = EnvironmentLevel();
  return env && IsLevel(*env);
}

void InitLogging(std::string_view level) {
  spdlog::drop("bento");  // a second call (ServeMain in a process that already logs) replaces it
  auto logger = spdlog::stderr_logger_mt("bento");
  logger->set_pattern(kTextPattern);
  const std::optional<std::string> env = EnvironmentLevel();
  const bool from_env = env && IsLevel(*env);
  logger->set_level(spdlog::level::from_str(from_env ? *env : std::string(level)));
  spdlog::set_default_logger(logger);
  if (env && !from_env) {
    spdlog::warn("BENTO_LOG_LEVEL={} is not a level (trace, debug, info, warn, error, critical, "
                 "off); using the default",
                 std::getenv("BENTO_LOG_LEVEL"));
  }
}

}  // namespace bento
