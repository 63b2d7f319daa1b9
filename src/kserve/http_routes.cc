#include "kserve/http_routes.h"

#include <charconv>
#include <map>
#include <optional>

#include "tensor/json_codec.h"

namespace bento::kserve {
namespace {

using serving::ApiDef;
using serving::Reply;
using serving::ReplyCallback;

Reply JsonReply(const Json& json) {
  Reply reply;
  EncodeJsonValue(json, &reply.body);
  return reply;
}

Json SpecsJson(const std::vector<TensorSpec>& specs) {
  Json out = Json::array();
  for (const auto& spec : specs) {
    out.push_back({{"name", spec.name},
                   {"datatype", std::string(KServeName(spec.dtype))},
                   {"shape", KServeShape(spec)}});
  }
  return out;
}

// Triton's model configuration form: "data_type": "TYPE_FP32" and "dims", which leave out the
// batch dimension when the model batches.
Json ConfigJson(const std::vector<TensorSpec>& specs, int max_batch_size) {
  Json out = Json::array();
  for (const auto& spec : specs) {
    out.push_back({{"name", spec.name},
                   {"data_type", ConfigTypeName(spec.dtype)},
                   {"dims", KServeShape(spec, max_batch_size > 0)}});
  }
  return out;
}

Json StatsJson(const ModelStatistics& st) {
  auto duration = [](const ModelStatistics::Duration& d) {
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

void Metadata(const Protocol& protocol, const http::HttpRequest& request, ReplyCallback done) {
  auto model = protocol.Metadata(request.PathParam("model"), request.PathParam("version"));
  if (!model.ok()) return done(model.status());
  done(JsonReply({{"name", model->name},
                  {"versions", model->versions},
                  {"platform", kPlatform},
                  {"inputs", SpecsJson(model->inputs)},
                  {"outputs", SpecsJson(model->outputs)}}));
}

void Ready(const Protocol& protocol, const http::HttpRequest& request, ReplyCallback done) {
  Status ready = protocol.ModelReady(request.PathParam("model"), request.PathParam("version"));
  if (!ready.ok()) return done(ready);
  done(JsonReply(Json::object()));
}

void Config(const Protocol& protocol, const http::HttpRequest& request, ReplyCallback done) {
  auto model = protocol.Metadata(request.PathParam("model"), request.PathParam("version"));
  if (!model.ok()) return done(model.status());
  Json inputs = ConfigJson(model->inputs, model->max_batch_size);
  for (size_t i = 0; i < inputs.size(); ++i) inputs[i]["format"] = model->input_formats[i];
  done(JsonReply({{"name", model->name},
                  {"platform", kPlatform},
                  {"backend", "onnxruntime"},
                  {"max_batch_size", model->max_batch_size},
                  {"input", inputs},
                  {"output", ConfigJson(model->outputs, model->max_batch_size)}}));
}

void Stats(const Protocol& protocol, const http::HttpRequest& request, ReplyCallback done) {
  auto stats = protocol.Statistics(request.PathParam("model"), request.PathParam("version"));
  if (!stats.ok()) return done(stats.status());
  Json models = Json::array();
  for (const auto& st : *stats) models.push_back(StatsJson(st));
  done(JsonReply({{"model_stats", models}}));
}

void Infer(const Protocol& protocol, const http::HttpRequest& request, ReplyCallback done) {
  auto parse = [&request]() -> StatusOr<InferRequest> {
    std::optional<size_t> header_length;
    if (auto h = request.header("Inference-Header-Content-Length")) {
      size_t n = 0;
      auto [end, ec] = std::from_chars(h->data(), h->data() + h->size(), n);
      if (ec != std::errc() || end != h->data() + h->size()) {
        return InvalidArgumentError("Inference-Header-Content-Length must be a number");
      }
      header_length = n;
    }
    return ParseInferRequest(request.body, header_length);
  };
  protocol.Infer(request.PathParam("model"), request.PathParam("version"), parse,
                 [done](StatusOr<InferResponse> response) {
                   if (!response.ok()) return done(response.status());
                   size_t json_length = 0;
                   Reply reply;
                   reply.body = EncodeInferResponse(response->model_name, response->model_version,
                                                    response->id, response->parameters,
                                                    response->outputs, &json_length);
                   if (json_length > 0) {
                     reply.content_type = "application/octet-stream";
                     reply.headers.emplace_back("Inference-Header-Content-Length",
                                                std::to_string(json_length));
                   }
                   done(std::move(reply));
                 });
}

using Handler = void (*)(const Protocol&, const http::HttpRequest&, ReplyCallback);

// ---- The OpenAPI schemas of the protocol's messages (/docs.json) ----

Json ObjectSchema(Json properties, Json required = Json::array()) {
  return {{"type", "object"}, {"properties", std::move(properties)},
          {"required", std::move(required)}};
}
Json ArrayOf(Json items) { return {{"type", "array"}, {"items", std::move(items)}}; }
const Json kString = {{"type", "string"}};

Json TensorMetadataSchema() {
  return ObjectSchema({{"name", kString},
                       {"datatype", kString},
                       {"shape", ArrayOf({{"type", "integer"}})}},
                      {"name", "datatype", "shape"});
}

// An input or output tensor, in JSON ("data") or binary (a "binary_data_size" parameter).
Json TensorSchema() {
  Json properties = {{"name", kString},
                     {"shape", ArrayOf({{"type", "integer"}})},
                     {"datatype", kString},
                     {"parameters", {{"type", "object"}}},
                     {"data", {{"description", "the elements, flat or nested, row-major"}}}};
  return ObjectSchema(std::move(properties), {"name", "shape", "datatype"});
}

Json ModelMetadataSchema() {
  return ObjectSchema({{"name", kString},
                       {"versions", ArrayOf(kString)},
                       {"platform", kString},
                       {"inputs", ArrayOf(TensorMetadataSchema())},
                       {"outputs", ArrayOf(TensorMetadataSchema())}},
                      {"name", "platform", "inputs", "outputs"});
}

Json InferRequestSchema() {
  return ObjectSchema({{"id", kString},
                       {"parameters", {{"type", "object"}}},
                       {"inputs", ArrayOf(TensorSchema())},
                       {"outputs", ArrayOf(ObjectSchema({{"name", kString},
                                                         {"parameters", {{"type", "object"}}}},
                                                        {"name"}))}},
                      {"inputs"});
}

Json InferResponseSchema() {
  return ObjectSchema({{"model_name", kString},
                       {"model_version", kString},
                       {"id", kString},
                       {"parameters", {{"type", "object"}}},
                       {"outputs", ArrayOf(TensorSchema())}},
                      {"model_name", "outputs"});
}

ApiDef Route(const Protocol& protocol, std::string name, std::string route, std::string method,
             std::string doc, Json response_schema, Handler handler) {
  ApiDef api;
  api.name = std::move(name);
  api.route = std::move(route);
  api.methods = {std::move(method)};
  api.doc = std::move(doc);
  api.content_types.clear();  // GETs have no body; infer takes JSON or binary tensors
  api.bare_errors = true;
  api.tag = "Open Inference Protocol (KServe v2)";
  api.response_schema = std::move(response_schema);
  api.handler = [&protocol, handler](const http::HttpRequest& request, ReplyCallback done) {
    handler(protocol, request, std::move(done));
  };
  return api;
}

// The register body: {"key": "/name", "offset": 0, "byte_size": N}.
StatusOr<SharedMemory::Region> RegisterBody(std::string name, std::string_view body) {
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return InvalidArgumentError("the register body must be a JSON object with 'key', "
                                "'byte_size' and optionally 'offset'");
  }
  SharedMemory::Region region{std::move(name), "", 0, 0};
  auto key = json.find("key");
  if (key == json.end() || !key->is_string()) {
    return InvalidArgumentError("the register body needs 'key', the shared memory object's name");
  }
  region.key = key->get<std::string>();
  for (auto [field, out] : {std::pair{"offset", &region.offset}, {"byte_size", &region.byte_size}}) {
    auto it = json.find(field);
    if (it == json.end() && std::string_view(field) == "offset") continue;
    if (it == json.end() || !it->is_number_unsigned()) {
      return InvalidArgumentError(std::string("the register body's '") + field +
                                  "' must be an integer >= 0");
    }
    *out = it->get<uint64_t>();
  }
  return region;
}

Json RegionsJson(const std::vector<SharedMemory::Region>& regions) {
  Json out = Json::array();
  for (const auto& r : regions) {
    out.push_back({{"name", r.name}, {"key", r.key}, {"offset", r.offset},
                   {"byte_size", r.byte_size}});
  }
  return out;
}

// The body of a repository load or unload: empty, or {"parameters": {...}} whose values are
// strings, numbers or booleans (given to the manager as text).
// A repository call's body: empty (an empty object), or a JSON object of the form `form`.
StatusOr<Json> OptionalJsonObject(std::string_view body, std::string_view form) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return Json::object();
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return InvalidArgumentError("the body must be a JSON object, " + std::string(form));
  }
  return json;
}

StatusOr<std::map<std::string, std::string>> RepositoryParameters(std::string_view body) {
  std::map<std::string, std::string> out;
  ASSIGN_OR_RETURN(Json json, OptionalJsonObject(body, "{\"parameters\": {...}}"));
  auto parameters = json.find("parameters");
  if (parameters == json.end()) return out;
  if (!parameters->is_object()) return InvalidArgumentError("'parameters' must be an object");
  for (const auto& [key, value] : parameters->items()) {
    if (value.is_string()) {
      out[key] = value.get<std::string>();
    } else if (value.is_primitive() && !value.is_null()) {
      out[key] = value.dump();
    } else {
      return InvalidArgumentError("parameter '" + key + "' must be a string, number or boolean");
    }
  }
  return out;
}

std::function<void(Status)> EmptyAnswer(ReplyCallback done) {
  return [done = std::move(done)](Status status) {
    if (!status.ok()) return done(status);
    done(JsonReply(Json::object()));
  };
}

void RepositoryLoad(const Protocol& protocol, const http::HttpRequest& request,
                    ReplyCallback done) {
  auto parameters = RepositoryParameters(request.body);
  if (!parameters.ok()) return done(parameters.status());
  protocol.RepositoryLoad(std::string(request.PathParam("model")), std::move(*parameters),
                          EmptyAnswer(std::move(done)));
}

void RepositoryUnload(const Protocol& protocol, const http::HttpRequest& request,
                      ReplyCallback done) {
  // unload_dependents, the one parameter, has nothing to act on: bento has no ensembles.
  auto parameters = RepositoryParameters(request.body);
  if (!parameters.ok()) return done(parameters.status());
  protocol.RepositoryUnload(std::string(request.PathParam("model")), EmptyAnswer(std::move(done)));
}

void AddRepositoryRoutes(const Protocol& protocol, std::vector<ApiDef>* routes) {
  Json entry = ObjectSchema(
      {{"name", kString}, {"version", kString}, {"state", kString}, {"reason", kString}},
      {"name"});
  ApiDef index = Route(
      protocol, "kserve_repository_index", "/v2/repository/index", "POST",
      "The store's models, and the state of each served version (Triton's model repository "
      "extension)",
      ArrayOf(entry), [](const Protocol& p, const http::HttpRequest& request, ReplyCallback done) {
        bool ready_only = false;
        auto json = OptionalJsonObject(request.body, "{\"ready\": bool}");
        if (!json.ok()) return done(json.status());
        if (auto ready = json->find("ready"); ready != json->end()) {
          if (!ready->is_boolean()) return done(InvalidArgumentError("'ready' must be a boolean"));
          ready_only = ready->get<bool>();
        }
        auto rows = p.RepositoryIndex(ready_only);
        if (!rows.ok()) return done(rows.status());
        Json out = Json::array();
        for (const auto& row : *rows) {
          Json item = {{"name", row.name}};
          if (!row.version.empty()) item["version"] = row.version;
          if (!row.state.empty()) item["state"] = row.state;
          if (!row.reason.empty()) item["reason"] = row.reason;
          out.push_back(std::move(item));
        }
        done(JsonReply(out));
      });
  index.request_schema = ObjectSchema({{"ready", {{"type", "boolean"}}}});
  index.body_required = false;
  routes->push_back(std::move(index));
  routes->push_back(Route(protocol, "kserve_repository_load", "/v2/repository/models/{model}/load",
                          "POST",
                          "Load or reload a model from the store: the versions its policy selects "
                          "(--model-control-mode explicit)",
                          ObjectSchema(Json::object()), RepositoryLoad));
  routes->push_back(Route(protocol, "kserve_repository_unload",
                          "/v2/repository/models/{model}/unload", "POST",
                          "Unload every version of a model (--model-control-mode explicit)",
                          ObjectSchema(Json::object()), RepositoryUnload));
  for (size_t i = routes->size() - 2; i < routes->size(); ++i) {
    (*routes)[i].request_schema = ObjectSchema(
        {{"parameters", {{"type", "object"},
                         {"additionalProperties",
                          {{"oneOf", Json::array({{{"type", "string"}},
                                                  {{"type", "number"}},
                                                  {{"type", "boolean"}}})}}}}}});
    (*routes)[i].body_required = false;
  }
}

// Triton's shared-memory extensions: system regions, and the CUDA routes answered without a GPU.
void AddSharedMemoryRoutes(const Protocol& protocol, std::vector<ApiDef>* routes) {
  const std::string system = "/v2/systemsharedmemory";
  const std::string cuda = "/v2/cudasharedmemory";
  Json regions_schema = ArrayOf({{"type", "object"}});
  Json empty = ObjectSchema(Json::object());
  auto status = [](const Protocol& p, const http::HttpRequest& request, ReplyCallback done) {
    auto regions = p.shared_memory().Regions(request.PathParam("region"));
    if (!regions.ok()) return done(regions.status());
    done(JsonReply(RegionsJson(*regions)));
  };
  auto unregister = [](const Protocol& p, const http::HttpRequest& request, ReplyCallback done) {
    p.shared_memory().Unregister(request.PathParam("region"));
    done(JsonReply(Json::object()));
  };
  routes->push_back(Route(protocol, "kserve_shm_status", system + "/status", "GET",
                          "System shared-memory regions", regions_schema, status));
  routes->push_back(Route(protocol, "kserve_shm_region_status", system + "/region/{region}/status",
                          "GET", "One system shared-memory region", regions_schema, status));
  routes->push_back(Route(
      protocol, "kserve_shm_register", system + "/region/{region}/register", "POST",
      "Register a POSIX shared-memory object as a region", empty,
      [](const Protocol& p, const http::HttpRequest& request, ReplyCallback done) {
        auto region = RegisterBody(std::string(request.PathParam("region")), request.body);
        if (!region.ok()) return done(region.status());
        Status registered = p.shared_memory().Register(*region);
        if (!registered.ok()) return done(registered);
        done(JsonReply(Json::object()));
      }));
  routes->push_back(Route(protocol, "kserve_shm_unregister_all", system + "/unregister", "POST",
                          "Unregister every system shared-memory region", empty, unregister));
  routes->push_back(Route(protocol, "kserve_shm_unregister", system + "/region/{region}/unregister",
                          "POST", "Unregister one system shared-memory region", empty, unregister));
  auto cuda_status = [](const Protocol&, const http::HttpRequest& request, ReplyCallback done) {
    std::string_view name = request.PathParam("region");
    if (!name.empty()) {
      return done(NotFoundError("Unable to find cuda shared memory region: '" +
                                std::string(name) + "'"));
    }
    done(JsonReply(Json::array()));
  };
  auto cuda_unregister = [](const Protocol&, const http::HttpRequest&, ReplyCallback done) {
    done(JsonReply(Json::object()));
  };
  routes->push_back(Route(protocol, "kserve_cuda_shm_status", cuda + "/status", "GET",
                          "CUDA shared-memory regions (none without a GPU)", regions_schema,
                          cuda_status));
  routes->push_back(Route(protocol, "kserve_cuda_shm_region_status",
                          cuda + "/region/{region}/status", "GET",
                          "One CUDA shared-memory region", regions_schema, cuda_status));
  routes->push_back(Route(protocol, "kserve_cuda_shm_register",
                          cuda + "/region/{region}/register", "POST",
                          "Register CUDA memory (needs a GPU build)", empty,
                          [](const Protocol&, const http::HttpRequest&, ReplyCallback done) {
                            done(CudaSharedMemoryUnsupported());
                          }));
  routes->push_back(Route(protocol, "kserve_cuda_shm_unregister_all", cuda + "/unregister", "POST",
                          "Unregister every CUDA shared-memory region", empty, cuda_unregister));
  routes->push_back(Route(protocol, "kserve_cuda_shm_unregister",
                          cuda + "/region/{region}/unregister", "POST",
                          "Unregister one CUDA shared-memory region", empty, cuda_unregister));
  for (ApiDef& api : *routes) {
    if (api.route.ends_with("/unregister")) api.body = false;  // it acts on its path alone
  }
}

}  // namespace

std::vector<ApiDef> HttpRoutes(const Protocol& protocol) {
  std::vector<ApiDef> routes;
  routes.push_back(Route(protocol, "kserve_server_metadata", "/v2", "GET",
                         "Server metadata",
                         ObjectSchema({{"name", kString},
                                       {"version", kString},
                                       {"extensions", ArrayOf(kString)}},
                                      {"name", "version", "extensions"}),
                         [](const Protocol&, const http::HttpRequest&, ReplyCallback done) {
                           ServerMetadata server = Protocol::Server();
                           done(JsonReply({{"name", server.name},
                                           {"version", server.version},
                                           {"extensions", server.extensions}}));
                         }));
  routes.push_back(Route(protocol, "kserve_live", "/v2/health/live", "GET", "Server liveness",
                         ObjectSchema(Json::object()),
                         [](const Protocol&, const http::HttpRequest&, ReplyCallback done) {
                           done(JsonReply(Json::object()));
                         }));
  routes.push_back(Route(protocol, "kserve_ready", "/v2/health/ready", "GET",
                         "Server readiness: every model loaded", ObjectSchema(Json::object()),
                         [](const Protocol& p, const http::HttpRequest&, ReplyCallback done) {
                           if (p.Ready()) return done(JsonReply(Json::object()));
                           done(UnavailableError(
                               "not ready: models are still loading or failed to load"));
                         }));
  struct ModelRoute {
    const char* name;
    const char* suffix;
    const char* method;
    const char* doc;
    Json response_schema;
    Handler handler;
  };
  Json config_schema = ObjectSchema(
      {{"name", kString}, {"platform", kString}, {"backend", kString},
       {"max_batch_size", {{"type", "integer"}}},
       {"input", ArrayOf({{"type", "object"}})}, {"output", ArrayOf({{"type", "object"}})}},
      {"name", "max_batch_size", "input", "output"});
  Json stats_schema = ObjectSchema({{"model_stats", ArrayOf({{"type", "object"}})}},
                                   {"model_stats"});
  for (const ModelRoute& r :
       {ModelRoute{"kserve_model_metadata", "", "GET", "Model metadata", ModelMetadataSchema(),
                   Metadata},
        ModelRoute{"kserve_model_ready", "/ready", "GET", "Model readiness",
                   ObjectSchema(Json::object()), Ready},
        ModelRoute{"kserve_model_config", "/config", "GET", "Model configuration (Triton's form)",
                   config_schema, Config},
        ModelRoute{"kserve_model_stats", "/stats", "GET", "Model statistics (Triton's extension)",
                   stats_schema, Stats},
        ModelRoute{"kserve_infer", "/infer", "POST", "Inference", InferResponseSchema(), Infer}}) {
    for (bool versioned : {false, true}) {
      std::string route = versioned ? "/v2/models/{model}/versions/{version}" : "/v2/models/{model}";
      ApiDef api = Route(protocol, std::string(r.name) + (versioned ? "_version" : ""),
                         route + r.suffix, r.method, r.doc, r.response_schema, r.handler);
      if (std::string_view(r.method) == "POST") {
        api.request_schema = InferRequestSchema();
        api.binary_tensors = true;
      }
      routes.push_back(std::move(api));
    }
  }
  AddSharedMemoryRoutes(protocol, &routes);
  AddRepositoryRoutes(protocol, &routes);
  return routes;
}

}  // namespace bento::kserve
