#include "cli/model_dir.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "base/fs.h"
#include "base/strings.h"
#include "bento/onnx.h"
#include "store/model_store.h"
#include "store/model_yaml.h"

namespace bento::cli {
namespace {

namespace stdfs = std::filesystem;
using store::ModelStore;

bool IsArchive(const stdfs::path& file) {
  const std::string name = AsciiLower(file.filename().string());
  for (const char* ext : {".bentomodel", ".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar"}) {
    if (name.ends_with(ext)) return true;
  }
  return false;
}

bool IsOnnx(const stdfs::path& file) { return AsciiLower(file.extension().string()) == ".onnx"; }

// A served name from a file or folder name: lower case, and only what a tag may hold.
std::string NameFrom(std::string text) {
  text = AsciiLower(text);
  for (char& c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '_';
  }
  while (!text.empty() && !std::isalnum(static_cast<unsigned char>(text.front()))) {
    text.erase(0, 1);
  }
  return text.empty() ? "model" : text;
}

// Copies the model version folder `from` into `store` as `name` (a new version): a
// BentoML folder, or an imported model renamed to the InferenceService's name.
StatusOr<Tag> CopyVersion(const stdfs::path& from, const std::string& name,
                          const ModelStore& store) {
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(from / store::kModelYaml));
  auto info = store::ParseModelYaml(text);
  if (!info.ok()) return info.status().WithContext((from / store::kModelYaml).string());
  ASSIGN_OR_RETURN(Json custom_objects,
                   ModelStore::ReadCustomObjects(store::StoredModel{*info, from}));
  ASSIGN_OR_RETURN(store::PendingModel pending, store.BeginSave(name));
  RETURN_IF_ERROR(fs::CopyTree(from, pending.dir(),
                               {store::kModelYaml, store::kCustomObjectsJson}));
  const bool has_objects = !custom_objects.empty();
  ASSIGN_OR_RETURN(store::StoredModel stored,
                   store.Commit(std::move(pending), *std::move(info),
                                has_objects ? custom_objects : Json(nullptr)));
  return stored.info.tag;
}

}  // namespace

bool IsModelFile(const stdfs::path& file) { return IsOnnx(file) || IsArchive(file); }

namespace {

// One model file (an .onnx or an archive) into `store`, served as `name` or a name of its own.
StatusOr<Tag> ImportFile(const stdfs::path& file, const std::string& name,
                         const ModelStore& store) {
  if (IsOnnx(file)) {
    // save_model writes to $BENTOML_HOME, which is the private store while serving.
    ::setenv("BENTOML_HOME", store.home().c_str(), 1);
    return onnx::save_model(name.empty() ? NameFrom(file.stem().string()) : name, file);
  }
  ASSIGN_OR_RETURN(Tag tag, store.Import(file));
  if (name.empty() || name == tag.name) return tag;
  ASSIGN_OR_RETURN(store::StoredModel stored, store.Get(tag));
  return CopyVersion(stored.path, name, store);
}

// The model files of a folder: .onnx files and archives, sorted.
std::vector<stdfs::path> ModelFiles(const stdfs::path& dir) {
  std::vector<stdfs::path> out;
  std::error_code ec;
  for (const auto& entry : stdfs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) && IsModelFile(entry.path())) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

StatusOr<ModelDir> OpenModelDir(const stdfs::path& given, const std::string& model_name) {
  std::error_code ec;
  stdfs::path path = stdfs::absolute(given, ec).lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // "dir/" names "dir"
  if (!stdfs::exists(path, ec)) return NotFoundError("--model-dir " + path.string() + " does not exist");
  if (!model_name.empty()) RETURN_IF_ERROR(Tag::ValidateName(model_name));

  // A store root is served in place when no name is imposed (it is read, never written).
  if (stdfs::is_directory(path / "models", ec) && model_name.empty()) {
    ASSIGN_OR_RETURN(ModelStore existing, ModelStore::Open(path));
    ASSIGN_OR_RETURN(std::vector<store::StoredModel> models, existing.List());
    ModelDir out{existing.home(), {}, {}};
    for (const auto& model : models) {
      const std::string& name = model.info.tag.name;
      bool seen = false;
      for (const auto& tag : out.tags) seen = seen || tag == name;
      if (!seen) out.tags.push_back(name);
    }
    if (out.tags.empty()) return NotFoundError("the store at " + path.string() + " holds no model");
    return out;
  }

  const char* tmp = std::getenv("TMPDIR");
  ASSIGN_OR_RETURN(stdfs::path scratch,
                   fs::MakeTempDir(tmp != nullptr && *tmp == '/' ? tmp : "/tmp", "bento-models-"));
  auto fail = [&](Status status) {
    (void)fs::RemoveAll(scratch);
    return status;
  };
  auto store = ModelStore::Open(scratch);
  if (!store.ok()) return fail(store.status());
  ModelDir out{store->home(), {}, scratch};
  auto add = [&](StatusOr<Tag> tag) -> Status {
    if (!tag.ok()) return tag.status();
    out.tags.push_back(tag->name);
    return OkStatus();
  };

  Status status;
  if (stdfs::is_regular_file(path, ec)) {
    status = add(ImportFile(path, model_name, *store));
  } else if (stdfs::is_regular_file(path / store::kModelYaml, ec)) {
    const std::string name = model_name.empty() ? path.parent_path().filename().string() : model_name;
    status = add(CopyVersion(path, NameFrom(name), *store));
  } else if (stdfs::is_directory(path / "models", ec)) {  // a store root, renamed
    auto existing = ModelStore::Open(path);
    if (!existing.ok()) return fail(existing.status());
    auto models = existing->List();
    if (!models.ok()) return fail(models.status());
    if (models->size() != 1) {
      return fail(InvalidArgumentError("--model-name needs one model, and the store at " +
                                       path.string() + " holds " +
                                       std::to_string(models->size())));
    }
    status = add(CopyVersion(models->front().path, model_name, *store));
  } else if (stdfs::is_directory(path, ec)) {
    std::vector<stdfs::path> files = ModelFiles(path);
    if (files.empty()) {  // one level down: Triton's <model>/<version>/model.onnx, and the like
      for (const auto& entry : stdfs::directory_iterator(path, ec)) {
        if (!entry.is_directory(ec)) continue;
        for (auto& file : ModelFiles(entry.path())) files.push_back(std::move(file));
        if (stdfs::is_regular_file(entry.path() / store::kModelYaml, ec)) {
          files.push_back(entry.path());
        }
      }
    }
    if (files.size() != 1) {
      std::string list;
      for (const auto& f : files) list += (list.empty() ? "" : ", ") + f.string();
      return fail(InvalidArgumentError(
          "--model-dir " + path.string() + " must hold one model (an .onnx file, an archive "
          "or a model folder); it holds " +
          (files.empty() ? std::string("none") : std::to_string(files.size()) + ": " + list)));
    }
    if (stdfs::is_directory(files[0], ec)) {
      std::string name = model_name.empty() ? NameFrom(files[0].filename().string()) : model_name;
      status = add(CopyVersion(files[0], name, *store));
    } else {
      status = add(ImportFile(files[0], model_name, *store));
    }
  } else {
    status = InvalidArgumentError("--model-dir " + path.string() + " is not a file or a folder");
  }
  if (!status.ok()) return fail(status.WithContext("--model-dir " + path.string()));
  spdlog::info("serving {} from --model-dir {} (imported into {})", out.tags.front(),
               path.string(), scratch.string());
  return out;
}

}  // namespace bento::cli
