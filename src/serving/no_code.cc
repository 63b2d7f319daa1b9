#include "serving/no_code.h"

#include "bento/validation.h"
#include "serving/batch_metrics.h"
#include "serving/schema.h"
#include "tensor/json_codec.h"

namespace bento::serving {
namespace {

// POST /run: decode, check, infer (through the batcher when there is one), encode.
void Run(const manager::ServedModel& model, const http::HttpRequest& request,
         ReplyCallback done) {
  Status serving = model.Serving();
  if (!serving.ok()) return done(serving);
  const onnx::Session& session = model.session();
  manager::InferTimer timer(model.stats());
  auto inputs = DecodeInputs(session, request.body);
  if (!inputs.ok()) return done(timer.Fail(inputs.status()));
  timer.InputDone();
  uint64_t items = model.Items(*inputs);
  model.Infer(std::move(*inputs), [&session, timer, items, done = std::move(done)](
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
  def->serves = [&models](const std::string& name) { return models.Find(name) != nullptr; };
  def->collect = [collect = std::move(def->collect), &models, name = def->name,
                  version = def->version](std::string* out) {
    if (collect) collect(out);
    std::vector<BatcherSnapshot> snapshots;
    for (const auto& model : models.models()) {
      if (auto stats = model->batcher_stats()) {
        snapshots.push_back({model->name() + ".run", std::move(*stats)});
      }
    }
    *out += RenderBatcherMetrics(snapshots, name, version);
  };
}

ServiceDef NoCodeService(const manager::ModelManager& models) {
  const auto& served = models.models();
  ServiceDef def;
  def.name = served.size() == 1 ? served[0]->name() : "bento";
  def.version = served.size() == 1 ? served[0]->version() : "not available";
  def.ready = [&models] { return models.ready(); };
  AddModels(models, &def);
  for (const auto& model : served) {
    const manager::ServedModel* m = model.get();
    ApiDef api;
    api.name = m->name() + "_run";
    api.route = "/" + m->name() + "/run";
    api.doc = "Run " + m->model().tag.ToString() + " on tensors given by input name";
    api.model = m->name();
    auto run = m->model().info.signatures.find("run");
    api.batchable = run != m->model().info.signatures.end() && run->second.batchable;
    api.request_schema = InputsSchema(m->model().info.inputs("run"));
    api.response_schema = OutputsSchema(m->model().info.outputs("run"));
    api.handler = [m](const http::HttpRequest& request, ReplyCallback done) {
      Run(*m, request, std::move(done));
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
      routes += (routes.empty() ? "" : ", ") + ("POST /" + model->name() + "/run");
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
