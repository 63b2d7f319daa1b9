#include "serving/service_adapter.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "batching/dispatcher.h"
#include "io/multipart.h"
#include "serving/batch_metrics.h"
#include "policy/metrics.h"

namespace bento::serving {
namespace {

using detail::ApiRegistration;
using detail::Arguments;
using detail::ParamSource;


bool IsFileParam(const detail::ParamInfo& p) {
  return p.source == ParamSource::kFile || p.source == ParamSource::kFiles;
}

Status CheckKnown(const ApiRegistration& api, std::string_view name) {
  for (const auto& p : api.params) {
    if (p.name == name) return OkStatus();
  }
  std::string known;
  for (const auto& p : api.params) known += (known.empty() ? "" : ", ") + p.name;
  return InvalidArgumentError("unknown parameter '" + std::string(name) + "'; " + api.name +
                              " takes: " + known);
}

// Parses the request into named arguments. `json` holds the parsed JSON body, which the
// arguments point into.
Status ParseArguments(const ApiRegistration& api, const http::HttpRequest& request, Json* json,
                      Arguments* args) {
  std::string type = request.media_type();
  if (type == "multipart/form-data") {
    ASSIGN_OR_RETURN(auto parts, io::ParseMultipart(
                                     request.body, request.header("Content-Type").value_or("")));
    for (const auto& part : parts) {
      RETURN_IF_ERROR(CheckKnown(api, part.name));
      (*args)[part.name].files.push_back(
          File{part.filename, part.content_type, std::string(part.data)});
    }
    return OkStatus();
  }
  bool json_body = type.empty() || type == "application/json";
  if (json_body) {
    *json = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
    if (json->is_discarded()) {
      return InvalidArgumentError("the body is not valid JSON");
    }
    bool single_json_param = api.params.size() == 1 && !IsFileParam(api.params[0]) &&
                             !(json->is_object() && json->contains(api.params[0].name));
    if (!json->is_object() || single_json_param) {
      if (api.params.size() == 1 && !IsFileParam(api.params[0])) {
        (*args)[api.params[0].name].json = json;  // the raw value of the only parameter
        return OkStatus();
      }
      return InvalidArgumentError("the body must be a JSON object of named parameters");
    }
    for (const auto& [name, value] : json->items()) {
      RETURN_IF_ERROR(CheckKnown(api, name));
      (*args)[name].json = &value;
    }
    return OkStatus();
  }
  // A raw body: the value of the only parameter.
  (*args)[api.params.at(0).name].files.push_back(File{"", type, request.body});
  return OkStatus();
}

// A batchable API: each request's tensor is parsed alone, then the dispatcher combines
// requests into one call of the API's tensor-to-tensor form.
ApiHandler BatchedHandler(const ApiRegistration* api,
                          std::shared_ptr<batching::Dispatcher> dispatcher) {
  return [api, dispatcher](const http::HttpRequest& request, ReplyCallback done) {
    Json json;
    Arguments args;
    Status parsed = ParseArguments(*api, request, &json, &args);
    if (!parsed.ok()) return done(parsed);
    const std::string& param = api->params.at(0).name;
    auto it = args.find(param);
    static const detail::Argument kMissing;
    auto tensor = detail::ParseTensor(param, it == args.end() ? kMissing : it->second);
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
  def.route = "/" + api.name;
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
    def.request_schema["required"].push_back(p.name);
  }
  def.response_schema = api.result.schema;
  def.response_content_type = api.result.content_type;
  const ApiRegistration* registration = &api;
  def.handler = [registration](const http::HttpRequest& request, ReplyCallback done) {
    Json json;
    Arguments args;
    Status parsed = ParseArguments(*registration, request, &json, &args);
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

ServiceDef ServiceDefinition(Service& service) {
  ServiceDef def;
  def.name = service.name();
  def.ready = [&service] { return service.ready(); };
  auto batchers = std::make_shared<std::vector<
      std::pair<std::string, std::shared_ptr<batching::Dispatcher>>>>();
  for (const auto& api : service.apis()) {
    ApiDef api_def = MakeApi(api);
    if (api.batch && api.batch_call) {
      batching::BatchingOptions options;
      options.max_batch_size = api.batch->max_batch_size;
      options.max_latency_ms = api.batch->max_latency_ms;
      options.input_batch_dim = api.batch->batch_dim.first;
      options.output_batch_dim = api.batch->batch_dim.second;
      std::string param = api.params.at(0).name;
      auto call = api.batch_call;
      auto dispatcher = batching::Dispatcher::Create(
          options, [param, call](const batching::TensorMap& inputs)
                       -> StatusOr<batching::TensorMap> {
            ASSIGN_OR_RETURN(Tensor out, call(inputs.at(param)));
            return batching::TensorMap{{"output", std::move(out)}};
          });
      if (dispatcher.ok()) {
        std::shared_ptr<batching::Dispatcher> shared = std::move(*dispatcher);
        api_def.handler = BatchedHandler(&api, shared);
        batchers->emplace_back(api.name, shared);
      } else {
        spdlog::warn("{}: batching off: {}", api.name, dispatcher.status().message());
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
