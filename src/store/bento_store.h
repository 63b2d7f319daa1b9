// BentoStore: built bentos, in BentoML's bento store layout:
//
//   $BENTOML_HOME/bentos/<name>/<version>/{bento.yaml, models/, bin/, apis/, env/, src/}
//   $BENTOML_HOME/bentos/<name>/latest
//
// The layout, the lock and the atomic-write protocol are VersionedStore's
// (store/versioned_store.h), shared with the model store: a failed or interrupted build
// leaves no bento behind. What a bento holds is store/bento_yaml.h's.
//
// Thread-safety: as ModelStore; holds only its root path.
#ifndef BENTO_STORE_BENTO_STORE_H_
#define BENTO_STORE_BENTO_STORE_H_

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "store/bento_yaml.h"
#include "store/versioned_store.h"

namespace bento::store {

inline constexpr std::string_view kBentoYaml = "bento.yaml";

struct BentoTraits {
  using Info = BentoInfo;
  static constexpr std::string_view kNoun = "bento";
  static constexpr std::string_view kFolder = "bentos";
  static constexpr std::string_view kYaml = kBentoYaml;
  static StatusOr<BentoInfo> Parse(std::string_view text) { return ParseBentoYaml(text); }
};

using StoredBento = Stored<BentoInfo>;

class BentoStore {
 public:
  // Opens (and creates if needed) the bento store at `home` ($BENTOML_HOME by default).
  static StatusOr<BentoStore> Open(const stdfs::path& home);

  stdfs::path bentos_dir() const { return bentos_.dir(); }

  StatusOr<std::vector<StoredBento>> List(std::optional<std::string_view> name = {}) const {
    return bentos_.List(name);
  }
  StatusOr<StoredBento> Get(std::string_view tag) const;

  // Starts a build of a new version of `name`; the caller writes the bento's files into the
  // pending folder, then calls Commit, which writes bento.yaml (with the pending tag) and
  // moves the folder into place.
  StatusOr<PendingVersion> BeginBuild(std::string_view name) const;
  StatusOr<StoredBento> Commit(PendingVersion pending, BentoInfo info) const;

  Status Delete(std::string_view tag) const { return bentos_.Delete(tag); }
  // A .bento archive: a tar (xz, or gz for .gz and .tgz) of the bento's folder.
  StatusOr<stdfs::path> Export(std::string_view tag, const stdfs::path& path) const {
    return bentos_.Export(tag, path);
  }
  StatusOr<Tag> Import(const stdfs::path& archive) const { return bentos_.Import(archive); }

 private:
  explicit BentoStore(stdfs::path home) : bentos_(std::move(home)) {}
  VersionedStore<BentoTraits> bentos_;
};

}  // namespace bento::store

#endif  // BENTO_STORE_BENTO_STORE_H_
