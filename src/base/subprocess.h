// Running another program and reading what it prints: `bento build` asks a service
// executable for its OpenAPI document, and `bento containerize` asks ldd and dpkg for a
// binary's libraries.
//
// Thread-safe (no shared state); the child gets no stdin.
#ifndef BENTO_BASE_SUBPROCESS_H_
#define BENTO_BASE_SUBPROCESS_H_

#include <map>
#include <string>
#include <vector>

#include "bento/status.h"

namespace bento {

struct ProcessResult {
  int exit_code = -1;  // -1 when a signal ended it
  std::string out;     // stdout
  std::string err;     // stderr
};

// Runs argv[0] (searched in PATH when it has no '/') with `env` added to this process's
// environment (a value replaces the variable of the same name). Waits for it to exit.
// A program that cannot be started gives NOT_FOUND naming it; its own failure is the
// caller's to judge from the result.
StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                   const std::map<std::string, std::string>& env = {});

}  // namespace bento

#endif  // BENTO_BASE_SUBPROCESS_H_
