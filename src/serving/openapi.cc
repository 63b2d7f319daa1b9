#include "serving/openapi.h"

#include <algorithm>
#include <cctype>

#include "base/strings.h"

namespace bento::serving {
namespace {

OrderedJson ErrorResponse(std::string_view description) {
  return {{"description", description},
          {"content",
           {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

OrderedJson InfraRoute(std::string_view summary, bool can_be_unavailable) {
  OrderedJson responses = {{"200", {{"description", "OK"},
                                    {"content", {{"text/plain", {{"schema", {{"type", "string"}}}}}}}}}};
  if (can_be_unavailable) responses["503"] = ErrorResponse("Not ready");
  return {{"get", {{"tags", {"Infrastructure"}}, {"summary", summary}, {"responses", responses}}}};
}

// BentoML's schema of an OpenAPI schema: the "x-bentoml" mark where there is one (files,
// images, tensors), else the JSON Schema keywords pydantic writes, with BentoML's `file` for
// binary strings. Descriptions, examples and bounds are OpenAPI's alone.
Json BentoMLSchema(const Json& openapi) {
  if (!openapi.is_object()) return Json::object();
  if (openapi.contains("x-bentoml")) return openapi["x-bentoml"];
  if (openapi.value("type", "") == "string" && openapi.value("format", "") == "binary") {
    return {{"type", "file"}, {"format", "binary"}};
  }
  Json out = Json::object();
  for (const char* key : {"type", "format", "required", "default", "enum", "additionalProperties"}) {
    if (openapi.contains(key)) out[key] = openapi[key];
  }
  if (openapi.contains("items")) out["items"] = BentoMLSchema(openapi["items"]);
  if (openapi.contains("properties")) {
    out["properties"] = Json::object();
    for (const auto& [name, property] : openapi["properties"].items()) {
      out["properties"][name] = BentoMLSchema(property);
    }
  }
  return out;
}

// pydantic's title of a field: Python's str.title() of the name with '_' as ' '.
std::string FieldTitle(std::string_view name) {
  std::string title;
  bool after_letter = false;
  for (char c : name) {
    if (c == '_') c = ' ';
    bool letter = std::isalpha(static_cast<unsigned char>(c)) != 0;
    title += static_cast<char>(letter ? (after_letter ? std::tolower(c) : std::toupper(c)) : c);
    after_letter = letter;
  }
  return title;
}

// A route's input: pydantic's model of its parameters, "Input", with each field titled.
Json BentoMLInput(const Json& request_schema) {
  Json input = BentoMLSchema(request_schema);
  input["title"] = "Input";
  input["type"] = "object";
  if (!input.contains("properties")) input["properties"] = Json::object();
  for (auto& [name, property] : input["properties"].items()) property["title"] = FieldTitle(name);
  return input;
}

}  // namespace

OrderedJson ServiceSchema(const ServiceDef& service) {
  OrderedJson routes = OrderedJson::array();
  OrderedJson paths = OrderedJson::object();
  for (const auto& api : service.apis) {
    bool post = std::find(api.methods.begin(), api.methods.end(), "POST") != api.methods.end();
    if (!api.documented || api.tag != kServiceApis || !post ||
        api.route.find('{') != std::string::npos) {
      continue;
    }
    routes.push_back({{"name", api.name},
                      {"route", api.route},
                      {"batchable", api.batchable},
                      {"input", BentoMLInput(api.request_schema)},
                      {"output", BentoMLSchema(api.response_schema)},
                      {"is_task", false}});
    paths[api.route] = {{"mounted", false}};
  }
  return {{"name", service.name}, {"type", "service"}, {"routes", routes}, {"paths", paths}};
}

OrderedJson OpenApiDocument(const ServiceDef& service, bool bearer_auth) {
  OrderedJson paths = OrderedJson::object();
  paths["/livez"] = InfraRoute("Liveness: the process is up", false);
  paths["/healthz"] = InfraRoute("Health: the process is up", false);
  paths["/readyz"] = InfraRoute("Readiness: every model is loaded and warmed", true);
  paths["/metrics"] = InfraRoute("Prometheus metrics", false);
  OrderedJson tags = {{{"name", "Service APIs"}, {"description", "The service's APIs"}}};
  auto add_tag = [&tags](const std::string& name) {
    for (const auto& tag : tags) {
      if (tag["name"] == name) return;
    }
    tags.push_back({{"name", name}});
  };
  for (const auto& api : service.apis) {
    if (!api.documented) continue;
    add_tag(api.tag);
    OrderedJson content = OrderedJson::object();
    // No content types means any: document the JSON body, and the binary form if there is one.
    std::vector<std::string> types = api.content_types;
    if (types.empty()) types.push_back("application/json");
    if (api.binary_tensors) types.push_back("application/octet-stream");
    for (const auto& type : types) {
      if (type == "application/json" || type == "multipart/form-data") {
        content[type] = {{"schema", api.request_schema}};
      } else {
        content[type] = {{"schema", {{"type", "string"}, {"format", "binary"}}}};
      }
    }
    OrderedJson ok_content = OrderedJson::object();
    ok_content[api.response_content_type] = {{"schema", api.response_schema}};
    if (api.binary_tensors) {
      ok_content["application/octet-stream"] = {{"schema", {{"type", "string"}, {"format", "binary"}}}};
    }
    OrderedJson responses = {
        {"200", {{"description", "Successful Response"}, {"content", ok_content}}},
        {"400", ErrorResponse("Bad request: malformed body, missing or ill-typed parameter")},
        {"401", ErrorResponse("Missing or wrong API key (when the server requires one)")},
        {"413", ErrorResponse("Body over the size limit")},
        {"415", ErrorResponse("Unsupported content type")},
        {"429", ErrorResponse("Over max_concurrency")},
        {"500", ErrorResponse("Internal error (a bug)")},
        {"503", ErrorResponse("Not ready, or shed under load; retry later")},
        {"504", ErrorResponse("Over the request timeout")}};
    OrderedJson parameters = OrderedJson::array();
    for (size_t open = api.route.find('{'); open != std::string::npos;
         open = api.route.find('{', open + 1)) {
      std::string name = api.route.substr(open + 1, api.route.find('}', open) - open - 1);
      parameters.push_back({{"name", name},
                            {"in", "path"},
                            {"required", true},
                            {"schema", {{"type", "string"}}}});
    }
    if (!parameters.empty()) responses["404"] = ErrorResponse("No such model or version");
    for (const auto& method : api.methods) {
      std::string verb = AsciiLower(method);
      OrderedJson operation = {{"tags", {api.tag}},
                               {"summary", api.doc.empty() ? api.name : api.doc},
                               {"operationId", service.name + "__" + api.name +
                                                   (api.methods.size() > 1 ? "_" + verb : "")}};
      if (!parameters.empty()) operation["parameters"] = parameters;
      if (method != "GET" && api.body) {
        operation["requestBody"] = {{"required", api.body_required}, {"content", content}};
      }
      operation["responses"] = responses;
      paths[api.route][verb] = std::move(operation);
    }
  }
  tags.push_back({{"name", "Infrastructure"}, {"description", "Health and metrics"}});
  OrderedJson document = {
      {"openapi", "3.0.2"},
      {"info",
       {{"title", service.name},
        {"description", "Served by bento: BentoML's ONNX serving, in C++."},
        {"version", service.version}}},
      {"paths", paths},
      {"components",
       {{"schemas",
         {{"Error",
           {{"type", "object"},
            {"required", {"error"}},
            {"properties", {{"error", {{"type", "string"}}}, {"detail", OrderedJson::object()}}}}}}}}},
      {"tags", tags}};
  if (bearer_auth) {
    document["components"]["securitySchemes"] = {
        {"bearer", {{"type", "http"}, {"scheme", "bearer"}, {"description", "--api-key"}}}};
    document["security"] = OrderedJson::array({{{"bearer", OrderedJson::array()}}});
    // Probes need no key.
    for (const char* probe : {"/livez", "/healthz", "/readyz", "/v2/health/live",
                              "/v2/health/ready"}) {
      if (!document["paths"].contains(probe)) continue;
      for (auto& [verb, operation] : document["paths"][probe].items()) {
        operation["security"] = OrderedJson::array();
      }
    }
  }
  return document;
}

}  // namespace bento::serving
