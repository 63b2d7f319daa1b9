#include "serving/service_adapter.h"

#include <algorithm>
#include <memory>

#include "batching/dispatcher.h"
#include "io/multipart.h"
#include "serving/batch_metrics.h"
#include "policy/metrics.h"
#include "tensor/json_codec.h"

namespace bento::serving {
namespace {

using detail::ApiRegistration;
using detail::Arguments;
using detail::ParamSource;


bool IsFileParam(const detail::ParamInfo& p) {
  return p.source == ParamSource::kFile || p.source == ParamSource::kFiles;
}

const detail::ParamInfo* FindParam(const ApiRegistration& api, std::string_view name) {
  for (const auto& p : api.params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Status Unknown(const ApiRegistration& api, std::string_view name) {
  std::string known;
  for (const auto& p : api.params) known += (known.empty() ? "" : ", ") + p.name;
  return InvalidArgumentError("unknown parameter '" + std::string(name) + "'; " + api.name +
                              " takes: " + known);
}

// The whole JSON body as the value of `param`, an API's only parameter.
Status WholeBody(const detail::ParamInfo& param, const std::string& body, Arguments* args) {
  detail::Argument& arg = (*args)[param.name];
  if (param.source == ParamSource::kTensor) {
    arg.files.push_back(File{"", "application/json", body});  // ParseTensor decodes it
    return OkStatus();
  }
  Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return InvalidArgumentError("the body is not valid JSON");
  arg.json = std::move(json);
  return OkStatus();
}

// A JSON body, walked once by simdjson: tensor parameters are decoded in place, and each
// other member is read from its own text. A body that is no object, or an object without the
// parameter's name, is the value of an API's only parameter.
Status ParseJsonBody(const ApiRegistration& api, const std::string& body, Arguments* args) {
  const detail::ParamInfo* only =
      api.params.size() == 1 && !IsFileParam(api.params[0]) ? &api.params[0] : nullptr;
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || body[first] != '{') {
    if (only == nullptr) {
      return InvalidArgumentError("the body must be a JSON object of named parameters");
    }
    return WholeBody(*only, body, args);
  }
  auto plan = [&api](std::string_view name) -> StatusOr<JsonMemberPlan> {
    const detail::ParamInfo* param = FindParam(api, name);
    if (param == nullptr) return NotFoundError("unknown parameter");  // see below
    if (param->source == ParamSource::kTensor) {
      return JsonMemberPlan{JsonMemberPlan::Kind::kTensor, DType::kUndefined};
    }
    return JsonMemberPlan{JsonMemberPlan::Kind::kText};
  };
  StatusOr<JsonMembers> members = DecodeJsonObject(body, plan, "parameter");
  if (members.status().code() == StatusCode::kNotFound) {
    // A member that is no parameter: the object is the only parameter's value when that
    // parameter takes any JSON (bento::Json) and the object does not name it. For any other
    // type an object cannot be the value, so the key is a typo: say so.
    Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return InvalidArgumentError("the body is not valid JSON");
    bool takes_objects = only != nullptr && only->source == ParamSource::kJson &&
                         !only->schema.contains("type");
    if (takes_objects && !json.contains(only->name)) return WholeBody(*only, body, args);
    for (const auto& [name, value] : json.items()) {
      if (FindParam(api, name) == nullptr) return Unknown(api, name);
    }
    return InvalidArgumentError("the body is not a JSON object of " + api.name +
                                "'s parameters");
  }
  if (!members.ok()) return members.status();
  for (auto& [name, tensor] : members->tensors) (*args)[name].tensor = std::move(tensor);
  for (const auto& [name, text] : members->texts) {
    Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) {
      return InvalidArgumentError("parameter '" + name + "' is not valid JSON");
    }
    (*args)[name].json = std::move(json);
  }
  return OkStatus();
}

// Parses the request into named arguments.
Status ParseArguments(const ApiRegistration& api, const http::HttpRequest& request,
                      Arguments* args) {
  std::string type = request.media_type();
  if (type == "multipart/form-data") {
    ASSIGN_OR_RETURN(auto parts, io::ParseMultipart(
                                     request.body, request.header("Content-Type").value_or("")));
    for (const auto& part : parts) {
      if (FindParam(api, part.name) == nullptr) return Unknown(api, part.name);
      (*args)[part.name].files.push_back(
          File{part.filename, part.content_type, std::string(part.data)});
    }
    return OkStatus();
  }
  if (type.empty() || type == "application/json") return ParseJsonBody(api, request.body, args);
  // A raw body: the value of the only parameter.
  (*args)[api.params.at(0).name].files.push_back(File{"", type, request.body});
  return OkStatus();
}

// A batchable API: each request's tensor is parsed alone, then the dispatcher combines
// requests into one call of the API's tensor-to-tensor form.
ApiHandler BatchedHandler(const ApiRegistration* api,
                          std::shared_ptr<batching::Dispatcher> dispatcher) {
  return [api, dispatcher](const http::HttpRequest& request, ReplyCallback done) {
    Arguments args;
    Status parsed = ParseArguments(*api, request, &args);
    if (!parsed.ok()) return done(parsed);
    const std::string& param = api->params.at(0).name;
    auto tensor = detail::ParseTensor(param, args[param]);
    if (!tensor.ok()) return done(tensor.status());
    batching::Request batched;
    batched.inputs.emplace(param, std::move(*tensor));
    batched.done = [done](StatusOr<batching::TensorMap> outputs) {
      if (!outputs.ok()) return done(outputs.status());
      Reply reply;
      Status encoded = detail::EncodeTensorJson(outputs->begin()->second, &reply.body);
      if (!encoded.ok()) return done(encoded);
      done(std::move(reply));
    };
    dispatcher->Submit(std::move(batched));
  };
}

// Prometheus text for the values the service exports itself (Service::Metric).
std::string RenderServiceMetrics(const std::vector<ServiceMetric>& metrics,
                                 const std::string& service_name) {
  std::string out;
  for (const auto& m : metrics) {
    const char* type = m.type == ServiceMetric::Type::kCounter ? "counter" : "gauge";
    out += "# HELP " + m.name + " " + m.help + "\n# TYPE " + m.name + " " + type + "\n";
    policy::AppendSample(m.name, {"service_name"}, {service_name}, m.read(), &out);
  }
  return out;
}

ApiDef MakeApi(const ApiRegistration& api) {
  ApiDef def;
  def.name = api.name;
  def.route = api.route.empty() ? "/" + api.name : api.route;
  def.doc = api.doc;
  bool any_file = std::any_of(api.params.begin(), api.params.end(), IsFileParam);
  def.content_types.clear();
  if (!any_file) def.content_types.push_back("application/json");
  def.content_types.push_back("multipart/form-data");
  if (api.params.size() == 1) {
    const std::string& raw = api.params[0].raw_content_type;
    if (std::find(def.content_types.begin(), def.content_types.end(), raw) ==
        def.content_types.end()) {
      def.content_types.push_back(raw);
    }
  }
  def.request_schema = {{"type", "object"}, {"properties", Json::object()},
                        {"required", Json::array()}};
  for (const auto& p : api.params) {
    def.request_schema["properties"][p.name] = p.schema;
    if (p.required) def.request_schema["required"].push_back(p.name);
  }
  def.response_schema = api.result.schema;
  def.response_content_type = api.result.content_type;
  const ApiRegistration* registration = &api;
  def.handler = [registration](const http::HttpRequest& request, ReplyCallback done) {
    Arguments args;
    Status parsed = ParseArguments(*registration, request, &args);
    if (!parsed.ok()) {
      done(parsed);
      return;
    }
    auto result = registration->invoke(args);
    if (!result.ok()) {
      done(result.status());
      return;
    }
    done(Reply{std::move(result->content_type), std::move(result->body)});
  };
  return def;
}

}  // namespace

ServiceDef ServiceDefinition(Service& service, const BatchOverrides& overrides) {
  ServiceDef def;
  def.name = service.name();
  def.ready = [&service] { return service.ready(); };
  auto batchers = std::make_shared<std::vector<
      std::pair<std::string, std::shared_ptr<batching::Dispatcher>>>>();
  for (const auto& api : service.apis()) {
    ApiDef api_def = MakeApi(api);
    api_def.batchable = api.batch.has_value();
    if (api.batch && api.batch_call && overrides.batching) {
      batching::BatchingOptions options;
      options.max_batch_size = overrides.max_batch_size.value_or(api.batch->max_batch_size);
      options.max_latency_ms = overrides.max_latency_ms.value_or(api.batch->max_latency_ms);
      options.max_inflight_batches = overrides.max_inflight_batches > 0
                                         ? overrides.max_inflight_batches
                                         : batching::InflightBatchesFor(0);
      options.input_batch_dim = api.batch->batch_dim.first;
      options.output_batch_dim = api.batch->batch_dim.second;
      std::string param = api.params.at(0).name;
      auto call = api.batch_call;
      auto dispatcher = batching::StartBatching(
          "API " + api.name, options,
          [param, call](const batching::TensorMap& inputs) -> StatusOr<batching::TensorMap> {
            ASSIGN_OR_RETURN(Tensor out, call(inputs.at(param)));
            return batching::TensorMap{{"output", std::move(out)}};
          });
      if (dispatcher) {
        api_def.handler = BatchedHandler(&api, dispatcher);
        batchers->emplace_back(api.name, dispatcher);
      }
    }
    def.apis.push_back(std::move(api_def));
  }
  if (!batchers->empty() || !service.metrics().empty()) {
    std::string name = def.name, version = def.version;
    def.collect = [batchers, name, version, &service](std::string* out) {
      std::vector<BatcherSnapshot> snapshots;
      for (const auto& [api, dispatcher] : *batchers) {
        snapshots.push_back({api, dispatcher->stats()});
      }
      *out += RenderBatcherMetrics(snapshots, name, version) +
              RenderServiceMetrics(service.metrics(), name);
    };
  }
  return def;
}

}  // namespace bento::serving
