// `bento serve TAG [TAG...]`: no-code serving of stored models (manager/model_manager.h, serving/no_code.h and src/kserve).
#ifndef BENTO_CLI_SERVE_COMMAND_H_
#define BENTO_CLI_SERVE_COMMAND_H_

#include <CLI/CLI.hpp>

namespace bento::cli {

void AddServeCommand(CLI::App& app, int* exit_code);

}  // namespace bento::cli

#endif  // BENTO_CLI_SERVE_COMMAND_H_
