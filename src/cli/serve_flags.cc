#include "cli/serve_flags.h"

#include <charconv>

#include "base/logging.h"
#include "base/strings.h"
#include "kserve/grpc_server.h"
#include "kserve/http_routes.h"
#include "kserve/v1_routes.h"

namespace bento::cli {
namespace {

// "64MiB", "64M", "1048576", "1GiB" → bytes.
std::string ParseSize(const std::string& text, size_t* out) {
  size_t pos = 0;
  unsigned long long value = 0;
  try {
    // stoull would take "-5" and wrap it.
    if (text.empty() || text[0] < '0' || text[0] > '9') throw std::invalid_argument(text);
    value = std::stoull(text, &pos);
  } catch (const std::exception&) {
    return "expected a size such as 1048576, 64MiB or 1GiB, got '" + text + "'";
  }
  if (value == 0) return "must be more than 0 bytes, got '" + text + "'";
  std::string unit = AsciiLower(text.substr(pos));
  unsigned long long scale = 1;
  if (unit == "" || unit == "b") scale = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") scale = 1ULL << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") scale = 1ULL << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") scale = 1ULL << 30;
  else return "unknown size unit '" + text.substr(pos) + "'";
  *out = static_cast<size_t>(value * scale);
  return "";
}

std::string Shown(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

CLI::Validator IntegerIn(long long lo, long long hi) {
  std::string range = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        long long v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < lo ||
            v > hi) {
          return "must be " + range + ", got '" + text + "'";
        }
        return "";
      },
      range);
}

CLI::Validator NumberIn(double lo, double hi) {
  std::string range = "a number from " + Shown(lo) + " to " + Shown(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        double v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
            !(v >= lo && v <= hi)) {
          return "must be " + range + ", got '" + text + "'";
        }
        return "";
      },
      range);
}

void AddServeFlags(CLI::App& app, serving::ServeOptions* options) {
  auto& http = options->http;
  auto& admission = options->admission;
  app.add_option("--host", http.host, "Address to bind; 0.0.0.0 exposes the server")
      ->capture_default_str();
  app.add_option("--port,-p,--http_port", http.port,
                 "Port to listen on (0 picks a free one); the PORT variable when not given, "
                 "as container platforms set it")
      ->envname("PORT")
      ->check(IntegerIn(0, 65535))
      ->capture_default_str();
  app.add_option("--workers", options->app.workers, "API worker threads (0: one per core)")
      ->check(IntegerIn(0, 1024))
      ->capture_default_str();
  app.add_option("--io-threads", http.io_threads, "HTTP I/O threads (0: one per core)")
      ->check(IntegerIn(0, 1024))
      ->capture_default_str();
  app.add_option_function<int>(
         "--inline-below-us",
         [options](int us) { options->app.inline_below = std::chrono::microseconds(us); },
         "Run an HTTP API's handler on the I/O thread that read its request once it takes "
         "under this many microseconds on average, until it takes twice as long (default "
         "100; 0: always on the workers)")
      ->check(IntegerIn(0, 1000000));
  app.add_option_function<double>(
         "--timeout",
         [&admission](double seconds) {
           admission.request_timeout =
               std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
         },
         "Request timeout in seconds; a slower answer is a 504 (default 60)")
      ->check(NumberIn(0.001, 86400));
  app.add_option("--max-concurrency", admission.max_concurrency,
                 "Requests served at once over every transport; more get 429 (0: unlimited)")
      ->check(IntegerIn(0, 1000000))
      ->capture_default_str();
  app.add_option_function<std::string>(
      "--max-body-size",
      [&http](const std::string& text) {
        std::string error = ParseSize(text, &http.max_body_bytes);
        if (!error.empty()) throw CLI::ValidationError("--max-body-size", error);
      },
      "Largest request body, e.g. 64MiB (default); larger bodies get 413");
  app.add_option("--api-key", admission.api_key,
                 "Require Authorization: Bearer KEY (HTTP header or gRPC metadata) on every "
                 "call but the health checks")
      ->envname("BENTO_API_KEY");
  app.add_option_function<std::string>(
         "--log-format",
         [](const std::string& format) {
           SetLogFormat(format == "json" ? LogFormat::kJson : LogFormat::kText);
         },
         "text (default) or json: one JSON object per line, for cluster log collectors")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag_callback("--no-access-log", [&admission] { admission.access_log = false; },
                        "Do not log one line per request");
  auto* certfile = app.add_option("--ssl-certfile", http.ssl_certfile,
                                  "Serve HTTPS with this PEM certificate (chain); needs "
                                  "--ssl-keyfile")
                       ->check(CLI::ExistingFile);
  auto* keyfile = app.add_option("--ssl-keyfile", http.ssl_keyfile,
                                 "The PEM private key of --ssl-certfile")
                      ->check(CLI::ExistingFile);
  app.add_flag("--print-openapi", options->print_openapi,
               "Print the service's OpenAPI document and exit, serving nothing (`bento build` "
               "writes it into the bento)");
  certfile->needs(keyfile);
  keyfile->needs(certfile);
  app.add_option("--ssl-keyfile-password", http.ssl_keyfile_password,
                 "Password of an encrypted --ssl-keyfile")
      ->needs(keyfile);
}

void AddModelFlags(CLI::App& app, ModelFlags* flags) {
  app.add_option("--providers", flags->providers,
                 "Execution providers in priority order (default CPUExecutionProvider; for a "
                 "service, instead of those its code asks for)");
  app.add_option("--threads", flags->threads,
                 "ONNX Runtime intra-op threads per model (0: one per core)")
      ->check(IntegerIn(0, 1024));
  app.add_option("--max-batch-size", flags->models.max_batch_size,
                 "Adaptive batching: most items per ONNX Runtime call, for models saved with "
                 "a batchable signature (and a service's batchable APIs). Not given, a model's "
                 "batches are also capped where an item stops getting cheaper, and a model "
                 "whose batches do not beat requests run at once is served unbatched, as "
                 "timed at load (on its first request when no input can be made up)")
      ->check(IntegerIn(1, 65536))
      ->capture_default_str();
  app.add_option("--max-latency-ms", flags->models.max_latency_ms,
                 "Adaptive batching: a request's latency budget (queue + run); requests that "
                 "cannot meet it are shed with 503")
      ->check(NumberIn(0.1, 86400000))
      ->capture_default_str();
  app.add_option("--max-inflight-batches", flags->models.max_inflight_batches,
                 "Adaptive batching: batches that may run at once (0: the CPUs over --threads, "
                 "at least 1, so that running batches' ONNX Runtime threads share no core)")
      ->check(IntegerIn(0, 256))
      ->capture_default_str();
  app.add_flag_callback("--no-batching", [flags] { flags->models.batching = false; },
                        "Run every request on its own, even for batchable models and APIs");
  app.add_option("--spinning", flags->models.session_options.allow_spinning,
                 "Whether ONNX Runtime's idle threads spin waiting for work (ONNX Runtime's "
                 "default) or sleep (bento's default, kinder to the request path)")
      ->capture_default_str();
  app.add_option("--grpc-port,--grpc_port", flags->grpc_port,
                 "Also serve the KServe v2 gRPC protocol (inference.GRPCInferenceService) "
                 "on this port (0 picks a free one)")
      ->check(IntegerIn(0, 65535));
}

std::vector<serving::TransportFactory> AddKServe(kserve::Protocol& protocol,
                                                 std::optional<int> grpc_port,
                                                 serving::ServiceDef* def) {
  for (auto& route : kserve::HttpRoutes(protocol)) def->apis.push_back(std::move(route));
  for (auto& route : kserve::V1Routes(protocol)) def->apis.push_back(std::move(route));
  std::vector<serving::TransportFactory> transports;
  if (grpc_port) transports.push_back(kserve::GrpcTransport(protocol, *grpc_port));
  return transports;
}

void ModelFlagsGiven(const CLI::App& app, ModelFlags* flags) {
  flags->max_batch_size_given = app.count("--max-batch-size") > 0;
  flags->max_latency_given = app.count("--max-latency-ms") > 0;
  if (!flags->providers.empty()) {
    flags->models.providers.assign(flags->providers.begin(), flags->providers.end());
  }
  flags->models.session_options.intra_op_num_threads = flags->threads;
}

}  // namespace bento::cli
