#include "serving/no_code.h"

#include <set>

#include "bento/validation.h"
#include "serving/batch_metrics.h"
#include "serving/schema.h"
#include "tensor/json_codec.h"

namespace bento::serving {
namespace {

// POST /run: decode, check, infer (through the batcher when there is one), encode, on the
// version served when the request came.
void Run(const manager::ModelManager& models, const std::string& name,
         const http::HttpRequest& request, ReplyCallback done) {
  auto found = models.Find(name);
  if (!found.ok()) return done(found.status());
  manager::ModelRef model = *std::move(found);  // held until answered
  const onnx::Session& session = model->session();
  manager::InferTimer timer(model->stats());
  auto inputs = DecodeInputs(session, request.body);
  if (!inputs.ok()) return done(timer.Fail(inputs.status()));
  timer.InputDone();
  uint64_t items = model->Items(*inputs);
  model->Infer(std::move(*inputs), [model, &session, timer, items, done = std::move(done)](
                                       StatusOr<std::vector<Tensor>> outputs) mutable {
    if (!outputs.ok()) return done(timer.Fail(outputs.status()));
    timer.InferDone();
    auto body = EncodeOutputs(session, *outputs);
    if (!body.ok()) return done(timer.Fail(body.status()));
    timer.Succeed(items);
    done(Reply{"application/json", std::move(*body), {}});
  });
}

}  // namespace

StatusOr<std::map<std::string, Tensor>> DecodeInputs(const onnx::Session& session,
                                                     std::string_view body) {
  auto dtype_for = [&](std::string_view name) -> StatusOr<DType> {
    ASSIGN_OR_RETURN(const TensorSpec* spec, FindInputSpec(session.inputs(), name));
    return spec->dtype;
  };
  ASSIGN_OR_RETURN(auto inputs, DecodeJsonTensors(body, dtype_for));
  RETURN_IF_ERROR(ValidateInputs(inputs, session.inputs()));
  return inputs;
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

void AddModels(const manager::ModelManager& models, ServiceDef* def) {
  def->serves = [&models](const std::string& name) { return models.Knows(name); };
  def->collect = [collect = std::move(def->collect), &models, name = def->name,
                  version = def->version](std::string* out) {
    if (collect) collect(out);
    std::vector<BatcherSnapshot> snapshots;
    std::set<std::string> named;
    for (const auto& model : models.Served()) {
      // The newest version of each model: a retired one's batcher is draining.
      if (!named.insert(model->name()).second) continue;
      if (auto stats = model->batcher_stats()) {
        snapshots.push_back({model->name() + ".run", std::move(*stats)});
      }
    }
    *out += RenderBatcherMetrics(snapshots, name, version);
    *out += RenderModelMetrics(models);
  };
}

ServiceDef NoCodeService(const manager::ModelManager& models) {
  // The routes are those of the models given at start, described as the store had them then
  // (a later version has the same inputs and outputs: the manager checks it before a swap).
  const std::vector<onnx::Model> served = models.Given();
  ServiceDef def;
  def.name = served.size() == 1 ? served[0].tag.name : "bento";
  def.version = served.size() == 1 ? served[0].tag.version : "not available";
  def.ready = [&models] { return models.ready(); };
  AddModels(models, &def);
  for (const onnx::Model& m : served) {
    ApiDef api;
    api.name = m.tag.name + "_run";
    api.route = "/" + m.tag.name + "/run";
    api.doc = "Run " + m.tag.ToString() + " on tensors given by input name";
    api.model = m.tag.name;
    auto run = m.info.signatures.find("run");
    api.batchable = run != m.info.signatures.end() && run->second.batchable;
    api.request_schema = InputsSchema(m.info.inputs("run"));
    api.response_schema = OutputsSchema(m.info.outputs("run"));
    api.handler = [&models, name = m.tag.name](const http::HttpRequest& request,
                                               ReplyCallback done) {
      Run(models, name, request, std::move(done));
    };
    if (served.size() == 1) {
      ApiDef run = api;
      run.name = "run";
      run.route = "/run";
      def.apis.push_back(std::move(run));
    }
    def.apis.push_back(std::move(api));
  }
  if (served.size() > 1) {
    // With several models, /run would be ambiguous: it says which routes there are.
    std::string routes;
    for (const auto& model : served) {
      routes += (routes.empty() ? "" : ", ") + ("POST /" + model.tag.name + "/run");
    }
    ApiDef run;
    run.name = "run";
    run.route = "/run";
    run.documented = false;
    const std::string message = std::to_string(served.size()) +
                                " models are served, so /run does not say which to run: use " +
                                routes;
    run.handler = [message](const http::HttpRequest&, ReplyCallback done) {
      done(NotFoundError(message));
    };
    def.apis.push_back(std::move(run));
  }
  return def;
}

}  // namespace bento::serving
