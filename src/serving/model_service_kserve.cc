// The Open Inference Protocol (KServe v2) over HTTP for no-code served models, so Triton and
// KServe clients work: health, server and model metadata, model config, and inference with
// JSON tensors or Triton's binary tensor extension. Inference shares ModelService::Infer, so
// batchable models are batched together with /run requests.
#include <charconv>

#include "serving/model_entry.h"
#include "serving/model_service.h"
#include "tensor/kserve_codec.h"

namespace bento::serving {
namespace {

constexpr const char* kPlatform = "onnxruntime_onnx";

Reply JsonReply(const Json& json) { return Reply{"application/json", json.dump(), {}}; }

Json SpecsJson(const std::vector<TensorSpec>& specs) {
  Json out = Json::array();
  for (const auto& spec : specs) {
    out.push_back({{"name", spec.name},
                   {"datatype", std::string(kserve::KServeName(spec.dtype))},
                   {"shape", kserve::KServeShape(spec)}});
  }
  return out;
}

// Triton's model configuration form: "data_type": "TYPE_FP32" and "dims", which leave out the
// batch dimension when the model batches.
Json ConfigJson(const std::vector<TensorSpec>& specs, int max_batch_size) {
  Json out = Json::array();
  for (const auto& spec : specs) {
    out.push_back({{"name", spec.name},
                   {"data_type", std::string(kserve::ConfigTypeName(spec.dtype))},
                   {"dims", kserve::KServeShape(spec, max_batch_size > 0)}});
  }
  return out;
}

Json StatsJson(const KServeStatistics& st) {
  auto duration = [](const KServeStatistics::Duration& d) {
    return Json{{"count", d.count}, {"ns", d.ns}};
  };
  return {{"name", st.name},
          {"version", st.version},
          {"last_inference", st.last_inference_ms},
          {"inference_count", st.inference_count},
          {"execution_count", st.execution_count},
          {"inference_stats",
           {{"success", duration(st.success)},
            {"fail", duration(st.fail)},
            {"queue", duration(st.queue)},
            {"compute_input", duration(st.compute_input)},
            {"compute_infer", duration(st.compute_infer)},
            {"compute_output", duration(st.compute_output)}}}};
}

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

const ModelService::Entry* ModelService::FindEntry(std::string_view name,
                                                   std::string_view version) const {
  for (const auto& entry : entries_) {
    if (entry->model.tag.name == name &&
        (version.empty() || entry->model.tag.version == version)) {
      return entry.get();
    }
  }
  return nullptr;
}

namespace {

Status UnknownModel(std::string_view name, std::string_view version) {
  return NotFoundError("unknown model '" + std::string(name) +
                       (version.empty() ? "" : "' version '" + std::string(version)) + "'");
}

}  // namespace

KServeServer ModelService::KServeServerMetadata() {
  return {"bento", BENTO_VERSION, {"binary_tensor_data", "model_configuration", "statistics"}};
}

StatusOr<KServeModel> ModelService::KServeMetadata(std::string_view name,
                                                   std::string_view version) const {
  const Entry* entry = FindEntry(name, version);
  if (entry == nullptr) return UnknownModel(name, version);
  const ModelInfo& info = entry->model.info;
  auto signature = info.signatures.find("run");
  bool batchable = signature != info.signatures.end() && signature->second.batchable &&
                   signature->second.batch_dim.first == 0;
  return KServeModel{entry->model.tag.name, entry->model.tag.version, info.inputs("run"),
                     info.outputs("run"), batchable ? options_.max_batch_size : 0};
}

Status ModelService::KServeReady(std::string_view name, std::string_view version) const {
  const Entry* entry = FindEntry(name, version);
  if (entry == nullptr) return UnknownModel(name, version);
  return CheckServing(*entry);
}

StatusOr<std::vector<KServeStatistics>> ModelService::KServeStats(std::string_view name,
                                                                  std::string_view version) const {
  std::vector<KServeStatistics> all;
  for (const auto& entry : entries_) {
    if (!name.empty() && entry.get() != FindEntry(name, version)) continue;
    const InferStats& st = entry->stats;
    auto duration = [](const InferStats::Duration& d) {
      return KServeStatistics::Duration{d.count.load(), d.ns.load()};
    };
    KServeStatistics out;
    out.name = entry->model.tag.name;
    out.version = entry->model.tag.version;
    out.last_inference_ms = st.last_inference_ms.load();
    out.success = duration(st.success);
    out.fail = duration(st.fail);
    out.compute_input = duration(st.compute_input);
    out.compute_infer = duration(st.compute_infer);
    out.compute_output = duration(st.compute_output);
    // Triton's meaning: inference_count counts items, execution_count counts model runs
    // (batches, when batched), and failures count only under `fail`.
    out.inference_count = st.items.load();
    out.execution_count = out.success.count;
    if (entry->loaded.load(std::memory_order_acquire) && entry->batcher) {
      auto b = entry->batcher->stats();
      out.queue = {b.queue_wait_seconds.count,
                   static_cast<uint64_t>(b.queue_wait_seconds.sum * 1e9)};
      out.execution_count = b.batches_total - b.batch_errors_total;
    }
    all.push_back(std::move(out));
  }
  if (!name.empty() && all.empty()) return UnknownModel(name, version);
  return all;
}

void ModelService::KServeInfer(std::string_view name, std::string_view version,
                               const std::function<StatusOr<kserve::InferRequest>()>& parse,
                               std::function<void(StatusOr<KServeResponse>)> done) const {
  const Entry* entry = FindEntry(name, version);
  if (entry == nullptr) return done(UnknownModel(name, version));
  Status serving = CheckServing(*entry);
  if (!serving.ok()) return done(serving);
  InferTimer timer(entry->stats);
  auto parsed = parse();
  if (!parsed.ok()) return done(timer.Fail(parsed.status()));
  auto infer = std::make_shared<kserve::InferRequest>(std::move(*parsed));
  const onnx::Session& session = *entry->session;
  std::map<std::string, Tensor> inputs;
  for (auto& input : infer->inputs) inputs.emplace(input.name, std::move(input.tensor));
  Status valid = CheckInputs(session, inputs);
  if (!valid.ok()) return done(timer.Fail(valid));
  for (const auto& wanted : infer->outputs) {
    bool known = false;
    for (const auto& spec : session.outputs()) known |= spec.name == wanted.name;
    if (!known) {
      return done(timer.Fail(InvalidArgumentError("unknown output '" + wanted.name + "'")));
    }
  }
  timer.InputDone();
  const Entry* e = entry;
  uint64_t items = entry->Items(inputs);
  Infer(*entry, std::move(inputs),
        [e, &session, infer, timer, items, done](StatusOr<std::vector<Tensor>> outputs) mutable {
          if (!outputs.ok()) return done(timer.Fail(outputs.status()));
          timer.InferDone();
          KServeResponse response{e->model.tag.name, e->model.tag.version,
                                  std::move(infer->id), std::move(infer->parameters), {}};
          for (size_t i = 0; i < outputs->size(); ++i) {
            const std::string& name = session.outputs()[i].name;
            bool binary = infer->binary_outputs_default;
            bool wanted = infer->outputs.empty();
            for (const auto& o : infer->outputs) {
              if (o.name != name) continue;
              wanted = true;
              if (o.parameters.is_object() && o.parameters.contains("binary_data")) {
                binary = o.binary_data;
              }
            }
            if (wanted) response.outputs.push_back({name, std::move((*outputs)[i]), binary});
          }
          timer.Succeed(items);
          done(std::move(response));
        });
}

void ModelService::KServe(const http::HttpRequest& request, ReplyCallback done) const {
  auto parts = Split(request.path);  // "v2", ...
  const bool get = request.method == "GET";
  if (parts.size() == 1 && get) {
    KServeServer server = KServeServerMetadata();
    return done(JsonReply(
        {{"name", server.name}, {"version", server.version}, {"extensions", server.extensions}}));
  }
  if (parts.size() == 3 && parts[1] == "health" && get) {
    if (parts[2] == "live") return done(JsonReply(Json::object()));
    if (parts[2] == "ready") {
      if (ready()) return done(JsonReply(Json::object()));
      return done(UnavailableError("not ready: models are still loading or failed to load"));
    }
  }
  if (parts.size() < 3 || parts[1] != "models") {
    return done(NotFoundError("no route " + request.method + " " + request.path));
  }
  std::string_view name = parts[2], version;
  size_t next = 3;
  if (parts.size() >= 5 && parts[3] == "versions") {
    version = parts[4];
    next = 5;
  }
  std::string_view action = next < parts.size() ? parts[next] : "";
  if (next + 1 < parts.size()) return done(NotFoundError("no route " + request.path));
  if (action == "infer" && request.method == "POST") {
    return KServeHttpInfer(request, name, version, std::move(done));
  }
  if (!get) return done(NotFoundError("no route " + request.method + " " + request.path));
  if (action.empty()) {
    auto model = KServeMetadata(name, version);
    if (!model.ok()) return done(model.status());
    return done(JsonReply({{"name", model->name},
                           {"versions", {model->version}},
                           {"platform", kPlatform},
                           {"inputs", SpecsJson(model->inputs)},
                           {"outputs", SpecsJson(model->outputs)}}));
  }
  if (action == "ready") {
    Status ready = KServeReady(name, version);
    if (!ready.ok()) return done(ready);
    return done(JsonReply(Json::object()));
  }
  if (action == "config") {
    auto model = KServeMetadata(name, version);
    if (!model.ok()) return done(model.status());
    return done(JsonReply({{"name", model->name},
                           {"platform", kPlatform},
                           {"backend", "onnxruntime"},
                           {"max_batch_size", model->max_batch_size},
                           {"input", ConfigJson(model->inputs, model->max_batch_size)},
                           {"output", ConfigJson(model->outputs, model->max_batch_size)}}));
  }
  if (action == "stats") {
    auto stats = KServeStats(name, version);
    if (!stats.ok()) return done(stats.status());
    Json models = Json::array();
    for (const auto& st : *stats) models.push_back(StatsJson(st));
    return done(JsonReply({{"model_stats", models}}));
  }
  return done(NotFoundError("no route " + request.method + " " + request.path));
}

void ModelService::KServeHttpInfer(const http::HttpRequest& request, std::string_view name,
                                   std::string_view version, ReplyCallback done) const {
  auto parse = [&request]() -> StatusOr<kserve::InferRequest> {
    std::optional<size_t> header_length;
    if (auto h = request.header("Inference-Header-Content-Length")) {
      size_t n = 0;
      auto [end, ec] = std::from_chars(h->data(), h->data() + h->size(), n);
      if (ec != std::errc() || end != h->data() + h->size()) {
        return InvalidArgumentError("Inference-Header-Content-Length must be a number");
      }
      header_length = n;
    }
    return kserve::ParseInferRequest(request.body, header_length);
  };
  KServeInfer(name, version, parse, [done](StatusOr<KServeResponse> response) {
    if (!response.ok()) return done(response.status());
    size_t json_length = 0;
    Reply reply;
    reply.body = kserve::EncodeInferResponse(response->model_name, response->model_version,
                                             response->id, response->parameters,
                                             response->outputs, &json_length);
    if (json_length > 0) {
      reply.content_type = "application/octet-stream";
      reply.headers.emplace_back("Inference-Header-Content-Length", std::to_string(json_length));
    }
    done(std::move(reply));
  });
}

}  // namespace bento::serving
