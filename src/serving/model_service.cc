#include "serving/model_service.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <set>

#include "batching/dispatcher.h"
#include "serving/batch_metrics.h"
#include "serving/model_entry.h"
#include "serving/schema.h"
#include "tensor/json_codec.h"

namespace bento::serving {

ModelService::ModelService(ModelServiceOptions options) : options_(std::move(options)) {}

ModelService::~ModelService() = default;

StatusOr<std::unique_ptr<ModelService>> ModelService::Create(const std::vector<std::string>& tags,
                                                             ModelServiceOptions options) {
  if (tags.empty()) return InvalidArgumentError("no model to serve: give at least one tag");
  std::unique_ptr<ModelService> service(new ModelService(std::move(options)));
  std::set<std::string> names;
  for (const auto& tag : tags) {
    ASSIGN_OR_RETURN(onnx::Model model, onnx::get(tag));
    if (!names.insert(model.tag.name).second) {
      return InvalidArgumentError("model name '" + model.tag.name +
                                  "' is given twice; serve one version of each model");
    }
    auto entry = std::make_unique<Entry>();
    entry->model = std::move(model);
    service->entries_.push_back(std::move(entry));
  }
  return service;
}

Status ModelService::LoadAll() {
  Status first;
  for (auto& entry : entries_) {
    auto session = onnx::load_model(entry->model, options_.providers, options_.session_options);
    if (session.ok()) {
      entry->session = std::move(*session);
      entry->load_status = OkStatus();
      auto signature = entry->model.info.signatures.find("run");
      if (options_.batching && signature != entry->model.info.signatures.end() &&
          signature->second.batchable) {
        batching::BatchingOptions batching;
        batching.max_batch_size = options_.max_batch_size;
        batching.max_latency_ms = options_.max_latency_ms;
        batching.max_inflight_batches = options_.max_inflight_batches;
        batching.input_batch_dim = signature->second.batch_dim.first;
        batching.output_batch_dim = signature->second.batch_dim.second;
        const onnx::Session* s = &*entry->session;
        auto dispatcher = batching::Dispatcher::Create(
            batching, [s](const batching::TensorMap& inputs) -> StatusOr<batching::TensorMap> {
              ASSIGN_OR_RETURN(auto outputs, s->Run(inputs));
              batching::TensorMap named;
              for (size_t i = 0; i < outputs.size(); ++i) {
                named.emplace(s->outputs()[i].name, std::move(outputs[i]));
              }
              return named;
            });
        if (dispatcher.ok()) {
          entry->batcher = std::move(*dispatcher);
          spdlog::info("{}: adaptive batching on (max_batch_size={}, max_latency_ms={})",
                       entry->model.tag.ToString(), batching.max_batch_size,
                       batching.max_latency_ms);
        } else {
          spdlog::warn("{}: batching off: {}", entry->model.tag.ToString(),
                       dispatcher.status().message());
        }
      }
    } else {
      spdlog::error("model {} failed to load: {}", entry->model.tag.ToString(),
                    session.status().ToString());
      entry->load_status = UnavailableError("model " + entry->model.tag.ToString() +
                                            " is not available: " + session.status().message());
      if (first.ok()) first = session.status();
    }
    entry->loaded.store(true, std::memory_order_release);
  }
  return first;
}

bool ModelService::ready() const {
  for (const auto& entry : entries_) {
    if (!entry->loaded.load(std::memory_order_acquire) || !entry->session) return false;
  }
  return true;
}

Status ModelService::CheckServing(const Entry& entry) const {
  if (!entry.loaded.load(std::memory_order_acquire)) {
    return UnavailableError("model " + entry.model.tag.ToString() + " is still loading");
  }
  if (!entry.session) return entry.load_status;
  return OkStatus();
}

void ModelService::Infer(const Entry& entry, std::map<std::string, Tensor> inputs,
                         std::function<void(StatusOr<std::vector<Tensor>>)> done) const {
  const onnx::Session& session = *entry.session;
  if (!entry.batcher) {
    done(session.Run(inputs));
    return;
  }
  // Batched: the request was validated alone; the batcher combines it with others.
  batching::Request batched;
  batched.inputs = std::move(inputs);
  batched.done = [&session, done](StatusOr<batching::TensorMap> outputs) {
    if (!outputs.ok()) return done(outputs.status());
    std::vector<Tensor> ordered;
    for (const auto& spec : session.outputs()) ordered.push_back(outputs->at(spec.name));
    done(std::move(ordered));
  };
  entry.batcher->Submit(std::move(batched));
}

void ModelService::Run(const Entry& entry, const http::HttpRequest& request,
                       ReplyCallback done) const {
  Status serving = CheckServing(entry);
  if (!serving.ok()) return done(serving);
  const onnx::Session& session = *entry.session;
  InferTimer timer(entry.stats);
  auto inputs = DecodeInputs(session, request.body);
  if (!inputs.ok()) return done(timer.Fail(inputs.status()));
  timer.InputDone();
  uint64_t items = entry.Items(*inputs);
  Infer(entry, std::move(*inputs),
        [&session, timer, items, done](StatusOr<std::vector<Tensor>> outputs) mutable {
          if (!outputs.ok()) return done(timer.Fail(outputs.status()));
          timer.InferDone();
          auto body = EncodeOutputs(session, *outputs);
          if (!body.ok()) return done(timer.Fail(body.status()));
          timer.Succeed(items);
          done(Reply{"application/json", std::move(*body), {}});
        });
}

std::string ModelService::BatchMetrics(const std::string& service_name,
                                       const std::string& version) const {
  std::vector<BatcherSnapshot> snapshots;
  for (const auto& entry : entries_) {
    if (entry->loaded.load(std::memory_order_acquire) && entry->batcher) {
      snapshots.push_back({entry->model.tag.name + ".run", entry->batcher->stats()});
    }
  }
  return RenderBatcherMetrics(snapshots, service_name, version);
}

StatusOr<std::map<std::string, Tensor>> DecodeInputs(const onnx::Session& session,
                                                     std::string_view body) {
  auto dtype_for = [&](std::string_view name) -> StatusOr<DType> {
    for (const auto& spec : session.inputs()) {
      if (spec.name == name) return spec.dtype;
    }
    std::string known;
    for (const auto& spec : session.inputs()) known += (known.empty() ? "" : ", ") + spec.name;
    return InvalidArgumentError("unknown input '" + std::string(name) +
                                "'; the model's inputs are: " + known);
  };
  ASSIGN_OR_RETURN(auto inputs, DecodeJsonTensors(body, dtype_for));
  RETURN_IF_ERROR(CheckInputs(session, inputs));
  return inputs;
}

Status CheckInputs(const onnx::Session& session, const std::map<std::string, Tensor>& inputs) {
  for (const auto& spec : session.inputs()) {
    auto it = inputs.find(spec.name);
    if (it == inputs.end()) {
      return InvalidArgumentError("missing input '" + spec.name + "': expected " +
                                  spec.ToString());
    }
    RETURN_IF_ERROR(spec.Check(it->second.dtype(), it->second.shape()));
  }
  for (const auto& [name, tensor] : inputs) {
    bool known = false;
    for (const auto& spec : session.inputs()) known |= spec.name == name;
    if (!known) return InvalidArgumentError("unknown input '" + name + "'");
  }
  return OkStatus();
}

StatusOr<std::string> EncodeOutputs(const onnx::Session& session,
                                    const std::vector<Tensor>& outputs) {
  std::string out = "{";
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (i) out += ", ";
    out += Json(session.outputs()[i].name).dump();
    out += ": ";
    RETURN_IF_ERROR(EncodeJsonTensor(outputs[i], &out));
  }
  out += "}";
  return out;
}

StatusOr<std::string> RunJson(const onnx::Session& session, std::string_view body) {
  ASSIGN_OR_RETURN(auto inputs, DecodeInputs(session, body));
  ASSIGN_OR_RETURN(auto outputs, session.Run(inputs));
  return EncodeOutputs(session, outputs);
}

ServiceDef ModelService::Definition() {
  ServiceDef def;
  def.name = entries_.size() == 1 ? entries_[0]->model.tag.name : "bento";
  def.version = entries_.size() == 1 ? entries_[0]->model.tag.version : "not available";
  def.ready = [this] { return ready(); };
  std::string name = def.name, version = def.version;
  def.collect = [this, name, version](std::string* out) { *out += BatchMetrics(name, version); };
  for (const auto& entry : entries_) {
    const Entry* e = entry.get();
    ApiDef api;
    api.name = e->model.tag.name + "_run";
    api.route = "/" + e->model.tag.name + "/run";
    api.doc = "Run " + e->model.tag.ToString() + " on tensors given by input name";
    api.request_schema = InputsSchema(e->model.info.inputs("run"));
    api.response_schema = OutputsSchema(e->model.info.outputs("run"));
    api.handler = [this, e](const http::HttpRequest& request, ReplyCallback done) {
      Run(*e, request, std::move(done));
    };
    if (entries_.size() == 1) {
      ApiDef run = api;
      run.name = "run";
      run.route = "/run";
      def.apis.push_back(std::move(run));
    }
    def.apis.push_back(std::move(api));
  }
  ApiDef kserve;
  kserve.name = "kserve_v2";
  kserve.route = "/v2";
  kserve.prefix = true;
  kserve.bare_errors = true;
  kserve.methods = {"GET", "POST"};
  kserve.content_types.clear();
  kserve.handler = [this](const http::HttpRequest& request, ReplyCallback done) {
    KServe(request, std::move(done));
  };
  def.apis.push_back(std::move(kserve));
  return def;
}

}  // namespace bento::serving
