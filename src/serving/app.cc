#include "serving/app.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/cpu.h"
#include "base/fs.h"
#include "base/strings.h"
#include "policy/http_status.h"
#include "serving/openapi.h"

namespace bento::serving {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

http::HttpResponse JsonError(int status, std::string_view message) {
  return http::HttpResponse::Error(status, message);
}

// The media type of a Content-Type header, lower-cased, without parameters.

bool Accepts(const ApiDef& api, const std::string& media_type) {
  if (api.content_types.empty()) return true;
  for (const auto& accepted : api.content_types) {
    if (accepted == media_type) return true;
    if (accepted.ends_with("/*") &&
        media_type.starts_with(accepted.substr(0, accepted.size() - 1))) {
      return true;
    }
  }
  return false;
}

// Whether `path` fits `route`, a path whose "{name}" segments match any one non-empty
// segment without a ':' (which marks a verb), and whose "{name}:verb" segments match one
// ending in ":verb" (KServe v1's "{model}:predict"); fills `params` with what they matched.
bool MatchRoute(std::string_view route, std::string_view path,
                std::vector<std::pair<std::string, std::string>>* params) {
  if (route.find('{') == std::string_view::npos) return route == path;
  while (true) {
    size_t r = route.find('/', 1), p = path.find('/', 1);
    std::string_view rseg = route.substr(0, r), pseg = path.substr(0, p);
    size_t close = rseg.find('}');
    if (rseg.size() > 3 && rseg[1] == '{' && close != std::string_view::npos) {
      std::string_view suffix = rseg.substr(close + 1);
      if (pseg.size() < 2 + suffix.size() || pseg[0] != '/' || !pseg.ends_with(suffix)) {
        return false;
      }
      std::string_view value = pseg.substr(1, pseg.size() - 1 - suffix.size());
      if (value.find(':') != std::string_view::npos) return false;
      params->emplace_back(rseg.substr(2, close - 2), value);
    } else if (rseg != pseg) {
      return false;
    }
    if (r == std::string_view::npos || p == std::string_view::npos) {
      return r == std::string_view::npos && p == std::string_view::npos;
    }
    route.remove_prefix(r);
    path.remove_prefix(p);
  }
}

std::string_view MimeFor(const std::filesystem::path& file) {
  auto ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".css") return "text/css";
  if (ext == ".js") return "application/javascript";
  if (ext == ".png") return "image/png";
  if (ext == ".json" || ext == ".map") return "application/json";
  return "application/octet-stream";
}

// Swagger UI's page, pointed at /docs.json. The assets come from the swagger-ui-dist package.
constexpr std::string_view kSwaggerPage = R"(<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title}</title>
  <link rel="stylesheet" href="/static_content/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/static_content/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({url: "/docs.json", dom_id: "#swagger-ui", deepLinking: true});
  </script>
</body>
</html>
)";

// Calls an API makes on the worker pool before its handler's time decides where it runs.
constexpr int64_t kTimedCalls = 16;
// An API on the caller's thread goes back to the pool when its average handler time reaches
// this many times AppOptions::inline_below.
constexpr int64_t kLeaveCallerFactor = 2;

}  // namespace

App::App(ServiceDef service, AppOptions options,
         std::shared_ptr<policy::MetricsRegistry> metrics)
    : service_(std::move(service)),
      options_(std::move(options)),
      openapi_(OpenApiDocument(service_, options.bearer_auth).dump(2)),
      schema_(ServiceSchema(service_).dump(2)),
      metrics_(std::move(metrics)),
      queue_duration_(metrics_->AddHistogram(
          "bento_request_queue_seconds",
          "Time a request waited for a worker before its handler ran",
          {"endpoint", "model", "service_name", "service_version"},
          policy::DefaultLatencyBuckets())),
      queued_(metrics_->AddGauge("bento_request_queued",
                                 "Requests waiting for a worker now: the queue an autoscaler "
                                 "can watch",
                                 {"endpoint", "model", "service_name", "service_version"})) {
  handler_times_ = std::make_unique<HandlerTime[]>(service_.apis.size());
  if (service_.collect) metrics_->AddCollector(service_.collect);
  int workers = options_.workers > 0 ? options_.workers : AvailableCpus();
  workers_ = std::make_unique<boost::asio::thread_pool>(std::max(workers, 1));
  if (options_.swagger_ui_dir.empty()) {
    options_.swagger_ui_dir = fs::InstallRoot() / "share/bento/swagger-ui";
  }
}

App::~App() { workers_->join(); }

void App::Handle(http::HttpRequest&& request, http::Responder respond) {
  const std::string& path = request.path;
  bool health = path == "/livez" || path == "/healthz" || path == "/readyz";
  bool infra = health || path == "/metrics" || path == "/docs.json" || path == "/schema.json";
  if (infra && request.method != "GET" && request.method != "HEAD") {
    http::HttpResponse r =
        JsonError(405, "method " + request.method + " not allowed on " + path + "; use GET");
    r.headers.emplace_back("Allow", "GET, HEAD");
    respond(std::move(r));
    return;
  }
  if (path == "/livez" || path == "/healthz") {
    respond(http::HttpResponse{200, "text/plain; charset=utf-8", {}, "\n"});
    return;
  }
  if (path == "/readyz") {
    if (service_.ready()) {
      respond(http::HttpResponse{200, "text/plain; charset=utf-8", {}, "\n"});
    } else {
      respond(JsonError(503, "not ready: models are still loading or failed to load"));
    }
    return;
  }
  if (path == "/metrics") {
    std::string text = metrics_->Render();
    respond(http::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", {},
                               std::move(text)});
    return;
  }
  if (path == "/docs.json") {
    respond(http::HttpResponse{200, "application/json", {}, openapi_});
    return;
  }
  if (path == "/schema.json") {
    respond(http::HttpResponse{200, "application/json", {}, schema_});
    return;
  }
  std::string allowed;                // methods of the routes that match the path
  const ApiDef* path_match = nullptr;  // the first of those routes
  for (const auto& api : service_.apis) {
    std::vector<std::pair<std::string, std::string>> params;
    if (!MatchRoute(api.route, path, &params)) continue;
    if (path_match == nullptr) path_match = &api;
    bool method_ok = false;
    for (const auto& m : api.methods) {
      method_ok |= m == request.method || (m == "GET" && request.method == "HEAD");
      if (allowed.find(m) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + m;
    }
    if (!method_ok) continue;
    if (request.call) request.call->SetEndpoint(api.route);
    request.path_params = std::move(params);
    HandleApi(api, std::move(request), std::move(respond));
    return;
  }
  if (path_match != nullptr) {
    // The route exists, with other methods; counted under the path's first route.
    if (request.call) request.call->SetEndpoint(path_match->route);
    http::HttpResponse r = JsonError(405, "method " + request.method + " not allowed on " +
                                              path + "; use " + allowed);
    r.headers.emplace_back("Allow", allowed);
    respond(std::move(r));
    return;
  }
  if (request.method == "GET" && ServeStatic(request, respond)) return;
  respond(JsonError(404, "no route " + request.method + " " + path));
}

bool App::ServeStatic(const http::HttpRequest& request, http::Responder& respond) {
  if (request.path == "/" || request.path == "/docs") {
    std::string page(kSwaggerPage);
    page.replace(page.find("{title}"), 7, service_.name);
    respond(http::HttpResponse{200, "text/html; charset=utf-8", {}, std::move(page)});
    return true;
  }
  constexpr std::string_view kPrefix = "/static_content/";
  if (!request.path.starts_with(kPrefix)) return false;
  std::string file = request.path.substr(kPrefix.size());
  // Only plain file names from the package's folder: no traversal, no subfolders.
  if (file.empty() || file.find('/') != std::string::npos || file.find("..") != std::string::npos) {
    return false;
  }
  auto body = fs::ReadFile(options_.swagger_ui_dir / file);
  if (!body.ok()) return false;
  http::HttpResponse r{200, std::string(MimeFor(file)), {}, std::move(*body)};
  r.headers.emplace_back("Cache-Control", "public, max-age=3600");
  respond(std::move(r));
  return true;
}

void App::HandleApi(const ApiDef& api, http::HttpRequest&& request, http::Responder respond) {
  std::string media_type = request.media_type();
  if (media_type.empty() && api.content_types.size() == 1) media_type = api.content_types[0];
  if (!Accepts(api, media_type)) {
    std::string accepted;
    for (const auto& t : api.content_types) accepted += (accepted.empty() ? "" : ", ") + t;
    http::HttpResponse r = JsonError(415, "unsupported content type '" + media_type + "' for " +
                                              api.route + "; send " + accepted);
    respond(std::move(r));
    return;
  }
  auto finish = [bare_errors = api.bare_errors, route = api.route,
                 respond = std::move(respond)](StatusOr<Reply> reply) mutable {
    http::HttpResponse response;
    if (reply.ok()) {
      response.status = 200;
      response.content_type = std::move(reply->content_type);
      response.body = std::move(reply->body);
      response.headers = std::move(reply->headers);
    } else {
      response = JsonError(policy::HttpStatusFor(reply.status()), reply.status().message());
      if (bare_errors) {
        response.body = "{\"error\": ";
        AppendJsonString(&response.body, reply.status().message());
        response.body += '}';
      }
      if (response.status == 503) response.headers.emplace_back("Retry-After", "1");
      if (response.status >= 500 && response.status != 503 && response.status != 504) {
        spdlog::error("{} failed: {}", route, reply.status().ToString());
      }
    }
    respond(std::move(response));
  };
  auto shared_request = std::make_shared<http::HttpRequest>(std::move(request));
  HandlerTime& time = handler_times_[&api - service_.apis.data()];
  auto run = [&api, &time, shared_request, finish = std::move(finish)]() mutable {
    // A handler must answer once: later answers are ignored. When it answers is kept, so
    // that its time ends there: sending the answer on costs a worker more than the I/O
    // thread (which needs no waking to take it). Zero: not answered yet.
    auto answered_at = std::make_shared<std::atomic<Clock::rep>>(0);
    auto done = [finish = std::make_shared<decltype(finish)>(std::move(finish)), answered_at,
                 shared_request](StatusOr<Reply> reply) {
      Clock::rep unanswered = 0;
      if (!answered_at->compare_exchange_strong(unanswered,
                                                Clock::now().time_since_epoch().count())) {
        return;
      }
      (*finish)(std::move(reply));
    };
    Clock::rep start = Clock::now().time_since_epoch().count();
    try {
      api.handler(*shared_request, done);
    } catch (const std::exception& e) {
      done(InternalError(std::string("unhandled exception in ") + api.name + ": " + e.what()));
    }
    Clock::rep end = Clock::now().time_since_epoch().count();
    if (Clock::rep at = answered_at->load(); at != 0) end = std::min(end, at);
    int64_t took = std::chrono::nanoseconds(Clock::duration(end - start)).count();
    // The first call pays for one-time work (a session's first Run) and is left out. Racing
    // updates may lose one another's sample; the average stays a fair one.
    int64_t calls = time.calls.fetch_add(1, std::memory_order_relaxed);
    int64_t average = time.average_ns.load(std::memory_order_relaxed);
    if (calls > 0) {
      time.average_ns.store(calls == 1 ? took : average + (took - average) / 8,
                            std::memory_order_relaxed);
    }
  };
  // On the caller's thread below the threshold; back on the pool from twice it.
  const int64_t inline_below = std::chrono::nanoseconds(options_.inline_below).count();
  const bool was_on_caller = time.on_caller.load(std::memory_order_relaxed);
  const bool on_caller =
      time.calls.load(std::memory_order_relaxed) >= kTimedCalls &&
      time.average_ns.load(std::memory_order_relaxed) <
          (was_on_caller ? kLeaveCallerFactor * inline_below : inline_below);
  if (on_caller != was_on_caller) time.on_caller.store(on_caller, std::memory_order_relaxed);
  if (on_caller) {
    run();
    return;
  }
  const std::string* model = &api.model;
  if (model->empty()) {
    for (const auto& [name, value] : shared_request->path_params) {
      if (name == "model") model = &value;
    }
  }
  Post(api.route, *model, std::move(run));
}

void App::Post(const std::string& endpoint, const std::string& model,
               std::function<void()> work) {
  auto start = Clock::now();
  std::vector<std::string> labels = {endpoint, service_.serves(model) ? model : "",
                                     service_.name, service_.version};
  policy::Gauge& queued = queued_.With(labels);
  policy::Histogram& waited = queue_duration_.With(labels);
  queued.Add(1);
  boost::asio::post(*workers_, [start, &queued, &waited, work = std::move(work)] {
    queued.Add(-1);
    waited.Observe(SecondsSince(start));
    work();
  });
}

}  // namespace bento::serving
