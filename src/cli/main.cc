// The `bento` command: `bento models ...` manages the store; `bento serve` serves models.
#include <CLI/CLI.hpp>

#include <iostream>

#include "base/logging.h"
#include "bento/onnx.h"
#include "cli/models_command.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"

int main(int argc, char** argv) {
  bento::InitLogging("warn");
  CLI::App app{"bento: serve ONNX models, compatible with BentoML's model store and HTTP API"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("bento ") + BENTO_VERSION + " (ONNX Runtime " +
                                        bento::onnx::runtime_version() + ")");
  int exit_code = 0;
  bento::cli::AddModelsCommand(app, &exit_code);
  bento::cli::AddRunCommand(app, &exit_code);
  bento::cli::AddServeCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
