#include "store/model_store.h"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iterator>

#include "base/fs.h"
#include "store/archive.h"
#include "store/model_yaml.h"

namespace bento::store {
namespace {

constexpr std::string_view kLatestFile = "latest";
constexpr std::string_view kLockFile = ".lock";

bool IsValidPart(const std::string& name) {
  return !name.empty() && name[0] != '.' && Tag::ValidateName(name).ok();
}

// Sub-folders of `dir` whose names are valid tag parts; dot-folders silently skipped, other
// invalid names with a warning. A missing `dir` has none.
std::vector<std::string> TagFolders(const stdfs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = stdfs::directory_iterator(dir, ec); !ec && it != stdfs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (name.starts_with(".") || !it->is_directory(type_ec)) continue;
    if (!IsValidPart(name)) {
      spdlog::warn("model store: skipping {}: '{}' is not a valid name", it->path().string(),
                   name);
      continue;
    }
    out.push_back(std::move(name));
  }
  return out;
}

bool IsDir(const stdfs::path& path) {
  std::error_code ec;
  return stdfs::is_directory(path, ec);
}

// The version named in <name_dir>/latest, if it is a valid version name.
std::optional<std::string> ReadLatest(const stdfs::path& name_dir) {
  auto text = fs::ReadFile(name_dir / kLatestFile);
  if (!text.ok()) return std::nullopt;
  std::string version = *text;
  while (!version.empty() && std::isspace(static_cast<unsigned char>(version.back()))) {
    version.pop_back();
  }
  while (!version.empty() && std::isspace(static_cast<unsigned char>(version.front()))) {
    version.erase(0, 1);
  }
  if (!IsValidPart(version)) return std::nullopt;
  return version;
}

// Reads one version folder; DATA_LOSS when its model.yaml is missing, bad, or names
// another tag.
StatusOr<StoredModel> LoadVersion(const stdfs::path& dir, const Tag& expected) {
  stdfs::path yaml = dir / kModelYaml;
  auto text = fs::ReadFile(yaml);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) {
      return DataLossError("model " + expected.ToString() + " has no " + yaml.string());
    }
    return text.status();
  }
  auto info = ParseModelYaml(*text);
  if (!info.ok()) return DataLossError(yaml.string() + ": " + info.status().message());
  if (info->tag != expected) {
    return DataLossError(yaml.string() + " names tag " + info->tag.ToString() +
                         " but its folder is " + expected.ToString());
  }
  return StoredModel{std::move(*info), dir};
}

bool NewestFirst(const StoredModel& a, const StoredModel& b) {
  if (a.info.creation_time != b.info.creation_time) {
    return a.info.creation_time > b.info.creation_time;
  }
  return a.info.tag > b.info.tag;
}

// Every loadable version of `name`, newest first; bad ones are skipped with a warning.
std::vector<StoredModel> ListVersions(const stdfs::path& models_dir, const std::string& name) {
  std::vector<StoredModel> out;
  for (const std::string& version : TagFolders(models_dir / name)) {
    auto model = LoadVersion(models_dir / name / version, Tag{name, version});
    if (!model.ok()) {
      spdlog::warn("model store: skipping {}:{}: {}", name, version, model.status().message());
      continue;
    }
    out.push_back(std::move(*model));
  }
  std::sort(out.begin(), out.end(), NewestFirst);
  return out;
}

Status Rename(const stdfs::path& from, const stdfs::path& to) {
  std::error_code ec;
  stdfs::rename(from, to, ec);
  if (ec) {
    return InternalError("rename " + from.string() + " to " + to.string() + ": " + ec.message());
  }
  return OkStatus();
}

// Moves the complete, fsynced folder `staging` into place as `info.tag` and points `latest` at
// it when it is the newest version (as BentoML does; an imported old version does not become
// latest). REQUIRES: the caller holds the store lock.
StatusOr<stdfs::path> Install(const stdfs::path& models_dir, const stdfs::path& staging,
                              const ModelInfo& info) {
  const stdfs::path name_dir = models_dir / info.tag.name;
  const stdfs::path target = name_dir / info.tag.version;
  bool new_name = !IsDir(name_dir);
  RETURN_IF_ERROR(fs::MakeDirs(name_dir));
  if (new_name) RETURN_IF_ERROR(fs::Fsync(models_dir));
  std::error_code ec;
  if (stdfs::exists(target, ec)) {
    return AlreadyExistsError("model " + info.tag.ToString() + " already exists in store " +
                              models_dir.string());
  }
  RETURN_IF_ERROR(Rename(staging, target));
  RETURN_IF_ERROR(fs::Fsync(name_dir));
  RETURN_IF_ERROR(fs::Fsync(staging.parent_path()));

  bool is_latest = true;
  if (auto current = ReadLatest(name_dir); current && *current != info.tag.version) {
    auto latest = LoadVersion(name_dir / *current, Tag{info.tag.name, *current});
    is_latest = !latest.ok() || latest->info.creation_time <= info.creation_time;
  }
  if (is_latest) RETURN_IF_ERROR(fs::WriteFileAtomic(name_dir / kLatestFile, info.tag.version));
  return target;
}

// BentoML refuses to load a model whose metadata holds null anywhere (its
// _validate_metadata_entry accepts only str, bytes, bool, int, float and containers).
Status ValidateMetadata(const Json& value, const std::string& where) {
  if (value.is_null()) {
    return InvalidArgumentError("metadata " + where +
                                " is null, which BentoML cannot load; leave the key out instead");
  }
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      RETURN_IF_ERROR(ValidateMetadata(item, where.empty() ? key : where + "." + key));
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      RETURN_IF_ERROR(ValidateMetadata(value[i], where + "[" + std::to_string(i) + "]"));
    }
  }
  return OkStatus();
}

// Removes its folder when it goes out of scope (a missing folder is fine).
class RemoveOnExit {
 public:
  explicit RemoveOnExit(stdfs::path dir) : dir_(std::move(dir)) {}
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  ~RemoveOnExit() {
    Status status = fs::RemoveAll(dir_);
    if (!status.ok()) spdlog::warn("model store: cleaning up: {}", status.ToString());
  }

 private:
  stdfs::path dir_;
};

}  // namespace

PendingModel::PendingModel(PendingModel&& other) noexcept
    : tag_(std::move(other.tag_)), dir_(std::move(other.dir_)) {
  other.dir_.clear();
}

PendingModel::~PendingModel() {
  if (dir_.empty()) return;
  Status status = fs::RemoveAll(dir_);
  if (!status.ok()) spdlog::warn("uncommitted model {}: {}", tag_.ToString(), status.ToString());
}

stdfs::path ModelStore::DefaultHome() {
  if (const char* home = std::getenv("BENTOML_HOME"); home != nullptr && *home != '\0') {
    return home;
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return stdfs::path(home) / "bentoml";
  }
  if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    return stdfs::path(pw->pw_dir) / "bentoml";
  }
  return "bentoml";
}

StatusOr<ModelStore> ModelStore::Open(const stdfs::path& home) {
  std::error_code ec;
  stdfs::path absolute = stdfs::absolute(home, ec);
  if (ec) return InvalidArgumentError("bad store path " + home.string() + ": " + ec.message());
  ModelStore store(absolute.lexically_normal());
  RETURN_IF_ERROR(fs::MakeDirs(store.models_dir()));
  RETURN_IF_ERROR(fs::MakeDirs(store.home() / "tmp"));
  return store;
}

StatusOr<std::vector<StoredModel>> ModelStore::List(std::optional<std::string_view> name) const {
  if (name) {
    RETURN_IF_ERROR(Tag::ValidateName(*name));
    return ListVersions(models_dir(), std::string(*name));
  }
  std::vector<StoredModel> out;
  for (const std::string& model_name : TagFolders(models_dir())) {
    auto versions = ListVersions(models_dir(), model_name);
    std::move(versions.begin(), versions.end(), std::back_inserter(out));
  }
  std::sort(out.begin(), out.end(), NewestFirst);
  return out;
}

StatusOr<StoredModel> ModelStore::Get(std::string_view tag) const {
  ASSIGN_OR_RETURN(Tag parsed, Tag::Parse(tag));
  return Get(parsed);
}

StatusOr<StoredModel> ModelStore::Get(const Tag& tag) const {
  RETURN_IF_ERROR(Tag::ValidateName(tag.name));
  const stdfs::path name_dir = models_dir() / tag.name;
  auto not_found = [&] {
    return NotFoundError("model '" + tag.ToString() + "' not found in store " +
                         models_dir().string());
  };
  if (!tag.has_version()) {
    if (auto latest = ReadLatest(name_dir); latest && IsDir(name_dir / *latest)) {
      return LoadVersion(name_dir / *latest, Tag{tag.name, *latest});
    }
    std::vector<StoredModel> versions = ListVersions(models_dir(), tag.name);
    if (versions.empty()) return not_found();
    return std::move(versions.front());
  }
  if (!IsValidPart(tag.version)) {
    return InvalidArgumentError("invalid version in tag '" + tag.ToString() + "'");
  }
  if (IsDir(name_dir / tag.version)) return LoadVersion(name_dir / tag.version, tag);
  std::vector<std::string> matches;
  for (const std::string& version : TagFolders(name_dir)) {
    if (version.starts_with(tag.version)) matches.push_back(version);
  }
  if (matches.empty()) return not_found();
  if (matches.size() > 1) {
    std::sort(matches.begin(), matches.end());
    std::string list;
    for (const auto& m : matches) list += (list.empty() ? "" : ", ") + tag.name + ":" + m;
    return InvalidArgumentError("version prefix '" + tag.ToString() +
                                "' is ambiguous: it matches " + list);
  }
  return LoadVersion(name_dir / matches[0], Tag{tag.name, matches[0]});
}

StatusOr<PendingModel> ModelStore::BeginSave(std::string_view name) const {
  RETURN_IF_ERROR(Tag::ValidateName(name));
  ASSIGN_OR_RETURN(stdfs::path dir,
                   fs::MakeTempDir(home_ / "tmp", "save-" + std::string(name) + "-"));
  return PendingModel(Tag{std::string(name), Tag::NewVersion()}, std::move(dir));
}

StatusOr<StoredModel> ModelStore::Commit(PendingModel pending, ModelInfo info,
                                         const Json& custom_objects) const {
  if (pending.dir_.empty()) {
    return FailedPreconditionError("model " + pending.tag_.ToString() + " was already committed");
  }
  info.tag = pending.tag_;
  if (info.metadata.is_null()) info.metadata = Json::object();
  if (!info.metadata.is_object()) return InvalidArgumentError("metadata must be a JSON object");
  RETURN_IF_ERROR(ValidateMetadata(info.metadata, ""));
  // model.yaml keeps microseconds; keep the in-memory info equal to what a reader will see.
  if (info.creation_time == std::chrono::system_clock::time_point{}) {
    info.creation_time = std::chrono::system_clock::now();
  }
  info.creation_time = std::chrono::floor<std::chrono::microseconds>(info.creation_time);
  RETURN_IF_ERROR(fs::WriteFile(pending.dir_ / kModelYaml, WriteModelYaml(info)));
  if (!custom_objects.is_null()) {
    std::string text;
    try {
      text = custom_objects.dump(2);
    } catch (const Json::exception& e) {
      return InvalidArgumentError(std::string("custom_objects cannot be written as JSON: ") +
                                  e.what());
    }
    RETURN_IF_ERROR(fs::WriteFile(pending.dir_ / kCustomObjectsJson, text));
  }
  RETURN_IF_ERROR(fs::FsyncTree(pending.dir_));
  ASSIGN_OR_RETURN(fs::FileLock lock, fs::FileLock::Acquire(models_dir() / kLockFile));
  ASSIGN_OR_RETURN(stdfs::path path, Install(models_dir(), pending.dir_, info));
  pending.dir_.clear();
  return StoredModel{std::move(info), std::move(path)};
}

Status ModelStore::Delete(std::string_view tag) const {
  ASSIGN_OR_RETURN(Tag parsed, Tag::Parse(tag));
  ASSIGN_OR_RETURN(fs::FileLock lock, fs::FileLock::Acquire(models_dir() / kLockFile));
  const stdfs::path name_dir = models_dir() / parsed.name;
  // An exact version is deleted even when its model.yaml is unreadable.
  std::string version = parsed.version;
  if (!parsed.has_version() || !IsDir(name_dir / version)) {
    ASSIGN_OR_RETURN(StoredModel model, Get(parsed));
    version = model.info.tag.version;
  }
  // Move the folder out of models/ in one step, so readers never see half a model.
  ASSIGN_OR_RETURN(stdfs::path trash, fs::MakeTempDir(home_ / "tmp", "delete-"));
  RemoveOnExit remove_trash(trash);
  RETURN_IF_ERROR(Rename(name_dir / version, trash / version));
  RETURN_IF_ERROR(fs::Fsync(name_dir));

  std::vector<StoredModel> remaining = ListVersions(models_dir(), parsed.name);
  if (!remaining.empty()) {
    return fs::WriteFileAtomic(name_dir / kLatestFile, remaining.front().info.tag.version);
  }
  if (!TagFolders(name_dir).empty()) {  // only unreadable versions are left: keep them
    spdlog::warn("model store: {} holds no readable version after deleting {}",
                 name_dir.string(), version);
    return fs::RemoveAll(name_dir / kLatestFile);
  }
  RETURN_IF_ERROR(fs::RemoveAll(name_dir));
  return fs::Fsync(models_dir());
}

StatusOr<stdfs::path> ModelStore::Export(std::string_view tag, const stdfs::path& path) const {
  ASSIGN_OR_RETURN(StoredModel model, Get(tag));
  const stdfs::path folder = path.parent_path().empty() ? stdfs::path(".") : path.parent_path();
  std::error_code ec;
  if (!stdfs::is_directory(folder, ec)) {
    return NotFoundError("cannot export to " + path.string() + ": there is no folder " +
                         folder.string());
  }
  std::string ext = path.extension().string();
  auto compression = (ext == ".gz" || ext == ".tgz") ? internal::Compression::kGzip
                                                      : internal::Compression::kXz;
  // Written beside the destination and renamed, so a failed export leaves no partial file.
  stdfs::path partial = path;
  partial += ".partial-" + std::to_string(::getpid()) + "-" + Tag::NewVersion();
  Status status = internal::WriteTarball(model.path, partial, compression);
  if (status.ok()) status = Rename(partial, path);
  if (!status.ok()) {
    (void)fs::RemoveAll(partial);
    return status;
  }
  RETURN_IF_ERROR(fs::Fsync(folder));
  return path;
}

StatusOr<Tag> ModelStore::Import(const stdfs::path& archive) const {
  std::error_code ec;
  if (!stdfs::is_regular_file(archive, ec)) {
    return NotFoundError("no archive file at " + archive.string());
  }
  ASSIGN_OR_RETURN(stdfs::path staging, fs::MakeTempDir(home_ / "tmp", "import-"));
  RemoveOnExit remove_staging(staging);
  RETURN_IF_ERROR(internal::ExtractTarball(archive, staging));

  // model.yaml at the root, or inside a single top-level folder.
  stdfs::path root = staging;
  if (!stdfs::is_regular_file(root / kModelYaml, ec)) {
    std::vector<stdfs::path> top;
    for (const auto& entry : stdfs::directory_iterator(staging, ec)) top.push_back(entry.path());
    if (top.size() == 1 && IsDir(top[0]) && stdfs::is_regular_file(top[0] / kModelYaml, ec)) {
      root = top[0];
    } else {
      return InvalidArgumentError(archive.string() + " has no model.yaml at its root");
    }
  }
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(root / kModelYaml));
  auto info = ParseModelYaml(text);
  if (!info.ok()) return info.status().WithContext(archive.string());
  RETURN_IF_ERROR(fs::FsyncTree(root));
  ASSIGN_OR_RETURN(fs::FileLock lock, fs::FileLock::Acquire(models_dir() / kLockFile));
  RETURN_IF_ERROR(Install(models_dir(), root, *info));
  return info->tag;
}

StatusOr<Json> ModelStore::ReadCustomObjects(const StoredModel& model) {
  auto text = fs::ReadFile(model.path / kCustomObjectsJson);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return Json::object();
    return text.status();
  }
  try {
    return Json::parse(*text);
  } catch (const Json::exception& e) {
    return DataLossError((model.path / kCustomObjectsJson).string() + ": " + e.what());
  }
}

}  // namespace bento::store
