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

Reply JsonReply(const Json& json) { return Reply{"application/json", json.dump(), {}}; }

Json SpecsJson(const std::vector<TensorSpec>& specs) {
  Json out = Json::array();
  for (const auto& spec : specs) {
    Json shape = Json::array();
    for (const auto& d : spec.dims) shape.push_back(d.fixed() ? d.value : -1);
    out.push_back({{"name", spec.name},
                   {"datatype", std::string(kserve::KServeName(spec.dtype))},
                   {"shape", shape}});
  }
  return out;
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

void ModelService::KServe(const http::HttpRequest& request, ReplyCallback done) const {
  auto parts = Split(request.path);  // "v2", ...
  const bool get = request.method == "GET";
  if (parts.size() == 1 && get) {
    return done(JsonReply({{"name", "bento"},
                           {"version", BENTO_VERSION},
                           {"extensions", {"binary_tensor_data", "model_configuration"}}}));
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
  const Entry* entry = FindEntry(name, version);
  if (entry == nullptr) {
    return done(NotFoundError("unknown model '" + std::string(name) +
                              (version.empty() ? "" : "' version '" + std::string(version)) +
                              "'"));
  }
  std::string_view action = next < parts.size() ? parts[next] : "";
  if (next + 1 < parts.size()) return done(NotFoundError("no route " + request.path));
  const ModelInfo& info = entry->model.info;
  if (action.empty() && get) {
    return done(JsonReply({{"name", entry->model.tag.name},
                           {"versions", {entry->model.tag.version}},
                           {"platform", "onnxruntime_onnx"},
                           {"inputs", SpecsJson(info.inputs("run"))},
                           {"outputs", SpecsJson(info.outputs("run"))}}));
  }
  if (action == "ready" && get) {
    Status serving = CheckServing(*entry);
    if (!serving.ok()) return done(serving);
    return done(JsonReply(Json::object()));
  }
  if (action == "config" && get) {
    auto signature = info.signatures.find("run");
    bool batchable = signature != info.signatures.end() && signature->second.batchable;
    return done(JsonReply({{"name", entry->model.tag.name},
                           {"platform", "onnxruntime_onnx"},
                           {"backend", "onnxruntime"},
                           {"max_batch_size", batchable ? options_.max_batch_size : 0},
                           {"input", SpecsJson(info.inputs("run"))},
                           {"output", SpecsJson(info.outputs("run"))}}));
  }
  if (action == "stats" && get) {
    const InferStats& st = entry->stats;
    auto duration = [](const InferStats::Duration& d) {
      return Json{{"count", d.count.load()}, {"ns", d.ns.load()}};
    };
    Json queue = {{"count", 0}, {"ns", 0}};
    if (entry->loaded.load(std::memory_order_acquire) && entry->batcher) {
      auto b = entry->batcher->stats();
      queue = {{"count", b.queue_wait_seconds.count},
               {"ns", static_cast<uint64_t>(b.queue_wait_seconds.sum * 1e9)}};
    }
    uint64_t executions = st.success.count.load() + st.fail.count.load();
    return done(JsonReply(
        {{"model_stats",
          {{{"name", entry->model.tag.name},
            {"version", entry->model.tag.version},
            {"last_inference", st.last_inference_ms.load()},
            {"inference_count", st.success.count.load()},
            {"execution_count", executions},
            {"inference_stats",
             {{"success", duration(st.success)},
              {"fail", duration(st.fail)},
              {"queue", queue},
              {"compute_input", duration(st.compute_input)},
              {"compute_infer", duration(st.compute_infer)},
              {"compute_output", duration(st.compute_output)}}}}}}}));
  }
  if (action != "infer" || request.method != "POST") {
    return done(NotFoundError("no route " + request.method + " " + request.path));
  }

  Status serving = CheckServing(*entry);
  if (!serving.ok()) return done(serving);
  InferTimer timer(entry->stats);
  std::optional<size_t> header_length;
  if (auto h = request.header("Inference-Header-Content-Length")) {
    size_t n = 0;
    auto [end, ec] = std::from_chars(h->data(), h->data() + h->size(), n);
    if (ec != std::errc() || end != h->data() + h->size()) {
      return done(timer.Fail(
          InvalidArgumentError("Inference-Header-Content-Length must be a number")));
    }
    header_length = n;
  }
  auto parsed = kserve::ParseInferRequest(request.body, header_length);
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
  Infer(*entry, std::move(inputs),
        [e, &session, infer, timer, done](StatusOr<std::vector<Tensor>> outputs) mutable {
          if (!outputs.ok()) return done(timer.Fail(outputs.status()));
          timer.InferDone();
          std::vector<kserve::InferOutput> selected;
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
            if (wanted) selected.push_back({name, std::move((*outputs)[i]), binary});
          }
          size_t json_length = 0;
          Reply reply;
          reply.body = kserve::EncodeInferResponse(e->model.tag.name, e->model.tag.version,
                                                   infer->id, infer->parameters, selected,
                                                   &json_length);
          if (json_length > 0) {
            reply.content_type = "application/octet-stream";
            reply.headers.emplace_back("Inference-Header-Content-Length",
                                       std::to_string(json_length));
          }
          timer.Succeed();
          done(std::move(reply));
        });
}

}  // namespace bento::serving
