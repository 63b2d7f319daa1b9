// bento::onnx::{save_model, get, load_model} and bento::models: BentoML's ONNX and models APIs
// over the shared store.
#include "bento/onnx.h"

#include <spdlog/spdlog.h>

#include <optional>

#include "base/fs.h"
#include "bento/models.h"
#include "runtime/load_scope.h"
#include "runtime/onnx_model.h"
#include "runtime/ort.h"
#include "runtime/session_impl.h"
#include "store/model_store.h"

namespace bento::onnx {
namespace {

namespace stdfs = std::filesystem;
using store::ModelStore;

// Modules whose models bento can load: BentoML's ONNX framework module, under both of the
// names BentoML accepts.
bool IsOnnxModule(std::string_view module) {
  return module == "bentoml.onnx" || module == "bentoml._internal.frameworks.onnx";
}

// Checks that ONNX Runtime can load the model, without keeping the session.
Status CheckLoadable(std::string_view bytes, const std::optional<stdfs::path>& path) {
  try {
    Ort::SessionOptions so;
    so.SetGraphOptimizationLevel(ORT_DISABLE_ALL);
    so.SetIntraOpNumThreads(1);
    if (path) {
      Ort::Session session(runtime::OrtEnv(), path->c_str(), so);
    } else {
      Ort::Session session(runtime::OrtEnv(), bytes.data(), bytes.size(), so);
    }
  } catch (const Ort::Exception& e) {
    return InvalidArgumentError(std::string("ONNX Runtime cannot load the model: ") + e.what());
  }
  return OkStatus();
}

// Saves `bytes` (with external data found in `source_dir`, if any) as a new version.
StatusOr<Tag> Save(std::string_view name, std::string_view bytes,
                   const std::optional<stdfs::path>& source_path, const SaveOptions& options) {
  RETURN_IF_ERROR(Tag::ValidateName(name));
  if (!options.metadata.is_object()) {
    return InvalidArgumentError("metadata must be a JSON object of name to value");
  }
  ASSIGN_OR_RETURN(runtime::OnnxModelInfo onnx, runtime::InspectOnnxModel(bytes));
  std::vector<std::pair<stdfs::path, stdfs::path>> external;  // (from, relative to)
  for (const auto& location : onnx.external_data) {
    if (!source_path) {
      return InvalidArgumentError("the model references external data '" + location +
                                  "'; save it from its .onnx path so the data can be copied");
    }
    stdfs::path from = source_path->parent_path() / location;
    std::error_code ec;
    if (!stdfs::is_regular_file(from, ec)) {
      return InvalidArgumentError("the model references external data '" + location +
                                  "', which is missing at " + from.string());
    }
    external.emplace_back(from, location);
  }
  RETURN_IF_ERROR(CheckLoadable(bytes, source_path));

  ASSIGN_OR_RETURN(ModelStore store, ModelStore::Open());
  ASSIGN_OR_RETURN(store::PendingModel pending, store.BeginSave(name));
  RETURN_IF_ERROR(fs::WriteFile(pending.dir() / store::kModelFile, bytes));
  for (const auto& [from, relative] : external) {
    RETURN_IF_ERROR(fs::MakeDirs((pending.dir() / relative).parent_path()));
    RETURN_IF_ERROR(fs::CopyFile(from, pending.dir() / relative));
  }
  if (options.custom_objects.is_null() && !options.custom_objects_pickle.empty()) {
    RETURN_IF_ERROR(fs::WriteFile(pending.dir() / store::kCustomObjectsPickle,
                                  options.custom_objects_pickle));
  }

  ModelInfo info;
  info.labels = options.labels;
  info.metadata = options.metadata;
  info.signatures = options.signatures;
  for (const auto& [signature, _] : info.signatures) {
    info.input_specs[signature] = onnx.inputs;
    info.output_specs[signature] = onnx.outputs;
  }
  info.context.framework_name = "onnx";
  info.context.framework_versions = {{"bento", BENTO_VERSION},
                                     {"onnxruntime", runtime_version()}};
  info.creation_time = std::chrono::system_clock::now();
  ASSIGN_OR_RETURN(store::StoredModel stored,
                   store.Commit(std::move(pending), std::move(info), options.custom_objects));
  spdlog::debug("saved {} at {}", stored.info.tag.ToString(), stored.path.string());
  return stored.info.tag;
}

}  // namespace

StatusOr<Tag> save_model(std::string_view name, const std::filesystem::path& model_path,
                         const SaveOptions& options) {
  auto bytes = fs::ReadFile(model_path);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound) {
      return NotFoundError("model file not found: " + model_path.string());
    }
    return bytes.status();
  }
  return Save(name, *bytes, model_path, options);
}

StatusOr<Tag> save_model(std::string_view name, const ModelBytes& model,
                         const SaveOptions& options) {
  return Save(name, model.bytes, std::nullopt, options);
}

StatusOr<Model> get(std::string_view tag) {
  ASSIGN_OR_RETURN(Model model, models::get(tag));
  if (!IsOnnxModule(model.info.module)) {
    return NotFoundError("model " + model.tag.ToString() + " was saved with module " +
                         model.info.module + ", not bentoml.onnx");
  }
  return model;
}

StatusOr<Session> load_model(std::string_view tag, const std::vector<Provider>& providers,
                             const SessionOptions& session_options) {
  ASSIGN_OR_RETURN(Model model, get(tag));
  return load_model(model, providers, session_options);
}

StatusOr<Session> load_model(const Model& model, const std::vector<Provider>& providers,
                             const SessionOptions& session_options) {
  stdfs::path file = model.path_of(store::kModelFile);
  std::error_code ec;
  if (!stdfs::is_regular_file(file, ec)) {
    return NotFoundError("model " + model.tag.ToString() + " has no " +
                         std::string(store::kModelFile) + " in " + model.path.string());
  }
  std::vector<Provider> chosen =
      providers.empty() ? std::vector<Provider>{"CPUExecutionProvider"} : providers;
  SessionOptions options = session_options;
  runtime::ApplyLoadScope(&chosen, &options);
  ASSIGN_OR_RETURN(Session session,
                   CreateSession(model.tag, file, chosen, options, model.info.inputs("run")));
  runtime::RecordInLoadScope(session);
  return session;
}

}  // namespace bento::onnx

namespace bento::models {
namespace {

StatusOr<onnx::Model> FromStored(store::StoredModel stored) {
  onnx::Model model;
  model.tag = stored.info.tag;
  model.path = stored.path;
  ASSIGN_OR_RETURN(model.custom_objects, store::ModelStore::ReadCustomObjects(stored));
  model.info = std::move(stored.info);
  return model;
}

}  // namespace

StatusOr<std::vector<onnx::Model>> list(std::string_view name) {
  ASSIGN_OR_RETURN(store::ModelStore store, store::ModelStore::Open());
  std::optional<std::string_view> only;
  if (!name.empty()) only = name;
  ASSIGN_OR_RETURN(std::vector<store::StoredModel> stored, store.List(only));
  std::vector<onnx::Model> models;
  for (auto& s : stored) {
    ASSIGN_OR_RETURN(onnx::Model model, FromStored(std::move(s)));
    models.push_back(std::move(model));
  }
  return models;
}

StatusOr<onnx::Model> get(std::string_view tag) {
  ASSIGN_OR_RETURN(store::ModelStore store, store::ModelStore::Open());
  ASSIGN_OR_RETURN(store::StoredModel stored, store.Get(tag));
  return FromStored(std::move(stored));
}

Status delete_model(std::string_view tag) {
  ASSIGN_OR_RETURN(store::ModelStore store, store::ModelStore::Open());
  return store.Delete(tag);
}

StatusOr<std::filesystem::path> export_model(std::string_view tag,
                                             const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(store::ModelStore store, store::ModelStore::Open());
  return store.Export(tag, path);
}

StatusOr<Tag> import_model(const std::filesystem::path& path) {
  ASSIGN_OR_RETURN(store::ModelStore store, store::ModelStore::Open());
  return store.Import(path);
}

}  // namespace bento::models
