// `bento serve TAG [TAG...]`: no-code serving of stored models (manager/model_manager.h, serving/no_code.h and src/kserve).
#ifndef BENTO_CLI_SERVE_COMMAND_H_
#define BENTO_CLI_SERVE_COMMAND_H_

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace bento::cli {

// `args` is the whole command line: serving a bento with a service hands its serve flags
// on to the service's executable.
void AddServeCommand(CLI::App& app, std::vector<std::string> args, int* exit_code);

}  // namespace bento::cli

#endif  // BENTO_CLI_SERVE_COMMAND_H_
