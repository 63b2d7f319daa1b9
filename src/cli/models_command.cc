#include "cli/models_command.h"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "base/fs.h"
#include "base/strings.h"
#include "cli/output.h"
#include "cli/store_commands.h"
#include "bento/onnx.h"
#include "store/model_store.h"
#include "store/model_yaml.h"

namespace bento::cli {
namespace {

namespace stdfs = std::filesystem;
using store::ModelStore;
using store::StoredModel;

// Parses "k=v" pairs; a metadata value is JSON when it parses as JSON, else a string.
StatusOr<std::pair<std::string, std::string>> SplitPair(const std::string& text,
                                                        std::string_view flag) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgumentError(std::string(flag) + " expects KEY=VALUE, got '" + text + "'");
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

// The JSON object in the file a flag names; what is wrong with it otherwise, in words.
StatusOr<Json> ReadJsonObject(std::string_view flag, const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(path));
  Json value;
  try {
    value = Json::parse(text);
  } catch (const Json::parse_error& e) {
    // nlohmann's message after its "[json.exception.parse_error.101] " prefix.
    std::string what = e.what();
    what = what.substr(what.find("] ") == std::string::npos ? 0 : what.find("] ") + 2);
    return InvalidArgumentError(std::string(flag) + " " + path + " is not valid JSON: " + what);
  }
  if (!value.is_object()) {
    return InvalidArgumentError(std::string(flag) + " " + path +
                                " must hold a JSON object, such as {\"key\": \"value\"}; it "
                                "holds a JSON " + value.type_name());
  }
  return value;
}

Json SpecsJson(const std::map<std::string, std::vector<TensorSpec>>& specs) {
  Json out = Json::object();
  for (const auto& [signature, list] : specs) {
    for (const auto& spec : list) out[signature].push_back(spec.ToString());
  }
  return out;
}

// Its custom objects as bento reads them (BentoML's pickled ones too), or null when they are
// unreadable.
Json CustomObjects(const StoredModel& m) {
  auto objects = ModelStore::ReadCustomObjects(m);
  return objects.ok() ? *std::move(objects) : Json(nullptr);
}

Json ModelJson(const StoredModel& m) {
  const ModelInfo& info = m.info;
  Json signatures = Json::object();
  for (const auto& [name, sig] : info.signatures) {
    signatures[name] = {{"batchable", sig.batchable}};
    if (sig.batchable) signatures[name]["batch_dim"] = {sig.batch_dim.first, sig.batch_dim.second};
  }
  return {{"tag", info.tag.ToString()},
          {"module", info.module},
          {"path", m.path.string()},
          {"size", FolderSize(m.path)},
          {"labels", info.labels},
          {"metadata", info.metadata},
          {"custom_objects", CustomObjects(m)},
          {"signatures", signatures},
          {"input_specs", SpecsJson(info.input_specs)},
          {"output_specs", SpecsJson(info.output_specs)},
          {"context", {{"framework_name", info.context.framework_name},
                       {"framework_versions", info.context.framework_versions}}},
          {"creation_time", store::FormatCreationTime(info.creation_time)}};
}

struct SaveArgs {
  std::string path, name;
  std::vector<std::string> labels, metadata;
  std::string custom_objects;  // a JSON file
  std::string metadata_file;   // a JSON file
  bool batchable = false;
  int batch_dim = 0;
};

int Save(SaveArgs args) {
  // BentoML lower-cases a model name, with a warning; so does bento (once the save worked).
  const std::string given = args.name;
  args.name = AsciiLower(args.name);
  onnx::SaveOptions options;
  for (const auto& text : args.labels) {
    auto kv = SplitPair(text, "--label");
    if (!kv.ok()) return Fail(kv.status());
    options.labels[kv->first] = kv->second;
  }
  for (const auto& text : args.metadata) {
    auto kv = SplitPair(text, "--metadata");
    if (!kv.ok()) return Fail(kv.status());
    Json value = Json::parse(kv->second, nullptr, /*allow_exceptions=*/false);
    options.metadata[kv->first] = value.is_discarded() ? Json(kv->second) : value;
  }
  if (!args.metadata_file.empty()) {
    auto file = ReadJsonObject("--metadata-file", args.metadata_file);
    if (!file.ok()) return Fail(file.status());
    file->update(options.metadata);  // --metadata flags win
    options.metadata = *std::move(file);
  }
  if (!args.custom_objects.empty()) {
    auto objects = ReadJsonObject("--custom-objects", args.custom_objects);
    if (!objects.ok()) return Fail(objects.status());
    options.custom_objects = *std::move(objects);
  }
  if (args.batchable) {
    options.signatures["run"] = Signature{true, {args.batch_dim, args.batch_dim}};
  }
  auto tag = onnx::save_model(args.name, args.path, options);
  if (!tag.ok()) return Fail(tag.status());
  if (given != args.name) {
    std::cerr << "warning: model names are lower case: saved '" << given << "' as '"
              << args.name << "'\n";
  }
  std::cout << tag->ToString() << "\n";
  return 0;
}

// `filter`: empty, a name (its versions) or NAME:VERSION_PREFIX, as `bentoml models list`.
int ListModels(const std::string& filter, const std::string& output) {
  auto store = ModelStore::Open();
  if (!store.ok()) return Fail(store.status());
  auto models = store->List();
  if (!models.ok()) return Fail(models.status());
  if (!filter.empty()) {
    const std::string wanted = AsciiLower(filter);
    const size_t colon = wanted.find(':');
    const std::string name = wanted.substr(0, colon);
    const std::string version = colon == std::string::npos ? "" : wanted.substr(colon + 1);
    std::erase_if(*models, [&](const StoredModel& m) {
      return m.info.tag.name != name ||
             (!version.empty() && version != "latest" && !m.info.tag.version.starts_with(version));
    });
    if (version == "latest" && models->size() > 1) models->resize(1);  // newest first
  }
  if (output == "json") {
    Json out = Json::array();
    for (const auto& m : *models) out.push_back(ModelJson(m));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (output == "yaml") {
    for (const auto& m : *models) {
      std::cout << "- tag: " << m.info.tag.ToString() << "\n  module: " << m.info.module
                << "\n  size: " << HumanSize(FolderSize(m.path))
                << "\n  creation_time: '" << store::FormatCreationTime(m.info.creation_time)
                << "'\n";
    }
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"Tag", "Module", "Size", "Creation Time"}};
  for (const auto& m : *models) {
    rows.push_back({m.info.tag.ToString(), m.info.module, HumanSize(FolderSize(m.path)),
                    TableTime(m.info.creation_time)});
  }
  PrintTable(rows);
  return 0;
}

}  // namespace

void AddModelsCommand(CLI::App& app, int* exit_code) {
  auto* models = app.add_subcommand("models", "Manage models in the store ($BENTOML_HOME)");
  models->require_subcommand(1);

  auto save_args = std::make_shared<SaveArgs>();
  auto* save = models->add_subcommand("save", "Save an .onnx file into the store; prints the tag");
  save->add_option("path", save_args->path, "Path to the .onnx file")->required();
  save->add_option("--name,-n", save_args->name, "Model name")->required();
  save->add_option("--label", save_args->labels, "Label KEY=VALUE (repeatable)");
  save->add_option("--metadata", save_args->metadata,
                   "Metadata KEY=VALUE; VALUE is JSON when it parses as JSON (repeatable)");
  save->add_option("--metadata-file", save_args->metadata_file,
                   "JSON file holding an object of metadata");
  save->add_option("--custom-objects", save_args->custom_objects,
                   "JSON file of custom objects (class names, preprocessing parameters, ...)");
  auto* batchable = save->add_flag("--batchable", save_args->batchable,
                                   "Save the signature run: {batchable: true}");
  save->add_option("--batch-dim", save_args->batch_dim, "Batch dimension (with --batchable)")
      ->needs(batchable);
  save->callback([=] { *exit_code = Save(*save_args); });

  auto list_output = std::make_shared<std::string>("table");
  auto list_filter = std::make_shared<std::string>();
  auto* list = models->add_subcommand("list", "List stored models, newest first");
  list->add_option("tag", *list_filter, "Only this model's versions: NAME or NAME:VERSION_PREFIX");
  list->add_option("-o,--output", *list_output, "table, json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}));
  list->callback([=] { *exit_code = ListModels(*list_filter, *list_output); });

  AddStoreCommands(
      *models, "model", store::kModelYaml, ".bentomodel", [] { return ModelStore::Open(); },
      ModelJson, exit_code);
}

}  // namespace bento::cli
