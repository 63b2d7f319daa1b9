// bento's log, for programs that embed bento without bento::ServeMain (which sets it up
// itself): the Python package, or a C++ program that only loads and runs models.
#ifndef BENTO_LOGGING_H_
#define BENTO_LOGGING_H_

#include <string_view>

namespace bento {

// Sends bento's log lines to stderr, in bento's format ("2026-11-28T13:44:38.916+00:00 info
// loaded ..."). `level` is one of "trace", "debug", "info", "warn", "error", "critical",
// "off"; the BENTO_LOG_LEVEL environment variable, when it names a level, wins, and one that
// does not is warned about. Call before anything else of bento's; a later call starts over.
void InitLogging(std::string_view level = "info");

}  // namespace bento

#endif  // BENTO_LOGGING_H_
