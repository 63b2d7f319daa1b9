// ModelManager: the stored models a server serves, with no HTTP in it. It resolves tags in
// the store, loads each model's versions (an ONNX Runtime session each, with its adaptive
// batcher when the model's `run` signature is batchable), tells whether they are ready, and
// swaps versions while serving: a new version is loaded, warmed up and checked off the
// request path, then published; the version it replaces drains and goes.
//
//   auto manager = ModelManager::Create({"clf:latest"}, options);  // resolves tags
//   (*manager)->LoadAll();                                         // loads sessions
//   ASSIGN_OR_RETURN(ModelRef m, (*manager)->Find("clf"));         // a snapshot
//   RETURN_IF_ERROR(m->CheckInputs(inputs));
//   m->Infer(std::move(inputs), [m](StatusOr<std::vector<Tensor>> outputs) { ... });
//
// Versions. Each model name has a slot holding its loaded versions, each an immutable
// ServedModel. A request takes a snapshot (a ModelRef, a shared_ptr) when it finds its model
// and holds it until it is answered, so a swap never changes the version a request runs on,
// and a batch never mixes versions (each version has its own batcher). A retired version
// leaves the slot at once; the loader thread destroys it when its last request has let go
// of it, and its batcher's queue is flushed first, never dropped.
//
// Policies (ManagerOptions): which versions are served (VersionPolicy: latest:N, all,
// specific), in which order a swap holds memory (ReloadPolicy), and who starts a load
// (ControlMode: none, explicit load/unload calls, or polling the store). Labels ("stable",
// "canary") name loaded versions, and Find takes a version id or a label.
//
// Threads: one loader thread, owned by the manager, runs every load, swap, unload and poll,
// one at a time, so that graph optimisation and warm-up never run on a serving thread and
// never two at once. A load that fails keeps the versions already serving, and the index
// records its reason.
//
// Ownership: the manager owns its slots and its loader. ModelRefs keep their version alive
// past the manager's own lifetime. Thread-safety: every method may be called from any thread.
#ifndef BENTO_MANAGER_MODEL_MANAGER_H_
#define BENTO_MANAGER_MODEL_MANAGER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/thread_annotations.h"
#include "batching/dispatcher.h"
#include "bento/onnx.h"
#include "manager/infer_stats.h"

namespace bento::manager {

// Which versions of a model are served, in Triton's words.
struct VersionPolicy {
  enum class Kind { kLatest, kAll, kSpecific };
  Kind kind = Kind::kLatest;
  int latest = 1;                     // kLatest: how many, newest first (the `latest` first)
  std::vector<std::string> versions;  // kSpecific

  // "latest:N" (N >= 1; "latest" is latest:1), "all", or "specific:V1,V2".
  static StatusOr<VersionPolicy> Parse(std::string_view text);
  std::string ToString() const;
};

// availability: load the new version, then unload the old (two copies for a moment).
// resource: unload the old first, for hosts that cannot hold two; the model is unavailable,
// and the server not ready, in between.
enum class ReloadPolicy { kAvailability, kResource };
StatusOr<ReloadPolicy> ParseReloadPolicy(std::string_view text);

// none: the models given at start, as they were then. explicit: Load and Unload calls (the
// repository API). poll: the store is read every poll_secs for new versions and `latest`.
enum class ControlMode { kNone, kExplicit, kPoll };
StatusOr<ControlMode> ParseControlMode(std::string_view text);
std::string_view ControlModeName(ControlMode mode);

struct ManagerOptions {
  std::vector<onnx::Provider> providers = {"CPUExecutionProvider"};
  onnx::SessionOptions session_options;
  // Adaptive batching for models whose `run` signature is batchable (model.yaml); batch_dim
  // comes from the signature. Non-batchable models run one request per call.
  bool batching = true;
  int max_batch_size = 32;
  // Whether a batchable version's batching is chosen at load: batches of 1, 2, 4, ... are
  // timed, and batches grow no larger than the size past which an item no longer gets cheaper
  // (batching::BatchSizeProbe); then that size is timed against requests run at once
  // unbatched, api_workers of them, and a version whose batches do not pay
  // (batching::BatchingPays) is served unbatched, on the same session. `bento serve` turns it
  // off when --max-batch-size is given. Not for adopted sessions, which a service's code runs
  // too.
  bool choose_batch_size = true;
  int api_workers = 0;  // the requests that run at once unbatched (0: one per CPU)
  double max_latency_ms = 60000;  // BentoML's default, and the default request timeout
  int max_inflight_batches = 0;  // 0: batching::InflightBatchesFor(the sessions' threads)
  // ONNX Runtime intra-op threads of a model that is not batched, or whose batching is timed
  // (choose_batch_size), where nothing else sets them (session_options and the CPU provider's
  // options leave them at 0). Its requests run at once, one per API worker, each on its own
  // intra-op pool: `bento serve` sets this to the CPUs over the workers, so that those pools do
  // not share cores. A timed model that is batched runs as many batches at once as fit
  // (InflightBatchesFor these threads). One that is served unbatched gets every CPU's
  // threads instead where a lone request, timed at load, runs faster on them
  // (batching::WideThreadsPay). 0: the session's own default.
  int unbatched_threads = 0;

  // For tags given without a version; a tag with one serves that version alone.
  VersionPolicy version_policy;
  ReloadPolicy reload_policy = ReloadPolicy::kAvailability;
  ControlMode control_mode = ControlMode::kNone;
  double poll_secs = 15;
  // model → label → version (--version-label): each is set when its version serves, at
  // start (an error is logged for one that does not) or after a later load or poll.
  std::map<std::string, std::map<std::string, std::string>> labels;
};

// One loaded version of one model: immutable once published.
class ServedModel {
 public:
  ~ServedModel();  // drains the batcher: every queued request is answered
  ServedModel(const ServedModel&) = delete;
  ServedModel& operator=(const ServedModel&) = delete;

  const onnx::Model& model() const { return model_; }
  const std::string& name() const { return model_.tag.name; }
  const std::string& version() const { return model_.tag.version; }
  const onnx::Session& session() const { return session_; }

  // ValidateInputs (bento/validation.h) against this version's inputs.
  Status CheckInputs(const std::map<std::string, Tensor>& inputs) const;

  // The largest batch of items its requests are combined into along dimension 0 when its
  // signature is batchable there (KServe's max_batch_size); 0 otherwise.
  int max_batch_size() const;
  // The items in one request: the size of the signature's batch dimension of its first
  // input for a batchable model, else 1 (Triton's inference_count).
  // REQUIRES: CheckInputs(inputs).ok().
  uint64_t Items(const std::map<std::string, Tensor>& inputs) const;

  // Runs validated inputs, through the batcher when the version has one, and calls `done`
  // once with the outputs in the model's order, on this thread or a batcher's. The caller
  // holds its ModelRef until `done` is called. REQUIRES: CheckInputs(inputs).ok().
  // A version whose batching is chosen on its first request (see Undecided) times it on
  // that request's inputs first, and every request waits for the choice.
  void Infer(std::map<std::string, Tensor> inputs,
             std::function<void(StatusOr<std::vector<Tensor>>)> done) const;

  // Counters the request paths update through InferTimer.
  InferStats& stats() const { return stats_; }
  // The batcher's statistics; nullopt for an unbatched version.
  std::optional<batching::BatcherStats> batcher_stats() const;

 private:
  friend class ModelManager;
  ServedModel(onnx::Model model, onnx::Session session, int batch_limit)
      : model_(std::move(model)), session_(std::move(session)), batch_limit_(batch_limit) {}

  // A batchable version whose batching could not be timed at load, since no input could be
  // made up for it (an input's shape has a free dimension besides the batch one, as an
  // image's width): it is timed on its first request's inputs instead. `choose` returns the
  // batcher, null to serve unbatched, or an error when the request's inputs could not be
  // timed (the next request's are then).
  struct Undecided {
    using Chooser = std::function<StatusOr<std::shared_ptr<batching::Dispatcher>>(
        const std::map<std::string, Tensor>& request)>;
    explicit Undecided(Chooser c) : choose(std::move(c)) {}
    const Chooser choose;
    std::atomic<bool> pending{true};  // set to false, once batcher_ is set, under mu
    Mutex mu;
    CondVar cv;                          // signalled when a choice ends, made or not
    bool choosing GUARDED_BY(mu) = false;  // a request is timing the version
  };
  // Waits for the choice, or makes it on `request`'s inputs (Undecided).
  void DecideBatching(const std::map<std::string, Tensor>& request) const;
  // Whether the version is still undecided: batcher_ may be set by another thread until then.
  bool undecided() const {
    return undecided_ && undecided_->pending.load(std::memory_order_acquire);
  }

  const onnx::Model model_;
  const onnx::Session session_;
  const int batch_limit_;  // ManagerOptions::max_batch_size, for max_batch_size()
  mutable InferStats stats_;
  std::unique_ptr<Undecided> undecided_;  // set before publishing
  // Batched versions' batcher: set before publishing, or once by DecideBatching (then read
  // only after undecided() is false).
  mutable std::shared_ptr<batching::Dispatcher> batcher_;
};

// A snapshot of one served version, held by a request until it is answered.
using ModelRef = std::shared_ptr<const ServedModel>;

// One row of the repository index (Triton's): a version and its state, READY, LOADING,
// UNLOADING or UNAVAILABLE (with the reason); a model with no version loaded has one row
// with an empty version.
struct IndexEntry {
  std::string name, version, state, reason;
};

// What the loads so far took, for /metrics: a histogram of load durations and the failures,
// by model.
struct LoadStats {
  static const std::vector<double>& Bounds();  // seconds
  struct PerModel {
    std::vector<uint64_t> buckets;  // cumulative, one per bound, then +Inf
    double sum = 0;
    uint64_t failures = 0;
  };
  std::map<std::string, PerModel> models;
};

class ModelManager {
 public:
  // Resolves every tag in the store (no session yet). NOT_FOUND for an unknown tag,
  // INVALID_ARGUMENT for two tags with the same model name, or for no tag unless the control
  // mode is explicit (models may then be loaded later).
  static StatusOr<std::unique_ptr<ModelManager>> Create(const std::vector<std::string>& tags,
                                                         ManagerOptions options);

  // Serves sessions already loaded (a C++ service's own, recorded by runtime::LoadScope):
  // each model serves at once, with its batcher when its signature is batchable. A later
  // session of a model name already adopted is skipped with a log line; no session is fine
  // (a service with no model). Call LoadAll on neither; these versions never change.
  static StatusOr<std::unique_ptr<ModelManager>> Adopt(const std::vector<onnx::Session>& sessions,
                                                        ManagerOptions options);

  ~ModelManager();  // stops the loader; versions still held by requests live on with them

  // Loads every model's versions on the loader thread and waits; call once. In poll mode,
  // polling starts after. Returns the first failure (the other models still load).
  Status LoadAll();
  // True once LoadAll is done (every version its policy selects loaded or failed, and the
  // labels given applied), while every model has a version serving and none is between
  // versions.
  bool ready() const;

  // The models given at start, as the store resolved their tags then.
  std::vector<onnx::Model> Given() const;
  // The models given or loaded, in that order (including those not serving now).
  std::vector<std::string> Names() const;
  // True when `name` is a model of this manager (for metrics labels).
  bool Knows(std::string_view name) const;
  // A snapshot of model `name` at `version` (a version id or a label), or at its newest
  // served version when `version` is empty. NOT_FOUND for an unknown name or version;
  // UNAVAILABLE while it loads, after a failed load (with the reason), or when unloaded.
  StatusOr<ModelRef> Find(std::string_view name, std::string_view version = {}) const;
  // Every version serving now, of every model or of `name`, newest first per model.
  std::vector<ModelRef> Served(std::string_view name = {}) const;

  // The repository API. Load (re)reads the store for `name` and serves the versions its
  // policy selects, swapping out the others; `parameters` may hold "version_policy" and
  // "labels" ("stable=V1,canary=V2"). Unload retires every version of `name`. `done` is
  // called once, on the loader thread. Both are FAILED_PRECONDITION unless the control mode
  // is explicit.
  void Load(std::string name, std::map<std::string, std::string> parameters,
            std::function<void(Status)> done);
  void Unload(std::string name, std::function<void(Status)> done);
  // Every model of the store with its versions' states (only READY ones when `ready_only`);
  // in control mode none, the served models alone.
  StatusOr<std::vector<IndexEntry>> Index(bool ready_only) const;
  // The served models' rows of the index (no store read): /metrics' state gauge.
  std::vector<IndexEntry> States() const;

  // Runs one poll now, on the loader thread, and waits (poll mode; tests).
  Status PollNow();

  LoadStats load_stats() const;
  const ManagerOptions& options() const { return options_; }

 private:
  struct VersionState {
    std::string state, reason;
  };
  // One model name: its policy, its served versions and what the loader knows of others.
  struct Slot {
    std::string name;
    std::optional<onnx::Model> given;  // as resolved at start; none for a model loaded later
    VersionPolicy policy;
    std::vector<ModelRef> served;  // newest first (by creation time)
    std::map<std::string, std::string> labels;  // label → served version
    std::map<std::string, VersionState> states;  // versions loading, failed or unloading
    std::map<std::string, std::string> failed;  // version → reason; polls do not retry them
    Status unavailable;  // why nothing serves, when nothing does
    bool unloaded = false;  // by Unload: not counted by ready()
    std::string poll_error;  // the last poll's failure, logged once
    bool between_versions = false;  // resource policy: old unloaded, new not yet loaded
  };
  using Job = std::function<void()>;

  explicit ModelManager(ManagerOptions options);
  void StartLoader();
  // FAILED_PRECONDITION, in Triton's words, unless the control mode is explicit.
  Status ExplicitOnly() const;
  void LoaderLoop();
  // Runs `job` on the loader thread.
  void Post(Job job);
  void PostAndWait(Job job);

  // On the loader thread: brings the slot to its policy's versions. OK, or the first
  // failure (the versions serving before stay).
  Status Reconcile(const std::string& name, bool retry_failed);
  void Poll();
  void AppendRows(const Slot& slot, bool ready_only, std::vector<IndexEntry>* rows) const
      REQUIRES(mu_);
  // What a new version must take and give: those of the version it follows.
  struct Interface {
    std::string version;
    std::vector<TensorSpec> inputs, outputs;
  };
  // Loads, checks against `serving` when there is one, warms up and times one version.
  StatusOr<ModelRef> LoadVersion(const onnx::Model& model, const std::optional<Interface>& serving);
  void Retire(Slot& slot, const std::string& version) REQUIRES(mu_);
  // Destroys retired versions that no request holds any more.
  void Reap();
  Status ApplyLabels(Slot& slot, const std::map<std::string, std::string>& labels)
      REQUIRES(mu_);
  // Sets the labels of ManagerOptions::labels whose versions now serve and that are not set.
  void ApplyGivenLabels(Slot& slot) REQUIRES(mu_);
  // Whether `model`'s requests go through a batcher: batching is on and its `run` signature
  // is batchable.
  bool Batched(const onnx::Model& model) const;
  // The batches a batcher lets run at once (ManagerOptions::max_inflight_batches) on a
  // session of `intra_op_threads` threads (0: ONNX Runtime's default).
  int InflightBatches(int intra_op_threads) const;
  // The options of a batched version's batcher, forming batches of at most `max_batch_size`.
  batching::BatchingOptions BatcherOptions(const onnx::Model& model, int max_batch_size,
                                           int intra_op_threads) const;
  // The batcher of a batched version (null otherwise).
  std::shared_ptr<batching::Dispatcher> StartBatcher(const onnx::Model& model,
                                                     const onnx::Session& session,
                                                     int max_batch_size,
                                                     int intra_op_threads) const;
  Slot* FindSlot(std::string_view name) REQUIRES(mu_);
  const Slot* FindSlot(std::string_view name) const REQUIRES(mu_);

  const ManagerOptions options_;

  mutable Mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_ GUARDED_BY(mu_);  // in the order given
  LoadStats load_stats_ GUARDED_BY(mu_);
  // Set when LoadAll is done (at once for adopted sessions): until then a model may serve one
  // of the versions its policy selects, and not yet its labels.
  bool started_ GUARDED_BY(mu_) = false;

  Mutex jobs_mu_ ACQUIRED_AFTER(mu_);
  std::deque<Job> jobs_ GUARDED_BY(jobs_mu_);
  bool stopping_ GUARDED_BY(jobs_mu_) = false;
  CondVar jobs_cv_;
  // Loader-thread only: retired versions waiting for their last request.
  std::vector<ModelRef> retired_;
  bool polling_ = false;  // loader-thread only: set once LoadAll is done, in poll mode
  std::thread loader_;
};

}  // namespace bento::manager

#endif  // BENTO_MANAGER_MODEL_MANAGER_H_
