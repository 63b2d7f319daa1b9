// The `bento` command: `bento models ...` manages the model store; `bento serve` serves
// models or a built bento; `bento build`, `bento list ...` and `bento containerize` ship.
#include "cli/bento_main.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "base/logging.h"
#include "bento/onnx.h"
#include "cli/bento_command.h"
#include "cli/manifests_command.h"
#include "cli/models_command.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"

namespace bento::cli {

int Main(int argc, char** argv) {
  InitLogging("warn");
  CLI::App app{"bento: serve ONNX models, compatible with BentoML's model store and HTTP API"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("bento ") + BENTO_VERSION + " (ONNX Runtime " +
                                        onnx::runtime_version() + ")");
  int exit_code = 0;
  AddModelsCommand(app, &exit_code);
  AddRunCommand(app, &exit_code);
  AddServeCommand(app, std::vector<std::string>(argv, argv + argc), &exit_code);
  AddBentoCommands(app, &exit_code);
  AddManifestsCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

}  // namespace bento::cli
