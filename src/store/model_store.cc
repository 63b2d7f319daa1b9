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
#include "store/pickle.h"

namespace bento::store {
namespace {

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

}  // namespace

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
  // An existing store is only read here, so that a read-only one (a built bento's models,
  // say) opens too; tmp/ is made by the first write.
  std::error_code exists_ec;
  if (!stdfs::is_directory(store.models_dir(), exists_ec)) {
    RETURN_IF_ERROR(fs::MakeDirs(store.models_dir()));
  }
  return store;
}

StatusOr<ModelInfo> ModelTraits::Parse(std::string_view text) { return ParseModelYaml(text); }

StatusOr<std::vector<StoredModel>> ModelStore::List(std::optional<std::string_view> name) const {
  return models_.List(name);
}

StatusOr<StoredModel> ModelStore::Get(std::string_view tag) const {
  ASSIGN_OR_RETURN(Tag parsed, Tag::Parse(tag));
  return Get(parsed);
}

StatusOr<StoredModel> ModelStore::Get(const Tag& tag) const { return models_.Get(tag); }

StatusOr<PendingModel> ModelStore::BeginSave(std::string_view name) const {
  RETURN_IF_ERROR(Tag::ValidateName(name));
  ASSIGN_OR_RETURN(stdfs::path dir,
                   models_.MakeStaging("save-" + std::string(name) + "-"));
  return PendingModel(Tag{std::string(name), Tag::NewVersion()}, std::move(dir));
}

StatusOr<StoredModel> ModelStore::Commit(PendingModel pending, ModelInfo info,
                                         const Json& custom_objects) const {
  if (pending.dir().empty()) {
    return FailedPreconditionError("model " + pending.tag().ToString() + " was already committed");
  }
  info.tag = pending.tag();
  if (info.metadata.is_null()) info.metadata = Json::object();
  if (!info.metadata.is_object()) return InvalidArgumentError("metadata must be a JSON object");
  RETURN_IF_ERROR(ValidateMetadata(info.metadata, ""));
  // model.yaml keeps microseconds; keep the in-memory info equal to what a reader will see.
  if (info.creation_time == std::chrono::system_clock::time_point{}) {
    info.creation_time = std::chrono::system_clock::now();
  }
  info.creation_time = std::chrono::floor<std::chrono::microseconds>(info.creation_time);
  RETURN_IF_ERROR(fs::WriteFile(pending.dir() / kModelYaml, WriteModelYaml(info)));
  if (!custom_objects.is_null()) {
    std::string text;
    try {
      text = custom_objects.dump(2);
    } catch (const Json::exception& e) {
      return InvalidArgumentError(std::string("custom_objects cannot be written as JSON: ") +
                                  e.what());
    }
    RETURN_IF_ERROR(fs::WriteFile(pending.dir() / kCustomObjectsJson, text));
    // BentoML reads custom_objects.pkl: the same values, pickled.
    RETURN_IF_ERROR(fs::WriteFile(pending.dir() / kCustomObjectsPickle, WritePickle(custom_objects)));
  }
  ASSIGN_OR_RETURN(stdfs::path path, models_.Install(pending.dir(), info));
  pending.MarkCommitted();
  return StoredModel{std::move(info), std::move(path)};
}

Status ModelStore::Delete(std::string_view tag) const { return models_.Delete(tag); }

StatusOr<stdfs::path> ModelStore::Export(std::string_view tag, const stdfs::path& path) const {
  return models_.Export(tag, path);
}

StatusOr<Tag> ModelStore::Import(const stdfs::path& archive) const {
  return models_.Import(archive);
}

StatusOr<Json> ModelStore::ReadCustomObjects(const StoredModel& model) {
  auto text = fs::ReadFile(model.path / kCustomObjectsJson);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) {
    // A model BentoML saved: its pickle, when it holds only JSON-like values.
    auto pickled = fs::ReadFile(model.path / kCustomObjectsPickle);
    if (!pickled.ok()) {
      if (pickled.status().code() == StatusCode::kNotFound) return Json::object();
      return pickled.status();
    }
    auto objects = ReadPickle(*pickled);
    if (objects.ok() && objects->is_object()) return objects;
    spdlog::warn("{}: {}; the model loads without its custom objects",
                 (model.path / kCustomObjectsPickle).string(),
                 objects.ok() ? "not a dict" : objects.status().message());
    return Json::object();
  }
  if (!text.ok()) return text.status();
  try {
    return Json::parse(*text);
  } catch (const Json::exception& e) {
    return DataLossError((model.path / kCustomObjectsJson).string() + ": " + e.what());
  }
}

}  // namespace bento::store
