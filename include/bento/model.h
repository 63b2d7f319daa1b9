// The model store's vocabulary, shared with BentoML: Tag, Signature and ModelInfo (the
// contents of model.yaml).
//
// These are plain values; they are safe to copy and read from any thread.
#ifndef BENTO_MODEL_H_
#define BENTO_MODEL_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bento/json.h"
#include "bento/status.h"
#include "bento/tensor.h"

namespace bento {

// A model's identity: "name:version". An empty version, or "latest", means the newest.
struct Tag {
  std::string name;
  std::string version;

  // Parses "name", "name:latest", "name:version" or "name:prefix". Names and versions must
  // match ^[a-z0-9]([-._a-z0-9]*[a-z0-9])?$ and be at most 63 characters. Upper-case is
  // folded to lower-case, as BentoML does.
  static StatusOr<Tag> Parse(std::string_view text);
  static Status ValidateName(std::string_view name);
  // A new version: 16 lowercase base32hex characters ([0-9a-v]) whose order is the order of
  // creation (48 bits of milliseconds, then 32 random bits); strictly increasing within a
  // process.
  static std::string NewVersion();

  bool has_version() const { return !version.empty() && version != "latest"; }
  std::string ToString() const { return version.empty() ? name : name + ":" + version; }
  friend bool operator==(const Tag&, const Tag&) = default;
  friend auto operator<=>(const Tag&, const Tag&) = default;
};

// How a model method may be called; BentoML's ModelSignature.
struct Signature {
  bool batchable = false;
  // (input dim, output dim); written only when batchable, as BentoML does.
  std::pair<int, int> batch_dim{0, 0};
  friend bool operator==(const Signature&, const Signature&) = default;
};

// BentoML's ModelContext.
struct ModelContext {
  std::string framework_name = "onnx";
  std::map<std::string, std::string> framework_versions;
  std::string bentoml_version;  // empty: not written
  std::string python_version;   // empty: not written
};

// The contents of model.yaml, key for key as BentoML writes them:
//   name, version, module, labels, options {input_specs, output_specs, providers,
//   session_options}, metadata, context, signatures, api_version, creation_time.
struct ModelInfo {
  Tag tag;  // name and version
  std::string module = "bentoml.onnx";
  std::map<std::string, std::string> labels;
  // options.input_specs / options.output_specs, keyed by signature name ("run").
  std::map<std::string, std::vector<TensorSpec>> input_specs;
  std::map<std::string, std::vector<TensorSpec>> output_specs;
  Json providers;        // options.providers: null or a list, as BentoML stores it
  Json session_options;  // options.session_options: null unless set
  Json metadata = Json::object();
  ModelContext context;
  std::map<std::string, Signature> signatures{{"run", Signature{}}};
  std::string api_version = "v2";
  std::chrono::system_clock::time_point creation_time;

  // Spec helpers for the common single-signature case.
  const std::vector<TensorSpec>& inputs(std::string_view signature = "run") const;
  const std::vector<TensorSpec>& outputs(std::string_view signature = "run") const;
};

}  // namespace bento

#endif  // BENTO_MODEL_H_
