#include "cli/bento_command.h"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "base/fs.h"
#include "base/subprocess.h"
#include "cli/output.h"
#include "cli/store_commands.h"
#include "ship/build.h"
#include "ship/containerize.h"
#include "ship/runtime_closure.h"
#include "store/model_store.h"
#include "store/model_yaml.h"

namespace bento::cli {
namespace {

namespace stdfs = std::filesystem;
using store::BentoStore;
using store::StoredBento;

StatusOr<BentoStore> OpenBentos() { return BentoStore::Open(store::ModelStore::DefaultHome()); }

// The environment a bento's service runs in: its own models, and this bento's libbento.
std::map<std::string, std::string> ServiceEnvironment(const stdfs::path& bento_dir) {
  return {{"BENTOML_HOME", bento_dir.string()},
          {"LD_LIBRARY_PATH", (fs::InstallRoot() / "lib").string()}};
}

StatusOr<std::string> Describe(const stdfs::path& dir, const store::BentoInfo& info) {
  std::vector<std::string> argv;
  if (!info.service.empty()) {
    argv = {(dir / "bin" / info.service).string()};
  } else {
    argv = {stdfs::canonical("/proc/self/exe").string(), "serve"};
    for (const auto& model : info.models) argv.push_back(model.tag.ToString());
  }
  argv.push_back("--print-openapi");
  ASSIGN_OR_RETURN(ProcessResult run, RunProcess(argv, ServiceEnvironment(dir)));
  if (run.exit_code != 0) {
    return FailedPreconditionError("the bento does not start from its own models (is every "
                                   "model it loads listed in the bentofile?): " +
                                   run.err);
  }
  return run.out;
}

StatusOr<std::vector<std::string>> Packages(const stdfs::path& dir,
                                            const store::BentoInfo& info) {
  ASSIGN_OR_RETURN(ship::BentoInstall install, ship::FindBentoInstall());
  ASSIGN_OR_RETURN(std::vector<stdfs::path> libraries,
                   ship::SharedLibraries(install.binaries(info, dir)));
  return ship::DebianPackages(libraries);
}

int Build(const std::string& context, std::string bentofile) {
  if (bentofile.empty()) bentofile = (stdfs::path(context) / "bentofile.yaml").string();
  auto text = fs::ReadFile(bentofile);
  if (!text.ok()) return Fail(text.status());
  auto file = ship::ParseBentoFile(*text);
  if (!file.ok()) return Fail(file.status().WithContext(bentofile));
  auto models = store::ModelStore::Open();
  if (!models.ok()) return Fail(models.status());
  auto bentos = OpenBentos();
  if (!bentos.ok()) return Fail(bentos.status());
  ship::BuildOptions options{context, BENTO_VERSION, Describe, Packages};
  auto bento = ship::BuildBento(*file, options, *models, *bentos);
  if (!bento.ok()) return Fail(bento.status());
  std::cerr << "Built bento " << bento->info.tag.ToString() << " at " << bento->path.string()
            << "\n";
  std::cout << bento->info.tag.ToString() << "\n";
  return 0;
}

Json BentoJson(const StoredBento& bento) {
  Json models = Json::array();
  for (const auto& model : bento.info.models) models.push_back(model.tag.ToString());
  Json apis = Json::array();
  for (const auto& api : bento.info.apis) apis.push_back({{"name", api.name}, {"route", api.route}});
  return {{"tag", bento.info.tag.ToString()},
          {"service", bento.info.service},
          {"path", bento.path.string()},
          {"size", FolderSize(bento.path)},
          {"labels", bento.info.labels},
          {"models", models},
          {"apis", apis},
          {"creation_time", store::FormatCreationTime(bento.info.creation_time)}};
}

int ListBentos(const std::string& name, const std::string& output) {
  auto bentos = OpenBentos();
  if (!bentos.ok()) return Fail(bentos.status());
  auto list = name.empty() ? bentos->List() : bentos->List(name);
  if (!list.ok()) return Fail(list.status());
  if (output == "json") {
    Json out = Json::array();
    for (const auto& bento : *list) out.push_back(BentoJson(bento));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"Tag", "Service", "Size", "Creation Time"}};
  for (const auto& bento : *list) {
    rows.push_back({bento.info.tag.ToString(),
                    bento.info.service.empty() ? "(no code)" : bento.info.service,
                    HumanSize(FolderSize(bento.path)), TableTime(bento.info.creation_time)});
  }
  PrintTable(rows);
  return 0;
}

// Gzipped image layers by diff_id, shared by every store of this user: a new image of a bento
// whose libraries and models have not changed reuses their layers instead of compressing
// them again. Entries unused for two weeks are removed.
stdfs::path LayerCache() {
  stdfs::path cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    cache = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    cache = stdfs::path(home) / ".cache";
  } else {
    return {};
  }
  cache /= "bento/layers";
  std::error_code ec;
  const auto stale = stdfs::file_time_type::clock::now() - std::chrono::hours(24 * 14);
  for (const auto& entry : stdfs::directory_iterator(cache, ec)) {
    if (entry.last_write_time(ec) < stale) stdfs::remove(entry.path(), ec);
  }
  return cache;
}

int Containerize(const std::string& tag, const std::string& out, const std::string& format) {
  auto bentos = OpenBentos();
  if (!bentos.ok()) return Fail(bentos.status());
  auto bento = bentos->Get(tag);
  if (!bento.ok()) return Fail(bento.status());
  auto install = ship::FindBentoInstall();
  if (!install.ok()) return Fail(install.status());
  auto scratch = fs::MakeTempDir(store::ModelStore::DefaultHome() / "tmp", "containerize-");
  if (!scratch.ok()) return Fail(scratch.status());
  fs::RemoveOnExit cleanup(*scratch);
  auto image = ship::BentoImage(*bento, *install, *scratch);
  if (!image.ok()) return Fail(image.status());
  if (format == "dockerfile") {
    Status status = ship::WriteDockerContext(*image, *bento, out);
    if (!status.ok()) return Fail(status);
    std::cerr << "Wrote a Docker build context to " << out << ": docker build -t "
              << image->ref_name << " " << out << "\n";
    std::cout << out << "\n";
    return 0;
  }
  const ship::ImageFormat kind = format == "oci-archive"      ? ship::ImageFormat::kOciArchive
                                 : format == "docker-archive" ? ship::ImageFormat::kDockerArchive
                                                              : ship::ImageFormat::kOciLayout;
  auto digest = ship::WriteImage(*image, kind, out, LayerCache());
  if (!digest.ok()) return Fail(digest.status());
  std::cerr << "Wrote image " << image->ref_name << " (" << *digest << ") to " << out << "\n";
  std::cout << *digest << "\n";
  return 0;
}

}  // namespace

StatusOr<std::optional<StoredBento>> FindBento(const std::string& arg) {
  std::error_code ec;
  stdfs::path folder(arg);
  if (stdfs::is_regular_file(folder / store::kBentoYaml, ec)) {
    ASSIGN_OR_RETURN(std::string text, fs::ReadFile(folder / store::kBentoYaml));
    auto info = store::ParseBentoYaml(text);
    if (!info.ok()) return info.status().WithContext((folder / store::kBentoYaml).string());
    return std::optional<StoredBento>(StoredBento{*std::move(info), stdfs::canonical(folder)});
  }
  if (!Tag::Parse(arg).ok()) return std::optional<StoredBento>();
  stdfs::path bentos_dir = store::ModelStore::DefaultHome() / "bentos";
  if (!stdfs::is_directory(bentos_dir, ec)) return std::optional<StoredBento>();
  ASSIGN_OR_RETURN(BentoStore bentos, OpenBentos());
  auto bento = bentos.Get(arg);
  if (!bento.ok()) {
    if (bento.status().code() == StatusCode::kNotFound) return std::optional<StoredBento>();
    return bento.status();
  }
  return std::optional<StoredBento>(*std::move(bento));
}

void AddBentoCommands(CLI::App& app, int* exit_code) {
  auto context = std::make_shared<std::string>(".");
  auto bentofile = std::make_shared<std::string>();
  auto* build = app.add_subcommand(
      "build", "Build a bento from bentofile.yaml: its service, models and files; prints the tag");
  build->add_option("build_ctx", *context,
                    "The build context: bentofile paths are relative to it (default .)");
  build->add_option("-f,--bentofile", *bentofile, "The bentofile (default BUILD_CTX/bentofile.yaml)");
  build->callback([=] { *exit_code = Build(*context, *bentofile); });

  auto list_name = std::make_shared<std::string>();
  auto list_output = std::make_shared<std::string>("table");
  auto* list = app.add_subcommand("list", "List built bentos, newest first");
  list->add_option("name", *list_name, "Only this bento's versions");
  list->add_option("-o,--output", *list_output, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  list->callback([=] { *exit_code = ListBentos(*list_name, *list_output); });

  AddStoreCommands(app, "bento", store::kBentoYaml, ".bento", OpenBentos, BentoJson, exit_code);

  auto image_tag = std::make_shared<std::string>();
  auto image_out = std::make_shared<std::string>();
  auto image_format = std::make_shared<std::string>("oci");
  auto* image = app.add_subcommand(
      "containerize",
      "Write a bento's container image with no container daemon; prints its digest");
  image->add_option("tag", *image_tag, "NAME[:VERSION]")->required();
  image->add_option("-o,--output", *image_out, "Where to write it (a new folder or file)")
      ->required();
  image->add_option("--format", *image_format,
                    "oci (an OCI image layout folder), oci-archive or docker-archive (a tar "
                    "for podman load / docker load), or dockerfile (a docker build context)")
      ->check(CLI::IsMember({"oci", "oci-archive", "docker-archive", "dockerfile"}))
      ->capture_default_str();
  image->callback([=] { *exit_code = Containerize(*image_tag, *image_out, *image_format); });
}

}  // namespace bento::cli
