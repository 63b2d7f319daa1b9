#include "cli/run_command.h"

#include <iostream>
#include <iterator>
#include <memory>

#include "base/fs.h"
#include "bento/onnx.h"
#include "serving/no_code.h"

namespace bento::cli {
namespace {

struct RunArgs {
  std::string tag;
  std::string input;  // a file, or "-" for stdin
  std::string json;   // the body inline
};

int Run(const RunArgs& args) {
  std::string body = args.json;
  if (body.empty()) {
    if (args.input.empty() || args.input == "-") {
      body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      auto text = fs::ReadFile(args.input);
      if (!text.ok()) {
        std::cerr << "error: " << text.status().message() << "\n";
        return 1;
      }
      body = std::move(*text);
    }
  }
  auto session = onnx::load_model(args.tag);
  if (!session.ok()) {
    std::cerr << "error: " << session.status().message() << "\n";
    return session.status().code() == StatusCode::kNotFound ? 2 : 1;
  }
  auto out = serving::RunJson(*session, body);
  if (!out.ok()) {
    std::cerr << "error: " << out.status().message() << "\n";
    return 1;
  }
  std::cout << *out << "\n";
  return 0;
}

}  // namespace

void AddRunCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* run = app.add_subcommand(
      "run", "Run a stored model once on JSON inputs, e.g. '{\"x\": [[1.0, 2.0]]}'");
  run->add_option("tag", args->tag, "NAME[:VERSION]")->required();
  auto* input = run->add_option("--input,-i", args->input,
                                "File holding the JSON object of inputs ('-': stdin, the default)");
  run->add_option("--json", args->json, "The JSON object of inputs, inline")->excludes(input);
  run->callback([args, exit_code] { *exit_code = Run(*args); });
}

}  // namespace bento::cli
