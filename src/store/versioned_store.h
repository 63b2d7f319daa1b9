// VersionedStore: the on-disk layout and the atomic-write protocol that BentoML's model store
// and bento store share. ModelStore (model.yaml) and BentoStore (bento.yaml) are each one
// instance of it.
//
//   <home>/<folder>/<name>/<version>/<yaml>   one version, written whole
//   <home>/<folder>/<name>/latest             text file holding the newest version
//   <home>/<folder>/.lock                     flock guarding writers (a file: BentoML ignores it)
//   <home>/tmp/                               staging for writes and imports (same filesystem)
//
// A version is written into a staging folder under tmp/, fsynced, and renamed into place while
// holding the lock; then `latest` is rewritten atomically. A crash leaves either no version or
// a whole one (and at worst a stale staging folder in tmp/). A version is removed by renaming
// it out of <folder>/ first, so readers never see half of one.
//
// Traits name the kind of item: `Info` (with `.tag` and `.creation_time`), `kNoun` ("model"),
// `kFolder` ("models"), `kYaml` ("model.yaml"), and `static StatusOr<Info> Parse(string_view)`.
//
// Thread-safety: holds only paths; every method may be called from many threads and processes
// at once. Writers serialize on the lock file. Readers take no lock.
#ifndef BENTO_STORE_VERSIONED_STORE_H_
#define BENTO_STORE_VERSIONED_STORE_H_

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "bento/model.h"
#include "bento/status.h"

namespace bento::store {

namespace stdfs = std::filesystem;

// One version as found in a store.
template <typename Info>
struct Stored {
  Info info;
  stdfs::path path;  // the version folder
};

// A write in progress: the caller fills `dir()` (a staging folder under tmp/), then a store
// commits it. Destroying it uncommitted removes the staging folder.
class PendingVersion {
 public:
  PendingVersion(Tag tag, stdfs::path dir) : tag_(std::move(tag)), dir_(std::move(dir)) {}
  PendingVersion(PendingVersion&& other) noexcept;
  PendingVersion& operator=(PendingVersion&&) = delete;
  PendingVersion(const PendingVersion&) = delete;
  ~PendingVersion();

  const Tag& tag() const { return tag_; }
  const stdfs::path& dir() const { return dir_; }  // empty once committed or moved from
  // Called by the store once the folder is in place: there is nothing left to remove.
  void MarkCommitted() { dir_.clear(); }

 private:
  Tag tag_;
  stdfs::path dir_;
};

template <typename Traits>
class VersionedStore {
 public:
  using Info = typename Traits::Info;
  using Item = Stored<Info>;

  // REQUIRES: `home` is absolute and normal.
  explicit VersionedStore(stdfs::path home) : home_(std::move(home)) {}

  const stdfs::path& home() const { return home_; }
  stdfs::path dir() const { return home_ / Traits::kFolder; }
  stdfs::path tmp_dir() const { return home_ / "tmp"; }

  // A new staging folder tmp/<prefix>XXXXXX (tmp/ is made on first use, so a read-only
  // store can still be read).
  StatusOr<stdfs::path> MakeStaging(std::string_view prefix) const;

  // Every version, or every version of `name`, newest first. Folders that are not valid
  // versions are skipped with a logged warning.
  StatusOr<std::vector<Item>> List(std::optional<std::string_view> name = {}) const;

  // Resolves "name" (latest), "name:version" or a unique version prefix. NOT_FOUND if nothing
  // matches; INVALID_ARGUMENT for a bad tag or an ambiguous prefix.
  StatusOr<Item> Get(const Tag& tag) const;

  // Moves the complete folder `staging` (under tmp_dir(), holding its yaml) into place as
  // `info.tag`, fsyncing it first, and points `latest` at it unless a newer version (by
  // creation_time) is latest already, as BentoML does. ALREADY_EXISTS if the tag exists.
  StatusOr<stdfs::path> Install(const stdfs::path& staging, const Info& info) const;

  // Removes one version and repoints `latest` at the newest remaining one, or removes the
  // name's folder when none remains. An exact version goes even when its yaml is unreadable.
  Status Delete(std::string_view tag) const;

  // Writes the version folder as a tar archive (gz when `path` ends in .gz or .tgz, xz
  // otherwise), with the yaml at the root. Written beside `path` and renamed, so a failed
  // export leaves nothing. Returns the path.
  StatusOr<stdfs::path> Export(std::string_view tag, const stdfs::path& path) const;

  // Imports such an archive (xz or gz, detected from content); the tag comes from its yaml
  // (at the root, or in a single top-level folder). See internal::ExtractTarball for what is
  // refused. On any failure the store is unchanged and no staging is left.
  StatusOr<Tag> Import(const stdfs::path& archive) const;

 private:
  stdfs::path home_;
};

}  // namespace bento::store

#endif  // BENTO_STORE_VERSIONED_STORE_H_
