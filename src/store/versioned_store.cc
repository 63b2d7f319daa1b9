#include "store/versioned_store.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <string>

#include "base/fs.h"
#include "store/archive.h"
#include "store/bento_store.h"
#include "store/model_store.h"

namespace bento::store {
namespace {

constexpr std::string_view kLatestFile = "latest";
constexpr std::string_view kLockFile = ".lock";

bool IsValidPart(const std::string& name) {
  return !name.empty() && name[0] != '.' && Tag::ValidateName(name).ok();
}

// Sub-folders of `dir` whose names are valid tag parts; dot-folders silently skipped, other
// invalid names with a warning. A missing `dir` has none.
std::vector<std::string> TagFolders(const stdfs::path& dir, std::string_view noun) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = stdfs::directory_iterator(dir, ec); !ec && it != stdfs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (name.starts_with(".") || !it->is_directory(type_ec)) continue;
    if (!IsValidPart(name)) {
      spdlog::warn("{} store: skipping {}: '{}' is not a valid name", noun, it->path().string(),
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

Status Rename(const stdfs::path& from, const stdfs::path& to) {
  std::error_code ec;
  stdfs::rename(from, to, ec);
  if (ec) {
    return InternalError("rename " + from.string() + " to " + to.string() + ": " + ec.message());
  }
  return OkStatus();
}

// The functions over one kind of item; the class template's methods call these.
template <typename Traits>
struct Ops {
  using Info = typename Traits::Info;
  using Item = Stored<Info>;

  // Reads one version folder; DATA_LOSS when its yaml is missing, bad, or names another tag.
  static StatusOr<Item> LoadVersion(const stdfs::path& dir, const Tag& expected) {
    stdfs::path yaml = dir / Traits::kYaml;
    auto text = fs::ReadFile(yaml);
    if (!text.ok()) {
      if (text.status().code() == StatusCode::kNotFound) {
        return DataLossError(std::string(Traits::kNoun) + " " + expected.ToString() +
                             " has no " + yaml.string());
      }
      return text.status();
    }
    auto info = Traits::Parse(*text);
    if (!info.ok()) return DataLossError(yaml.string() + ": " + info.status().message());
    if (info->tag != expected) {
      return DataLossError(yaml.string() + " names tag " + info->tag.ToString() +
                           " but its folder is " + expected.ToString());
    }
    return Item{std::move(*info), dir};
  }

  static bool NewestFirst(const Item& a, const Item& b) {
    if (a.info.creation_time != b.info.creation_time) {
      return a.info.creation_time > b.info.creation_time;
    }
    return a.info.tag > b.info.tag;
  }

  // Every loadable version of `name`, newest first; bad ones are skipped with a warning.
  static std::vector<Item> ListVersions(const stdfs::path& dir, const std::string& name) {
    std::vector<Item> out;
    for (const std::string& version : TagFolders(dir / name, Traits::kNoun)) {
      auto item = LoadVersion(dir / name / version, Tag{name, version});
      if (!item.ok()) {
        spdlog::warn("{} store: skipping {}:{}: {}", Traits::kNoun, name, version,
                     item.status().message());
        continue;
      }
      out.push_back(std::move(*item));
    }
    std::sort(out.begin(), out.end(), NewestFirst);
    return out;
  }
};

}  // namespace

PendingVersion::PendingVersion(PendingVersion&& other) noexcept
    : tag_(std::move(other.tag_)), dir_(std::move(other.dir_)) {
  other.dir_.clear();
}

PendingVersion::~PendingVersion() {
  if (dir_.empty()) return;
  Status status = fs::RemoveAll(dir_);
  if (!status.ok()) spdlog::warn("uncommitted {}: {}", tag_.ToString(), status.ToString());
}

template <typename Traits>
StatusOr<stdfs::path> VersionedStore<Traits>::MakeStaging(std::string_view prefix) const {
  RETURN_IF_ERROR(fs::MakeDirs(tmp_dir()));
  return fs::MakeTempDir(tmp_dir(), prefix);
}

template <typename Traits>
StatusOr<std::vector<Stored<typename Traits::Info>>> VersionedStore<Traits>::List(
    std::optional<std::string_view> name) const {
  using O = Ops<Traits>;
  if (name) {
    RETURN_IF_ERROR(Tag::ValidateName(*name));
    return O::ListVersions(dir(), std::string(*name));
  }
  std::vector<Item> out;
  for (const std::string& item_name : TagFolders(dir(), Traits::kNoun)) {
    auto versions = O::ListVersions(dir(), item_name);
    std::move(versions.begin(), versions.end(), std::back_inserter(out));
  }
  std::sort(out.begin(), out.end(), O::NewestFirst);
  return out;
}

template <typename Traits>
StatusOr<Stored<typename Traits::Info>> VersionedStore<Traits>::Get(const Tag& tag) const {
  using O = Ops<Traits>;
  RETURN_IF_ERROR(Tag::ValidateName(tag.name));
  const stdfs::path name_dir = dir() / tag.name;
  auto not_found = [&] {
    return NotFoundError(std::string(Traits::kNoun) + " '" + tag.ToString() +
                         "' not found in store " + dir().string());
  };
  if (!tag.has_version()) {
    if (auto latest = ReadLatest(name_dir); latest && IsDir(name_dir / *latest)) {
      return O::LoadVersion(name_dir / *latest, Tag{tag.name, *latest});
    }
    std::vector<Item> versions = O::ListVersions(dir(), tag.name);
    if (versions.empty()) return not_found();
    return std::move(versions.front());
  }
  if (!IsValidPart(tag.version)) {
    return InvalidArgumentError("invalid version in tag '" + tag.ToString() + "'");
  }
  if (IsDir(name_dir / tag.version)) return O::LoadVersion(name_dir / tag.version, tag);
  std::vector<std::string> matches;
  for (const std::string& version : TagFolders(name_dir, Traits::kNoun)) {
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
  return O::LoadVersion(name_dir / matches[0], Tag{tag.name, matches[0]});
}

template <typename Traits>
StatusOr<stdfs::path> VersionedStore<Traits>::Install(const stdfs::path& staging,
                                                      const Info& info) const {
  using O = Ops<Traits>;
  RETURN_IF_ERROR(fs::FsyncTree(staging));
  ASSIGN_OR_RETURN(fs::FileLock lock, fs::FileLock::Acquire(dir() / kLockFile));
  const stdfs::path name_dir = dir() / info.tag.name;
  const stdfs::path target = name_dir / info.tag.version;
  bool new_name = !IsDir(name_dir);
  RETURN_IF_ERROR(fs::MakeDirs(name_dir));
  if (new_name) RETURN_IF_ERROR(fs::Fsync(dir()));
  std::error_code ec;
  if (stdfs::exists(target, ec)) {
    return AlreadyExistsError(std::string(Traits::kNoun) + " " + info.tag.ToString() +
                              " already exists in store " + dir().string());
  }
  RETURN_IF_ERROR(Rename(staging, target));
  RETURN_IF_ERROR(fs::Fsync(name_dir));
  RETURN_IF_ERROR(fs::Fsync(staging.parent_path()));

  bool is_latest = true;
  if (auto current = ReadLatest(name_dir); current && *current != info.tag.version) {
    auto latest = O::LoadVersion(name_dir / *current, Tag{info.tag.name, *current});
    is_latest = !latest.ok() || latest->info.creation_time <= info.creation_time;
  }
  if (is_latest) RETURN_IF_ERROR(fs::WriteFileAtomic(name_dir / kLatestFile, info.tag.version));
  return target;
}

template <typename Traits>
Status VersionedStore<Traits>::Delete(std::string_view tag) const {
  using O = Ops<Traits>;
  ASSIGN_OR_RETURN(Tag parsed, Tag::Parse(tag));
  ASSIGN_OR_RETURN(fs::FileLock lock, fs::FileLock::Acquire(dir() / kLockFile));
  const stdfs::path name_dir = dir() / parsed.name;
  std::string version = parsed.version;
  if (!parsed.has_version() || !IsDir(name_dir / version)) {
    ASSIGN_OR_RETURN(Item item, Get(parsed));
    version = item.info.tag.version;
  }
  ASSIGN_OR_RETURN(stdfs::path trash, MakeStaging("delete-"));
  fs::RemoveOnExit remove_trash(trash);
  RETURN_IF_ERROR(Rename(name_dir / version, trash / version));
  RETURN_IF_ERROR(fs::Fsync(name_dir));

  std::vector<Item> remaining = O::ListVersions(dir(), parsed.name);
  if (!remaining.empty()) {
    return fs::WriteFileAtomic(name_dir / kLatestFile, remaining.front().info.tag.version);
  }
  if (!TagFolders(name_dir, Traits::kNoun).empty()) {  // only unreadable versions: keep them
    spdlog::warn("{} store: {} holds no readable version after deleting {}", Traits::kNoun,
                 name_dir.string(), version);
    return fs::RemoveAll(name_dir / kLatestFile);
  }
  RETURN_IF_ERROR(fs::RemoveAll(name_dir));
  return fs::Fsync(dir());
}

template <typename Traits>
StatusOr<stdfs::path> VersionedStore<Traits>::Export(std::string_view tag,
                                                     const stdfs::path& path) const {
  ASSIGN_OR_RETURN(Tag parsed, Tag::Parse(tag));
  ASSIGN_OR_RETURN(Item item, Get(parsed));
  const stdfs::path folder = path.parent_path().empty() ? stdfs::path(".") : path.parent_path();
  if (!IsDir(folder)) {
    return NotFoundError("cannot export to " + path.string() + ": there is no folder " +
                         folder.string());
  }
  std::string ext = path.extension().string();
  auto compression = (ext == ".gz" || ext == ".tgz") ? internal::Compression::kGzip
                                                      : internal::Compression::kXz;
  stdfs::path partial = path;
  partial += ".partial-" + std::to_string(::getpid()) + "-" + Tag::NewVersion();
  Status status = internal::WriteTarball(item.path, partial, compression);
  if (status.ok()) status = Rename(partial, path);
  if (!status.ok()) {
    (void)fs::RemoveAll(partial);
    return status;
  }
  RETURN_IF_ERROR(fs::Fsync(folder));
  return path;
}

template <typename Traits>
StatusOr<Tag> VersionedStore<Traits>::Import(const stdfs::path& archive) const {
  std::error_code ec;
  if (!stdfs::is_regular_file(archive, ec)) {
    return NotFoundError("no archive file at " + archive.string());
  }
  ASSIGN_OR_RETURN(stdfs::path staging, MakeStaging("import-"));
  fs::RemoveOnExit remove_staging(staging);
  RETURN_IF_ERROR(internal::ExtractTarball(archive, staging));

  stdfs::path root = staging;
  if (!stdfs::is_regular_file(root / Traits::kYaml, ec)) {
    std::vector<stdfs::path> top;
    for (const auto& entry : stdfs::directory_iterator(staging, ec)) top.push_back(entry.path());
    if (top.size() == 1 && IsDir(top[0]) && stdfs::is_regular_file(top[0] / Traits::kYaml, ec)) {
      root = top[0];
    } else {
      return InvalidArgumentError(archive.string() + " has no " + std::string(Traits::kYaml) +
                                  " at its root");
    }
  }
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(root / Traits::kYaml));
  auto info = Traits::Parse(text);
  if (!info.ok()) return info.status().WithContext(archive.string());
  RETURN_IF_ERROR(Install(root, *info).status());
  return info->tag;
}

template class VersionedStore<ModelTraits>;
template class VersionedStore<BentoTraits>;

}  // namespace bento::store
