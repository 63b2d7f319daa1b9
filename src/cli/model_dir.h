// `bento serve --model-dir PATH`: serving what a model server is handed in a cluster, such as
// the folder that KServe's storage initializer fills (/mnt/models). PATH may be:
//   - a single .onnx file (its external data beside it);
//   - a .bentomodel, .tar.gz, .tgz, .tar.xz or .tar archive of a model;
//   - a BentoML model version folder (holding model.yaml);
//   - a store root (holding models/): each model's latest version;
//   - a folder holding one of the above, directly or one level down (Triton's <model>/1/).
// (A built bento, a folder holding bento.yaml, is served as a bento before this is asked.)
//
// PATH is never written to, and may be read-only: what must be imported goes into a private
// store in a temporary folder, which the caller removes when it stops serving.
#ifndef BENTO_CLI_MODEL_DIR_H_
#define BENTO_CLI_MODEL_DIR_H_

#include <filesystem>
#include <string>
#include <vector>

#include "bento/status.h"

namespace bento::cli {

struct ModelDir {
  std::filesystem::path home;  // the store to serve from ($BENTOML_HOME while serving)
  std::vector<std::string> tags;
  std::filesystem::path scratch;  // the private store to remove afterwards; empty if none
};

// An .onnx file or a model archive (.bentomodel, .tar.gz, .tgz, .tar.xz, .txz, .tar), by
// its name.
bool IsModelFile(const std::filesystem::path& file);

// `model_name`, when not empty, is the one served name (KServe's --model_name: the
// InferenceService's name); PATH must then hold exactly one model.
StatusOr<ModelDir> OpenModelDir(const std::filesystem::path& path, const std::string& model_name);

}  // namespace bento::cli

#endif  // BENTO_CLI_MODEL_DIR_H_
