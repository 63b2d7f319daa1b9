// The serve flags shared by `bento serve` and every service executable built with
// bento_add_service(): --host, --port, --workers, --timeout, --max-concurrency,
// --max-body-size, --ssl-certfile / --ssl-keyfile (HTTPS) and friends. They parse straight
// into serving::ServeOptions.
#ifndef BENTO_CLI_SERVE_FLAGS_H_
#define BENTO_CLI_SERVE_FLAGS_H_

#include <CLI/CLI.hpp>

#include "serving/serve.h"

namespace bento::cli {

// Registers the flags on `app`; values land in `options` when `app` parses.
void AddServeFlags(CLI::App& app, serving::ServeOptions* options);

// Validators whose errors state the range: a whole number in [lo, hi], and a number in
// [lo, hi]. Empty text, trailing characters and values that would wrap are errors too.
CLI::Validator IntegerIn(long long lo, long long hi);
CLI::Validator NumberIn(double lo, double hi);

}  // namespace bento::cli

#endif  // BENTO_CLI_SERVE_FLAGS_H_
