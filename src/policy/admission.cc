#include "policy/admission.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace bento::policy {
namespace {

const std::vector<std::string> kCountedLabels = {"endpoint", "service_name", "service_version",
                                                 "http_response_code"};

// Compares in time that depends only on the lengths, not on where the two differ.
bool KeyMatches(std::string_view given, const std::string& key) {
  unsigned char diff = given.size() == key.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) {
    diff |= static_cast<unsigned char>(given[i] ^ key[i % key.size()]);
  }
  return diff == 0;
}

bool Authorized(const std::string& key, std::optional<std::string_view> authorization) {
  if (key.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization || !authorization->starts_with(kBearer)) return false;
  return KeyMatches(authorization->substr(kBearer.size()), key);
}

}  // namespace

// What every Call of one Admission shares; outlives the Admission while calls are alive.
struct Call::Shared {
  Shared(AdmissionOptions o, std::shared_ptr<MetricsRegistry> m)
      : options(std::move(o)),
        metrics(std::move(m)),
        request_total(metrics->AddCounter("bentoml_service_request_total",
                                         "Total number of requests, over every transport",
                                         kCountedLabels)),
        request_duration(metrics->AddHistogram("bentoml_service_request_duration_seconds",
                                              "Request duration in seconds", kCountedLabels,
                                              DefaultLatencyBuckets())),
        request_in_progress(metrics->AddGauge("bentoml_service_request_in_progress",
                                             "Number of requests in progress now",
                                             {"endpoint", "service_name", "service_version"})) {}

  const AdmissionOptions options;
  const std::shared_ptr<MetricsRegistry> metrics;  // owns the three families below
  Family<Counter>& request_total;
  Family<Histogram>& request_duration;
  Family<Gauge>& request_in_progress;
  std::atomic<int> in_flight{0};  // calls holding a concurrency slot
};

Call::Call(std::shared_ptr<Shared> shared, const CallInfo& info, Status status, bool counted,
           TimePoint deadline)
    : shared_(std::move(shared)),
      status_(std::move(status)),
      holds_slot_(counted),
      deadline_(deadline),
      start_(info.start ? *info.start : shared_->options.clock->Now()) {
  if (shared_->options.access_log) {
    transport_ = info.transport;
    method_ = info.method;
    target_ = info.target;
    remote_ = info.remote;
    request_id_ = info.request_id;
  }
}

void Call::Release() {
  if (holds_slot_.exchange(false)) shared_->in_flight.fetch_sub(1, std::memory_order_relaxed);
}

Call::~Call() {
  Release();
  if (!finished_.load() && !endpoint_.empty()) {
    // Never answered (the transport went away): leave the in-progress gauge as it was.
    shared_->request_in_progress
        .With({endpoint_, shared_->options.service_name, shared_->options.service_version})
        .Add(-1);
  }
}

int64_t Call::timeout_ms() const { return shared_->options.request_timeout.count(); }

void Call::SetEndpoint(std::string endpoint) {
  if (!endpoint_.empty() || endpoint.empty() || finished_.load()) return;
  endpoint_ = std::move(endpoint);
  shared_->request_in_progress
      .With({endpoint_, shared_->options.service_name, shared_->options.service_version})
      .Add(1);
}

void Call::Finish(int http_status, size_t bytes) {
  if (finished_.exchange(true)) return;
  const AdmissionOptions& o = shared_->options;
  double seconds = ToSeconds(o.clock->Now() - start_);
  if (!endpoint_.empty()) {
    std::vector<std::string> labels = {endpoint_, o.service_name, o.service_version,
                                       std::to_string(http_status)};
    shared_->request_total.With(labels).Inc();
    shared_->request_duration.With(labels).Observe(seconds);
    shared_->request_in_progress.With({endpoint_, o.service_name, o.service_version}).Add(-1);
  }
  if (o.access_log) {
    spdlog::info("{} \"{} {}\" {} {}B {:.1f}ms id={}{}", remote_, method_, target_, http_status,
                 bytes, seconds * 1000, request_id_,
                 transport_.empty() ? "" : " " + transport_);
  }
}

Admission::Admission(AdmissionOptions options, std::shared_ptr<MetricsRegistry> metrics)
    : shared_(std::make_shared<Call::Shared>(std::move(options), std::move(metrics))) {}

Admission::~Admission() = default;

const AdmissionOptions& Admission::options() const { return shared_->options; }

int Admission::in_flight() const { return shared_->in_flight.load(std::memory_order_relaxed); }

std::shared_ptr<Call> Admission::Admit(const CallInfo& info) {
  const AdmissionOptions& o = shared_->options;
  auto make = [&](Status status, bool counted, Call::TimePoint deadline) {
    return std::shared_ptr<Call>(new Call(shared_, info, std::move(status), counted, deadline));
  };
  bool open = info.call_class == CallClass::kHealth || info.call_class == CallClass::kDocs;
  if (!open && !Authorized(o.api_key, info.authorization)) {
    return make(UnauthenticatedError("missing or wrong API key: send Authorization: Bearer <key>"),
                false, Call::TimePoint::max());
  }
  bool counted = false;
  if (info.call_class == CallClass::kApi && o.max_concurrency > 0) {
    // Take a slot only while one is free, so in_flight never exceeds the limit, even for a
    // moment.
    int current = shared_->in_flight.load(std::memory_order_relaxed);
    do {
      if (current >= o.max_concurrency) {
        return make(ResourceExhaustedError(fmt::format("too many requests in flight (limit {})",
                                                       o.max_concurrency)),
                    false, Call::TimePoint::max());
      }
    } while (!shared_->in_flight.compare_exchange_weak(current, current + 1,
                                                       std::memory_order_relaxed));
    counted = true;
  }
  Call::TimePoint deadline = o.request_timeout.count() > 0
                                ? o.clock->Now() + o.request_timeout
                                : Call::TimePoint::max();
  return make(OkStatus(), counted, deadline);
}

std::shared_ptr<Call> Admission::Record(const CallInfo& info) {
  return std::shared_ptr<Call>(
      new Call(shared_, info, OkStatus(), /*counted=*/false, Call::TimePoint::max()));
}

CallClass Admission::HttpClass(std::string_view path) {
  if (path == "/livez" || path == "/healthz" || path == "/readyz" ||
      path == "/v2/health/live" || path == "/v2/health/ready") {
    return CallClass::kHealth;
  }
  if (path == "/" || path == "/docs" || path == "/docs.json" || path == "/schema.json" ||
      path.starts_with("/static_content/")) {
    return CallClass::kDocs;
  }
  if (path == "/metrics") return CallClass::kInfra;
  return CallClass::kApi;
}

CallClass Admission::GrpcClass(std::string_view method) {
  if (method == "ServerLive" || method == "ServerReady") return CallClass::kHealth;
  return CallClass::kApi;
}

}  // namespace bento::policy
