#include "kserve/v1_routes.h"

#include "serving/no_code.h"

namespace bento::kserve {
namespace {

using serving::ApiDef;
using serving::Reply;
using serving::ReplyCallback;

// The v1 body as the columnar object that /run takes: {input name: the whole batch}.
StatusOr<Json> Columns(const Json& body, const std::vector<TensorSpec>& specs) {
  if (!body.is_object() || body.contains("instances") == body.contains("inputs")) {
    return InvalidArgumentError(
        "the body must be a JSON object with \"instances\" (rows) or \"inputs\" (columns)");
  }
  Json columns = Json::object();
  if (body.contains("inputs")) {
    const Json& inputs = body["inputs"];
    if (inputs.is_object()) return inputs;
    if (specs.size() != 1) {
      return InvalidArgumentError("the model has " + std::to_string(specs.size()) +
                                  " inputs, so \"inputs\" must be an object by input name");
    }
    columns[specs[0].name] = inputs;
    return columns;
  }
  const Json& rows = body["instances"];
  if (!rows.is_array() || rows.empty()) {
    return InvalidArgumentError("\"instances\" must be a non-empty list of rows");
  }
  if (specs.size() == 1 && !rows[0].is_object()) {
    columns[specs[0].name] = rows;
    return columns;
  }
  for (const TensorSpec& spec : specs) {
    Json column = Json::array();
    for (size_t i = 0; i < rows.size(); ++i) {
      if (!rows[i].is_object() || !rows[i].contains(spec.name)) {
        return InvalidArgumentError("instance " + std::to_string(i) + " has no input '" +
                                    spec.name + "'; a model with several inputs takes "
                                    "instances as objects by input name");
      }
      column.push_back(rows[i][spec.name]);
    }
    columns[spec.name] = std::move(column);
  }
  return columns;
}

// {"predictions": ...} from the outputs as /run encodes them.
StatusOr<std::string> Predictions(const onnx::Session& session,
                                  const std::vector<Tensor>& outputs) {
  ASSIGN_OR_RETURN(std::string encoded, serving::EncodeOutputs(session, outputs));
  Json by_name = Json::parse(encoded);
  const auto& specs = session.outputs();
  if (outputs.size() == 1) return Json{{"predictions", by_name[specs[0].name]}}.dump();
  Json rows = Json::array();
  const size_t n = outputs[0].shape().empty() ? 1 : static_cast<size_t>(outputs[0].shape()[0]);
  for (size_t i = 0; i < n; ++i) {
    Json row = Json::object();
    for (size_t k = 0; k < outputs.size(); ++k) {
      const Json& column = by_name[specs[k].name];
      if (!column.is_array() || column.size() != n) {
        return InvalidArgumentError("the outputs do not share a batch dimension, so they "
                                    "cannot be given as rows; use the v2 protocol");
      }
      row[specs[k].name] = column[i];
    }
    rows.push_back(std::move(row));
  }
  return Json{{"predictions", rows}}.dump();
}

void Predict(const Protocol& protocol, const http::HttpRequest& request, ReplyCallback done) {
  auto found = protocol.Find(request.PathParam("model"));
  if (!found.ok()) return done(found.status());
  manager::ModelRef model = *std::move(found);  // held until answered
  const onnx::Session& session = model->session();
  Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return done(InvalidArgumentError("the body is not valid JSON"));
  auto columns = Columns(body, session.inputs());
  if (!columns.ok()) return done(columns.status());
  auto inputs = serving::DecodeInputs(session, columns->dump());
  if (!inputs.ok()) return done(inputs.status());
  model->Infer(std::move(*inputs), [model, &session, done = std::move(done)](
                                       StatusOr<std::vector<Tensor>> outputs) {
    if (!outputs.ok()) return done(outputs.status());
    auto text = Predictions(session, *outputs);
    if (!text.ok()) return done(text.status());
    done(Reply{"application/json", std::move(*text), {}});
  });
}

ApiDef V1Route(std::string name, std::string route, std::string method, std::string doc,
               std::function<void(const http::HttpRequest&, ReplyCallback)> handler) {
  ApiDef api;
  api.name = std::move(name);
  api.route = std::move(route);
  api.methods = {std::move(method)};
  api.doc = std::move(doc);
  if (api.methods[0] == "GET") api.content_types.clear();
  api.bare_errors = true;
  api.tag = "KServe v1 protocol";
  api.request_schema = api.methods[0] == "POST"
                           ? Json{{"type", "object"},
                                  {"properties",
                                   {{"instances", {{"type", "array"}}},
                                    {"inputs", Json::object()}}}}
                           : Json();
  api.handler = std::move(handler);
  return api;
}

}  // namespace

std::vector<ApiDef> V1Routes(const Protocol& protocol) {
  std::vector<ApiDef> routes;
  routes.push_back(V1Route("kserve_v1_models", "/v1/models", "GET", "The served models' names",
                           [&protocol](const http::HttpRequest&, ReplyCallback done) {
                             done(Reply{"application/json",
                                        Json{{"models", protocol.Names()}}.dump(), {}});
                           }));
  routes.push_back(V1Route("kserve_v1_model", "/v1/models/{model}", "GET",
                           "Whether the model is ready",
                           [&protocol](const http::HttpRequest& request, ReplyCallback done) {
                             const std::string name(request.PathParam("model"));
                             auto model = protocol.Find(name);
                             if (model.status().code() == StatusCode::kNotFound) {
                               return done(model.status());
                             }
                             done(Reply{"application/json",
                                        Json{{"name", name}, {"ready", model.ok()}}.dump(),
                                        {}});
                           }));
  routes.push_back(V1Route("kserve_v1_predict", "/v1/models/{model}:predict", "POST",
                           "Predict: instances (rows) or inputs (columns) in, predictions out",
                           [&protocol](const http::HttpRequest& request, ReplyCallback done) {
                             Predict(protocol, request, std::move(done));
                           }));
  return routes;
}

}  // namespace bento::kserve
