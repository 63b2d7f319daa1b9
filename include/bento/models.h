// bento::models: BentoML's bentoml.models API over the shared store, for models of any
// framework (bento::onnx::get refuses those not saved by bentoml.onnx).
//
//   for (const auto& m : bento::models::list().value()) std::cout << m.tag.ToString() << "\n";
//   bento::models::export_model("clf:latest", "clf.bentomodel");
//   bento::models::delete_model("clf:latest");
//   bento::Tag tag = bento::models::import_model("clf.bentomodel").value();
//
// The store is $BENTOML_HOME (default ~/bentoml). Thread-safety: as bento/onnx.h.
#ifndef BENTO_MODELS_H_
#define BENTO_MODELS_H_

#include <filesystem>
#include <string_view>
#include <vector>

#include "bento/onnx.h"

namespace bento::models {

// Every model, or every version of `name`, newest first.
StatusOr<std::vector<onnx::Model>> list(std::string_view name = {});
// Resolves "name", "name:latest", "name:version" or a unique version prefix.
StatusOr<onnx::Model> get(std::string_view tag);
// Removes one version; `latest` then names the newest remaining one.
Status delete_model(std::string_view tag);
// Writes a .bentomodel archive that BentoML imports (xz; gz for a .gz or .tgz path).
StatusOr<std::filesystem::path> export_model(std::string_view tag,
                                             const std::filesystem::path& path);
// Imports a .bentomodel archive (BentoML's or bento's); ALREADY_EXISTS for a tag in the store.
StatusOr<Tag> import_model(const std::filesystem::path& path);

}  // namespace bento::models

#endif  // BENTO_MODELS_H_
