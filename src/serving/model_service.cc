#include "serving/model_service.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <set>

#include "serving/schema.h"
#include "tensor/json_codec.h"

namespace bento::serving {

struct ModelService::Entry {
  onnx::Model model;
  std::optional<onnx::Session> session;  // set once, before `loaded` turns true
  std::atomic<bool> loaded{false};
  Status load_status = UnavailableError("model is still loading");  // guarded by `loaded`
};

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

void ModelService::Run(const Entry& entry, const http::HttpRequest& request,
                       ReplyCallback done) const {
  if (!entry.loaded.load(std::memory_order_acquire)) {
    done(UnavailableError("model " + entry.model.tag.ToString() + " is still loading"));
    return;
  }
  if (!entry.session) {
    done(entry.load_status);
    return;
  }
  auto body = RunJson(*entry.session, request.body);
  if (!body.ok()) {
    done(body.status());
    return;
  }
  done(Reply{"application/json", std::move(*body)});
}

StatusOr<std::string> RunJson(const onnx::Session& session, std::string_view body) {
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
  ASSIGN_OR_RETURN(auto outputs, session.Run(inputs));
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

ServiceDef ModelService::Definition() {
  ServiceDef def;
  def.name = entries_.size() == 1 ? entries_[0]->model.tag.name : "bento";
  def.version = entries_.size() == 1 ? entries_[0]->model.tag.version : "not available";
  def.ready = [this] { return ready(); };
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
  return def;
}

}  // namespace bento::serving
