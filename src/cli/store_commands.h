// The commands that `bento models ...` (the model store) and `bento get|delete|export|import`
// (the bento store) share, written once over either store: ModelStore and BentoStore have
// the same Get, Delete, Export and Import (both are store::VersionedStore instances).
#ifndef BENTO_CLI_STORE_COMMANDS_H_
#define BENTO_CLI_STORE_COMMANDS_H_

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "bento/json.h"
#include "cli/output.h"

namespace bento::cli {

// `get`: the item's yaml file (`yaml`), its JSON summary (`to_json`) or its folder.
template <typename Store, typename ToJson>
int GetCommand(const StatusOr<Store>& store, const std::string& tag, const std::string& output,
               std::string_view yaml, ToJson to_json) {
  if (!store.ok()) return Fail(store.status());
  auto item = store->Get(tag);
  if (!item.ok()) return Fail(item.status());
  if (output == "path") {
    std::cout << item->path.string() << "\n";
  } else if (output == "json") {
    std::cout << to_json(*item).dump(2) << "\n";
  } else {
    auto text = fs::ReadFile(item->path / yaml);
    if (!text.ok()) return Fail(text.status());
    std::cout << *text;
  }
  return 0;
}

// `delete`: one version, after asking unless `yes`.
template <typename Store>
int DeleteCommand(const StatusOr<Store>& store, std::string_view noun, const std::string& tag,
                  bool yes) {
  if (!store.ok()) return Fail(store.status());
  auto item = store->Get(tag);
  if (!item.ok()) return Fail(item.status());
  const std::string resolved = item->info.tag.ToString();
  if (!yes && !Confirm("Delete " + std::string(noun) + " " + resolved + "?")) return 1;
  Status status = store->Delete(resolved);
  if (!status.ok()) return Fail(status);
  std::cout << "deleted " << resolved << "\n";
  return 0;
}

// `export`: to `path`, or NAME-VERSION<extension> in `path` (a folder) or here.
template <typename Store>
int ExportCommand(const StatusOr<Store>& store, const std::string& tag, std::string path,
                  std::string_view extension) {
  if (!store.ok()) return Fail(store.status());
  auto item = store->Get(tag);
  if (!item.ok()) return Fail(item.status());
  const std::string file =
      item->info.tag.name + "-" + item->info.tag.version + std::string(extension);
  std::error_code ec;
  if (path.empty()) {
    path = file;
  } else if (std::filesystem::is_directory(path, ec)) {
    path = (std::filesystem::path(path) / file).string();
  }
  auto written = store->Export(item->info.tag.ToString(), path);
  if (!written.ok()) return Fail(written.status());
  std::cout << written->string() << "\n";
  return 0;
}

// `import`: prints the imported tag.
template <typename Store>
int ImportCommand(const StatusOr<Store>& store, const std::string& path) {
  if (!store.ok()) return Fail(store.status());
  auto tag = store->Import(path);
  if (!tag.ok()) return Fail(tag.status());
  std::cout << tag->ToString() << "\n";
  return 0;
}

// Registers `get`, `delete`, `export` and `import` on `parent` for one store: `noun` names
// its items ("model"), `yaml` their file, `extension` their archives (".bentomodel"); `open`
// opens the store and `to_json` summarises an item.
template <typename Open, typename ToJson>
void AddStoreCommands(CLI::App& parent, const std::string& noun, std::string_view yaml,
                      const std::string& extension, Open open, ToJson to_json, int* exit_code) {
  auto get_tag = std::make_shared<std::string>();
  auto get_output = std::make_shared<std::string>("yaml");
  auto* get = parent.add_subcommand(
      "get", "Show a " + noun + "'s " + std::string(yaml) + ", JSON summary or path");
  get->add_option("tag", *get_tag, "NAME[:VERSION]")->required();
  get->add_option("-o,--output", *get_output, "yaml, json or path")
      ->check(CLI::IsMember({"yaml", "json", "path"}));
  get->callback([=] { *exit_code = GetCommand(open(), *get_tag, *get_output, yaml, to_json); });

  auto delete_tags = std::make_shared<std::vector<std::string>>();
  auto delete_yes = std::make_shared<bool>(false);
  auto* del =
      parent.add_subcommand("delete", "Delete " + noun + " versions; `latest` is repointed");
  del->add_option("tag", *delete_tags, "NAME:VERSION or NAME (the latest), one or more")
      ->required();
  del->add_flag("-y,--yes", *delete_yes, "Do not ask for confirmation");
  del->callback([=] {
    // Each in turn, as BentoML does; the exit code is the first failure's.
    for (const std::string& tag : *delete_tags) {
      const int code = DeleteCommand(open(), noun, tag, *delete_yes);
      if (*exit_code == 0) *exit_code = code;
    }
  });

  auto export_tag = std::make_shared<std::string>();
  auto export_path = std::make_shared<std::string>();
  auto* exp = parent.add_subcommand("export", "Write a " + noun + " to a " + extension + " archive");
  exp->add_option("tag", *export_tag, "NAME[:VERSION]")->required();
  exp->add_option("path", *export_path,
                  "Archive path or folder (default ./NAME-VERSION" + extension +
                      "; .gz for gzip)");
  exp->callback(
      [=] { *exit_code = ExportCommand(open(), *export_tag, *export_path, extension); });

  auto import_path = std::make_shared<std::string>();
  auto* imp =
      parent.add_subcommand("import", "Import a " + extension + " archive; prints the tag");
  imp->add_option("path", *import_path, "Archive path")->required();
  imp->callback([=] { *exit_code = ImportCommand(open(), *import_path); });
}

}  // namespace bento::cli

#endif  // BENTO_CLI_STORE_COMMANDS_H_
