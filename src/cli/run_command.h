// `bento run TAG --input FILE`: runs a stored model once on a JSON object of input tensors
// and prints the outputs as JSON — the same body and answer as POST /run, without a server.
#ifndef BENTO_CLI_RUN_COMMAND_H_
#define BENTO_CLI_RUN_COMMAND_H_

#include <CLI/CLI.hpp>

namespace bento::cli {

void AddRunCommand(CLI::App& app, int* exit_code);

}  // namespace bento::cli

#endif  // BENTO_CLI_RUN_COMMAND_H_
