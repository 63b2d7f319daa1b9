// bento::onnx: BentoML's ONNX API in C++ — save_model, load_model and get.
//
//   auto tag = bento::onnx::save_model("clf", "model.onnx", {.labels = {{"stage", "prod"}}});
//   auto session = bento::onnx::load_model("clf:latest",
//       {{"CUDAExecutionProvider", {{"device_id", 0}}}, "CPUExecutionProvider"});
//   auto outputs = session->Run({{"input", tensor}});
//   auto model = bento::onnx::get("clf:latest");   // tag, path, info, custom objects; no session
//
// The three functions keep the guide's snake_case names so that code reads like its Python
// original. They use the store at $BENTOML_HOME (default ~/bentoml), shared with BentoML.
//
// Thread-safety: the functions may be called from any thread. A Session is a cheap,
// copyable handle; Run may be called from many threads at once.
#ifndef BENTO_ONNX_H_
#define BENTO_ONNX_H_

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bento/json.h"
#include "bento/model.h"
#include "bento/status.h"
#include "bento/tensor.h"

namespace bento::onnx {

// ---- save_model ---------------------------------------------------------------------------

struct SaveOptions {
  // Default {"run": {batchable: false}}. batch_dim is (input dim, output dim).
  std::map<std::string, Signature> signatures{{"run", Signature{}}};
  std::map<std::string, std::string> labels;
  Json metadata = Json::object();     // JSON values: numbers, strings, lists, maps
  Json custom_objects = nullptr;      // stored as custom_objects.json when not null
  // Custom objects JSON cannot hold, already pickled (by the Python package): written as
  // custom_objects.pkl as they are, when custom_objects is null. bento's C++ code then sees
  // no custom objects (its reader takes JSON's values only); Python and BentoML unpickle them.
  std::string custom_objects_pickle;
};

// The model's serialized bytes, for saving a model built in memory.
struct ModelBytes {
  std::string bytes;
};

// Saves an .onnx file, with any external-data files it references, as a new version of
// `name`. The model is validated (parsed, and loaded once by ONNX Runtime) before anything
// is written; an invalid model gets an INVALID_ARGUMENT Status that says why.
StatusOr<Tag> save_model(std::string_view name, const std::filesystem::path& model_path,
                         const SaveOptions& options = {});
// Saves a model from its bytes. A model that references external data must be saved from
// its path instead.
StatusOr<Tag> save_model(std::string_view name, const ModelBytes& model,
                         const SaveOptions& options = {});

// ---- get ----------------------------------------------------------------------------------

// A stored model: what `get` returns. Holds no session.
struct Model {
  Tag tag;
  std::filesystem::path path;  // the version folder
  ModelInfo info;              // labels, metadata, signatures, specs, context, creation time
  Json custom_objects = Json::object();

  std::filesystem::path path_of(std::string_view file) const { return path / file; }
};

// Resolves "name", "name:latest", "name:version" or a unique version prefix. Refuses models
// saved by another BentoML framework module.
StatusOr<Model> get(std::string_view tag);

// ---- load_model ---------------------------------------------------------------------------

// An execution provider and its options, e.g. {"CUDAExecutionProvider", {{"device_id", 0},
// {"gpu_mem_limit", 2147483648}, {"cudnn_conv_algo_search", "EXHAUSTIVE"}}}. Option values
// may be strings, numbers or booleans, as in Python. CPUExecutionProvider accepts
// intra_op_num_threads and inter_op_num_threads.
struct Provider {
  Provider(const char* name) : name(name) {}                    // NOLINT: as in the guide
  Provider(std::string name) : name(std::move(name)) {}         // NOLINT
  Provider(std::string name, Json options) : name(std::move(name)), options(std::move(options)) {}
  std::string name;
  Json options = Json::object();
};

enum class GraphOptimizationLevel { kDisableAll, kBasic, kExtended, kAll };
enum class ExecutionMode { kSequential, kParallel };

struct SessionOptions {
  GraphOptimizationLevel graph_optimization_level = GraphOptimizationLevel::kAll;
  // 0: the cgroup CPU limit when there is one (a pod's limits.cpu), else ONNX Runtime's
  // default (one per core).
  int intra_op_num_threads = 0;
  int inter_op_num_threads = 0;
  // Whether ONNX Runtime's idle pool threads spin waiting for work (ONNX Runtime's own
  // default). bento turns it off: spinning shaves microseconds off a Run but burns the cores
  // that a server's request path (HTTP, JSON, batching) needs. (Measured by hand with wrk at
  // concurrency 32 on 2 cores; bench/ does not repeat that comparison.)
  bool allow_spinning = false;
  ExecutionMode execution_mode = ExecutionMode::kSequential;
  std::filesystem::path optimized_model_filepath;  // when set, the optimized graph is written there
};

// Per-call options of Session::Run.
struct RunOptions {
  // Give ONNX Runtime's CPU arena back, once the run is done, what it grew by for this run
  // (ONNX Runtime's memory.enable_memory_arena_shrinkage). For a one-off run of an unusual
  // size, such as bento's batch-size probe at load, whose memory the arena would otherwise
  // keep for as long as the session lives. Costs the next run of that size its allocations.
  bool shrink_arena = false;
};

// A loaded model, ready to run. Copies share the same ONNX Runtime session.
class Session {
 public:
  class Impl;
  explicit Session(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  const Tag& tag() const;
  const std::vector<TensorSpec>& inputs() const;
  const std::vector<TensorSpec>& outputs() const;
  // The execution providers the session really uses, in priority order.
  const std::vector<std::string>& providers() const;

  // Runs the model. `inputs` are by name; every model input must be given. Returns the
  // outputs named in `output_names` (all outputs, in model order, when empty). Inputs are
  // checked against the model's specs first, and a mismatch is an INVALID_ARGUMENT naming the
  // input, the expected spec and what came. Input bytes are borrowed, not copied.
  StatusOr<std::vector<Tensor>> Run(const std::map<std::string, Tensor>& inputs,
                                    const std::vector<std::string>& output_names = {},
                                    const RunOptions& options = {}) const;

 private:
  std::shared_ptr<const Impl> impl_;
};

// Loads a stored model into ONNX Runtime. Providers are tried in priority order; one that
// this ONNX Runtime build lacks is skipped with a logged warning, and the CPU provider is
// always the last resort. An unknown provider name is an INVALID_ARGUMENT.
StatusOr<Session> load_model(std::string_view tag,
                             const std::vector<Provider>& providers = {"CPUExecutionProvider"},
                             const SessionOptions& session_options = {});
// Loads from an already resolved Model (no second store lookup).
StatusOr<Session> load_model(const Model& model,
                             const std::vector<Provider>& providers = {"CPUExecutionProvider"},
                             const SessionOptions& session_options = {});

// Execution providers compiled into the ONNX Runtime in use, e.g. {"CPUExecutionProvider"}.
std::vector<std::string> available_providers();
// ONNX Runtime's version string, e.g. "1.30.0".
std::string runtime_version();

}  // namespace bento::onnx

#endif  // BENTO_ONNX_H_
