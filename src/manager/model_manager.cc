#include "manager/model_manager.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <charconv>
#include <chrono>
#include <future>
#include <limits>
#include <optional>
#include <set>
#include <thread>

#include "base/cpu.h"
#include "base/strings.h"
#include "batching/batch_probe.h"
#include "batching/concat.h"
#include "bento/models.h"
#include "bento/validation.h"

namespace bento::manager {
namespace {

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// A tag that names its version ("clf:v1", "clf:v1abc" prefix) serves that version alone.
bool NamesVersion(std::string_view tag) {
  size_t colon = tag.find(':');
  return colon != std::string_view::npos && tag.substr(colon + 1) != "latest";
}

// The comma-separated parts of `text` (empty ones included).
std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma - start));
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

// OK when `next` takes and gives what `served` does: the same names, dtypes and shapes, so
// that a client of the version serving now is a client of the next.
Status SameInterface(std::string_view what, const std::vector<TensorSpec>& served,
                     const std::vector<TensorSpec>& next, std::string_view served_version) {
  // Fixed sizes must match; a free dimension may be named differently.
  auto same = [](const TensorSpec& a, const TensorSpec& b) {
    return a.name == b.name && a.dtype == b.dtype && a.has_shape == b.has_shape &&
           std::equal(a.dims.begin(), a.dims.end(), b.dims.begin(), b.dims.end(),
                      [](const Dim& x, const Dim& y) { return x.value == y.value; });
  };
  bool equal = served.size() == next.size() && std::equal(served.begin(), served.end(),
                                                          next.begin(), same);
  if (equal) return OkStatus();
  auto list = [](const std::vector<TensorSpec>& specs) {
    std::string out;
    for (const auto& spec : specs) out += (out.empty() ? "" : "; ") + spec.ToString();
    return out;
  };
  return FailedPreconditionError(std::string(what) + " (" + list(next) +
                                 ") differ from those of served version " +
                                 std::string(served_version) + " (" + list(served) +
                                 "); unload the model first to change them");
}

// The batchable signature's batch dimension of `model`'s inputs, or -1.
int InputBatchDim(const onnx::Model& model) {
  auto signature = model.info.signatures.find("run");
  return signature != model.info.signatures.end() && signature->second.batchable
             ? signature->second.batch_dim.first
             : -1;
}

// DummyInput for each input (bento/validation.h), with `batch` items along `batch_dim`;
// nullopt when an input has no declared shape, or a free dimension other than `batch_dim`:
// no shape can be made up for it. `why` says which (for the log).
std::optional<std::map<std::string, Tensor>> DummyInputs(const onnx::Session& session,
                                                         int batch_dim, int64_t batch,
                                                         std::string* why) {
  std::map<std::string, Tensor> inputs;
  for (const TensorSpec& spec : session.inputs()) {
    if (!spec.has_shape) {
      *why = "input " + spec.name + " has no declared shape";
      return std::nullopt;
    }
    for (size_t d = 0; d < spec.dims.size(); ++d) {
      const bool batch_d = static_cast<int>(d) == batch_dim;
      if (spec.dims[d].fixed() && batch_d && batch != 1) {
        *why = "input " + spec.name + "'s batch dimension is fixed";
        return std::nullopt;
      }
      if (!spec.dims[d].fixed() && !batch_d) {
        *why = "input " + spec.name + " has a free dimension " + std::to_string(d);
        return std::nullopt;
      }
    }
    StatusOr<Tensor> input = DummyInput(spec, batch);
    if (!input.ok()) {
      *why = input.status().message();
      return std::nullopt;
    }
    inputs.emplace(spec.name, *std::move(input));
  }
  return inputs;
}

// One run on made-up inputs before the version serves, so that its first request does not
// pay for ONNX Runtime's lazy initialisation, and a version that cannot run does not replace
// one that can. Skipped when no input shape can be made up (DummyInputs).
Status WarmUp(const onnx::Model& model, const onnx::Session& session) {
  std::string why;
  auto inputs = DummyInputs(session, InputBatchDim(model), 1, &why);
  if (!inputs) {
    spdlog::debug("model {}: no warm-up run, since {}", model.tag.ToString(), why);
    return OkStatus();
  }
  auto outputs = session.Run(*inputs);
  if (!outputs.ok()) return FailedPreconditionError("its warm-up run failed: " +
                                                    outputs.status().message());
  return OkStatus();
}

// How long a timing runs: at least `min_runs` runs, then until `min_seconds` have passed or
// `enough_runs` runs were made, whichever comes first. A tiny model's Run takes microseconds:
// a few hundred runs time it as well as thousands would, and its server is ready sooner.
struct TimingLength {
  int min_runs;
  double min_seconds;
  int enough_runs;

  bool Done(int runs, double seconds) const {
    return runs >= min_runs && (seconds >= min_seconds || runs >= enough_runs);
  }
};

// Seconds per item when `callers` threads run `inputs` (`items` of them) over and over at once,
// each for `length`: the throughput of serving with that many runs in flight. Each thread
// first runs once untimed, since a shape run at once for the first time grows the arena.
// nullopt when a run fails.
std::optional<double> SecondsPerItemAtOnce(const onnx::Session& session,
                                           const std::map<std::string, Tensor>& inputs,
                                           int items, int callers, TimingLength length) {
  std::atomic<bool> failed{false};
  std::atomic<int64_t> runs{0};
  SteadyClock::time_point start;
  std::barrier started(callers, [&]() noexcept { start = SteadyClock::now(); });
  auto run = [&] {
    if (!session.Run(inputs).ok()) failed = true;
    started.arrive_and_wait();
    for (int n = 0; !failed.load(); ++n) {
      if (length.Done(n, SecondsSince(start))) break;
      if (!session.Run(inputs).ok()) failed = true;
      runs.fetch_add(1);
    }
  };
  std::vector<std::thread> others;
  for (int i = 1; i < callers; ++i) others.emplace_back(run);
  run();
  for (auto& t : others) t.join();
  if (failed) return std::nullopt;
  return SecondsSince(start) / static_cast<double>(runs.load() * items);
}

// Inputs of `batch` items along the batch dimension, for timing batch sizes; nullopt, with
// `why`, when none can be made.
using InputMaker = std::function<std::optional<batching::TensorMap>(int64_t batch,
                                                                    std::string* why)>;

// Made-up inputs (DummyInputs): what a version is timed on when it loads.
InputMaker MadeUpInputs(const onnx::Model& model, const onnx::Session& session) {
  return [&session, dim = InputBatchDim(model)](int64_t batch, std::string* why) {
    return DummyInputs(session, dim, batch, why);
  };
}

// A request's first item repeated `batch` times: what a version whose inputs cannot be made
// up is timed on, at its first request.
InputMaker RequestInputs(const batching::TensorMap& request, int batch_dim) {
  return [&request, batch_dim](int64_t batch,
                               std::string* why) -> std::optional<batching::TensorMap> {
    auto item = batching::SliceMap(request, batch_dim, 0, 1);
    if (!item.ok()) {
      *why = "its first item cannot be taken: " + item.status().message();
      return std::nullopt;
    }
    std::vector<batching::TensorMap> items(static_cast<size_t>(batch), *item);
    auto inputs = batching::ConcatMaps(items, batch_dim);
    if (!inputs.ok()) {
      *why = inputs.status().message();
      return std::nullopt;
    }
    return *std::move(inputs);
  };
}

// Whether a batchable version is batched, and its largest batch (nullopt: it is served
// unbatched), timed on the inputs `make` gives; `when` says when, for the log ("at load").
// Batches of 1, 2, 4, ... up to `max_batch_size` are timed before it serves, and
// BatchSizeProbe keeps the size past which an item no longer gets cheaper. Each size runs
// once untimed (ONNX Runtime plans the memory of a new shape on its first run), then for
// kEach (TimingLength), the fastest run counting. The last run of each size gives the arena
// back what it grew by, so the sizes timed hold no memory afterwards (shrinking on every run
// would time the page faults of fresh memory).
// Then the chosen size, `inflight` batches at once, is timed against single items run by
// `workers` threads at once, as the API workers run an unbatched model's requests, and the
// version is batched only if that pays (batching::BatchingPays).
// FAILED_PRECONDITION, saying why, when no input of one item can be made or a batch of one
// fails: nothing was timed. A larger size that cannot be made or fails to run ends the probe
// at the sizes below it, and the version is batched, so that a request of more items than
// its largest batch is split.
StatusOr<std::optional<int>> ChooseBatching(const onnx::Model& model,
                                            const onnx::Session& session,
                                            const InputMaker& make, std::string_view when,
                                            int max_batch_size, int inflight, int workers) {
  constexpr TimingLength kEach{.min_runs = 3, .min_seconds = 0.01, .enough_runs = 200};
  // Each of the two timings at once, per thread.
  constexpr TimingLength kAtOnce{.min_runs = 3, .min_seconds = 0.05, .enough_runs = 500};
  constexpr double kBudgetSeconds = 2;
  const std::string tag = model.tag.ToString();
  batching::BatchSizeProbe probe(max_batch_size, kBudgetSeconds);
  // The inputs of one item and of the largest size kept, for the timings at once.
  std::optional<batching::TensorMap> one, largest;
  while (auto size = probe.Next()) {
    std::string why;
    auto inputs = make(*size, &why);
    if (!inputs) {
      if (*size == 1) return FailedPreconditionError(why);
      spdlog::warn("model {}: no batch of {} can be made ({}); batches of up to {}", tag,
                   *size, why, probe.chosen());
      return probe.chosen();
    }
    auto start = SteadyClock::now();
    double fastest = std::numeric_limits<double>::infinity();
    for (int run = 0;; ++run) {
      const bool last = kEach.Done(run, SecondsSince(start));
      auto run_start = SteadyClock::now();
      auto outputs = session.Run(*inputs, {}, onnx::RunOptions{.shrink_arena = last});
      if (!outputs.ok()) {
        if (*size == 1) {
          return FailedPreconditionError("a batch of 1 fails: " +
                                         std::string(FirstLine(outputs.status().message())));
        }
        spdlog::warn("model {}: a batch of {} fails ({}); batches of up to {}", tag, *size,
                     FirstLine(outputs.status().message()), probe.chosen());
        return probe.chosen();
      }
      if (run > 0) fastest = std::min(fastest, SecondsSince(run_start));
      if (last) break;
    }
    probe.Record(*size, fastest, SecondsSince(start));
    if (*size == 1) one = inputs;
    if (probe.chosen() == *size) largest = std::move(inputs);
  }
  const int chosen = probe.chosen();
  std::optional<double> unbatched, batched;
  if (one && largest) {
    unbatched = SecondsPerItemAtOnce(session, *one, 1, workers, kAtOnce);
    batched = SecondsPerItemAtOnce(session, *largest, chosen, inflight, kAtOnce);
    // The arena gives back what running at once grew it by.
    (void)session.Run(*largest, {}, onnx::RunOptions{.shrink_arena = true});
  }
  if (!unbatched || !batched) {
    spdlog::info("model {}: batch sizes timed {}: {}; --max-batch-size sets it instead", tag,
                 when, probe.Summary());
    return chosen;
  }
  const bool pays = batching::BatchingPays(*batched, *unbatched);
  spdlog::info(
      "model {}: batch sizes timed {}: {}; at once, {} batch(es) of {}: {}, {} "
      "request(s) unbatched: {}, so batching is {}; --max-batch-size sets it instead",
      tag, when, probe.Summary(), inflight, chosen, batching::PerItem(*batched), workers,
      batching::PerItem(*unbatched),
      pays ? "on"
           : fmt::format("off (a batched item must cost {:g}% less, after {:g} us to hand it "
                         "over)",
                         batching::kMinBatchingGain * 100,
                         batching::kHandOffSeconds * 1e6));
  if (!pays) return std::optional<int>();
  return chosen;
}

// For a version served unbatched on an API worker's share of the CPUs (`narrow`, of
// `narrow_threads` intra-op threads): a session on `wide_threads` instead when
// batching::WideThreadsPay says so, timed on made-up inputs of one item: lone runs on each in
// turn, for kEach (TimingLength) in all, the fastest of each counting (so that
// a burst of other work on the machine slows some runs of both, not the choice). nullopt
// keeps `narrow`: no input can be made up (the choice is not made on a request's inputs,
// since a served version's session never changes), the wide session fails to load or run, or
// it does not pay.
std::optional<onnx::Session> ChooseThreads(const onnx::Model& model, const onnx::Session& narrow,
                                           const std::vector<onnx::Provider>& providers,
                                           onnx::SessionOptions options, int narrow_threads,
                                           int wide_threads) {
  constexpr TimingLength kEach{.min_runs = 8, .min_seconds = 0.02, .enough_runs = 200};
  const std::string tag = model.tag.ToString();
  std::string why;
  auto one = DummyInputs(narrow, InputBatchDim(model), 1, &why);
  if (!one) {
    spdlog::debug("model {}: intra-op threads not timed, since {}", tag, why);
    return std::nullopt;
  }
  options.intra_op_num_threads = wide_threads;
  StatusOr<onnx::Session> wide = onnx::load_model(model, providers, options);
  Status warm = wide.ok() ? WarmUp(model, *wide) : wide.status();
  if (!warm.ok()) {
    spdlog::warn("model {}: no session on {} intra-op threads to time ({}); it runs on {}", tag,
                 wide_threads, FirstLine(warm.message()), narrow_threads);
    return std::nullopt;
  }
  double lone[2] = {std::numeric_limits<double>::infinity(),
                    std::numeric_limits<double>::infinity()};
  const auto start = SteadyClock::now();
  for (int run = 0; !kEach.Done(run, SecondsSince(start)); ++run) {
    for (int i = 0; i < 2; ++i) {
      const auto run_start = SteadyClock::now();
      if (!(i == 0 ? narrow : *wide).Run(*one).ok()) return std::nullopt;
      lone[i] = std::min(lone[i], SecondsSince(run_start));
    }
  }
  const bool pays = batching::WideThreadsPay(lone[0], lone[1]);
  spdlog::info("model {}: intra-op threads timed at load: a lone request {} on {} thread(s), "
               "{} on {}, so it runs on {}; --threads sets them instead",
               tag, batching::PerItem(lone[0]), narrow_threads, batching::PerItem(lone[1]),
               wide_threads, pays ? wide_threads : narrow_threads);
  if (!pays) return std::nullopt;
  return *std::move(wide);
}

// The batcher of a batched version, running its batches on `session`.
std::shared_ptr<batching::Dispatcher> StartModelBatcher(const onnx::Model& model,
                                                        const onnx::Session& session,
                                                        const batching::BatchingOptions& options) {
  return batching::StartBatching(
      "model " + model.tag.ToString(), options,
      [session](const batching::TensorMap& inputs) -> StatusOr<batching::TensorMap> {
        ASSIGN_OR_RETURN(auto outputs, session.Run(inputs));
        batching::TensorMap named;
        for (size_t i = 0; i < outputs.size(); ++i) {
          named.emplace(session.outputs()[i].name, std::move(outputs[i]));
        }
        return named;
      });
}

// The batcher of a version whose batching ChooseBatching chose: batches of up to `size`
// items, or none (nullopt: served unbatched).
std::shared_ptr<batching::Dispatcher> StartChosenBatcher(const onnx::Model& model,
                                                         const onnx::Session& session,
                                                         batching::BatchingOptions options,
                                                         std::optional<int> size) {
  if (!size) return nullptr;
  options.max_batch_size = *size;
  return StartModelBatcher(model, session, options);
}

// The store's versions of `name` that `policy` selects, newest first (`latest` first).
StatusOr<std::vector<onnx::Model>> Selected(const std::string& name, const VersionPolicy& policy) {
  std::vector<onnx::Model> out;
  if (policy.kind == VersionPolicy::Kind::kSpecific) {
    for (const std::string& version : policy.versions) {
      ASSIGN_OR_RETURN(onnx::Model model, onnx::get(name + ":" + version));
      out.push_back(std::move(model));
    }
    return out;
  }
  ASSIGN_OR_RETURN(std::vector<onnx::Model> all, models::list(name));
  if (all.empty()) return NotFoundError("no version of model '" + name + "' is in the store");
  ASSIGN_OR_RETURN(onnx::Model latest, onnx::get(name + ":latest"));
  out.push_back(latest);
  for (auto& model : all) {
    if (policy.kind == VersionPolicy::Kind::kLatest &&
        out.size() >= static_cast<size_t>(policy.latest)) {
      break;
    }
    if (model.tag.version != latest.tag.version) out.push_back(std::move(model));
  }
  return out;
}

// Orders `served` as `selected` is, so that the first is the version a request with no
// version gets: the `latest` version, then the newest others.
void InPolicyOrder(const std::vector<onnx::Model>& selected, std::vector<ModelRef>& served) {
  auto rank = [&](const ModelRef& m) {
    for (size_t i = 0; i < selected.size(); ++i) {
      if (selected[i].tag.version == m->version()) return i;
    }
    return selected.size();
  };
  std::stable_sort(served.begin(), served.end(),
                   [&](const ModelRef& a, const ModelRef& b) { return rank(a) < rank(b); });
}

}  // namespace

// ---- policies ----------------------------------------------------------------------------

StatusOr<VersionPolicy> VersionPolicy::Parse(std::string_view text) {
  VersionPolicy policy;
  if (text == "all") {
    policy.kind = Kind::kAll;
    return policy;
  }
  if (text == "latest") return policy;
  if (text.starts_with("latest:")) {
    std::string_view n = text.substr(7);
    int value = 0;
    auto [end, error] = std::from_chars(n.data(), n.data() + n.size(), value);
    if (error != std::errc() || end != n.data() + n.size() || value < 1) {
      return InvalidArgumentError("version policy '" + std::string(text) +
                                  "': latest:N needs a whole number N of 1 or more");
    }
    policy.latest = value;
    return policy;
  }
  if (text.starts_with("specific:")) {
    policy.kind = Kind::kSpecific;
    for (std::string_view v : SplitCommas(text.substr(9))) {
      if (v.empty()) {
        return InvalidArgumentError("version policy '" + std::string(text) +
                                    "': specific: needs versions separated by commas");
      }
      policy.versions.emplace_back(v);
    }
    if (policy.versions.empty()) {
      return InvalidArgumentError("version policy '" + std::string(text) +
                                  "': specific: needs at least one version");
    }
    return policy;
  }
  return InvalidArgumentError("unknown version policy '" + std::string(text) +
                              "': give latest:N, all, or specific:V1,V2");
}

std::string VersionPolicy::ToString() const {
  switch (kind) {
    case Kind::kAll:
      return "all";
    case Kind::kSpecific: {
      std::string out = "specific:";
      for (size_t i = 0; i < versions.size(); ++i) out += (i ? "," : "") + versions[i];
      return out;
    }
    case Kind::kLatest:
      break;
  }
  return "latest:" + std::to_string(latest);
}

StatusOr<ReloadPolicy> ParseReloadPolicy(std::string_view text) {
  if (text == "availability") return ReloadPolicy::kAvailability;
  if (text == "resource") return ReloadPolicy::kResource;
  return InvalidArgumentError("unknown reload policy '" + std::string(text) +
                              "': give availability or resource");
}

StatusOr<ControlMode> ParseControlMode(std::string_view text) {
  if (text == "none") return ControlMode::kNone;
  if (text == "explicit") return ControlMode::kExplicit;
  if (text == "poll") return ControlMode::kPoll;
  return InvalidArgumentError("unknown model control mode '" + std::string(text) +
                              "': give none, explicit or poll");
}

std::string_view ControlModeName(ControlMode mode) {
  switch (mode) {
    case ControlMode::kExplicit:
      return "explicit";
    case ControlMode::kPoll:
      return "poll";
    case ControlMode::kNone:
      break;
  }
  return "none";
}

const std::vector<double>& LoadStats::Bounds() {
  static const std::vector<double> bounds = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
  return bounds;
}

// ---- ServedModel --------------------------------------------------------------------------

ServedModel::~ServedModel() {
  if (batcher_) batcher_->Stop();
}

Status ServedModel::CheckInputs(const std::map<std::string, Tensor>& inputs) const {
  return ValidateInputs(inputs, session_.inputs());
}

int ServedModel::max_batch_size() const {
  auto signature = model_.info.signatures.find("run");
  bool batchable = signature != model_.info.signatures.end() && signature->second.batchable &&
                   signature->second.batch_dim.first == 0;
  return batchable ? batch_limit_ : 0;
}

uint64_t ServedModel::Items(const std::map<std::string, Tensor>& inputs) const {
  auto signature = model_.info.signatures.find("run");
  if (signature == model_.info.signatures.end() || !signature->second.batchable ||
      inputs.empty()) {
    return 1;
  }
  const auto& shape = inputs.begin()->second.shape();
  size_t dim = static_cast<size_t>(signature->second.batch_dim.first);
  return dim < shape.size() ? static_cast<uint64_t>(shape[dim]) : 1;
}

void ServedModel::DecideBatching(const std::map<std::string, Tensor>& request) const {
  Undecided& u = *undecided_;
  {
    MutexLock lock(u.mu);
    while (u.choosing) u.cv.Wait(u.mu);
    if (!u.pending.load(std::memory_order_relaxed)) return;  // chosen while this one waited
    u.choosing = true;
  }
  // The other requests wait meanwhile, so that the timings have the cores to themselves.
  auto batcher = u.choose(request);
  {
    MutexLock lock(u.mu);
    u.choosing = false;
    if (batcher.ok()) {
      batcher_ = *std::move(batcher);
      u.pending.store(false, std::memory_order_release);
    } else {
      spdlog::info("model {}: batching not chosen on a request's inputs, since {}; the next "
                   "request's are timed",
                   model_.tag.ToString(), batcher.status().message());
    }
  }
  u.cv.NotifyAll();
}

void ServedModel::Infer(std::map<std::string, Tensor> inputs,
                        std::function<void(StatusOr<std::vector<Tensor>>)> done) const {
  if (undecided()) DecideBatching(inputs);
  if (!batcher_) {
    done(session_.Run(inputs));
    return;
  }
  // Batched: the request was validated alone; the batcher combines it with others of this
  // version only.
  batching::Request batched;
  batched.inputs = std::move(inputs);
  batched.done = [this, done = std::move(done)](StatusOr<batching::TensorMap> outputs) {
    if (!outputs.ok()) return done(outputs.status());
    std::vector<Tensor> ordered;
    for (const auto& spec : session_.outputs()) ordered.push_back(outputs->at(spec.name));
    done(std::move(ordered));
  };
  batcher_->Submit(std::move(batched));
}

std::optional<batching::BatcherStats> ServedModel::batcher_stats() const {
  if (undecided() || !batcher_) return std::nullopt;
  return batcher_->stats();
}

// ---- ModelManager: creation and the loader thread ------------------------------------------

ModelManager::ModelManager(ManagerOptions options) : options_(std::move(options)) {}

ModelManager::~ModelManager() {
  {
    MutexLock lock(jobs_mu_);
    stopping_ = true;
  }
  jobs_cv_.NotifyAll();
  if (loader_.joinable()) loader_.join();
}

StatusOr<std::unique_ptr<ModelManager>> ModelManager::Create(const std::vector<std::string>& tags,
                                                             ManagerOptions options) {
  if (tags.empty() && options.control_mode != ControlMode::kExplicit) {
    return InvalidArgumentError("no model to serve: give at least one tag");
  }
  std::unique_ptr<ModelManager> manager(new ModelManager(std::move(options)));
  {
    MutexLock lock(manager->mu_);
    for (const auto& tag : tags) {
      ASSIGN_OR_RETURN(onnx::Model model, onnx::get(tag));
      if (manager->FindSlot(model.tag.name) != nullptr) {
        return InvalidArgumentError("model name '" + model.tag.name +
                                    "' is given twice; serve one version of each model");
      }
      auto slot = std::make_unique<Slot>();
      slot->name = model.tag.name;
      slot->policy = manager->options_.version_policy;
      if (NamesVersion(tag)) {
        slot->policy = VersionPolicy{VersionPolicy::Kind::kSpecific, 1, {model.tag.version}};
      }
      slot->unavailable = UnavailableError("model " + model.tag.name + " is still loading");
      slot->given = std::move(model);
      manager->slots_.push_back(std::move(slot));
    }
  }
  manager->StartLoader();
  return manager;
}

StatusOr<std::unique_ptr<ModelManager>> ModelManager::Adopt(
    const std::vector<onnx::Session>& sessions, ManagerOptions options) {
  std::unique_ptr<ModelManager> manager(new ModelManager(std::move(options)));
  {
    MutexLock lock(manager->mu_);
    manager->started_ = true;  // the service's code has loaded them all
    for (const auto& session : sessions) {
      if (manager->FindSlot(session.tag().name) != nullptr) {
        spdlog::info("model {} is loaded twice; its first session serves the KServe protocol",
                     session.tag().ToString());
        continue;
      }
      ASSIGN_OR_RETURN(onnx::Model model, onnx::get(session.tag().ToString()));
      auto slot = std::make_unique<Slot>();
      slot->name = model.tag.name;
      slot->policy = VersionPolicy{VersionPolicy::Kind::kSpecific, 1, {model.tag.version}};
      std::shared_ptr<ServedModel> served(
          new ServedModel(model, session, manager->options_.max_batch_size));
      served->batcher_ =
          manager->StartBatcher(model, session, manager->options_.max_batch_size,
                                manager->options_.session_options.intra_op_num_threads);
      slot->served.push_back(std::move(served));
      slot->given = std::move(model);
      manager->slots_.push_back(std::move(slot));
    }
  }
  manager->StartLoader();
  return manager;
}

void ModelManager::StartLoader() {
  loader_ = std::thread([this] { LoaderLoop(); });
}

void ModelManager::Post(Job job) {
  {
    MutexLock lock(jobs_mu_);
    jobs_.push_back(std::move(job));
  }
  jobs_cv_.NotifyAll();
}

void ModelManager::PostAndWait(Job job) {
  std::promise<void> finished;
  Post([&] {
    job();
    finished.set_value();
  });
  finished.get_future().wait();
}

void ModelManager::LoaderLoop() {
  auto next_poll = SteadyClock::now();
  for (;;) {
    Job job;
    {
      MutexLock lock(jobs_mu_);
      while (jobs_.empty() && !stopping_) {
        auto deadline = SteadyClock::time_point::max();
        if (!retired_.empty()) deadline = SteadyClock::now() + std::chrono::milliseconds(20);
        if (polling_) deadline = std::min(deadline, next_poll);
        if (deadline == SteadyClock::time_point::max()) {
          jobs_cv_.Wait(jobs_mu_);
        } else if (!jobs_cv_.WaitUntil(jobs_mu_, deadline)) {
          break;  // time to reap or to poll
        }
      }
      if (stopping_) break;
      if (!jobs_.empty()) {
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
    }
    if (job) job();
    Reap();
    if (polling_ && SteadyClock::now() >= next_poll) {
      Poll();
      next_poll = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                           std::chrono::duration<double>(options_.poll_secs));
    }
  }
  // Stopping: the transports are down, so what requests still hold is theirs to free.
  retired_.clear();
}

// ---- loading and swapping ----------------------------------------------------------------

bool ModelManager::Batched(const onnx::Model& model) const {
  auto signature = model.info.signatures.find("run");
  return options_.batching && signature != model.info.signatures.end() &&
         signature->second.batchable;
}

int ModelManager::InflightBatches(int intra_op_threads) const {
  return options_.max_inflight_batches > 0 ? options_.max_inflight_batches
                                           : batching::InflightBatchesFor(intra_op_threads);
}

batching::BatchingOptions ModelManager::BatcherOptions(const onnx::Model& model,
                                                      int max_batch_size,
                                                      int intra_op_threads) const {
  auto signature = model.info.signatures.find("run");
  batching::BatchingOptions batching;
  batching.max_batch_size = max_batch_size;
  batching.max_latency_ms = options_.max_latency_ms;
  batching.max_inflight_batches = InflightBatches(intra_op_threads);
  batching.input_batch_dim = signature->second.batch_dim.first;
  batching.output_batch_dim = signature->second.batch_dim.second;
  return batching;
}

std::shared_ptr<batching::Dispatcher> ModelManager::StartBatcher(const onnx::Model& model,
                                                                 const onnx::Session& session,
                                                                 int max_batch_size,
                                                                 int intra_op_threads) const {
  if (!Batched(model)) return nullptr;
  return StartModelBatcher(model, session,
                           BatcherOptions(model, max_batch_size, intra_op_threads));
}

StatusOr<ModelRef> ModelManager::LoadVersion(const onnx::Model& model,
                                             const std::optional<Interface>& serving) {
  auto start = SteadyClock::now();
  // The CPU provider's options may name the threads too (as the guide does); the session
  // options win over them.
  onnx::SessionOptions session_options = options_.session_options;
  std::string threads = std::to_string(session_options.intra_op_num_threads);
  for (const auto& p : options_.providers) {
    if (threads == "0" && p.name == "CPUExecutionProvider" &&
        p.options.contains("intra_op_num_threads")) {
      const Json& given = p.options["intra_op_num_threads"];
      threads = given.is_string() ? given.get<std::string>() : given.dump();
    }
  }
  // A model whose batching is timed gets the threads of an unbatched one too, so that the
  // timing runs requests as they would run unbatched, and batches as many at once as fit.
  const bool choose_batching =
      Batched(model) && options_.choose_batch_size && options_.max_batch_size > 1;
  const bool narrowed =
      threads == "0" && (!Batched(model) || choose_batching) && options_.unbatched_threads > 0;
  if (narrowed) {
    session_options.intra_op_num_threads = options_.unbatched_threads;
    threads = std::to_string(options_.unbatched_threads);
  }
  if (threads == "0") {
    auto limit = CgroupCpus();  // what the session sets then (runtime/providers.cc)
    threads = limit ? std::to_string(*limit) : "ONNX Runtime's default, one per core";
  }
  ASSIGN_OR_RETURN(onnx::Session session,
                   onnx::load_model(model, options_.providers, session_options));
  if (serving) {
    RETURN_IF_ERROR(
        SameInterface("its inputs", serving->inputs, session.inputs(), serving->version));
    RETURN_IF_ERROR(
        SameInterface("its outputs", serving->outputs, session.outputs(), serving->version));
  }
  RETURN_IF_ERROR(WarmUp(model, session));
  const int session_threads = session_options.intra_op_num_threads;
  std::shared_ptr<batching::Dispatcher> batcher;
  std::unique_ptr<ServedModel::Undecided> undecided;
  if (!choose_batching) {
    batcher = StartBatcher(model, session, options_.max_batch_size, session_threads);
  } else {
    const batching::BatchingOptions options =
        BatcherOptions(model, options_.max_batch_size, session_threads);
    const int workers = options_.api_workers > 0 ? options_.api_workers : AvailableCpus();
    StatusOr<std::optional<int>> chosen =
        ChooseBatching(model, session, MadeUpInputs(model, session), "at load",
                       options.max_batch_size, options.max_inflight_batches, workers);
    if (chosen.ok()) {
      batcher = StartChosenBatcher(model, session, options, *chosen);
    } else {
      // No input could be made up: the first request's inputs are timed instead.
      spdlog::info("model {}: batching is chosen on its first request, whose inputs are "
                   "timed then, since {}",
                   model.tag.ToString(), chosen.status().message());
      undecided = std::make_unique<ServedModel::Undecided>(
          [model, session, options, workers](const std::map<std::string, Tensor>& request)
              -> StatusOr<std::shared_ptr<batching::Dispatcher>> {
            ASSIGN_OR_RETURN(std::optional<int> size,
                             ChooseBatching(model, session,
                                            RequestInputs(request, options.input_batch_dim),
                                            "on a request's inputs", options.max_batch_size,
                                            options.max_inflight_batches, workers));
            return StartChosenBatcher(model, session, options, size);
          });
    }
  }
  // Served unbatched on a worker's share of the CPUs: every CPU's threads instead, where a
  // lone request runs faster on them.
  const int cpus = AvailableCpus();
  if (narrowed && !batcher && !undecided && cpus > options_.unbatched_threads) {
    if (auto wide = ChooseThreads(model, session, options_.providers, session_options,
                                  options_.unbatched_threads, cpus)) {
      session = *std::move(wide);
      threads = std::to_string(cpus);
    }
    // Give the session not kept back to the system, as Reap does a retired version's.
    malloc_trim(0);
  }
  std::shared_ptr<ServedModel> served(new ServedModel(model, session, options_.max_batch_size));
  served->batcher_ = std::move(batcher);
  served->undecided_ = std::move(undecided);
  double seconds = SecondsSince(start);
  spdlog::info("model {} loaded in {:.3f} s (intra-op threads: {})", model.tag.ToString(),
               seconds, threads);
  MutexLock lock(mu_);
  LoadStats::PerModel& stats = load_stats_.models[model.tag.name];
  const auto& bounds = LoadStats::Bounds();
  stats.buckets.resize(bounds.size() + 1);
  for (size_t i = 0; i < bounds.size(); ++i) stats.buckets[i] += seconds <= bounds[i] ? 1 : 0;
  stats.buckets.back() += 1;
  stats.sum += seconds;
  return ModelRef(std::move(served));
}

void ModelManager::Retire(Slot& slot, const std::string& version) {
  auto it = std::find_if(slot.served.begin(), slot.served.end(),
                         [&](const ModelRef& m) { return m->version() == version; });
  if (it == slot.served.end()) return;
  ModelRef retired = std::move(*it);
  slot.served.erase(it);
  for (auto label = slot.labels.begin(); label != slot.labels.end();) {
    if (label->second == version) {
      spdlog::info("model {}: label {} is removed with version {}", slot.name, label->first,
                   version);
      label = slot.labels.erase(label);
    } else {
      ++label;
    }
  }
  slot.states[version] = {"UNLOADING", "draining its requests"};
  // Two references are the slot's (now moved here) and retired_'s; more are requests.
  spdlog::info("model {}:{} retired; draining {} request(s)", slot.name, version,
               retired.use_count() - 1);
  retired_.push_back(std::move(retired));
}

void ModelManager::Reap() {
  bool freed = false;
  for (auto it = retired_.begin(); it != retired_.end();) {
    // Nothing can take a new reference to a retired version, so a count of one is final.
    if (it->use_count() > 1) {
      ++it;
      continue;
    }
    std::string name = (*it)->name(), version = (*it)->version();
    it->reset();  // drains the batcher and frees the session, here on the loader thread
    it = retired_.erase(it);
    freed = true;
    {
      MutexLock lock(mu_);
      if (Slot* slot = FindSlot(name)) slot->states.erase(version);
    }
    spdlog::info("model {}:{} drained and unloaded", name, version);
  }
  // Give the freed session's memory back to the system, so that reloads do not grow it.
  if (freed) malloc_trim(0);
}

Status ModelManager::Reconcile(const std::string& name, bool retry_failed) {
  VersionPolicy policy;
  std::set<std::string> served, failed;
  {
    MutexLock lock(mu_);
    Slot* slot = FindSlot(name);
    if (slot == nullptr) return NotFoundError("model '" + name + "' is not served");
    policy = slot->policy;
    for (const auto& m : slot->served) served.insert(m->version());
    if (retry_failed) slot->failed.clear();
    for (const auto& [version, reason] : slot->failed) failed.insert(version);
  }
  auto selected = Selected(name, policy);
  if (!selected.ok()) {
    MutexLock lock(mu_);
    Slot* slot = FindSlot(name);
    if (slot->served.empty()) {
      slot->unavailable = UnavailableError("model " + name +
                                           " is not available: " + selected.status().message());
    }
    return selected.status();
  }
  std::vector<const onnx::Model*> to_load;
  std::set<std::string> wanted;
  bool failed_before = false;  // a wanted version failed an earlier load: keep what serves
  for (const auto& model : *selected) {
    wanted.insert(model.tag.version);
    if (failed.contains(model.tag.version)) {
      failed_before = true;
    } else if (!served.contains(model.tag.version)) {
      to_load.push_back(&model);
    }
  }
  std::vector<std::string> to_retire;
  for (const auto& version : served) {
    if (!wanted.contains(version) && !failed_before) to_retire.push_back(version);
  }
  {
    MutexLock lock(mu_);
    Slot* slot = FindSlot(name);
    for (auto it = slot->failed.begin(); it != slot->failed.end();) {
      if (wanted.contains(it->first)) {
        ++it;
      } else {
        slot->states.erase(it->first);
        it = slot->failed.erase(it);
      }
    }
  }
  if (to_load.empty() && to_retire.empty()) {
    MutexLock lock(mu_);
    InPolicyOrder(*selected, FindSlot(name)->served);  // `latest` may have moved
    return OkStatus();
  }

  // The version the new ones must answer like: the newest serving now (its interface only:
  // under the resource policy it is unloaded before they load).
  std::optional<Interface> reference;
  const bool resource = options_.reload_policy == ReloadPolicy::kResource && !to_load.empty();
  std::vector<onnx::Model> unloaded_first;  // resource: the versions retired before the load
  {
    MutexLock lock(mu_);
    Slot* slot = FindSlot(name);
    if (!slot->served.empty()) {
      const ServedModel& newest = *slot->served.front();
      reference = Interface{newest.version(), newest.session().inputs(),
                            newest.session().outputs()};
    }
    for (const auto* model : to_load) slot->states[model->tag.version] = {"LOADING", ""};
    if (resource && !to_retire.empty()) {
      // Unload first: the model is between versions (and the server not ready) until the
      // new ones serve.
      slot->between_versions = slot->served.size() == to_retire.size();
      for (const auto& m : slot->served) {
        if (std::find(to_retire.begin(), to_retire.end(), m->version()) != to_retire.end()) {
          unloaded_first.push_back(m->model());
        }
      }
      for (const auto& version : to_retire) Retire(*slot, version);
      slot->unavailable = UnavailableError("model " + name + " is between versions (reload policy "
                                           "resource): its new version is loading");
    }
  }
  if (resource && !to_retire.empty()) {
    // Wait for the retired versions' last requests, so that their memory is free first.
    while (!retired_.empty()) {
      Reap();
      if (!retired_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  Status first;
  std::string unavailable;  // why the model cannot serve, when nothing serves after this
  for (const auto* model : to_load) {
    const std::string& version = model->tag.version;
    auto loaded = LoadVersion(*model, reference);
    MutexLock lock(mu_);
    Slot* slot = FindSlot(name);
    if (loaded.ok()) {
      slot->states.erase(version);
      slot->failed.erase(version);
      slot->served.push_back(*std::move(loaded));
      spdlog::info("model {}:{} serves", name, version);
    } else {
      std::string reason = "failed to load: " + loaded.status().message();
      spdlog::error("model {}:{} {}", name, version, reason);
      slot->failed[version] = reason;
      slot->states[version] = {"UNAVAILABLE", reason};
      load_stats_.models[name].failures += 1;
      if (first.ok()) {
        first = Status(loaded.status().code(), "model " + model->tag.ToString() + " " + reason);
        unavailable = "model " + model->tag.ToString() + " is not available: " +
                      loaded.status().message();
      }
    }
  }
  if (!first.ok() && !unloaded_first.empty()) {
    // Resource policy, and the new version failed: load again what served before, so that a
    // failed load leaves the model serving under this policy too (after a gap).
    for (const auto& model : unloaded_first) {
      auto again = LoadVersion(model, std::nullopt);
      MutexLock lock(mu_);
      if (again.ok()) {
        FindSlot(name)->served.push_back(*std::move(again));
        spdlog::info("model {}: the new version failed to load, so {} serves again", name,
                     model.tag.ToString());
      } else {
        spdlog::error("model {}: {} cannot be loaded again either: {}", name,
                      model.tag.ToString(), again.status().message());
      }
    }
  }
  {
    MutexLock lock(mu_);
    Slot* slot = FindSlot(name);
    // A failed load keeps the versions it would have replaced.
    if (first.ok() && !resource) {
      for (const auto& version : to_retire) Retire(*slot, version);
    }
    InPolicyOrder(*selected, slot->served);
    slot->between_versions = false;
    if (slot->served.empty()) {
      slot->unavailable = UnavailableError(
          first.ok() ? "model " + name + " is not available: no version selected" : unavailable);
    } else {
      slot->unavailable = OkStatus();
    }
    const std::string now = slot->served.empty() ? "nothing" : slot->served.front()->version();
    spdlog::info("model {}: serving {} ({} version(s), policy {})", name, now,
                 slot->served.size(), slot->policy.ToString());
  }
  return first;
}

void ModelManager::ApplyGivenLabels(Slot& slot) {
  auto given = options_.labels.find(slot.name);
  if (given == options_.labels.end()) return;
  for (const auto& entry : given->second) {
    if (slot.labels.contains(entry.first)) continue;
    for (const auto& m : slot.served) {
      if (m->version() != entry.second) continue;
      slot.labels[entry.first] = entry.second;
      spdlog::info("model {}: label {} names version {}", slot.name, entry.first, entry.second);
    }
  }
}

void ModelManager::Poll() {
  std::vector<std::string> names;
  {
    MutexLock lock(mu_);
    for (const auto& slot : slots_) {
      if (!slot->unloaded) names.push_back(slot->name);
    }
  }
  for (const auto& name : names) {
    Status status = Reconcile(name, /*retry_failed=*/false);
    MutexLock lock(mu_);
    Slot* slot = FindSlot(name);
    ApplyGivenLabels(*slot);
    std::string error = status.ok() ? "" : status.ToString();
    if (!error.empty() && error != slot->poll_error) {
      spdlog::warn("poll of model {}: {}", name, error);
    }
    slot->poll_error = error;
  }
}

Status ModelManager::ApplyLabels(Slot& slot, const std::map<std::string, std::string>& labels) {
  std::string refused;
  for (const auto& entry : labels) {
    const std::string& label = entry.first;
    const std::string& version = entry.second;
    bool loaded = std::any_of(slot.served.begin(), slot.served.end(),
                              [&](const ModelRef& m) { return m->version() == version; });
    if (!loaded) {
      refused += (refused.empty() ? "" : ", ") + label + "=" + version;
      continue;
    }
    slot.labels[label] = version;
    spdlog::info("model {}: label {} names version {}", slot.name, label, version);
  }
  if (refused.empty()) return OkStatus();
  return InvalidArgumentError("model " + slot.name + ": a label may name only a loaded version, "
                              "and these do not: " + refused);
}

Status ModelManager::LoadAll() {
  Status first;
  PostAndWait([&] {
    std::vector<std::string> names = Names();
    for (const auto& name : names) {
      Status status = Reconcile(name, /*retry_failed=*/false);
      if (first.ok() && !status.ok()) first = status;
      auto labels = options_.labels.find(name);
      if (labels != options_.labels.end()) {
        MutexLock lock(mu_);
        Status applied = ApplyLabels(*FindSlot(name), labels->second);
        if (!applied.ok()) spdlog::error("{}", applied.message());
      }
    }
    polling_ = options_.control_mode == ControlMode::kPoll;
    MutexLock lock(mu_);
    started_ = true;
  });
  return first;
}

Status ModelManager::PollNow() {
  if (options_.control_mode != ControlMode::kPoll) {
    return FailedPreconditionError("the store is polled only with --model-control-mode poll");
  }
  PostAndWait([&] { Poll(); });
  return OkStatus();
}

Status ModelManager::ExplicitOnly() const {
  if (options_.control_mode == ControlMode::kExplicit) return OkStatus();
  return FailedPreconditionError("explicit model load / unload is not allowed: the server runs "
                                 "with --model-control-mode " +
                                 std::string(ControlModeName(options_.control_mode)));
}

void ModelManager::Load(std::string name, std::map<std::string, std::string> parameters,
                        std::function<void(Status)> done) {
  if (Status allowed = ExplicitOnly(); !allowed.ok()) return done(allowed);
  std::optional<VersionPolicy> policy;
  std::map<std::string, std::string> labels;
  for (const auto& [key, value] : parameters) {
    if (key == "version_policy") {
      auto parsed = VersionPolicy::Parse(value);
      if (!parsed.ok()) return done(parsed.status());
      policy = *parsed;
    } else if (key == "labels") {
      for (std::string_view pair : SplitCommas(value)) {
        size_t eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0 || eq + 1 == pair.size()) {
          return done(InvalidArgumentError("labels: '" + std::string(pair) +
                                           "' is not LABEL=VERSION"));
        }
        labels[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
      }
    } else {
      return done(InvalidArgumentError("load parameter '" + key +
                                       "' is not supported: give version_policy or labels"));
    }
  }
  Post([this, name = std::move(name), policy, labels = std::move(labels),
        done = std::move(done)] {
    bool added = false;
    {
      MutexLock lock(mu_);
      Slot* slot = FindSlot(name);
      if (slot == nullptr) {
        auto fresh = std::make_unique<Slot>();
        fresh->name = name;
        fresh->policy = options_.version_policy;
        fresh->unavailable = UnavailableError("model " + name + " is still loading");
        slot = fresh.get();
        slots_.push_back(std::move(fresh));
        added = true;
      }
      if (policy) slot->policy = *policy;
      slot->unloaded = false;
    }
    Status status = Reconcile(name, /*retry_failed=*/true);
    {
      MutexLock lock(mu_);
      Slot* slot = FindSlot(name);
      if (added && slot->served.empty() && status.code() == StatusCode::kNotFound) {
        // Not in the store: forget it rather than list a model that never was.
        slots_.erase(std::find_if(slots_.begin(), slots_.end(),
                                  [&](const auto& s) { return s.get() == slot; }));
      } else if (status.ok() && !labels.empty()) {
        status = ApplyLabels(*slot, labels);
      } else {
        ApplyGivenLabels(*slot);
      }
    }
    done(status);
  });
}

void ModelManager::Unload(std::string name, std::function<void(Status)> done) {
  if (Status allowed = ExplicitOnly(); !allowed.ok()) return done(allowed);
  Post([this, name = std::move(name), done = std::move(done)] {
    Status status;
    {
      MutexLock lock(mu_);
      if (Slot* slot = FindSlot(name)) {
        std::vector<std::string> versions;
        for (const auto& m : slot->served) versions.push_back(m->version());
        for (const auto& version : versions) Retire(*slot, version);
        slot->unloaded = true;
        slot->failed.clear();
        slot->unavailable = UnavailableError("model " + name + " is unloaded");
        spdlog::info("model {} unloaded", name);
      } else {
        status = NotFoundError("model '" + name + "' is not loaded");
      }
    }
    done(status);
  });
}

// ---- queries -----------------------------------------------------------------------------

ModelManager::Slot* ModelManager::FindSlot(std::string_view name) {
  for (auto& slot : slots_) {
    if (slot->name == name) return slot.get();
  }
  return nullptr;
}

const ModelManager::Slot* ModelManager::FindSlot(std::string_view name) const {
  for (const auto& slot : slots_) {
    if (slot->name == name) return slot.get();
  }
  return nullptr;
}

bool ModelManager::ready() const {
  MutexLock lock(mu_);
  if (!started_) return false;
  for (const auto& slot : slots_) {
    if (slot->unloaded) continue;
    if (slot->served.empty() || slot->between_versions) return false;
  }
  return true;
}

std::vector<onnx::Model> ModelManager::Given() const {
  MutexLock lock(mu_);
  std::vector<onnx::Model> out;
  for (const auto& slot : slots_) {
    if (slot->given) out.push_back(*slot->given);
  }
  return out;
}

std::vector<std::string> ModelManager::Names() const {
  MutexLock lock(mu_);
  std::vector<std::string> names;
  for (const auto& slot : slots_) names.push_back(slot->name);
  return names;
}

bool ModelManager::Knows(std::string_view name) const {
  MutexLock lock(mu_);
  return FindSlot(name) != nullptr;
}

StatusOr<ModelRef> ModelManager::Find(std::string_view name, std::string_view version) const {
  MutexLock lock(mu_);
  const Slot* slot = FindSlot(name);
  if (slot == nullptr) return NotFoundError("model '" + std::string(name) + "' is not served");
  if (version.empty()) {
    if (slot->served.empty()) return slot->unavailable;
    return slot->served.front();
  }
  std::string_view id = version;
  if (auto label = slot->labels.find(std::string(version)); label != slot->labels.end()) {
    id = label->second;
  }
  for (const auto& m : slot->served) {
    if (m->version() == id) return m;
  }
  if (auto state = slot->states.find(std::string(id)); state != slot->states.end()) {
    return UnavailableError("model " + std::string(name) + ":" + std::string(id) + " is " +
                            state->second.state + (state->second.reason.empty() ? "" : ": ") +
                            state->second.reason);
  }
  return NotFoundError("model '" + std::string(name) + "' has no version or label '" +
                       std::string(version) + "'");
}

std::vector<ModelRef> ModelManager::Served(std::string_view name) const {
  MutexLock lock(mu_);
  std::vector<ModelRef> out;
  for (const auto& slot : slots_) {
    if (!name.empty() && slot->name != name) continue;
    out.insert(out.end(), slot->served.begin(), slot->served.end());
  }
  return out;
}

void ModelManager::AppendRows(const Slot& slot, bool ready_only,
                              std::vector<IndexEntry>* rows) const {
  size_t before = rows->size();
  for (const auto& m : slot.served) rows->push_back({slot.name, m->version(), "READY", ""});
  if (ready_only) return;
  for (const auto& [version, state] : slot.states) {
    rows->push_back({slot.name, version, state.state, state.reason});
  }
  if (rows->size() == before) {
    rows->push_back({slot.name, "", "UNAVAILABLE", slot.unavailable.message()});
  }
}

std::vector<IndexEntry> ModelManager::States() const {
  MutexLock lock(mu_);
  std::vector<IndexEntry> rows;
  for (const auto& slot : slots_) AppendRows(*slot, /*ready_only=*/false, &rows);
  return rows;
}

StatusOr<std::vector<IndexEntry>> ModelManager::Index(bool ready_only) const {
  std::set<std::string> stored;
  if (options_.control_mode != ControlMode::kNone) {
    ASSIGN_OR_RETURN(std::vector<onnx::Model> all, models::list());
    for (const auto& model : all) stored.insert(model.tag.name);
  }
  MutexLock lock(mu_);
  std::vector<IndexEntry> rows;
  for (const auto& slot : slots_) {
    AppendRows(*slot, ready_only, &rows);
    stored.erase(slot->name);
  }
  // Models of the store never loaded: their name alone, as Triton lists them.
  if (!ready_only) {
    for (const auto& name : stored) rows.push_back({name, "", "", ""});
  }
  return rows;
}

LoadStats ModelManager::load_stats() const {
  MutexLock lock(mu_);
  return load_stats_;
}

}  // namespace bento::manager
