#include "serving/service_adapter.h"

#include <algorithm>

#include "io/multipart.h"

namespace bento::serving {
namespace {

using detail::ApiRegistration;
using detail::Arguments;
using detail::ParamSource;

std::string MediaType(const http::HttpRequest& request) {
  std::string type(request.header("Content-Type").value_or(""));
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

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
  std::string type = MediaType(request);
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
  for (const auto& api : service.apis()) def.apis.push_back(MakeApi(api));
  return def;
}

}  // namespace bento::serving
