// `bento models ...`: save, list, get, delete, export and import models in the store that
// bento shares with BentoML. Each subcommand parses its flags into options and calls the
// store or bento::onnx; errors go to stderr with a non-zero exit.
#ifndef BENTO_CLI_MODELS_COMMAND_H_
#define BENTO_CLI_MODELS_COMMAND_H_

#include <CLI/CLI.hpp>

namespace bento::cli {

// Registers `models` and its subcommands on `app`. `exit_code` receives the result of the
// subcommand that runs.
void AddModelsCommand(CLI::App& app, int* exit_code);

}  // namespace bento::cli

#endif  // BENTO_CLI_MODELS_COMMAND_H_
