// The commands that `bento models ...` (the model store) and `bento get|delete|export|import`
// (the bento store) share, written once over either store: ModelStore and BentoStore have
// the same Get, Delete, Export and Import (both are store::VersionedStore instances).
#ifndef BENTO_CLI_STORE_COMMANDS_H_
#define BENTO_CLI_STORE_COMMANDS_H_

#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

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

}  // namespace bento::cli

#endif  // BENTO_CLI_STORE_COMMANDS_H_
