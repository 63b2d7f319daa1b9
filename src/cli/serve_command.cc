#include "cli/serve_command.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <regex>

#include "base/cpu.h"
#include "base/fs.h"
#include "base/logging.h"
#include "cli/bento_command.h"
#include "cli/model_dir.h"
#include "cli/serve_flags.h"
#include "manager/model_manager.h"
#include "serving/no_code.h"

namespace bento::cli {
namespace {

struct ServeArgs {
  std::vector<std::string> tags;
  serving::ServeOptions serve;
  ModelFlags model;
  std::string model_dir;         // --model-dir: serve what a path holds (cli/model_dir.h)
  std::string model_name;        // --model-name: the served name of --model-dir's model
  // Models that change while serving (manager::ManagerOptions), as given.
  std::string control_mode = "none";
  std::string version_policy = "latest:1";
  std::string reload_policy = "availability";
  std::vector<std::string> version_labels;  // MODEL:LABEL=VERSION
};

// The lifecycle flags into the manager's options; INVALID_ARGUMENT naming a bad one.
Status ApplyLifecycleFlags(ServeArgs& args) {
  manager::ManagerOptions& options = args.model.models;
  ASSIGN_OR_RETURN(options.control_mode, manager::ParseControlMode(args.control_mode));
  ASSIGN_OR_RETURN(options.version_policy, manager::VersionPolicy::Parse(args.version_policy));
  ASSIGN_OR_RETURN(options.reload_policy, manager::ParseReloadPolicy(args.reload_policy));
  for (const std::string& text : args.version_labels) {
    size_t colon = text.find(':'), eq = text.find('=');
    if (colon == std::string::npos || eq == std::string::npos || colon == 0 || eq < colon + 2 ||
        eq + 1 == text.size()) {
      return InvalidArgumentError("--version-label '" + text + "' is not MODEL:LABEL=VERSION");
    }
    options.labels[text.substr(0, colon)][text.substr(colon + 1, eq - colon - 1)] =
        text.substr(eq + 1);
  }
  return OkStatus();
}

// A positional argument that names a file or folder rather than a tag: it has a '/' or a
// model file's extension, and it exists. ("./name" names a folder that looks like a tag.)
bool IsPath(const std::string& arg) {
  std::error_code ec;
  if (!std::filesystem::exists(arg, ec)) return false;
  return arg.find('/') != std::string::npos || IsModelFile(arg);
}

int RunServe(const ServeArgs& args);

// A Python service, MODULE:CLASS, as `python -m bento serve` takes it. A model tag has the
// same shape (name:version), so the module must also be a .py file, or a package, in the
// current folder.
bool IsPythonService(const std::string& arg) {
  static const std::regex kTarget(R"(([A-Za-z_]\w*(\.[A-Za-z_]\w*)*):([A-Za-z_]\w*))");
  std::smatch match;
  if (!std::regex_match(arg, match, kTarget)) return false;
  std::string module = match[1].str();
  std::replace(module.begin(), module.end(), '.', '/');
  std::error_code ec;
  return std::filesystem::is_regular_file(module + ".py", ec) ||
         std::filesystem::is_regular_file(module + "/__init__.py", ec);
}

// Serves a Python service: this process becomes `python3 -m bento serve TARGET FLAGS...`
// (BENTO_PYTHON names another interpreter), which runs bento's server inside Python.
int ServePython(const std::vector<std::string>& command_line) {
  const char* env = std::getenv("BENTO_PYTHON");
  std::string python = env != nullptr && *env != '\0' ? env : "python3";
  std::vector<std::string> forwarded = {python, "-m", "bento"};
  forwarded.insert(forwarded.end(), command_line.begin() + 1, command_line.end());
  std::vector<char*> argv;
  for (auto& arg : forwarded) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::execvp(python.c_str(), argv.data());
  spdlog::error("cannot run {} for a Python service: {} (install the bento Python package: "
                "make python; BENTO_PYTHON names the interpreter)",
                python, std::strerror(errno));
  return 1;
}

// Serves what `path` holds, imported (when it must be) into a private store that is removed
// when serving ends. The path itself is only read.
int ServeModelDir(const std::string& path, ServeArgs args) {
  auto dir = OpenModelDir(path, args.model_name);
  if (!dir.ok()) {
    spdlog::error("{}", dir.status().message());
    return dir.status().code() == StatusCode::kNotFound ? 2 : 1;
  }
  ::setenv("BENTOML_HOME", dir->home.c_str(), 1);
  args.tags = dir->tags;
  int code = RunServe(args);
  if (!dir->scratch.empty()) (void)fs::RemoveAll(dir->scratch);
  return code;
}

// Serves a built bento: its service executable, given this command's serve flags, or its
// models with no code. Either way it reads its own models (BENTOML_HOME is the bento's
// folder) and gets the bentofile's envs.
int ServeBento(const store::StoredBento& bento, const std::vector<std::string>& command_line,
               ServeArgs args) {
  spdlog::info("serving bento {} from {}", bento.info.tag.ToString(), bento.path.string());
  for (const auto& [name, value] : bento.info.envs) ::setenv(name.c_str(), value.c_str(), 1);
  ::setenv("BENTOML_HOME", bento.path.c_str(), 1);
  if (bento.info.service.empty()) {
    args.tags.clear();
    for (const auto& model : bento.info.models) args.tags.push_back(model.tag.ToString());
    return RunServe(args);
  }
  // The service replaces this process, so signals and the exit code are its own.
  const std::string service = (bento.path / "bin" / bento.info.service).string();
  std::string library_path = (fs::InstallRoot() / "lib").string();
  if (const char* current = std::getenv("LD_LIBRARY_PATH"); current && *current) {
    library_path += std::string(":") + current;
  }
  ::setenv("LD_LIBRARY_PATH", library_path.c_str(), 1);
  // Everything after "bento serve" but the bento itself (as a tag, a folder or --model-dir).
  std::vector<std::string> forwarded = {service};
  bool skipped_bento = false;
  for (size_t i = 2; i < command_line.size(); ++i) {
    const std::string& arg = command_line[i];
    if (arg == "--model-dir" || arg == "--model_dir") {
      ++i;
      continue;
    }
    if (arg.starts_with("--model-dir=") || arg.starts_with("--model_dir=")) continue;
    if (!skipped_bento && arg == args.tags[0]) {
      skipped_bento = true;
      continue;
    }
    forwarded.push_back(arg);
  }
  std::vector<char*> argv;
  for (auto& arg : forwarded) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::execv(service.c_str(), argv.data());
  spdlog::error("cannot run the bento's service {}: {}", service, std::strerror(errno));
  return 1;
}

int RunServe(const ServeArgs& args) {
  manager::ManagerOptions options = args.model.models;
  const int workers = args.serve.app.workers > 0 ? args.serve.app.workers : AvailableCpus();
  options.unbatched_threads = std::max(1, AvailableCpus() / workers);
  options.api_workers = workers;
  options.choose_batch_size = !args.model.max_batch_size_given;
  auto manager = manager::ModelManager::Create(args.tags, std::move(options));
  if (!manager.ok()) {
    spdlog::error("{}", manager.status().message());
    return manager.status().code() == StatusCode::kNotFound ? 2 : 1;
  }
  manager::ModelManager* models = manager->get();
  kserve::Protocol protocol(*models);
  serving::ServiceDef service = serving::NoCodeService(*models);
  auto transports = AddKServe(protocol, args.model.grpc_port, &service);
  // Models that fail to load answer 503 with the reason while the others serve; when none
  // loads, there is nothing to serve and bento serve exits 1 (unless models may be loaded
  // later, in explicit mode).
  auto load = [models] {
    (void)models->LoadAll();
    return !models->Served().empty() ||
           models->options().control_mode == manager::ControlMode::kExplicit;
  };
  return serving::Serve(std::move(service), args.serve, load, std::move(transports));
}

}  // namespace

void AddServeCommand(CLI::App& app, std::vector<std::string> command_line, int* exit_code) {
  auto args = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand(
      "serve",
      "Serve stored models over HTTP with no code: POST /run (one model) and "
      "POST /<name>/run (each model); or serve a built bento");
  serve->add_option("tags", args->tags,
                    "Model tags, NAME[:VERSION]; or one bento, by tag or folder (a tag that "
                    "names a bento serves the bento); or one path, as --model-dir; or a "
                    "Python service, MODULE:CLASS (MODULE.py in this folder), run by "
                    "python3 -m bento serve");
  serve->add_option("--model-dir,--model_dir", args->model_dir,
                    "Serve what this path holds: an .onnx file, a model archive, a BentoML "
                    "model folder, a store, a bento, or a folder holding one (KServe's "
                    "/mnt/models). It is only read; imports go to a private temporary store");
  serve->add_option("--model-name,--model_name", args->model_name,
                    "The served name of --model-dir's one model (KServe: the "
                    "InferenceService's name)");
  AddServeFlags(*serve, &args->serve);
  AddModelFlags(*serve, &args->model);
  serve->add_option("--model-control-mode,--model_control_mode", args->control_mode,
                    "Who changes the served models: none (as at start), explicit (POST "
                    "/v2/repository/models/<name>/load and /unload, and gRPC's "
                    "RepositoryModelLoad/Unload) or poll (the store is read every "
                    "--repository-poll-secs for new versions)")
      ->check(CLI::IsMember({"none", "explicit", "poll"}))
      ->capture_default_str();
  serve->add_option("--repository-poll-secs,--repository_poll_secs",
                    args->model.models.poll_secs, "Poll mode: seconds between reads of the store")
      ->check(NumberIn(0.05, 86400))
      ->capture_default_str();
  serve->add_option("--version-policy,--version_policy", args->version_policy,
                    "Which versions of a model given without a version are served: latest:N "
                    "(the `latest` version and the N-1 newest others), all, or specific:V1,V2")
      ->capture_default_str();
  serve->add_option("--reload-policy,--reload_policy", args->reload_policy,
                    "availability: load a new version, then unload the old; resource: unload "
                    "first (the model answers 503, and /readyz too, until the new one loads)")
      ->check(CLI::IsMember({"availability", "resource"}))
      ->capture_default_str();
  serve->add_option("--version-label,--version_label", args->version_labels,
                    "MODEL:LABEL=VERSION, e.g. clf:stable=v1; requests may then name the "
                    "label as the version (/v2/models/clf/versions/stable/infer). Repeatable");
  serve->callback([args, serve, command_line = std::move(command_line), exit_code] {
    ModelFlagsGiven(*serve, &args->model);
    if (Status lifecycle = ApplyLifecycleFlags(*args); !lifecycle.ok()) {
      spdlog::error("{}", lifecycle.message());
      *exit_code = 1;
      return;
    }
    if (!LogLevelFromEnvironment()) spdlog::set_level(spdlog::level::info);
    if (args->model_dir.empty() && args->tags.size() == 1 && IsPythonService(args->tags[0])) {
      *exit_code = ServePython(command_line);
      return;
    }
    std::string path = args->model_dir;
    if (path.empty() && args->tags.size() == 1 && IsPath(args->tags[0])) path = args->tags[0];
    if (!path.empty() && !args->tags.empty() && args->tags[0] != path) {
      spdlog::error("give model tags or --model-dir, not both");
      *exit_code = 1;
      return;
    }
    if (path.empty() && args->tags.empty() &&
        args->model.models.control_mode != manager::ControlMode::kExplicit) {
      spdlog::error("nothing to serve: give model tags, a bento, or --model-dir PATH");
      *exit_code = 1;
      return;
    }
    if (path.empty() && !args->model_name.empty()) {
      spdlog::error("--model-name names the model of --model-dir; tags serve under their names");
      *exit_code = 1;
      return;
    }
    if (args->tags.size() == 1 || !path.empty()) {
      auto bento = FindBento(path.empty() ? args->tags[0] : path);
      if (!bento.ok()) {
        spdlog::error("{}", bento.status().message());
        *exit_code = 1;
        return;
      }
      if (*bento) {
        if (args->tags.empty()) args->tags.push_back(path);
        *exit_code = ServeBento(**bento, command_line, *args);
        return;
      }
    }
    if (!path.empty()) {
      *exit_code = ServeModelDir(path, *args);
      return;
    }
    *exit_code = RunServe(*args);
  });
}

}  // namespace bento::cli
