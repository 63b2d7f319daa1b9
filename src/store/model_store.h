// ModelStore: the folder of saved models that bento shares with BentoML.
//
//   $BENTOML_HOME/models/<name>/<version>/{model.yaml, saved_model.onnx, custom_objects.json, ...}
//   $BENTOML_HOME/models/<name>/latest      text file holding the newest version
//
// The layout, the lock and the atomic-write protocol are VersionedStore's
// (store/versioned_store.h): a crash leaves either no model or a whole one.
//
// Thread-safety: a ModelStore holds only its root path; all methods may be called from many
// threads and processes at once. Writers serialize on the lock file.
#ifndef BENTO_STORE_MODEL_STORE_H_
#define BENTO_STORE_MODEL_STORE_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bento/json.h"
#include "bento/model.h"
#include "bento/status.h"
#include "store/versioned_store.h"

namespace bento::store {

namespace stdfs = std::filesystem;

inline constexpr std::string_view kModelFile = "saved_model.onnx";
inline constexpr std::string_view kModelYaml = "model.yaml";
inline constexpr std::string_view kCustomObjectsJson = "custom_objects.json";
inline constexpr std::string_view kCustomObjectsPickle = "custom_objects.pkl";  // BentoML's

struct ModelTraits {
  using Info = ModelInfo;
  static constexpr std::string_view kNoun = "model";
  static constexpr std::string_view kFolder = "models";
  static constexpr std::string_view kYaml = kModelYaml;
  static StatusOr<ModelInfo> Parse(std::string_view text);
};

// A model as found in the store.
using StoredModel = Stored<ModelInfo>;

// A save in progress (store/versioned_store.h): the caller writes the model's files into
// `dir()`, then calls ModelStore::Commit.
using PendingModel = PendingVersion;

class ModelStore {
 public:
  // $BENTOML_HOME if set, else ~/bentoml.
  static stdfs::path DefaultHome();
  // Opens (and creates if needed) the store at `home`.
  static StatusOr<ModelStore> Open(const stdfs::path& home = DefaultHome());

  const stdfs::path& home() const { return models_.home(); }
  stdfs::path models_dir() const { return models_.dir(); }

  // Every model, or every version of `name`, newest first. Folders that are not valid
  // models are skipped with a logged warning.
  StatusOr<std::vector<StoredModel>> List(std::optional<std::string_view> name = {}) const;

  // Resolves "name", "name:latest", "name:version" or a unique version prefix.
  // NOT_FOUND if nothing matches; INVALID_ARGUMENT for a bad tag or an ambiguous prefix.
  StatusOr<StoredModel> Get(std::string_view tag) const;
  StatusOr<StoredModel> Get(const Tag& tag) const;

  // Starts a save of a new version of `name` (a fresh version is generated).
  StatusOr<PendingModel> BeginSave(std::string_view name) const;
  // Writes model.yaml (and custom_objects.json when `custom_objects` is not null) into the
  // pending folder, fsyncs everything and moves it into place; then points `latest` at it
  // unless a newer version (by creation_time) is already latest, as BentoML does.
  // `info.tag` is overwritten with the pending tag; creation_time is trimmed to microseconds
  // (now() when left at the epoch). Metadata holding null is refused with INVALID_ARGUMENT,
  // since BentoML cannot load it.
  StatusOr<StoredModel> Commit(PendingModel pending, ModelInfo info,
                               const Json& custom_objects) const;

  // Removes one version and repoints `latest` at the newest remaining one (by creation_time),
  // or removes the name's folder when none remains.
  Status Delete(std::string_view tag) const;

  // Writes the version folder as a .bentomodel archive (tar; gz when `path` ends in .gz or
  // .tgz, xz otherwise, e.g. .xz or .bentomodel), with model.yaml at the root. The file is
  // written beside `path` and renamed, so a failed export leaves nothing. Returns the path.
  StatusOr<stdfs::path> Export(std::string_view tag, const stdfs::path& path) const;
  // Imports a .bentomodel archive (xz or gz, detected from content). The tag comes from its
  // model.yaml (at the root, or in a single top-level folder); a tag already in the store is
  // refused with ALREADY_EXISTS. Entries that are not regular files or folders, or whose
  // paths escape the folder, are refused (INVALID_ARGUMENT); a corrupt archive gives DATA_LOSS
  // or INVALID_ARGUMENT. On any failure the store is unchanged and no staging is left.
  StatusOr<Tag> Import(const stdfs::path& archive) const;

  // A stored model's custom objects: custom_objects.json (bento's), else custom_objects.pkl
  // (BentoML's) read by the restricted reader of pickle.h. An empty object when it has none,
  // and when the pickle holds other values than JSON's (a warning names the key).
  static StatusOr<Json> ReadCustomObjects(const StoredModel& model);

 private:
  explicit ModelStore(stdfs::path home) : models_(std::move(home)) {}
  VersionedStore<ModelTraits> models_;
};

}  // namespace bento::store

#endif  // BENTO_STORE_MODEL_STORE_H_
