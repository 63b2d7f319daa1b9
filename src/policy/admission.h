// Admission: the server's policy for every request, whatever transport carried it.
//
// Each transport (http::Server's connections, the gRPC server) hands every request to
// Admission::Admit before any other work, and gets back a Call. The policy lives here, once:
//   - the API key: every call but a health check needs `Authorization: Bearer KEY` (an HTTP
//     header, or gRPC metadata `authorization`); without it the call is refused with
//     UNAUTHENTICATED (401);
//   - the concurrency limit: API calls in the handler at once, across all transports; over
//     it the call is refused with RESOURCE_EXHAUSTED (429). A call holds its slot until its
//     handler answers (Call::Release, or the Call's destruction), so a call answered 504
//     keeps its slot until its handler is done;
//   - the deadline: Call::deadline(), after which the transport answers DEADLINE_EXCEEDED
//     (504) itself, whether or not the handler ever answers;
//   - request metrics: bentoml_service_request_total, ..._request_duration_seconds and
//     ..._request_in_progress, by endpoint, for calls whose route is known (SetEndpoint);
//   - the access log: one line per call, refused or not, with its transport.
// TLS is a property of the transports, configured by the same --ssl-* flags for both.
//
//   auto call = admission.Admit({.transport = "HTTP/1.1", .method = "POST", ...});
//   if (!call->status().ok()) ... answer call->status() ...
//   call->SetEndpoint("/run");     // once routed
//   ... call->deadline() ...       // the transport's timer
//   call->Finish(200, bytes);      // the answer went out: metrics and log
//
// Which calls are health checks (no key, no limit) is decided here too: see HttpClass and
// GrpcClass.
//
// Thread-safety: Admission and Call are safe to use from any thread. Ownership: a Call keeps
// the Admission's shared state alive, so it may outlive the Admission.
#ifndef BENTO_POLICY_ADMISSION_H_
#define BENTO_POLICY_ADMISSION_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "bento/status.h"
#include "policy/metrics.h"

namespace bento::policy {

struct AdmissionOptions {
  // When set, every call but a health check needs `Authorization: Bearer KEY`.
  std::string api_key;
  // API calls in the handlers at once, over every transport; 0: unlimited.
  int max_concurrency = 0;
  // A call not answered within this is answered DEADLINE_EXCEEDED (504); zero: no limit.
  std::chrono::milliseconds request_timeout{60000};
  bool access_log = true;  // one spdlog::info line per call
  // The request metrics' service_name and service_version labels.
  std::string service_name = "bento";
  std::string service_version = "not available";
  // Deadlines and durations are read from this clock (a SimulatedClock in tests); it must
  // outlive every Call.
  const Clock* clock = RealClock::Get();
};

// How the policy treats a call; the transport classifies it with HttpClass or GrpcClass.
enum class CallClass {
  kHealth,  // liveness and readiness probes: no key, never refused, never counted
  // The API's description: Swagger UI, its assets and /docs.json. No key, since they hold no
  // data and the page must load before its user can give the key; never refused.
  kDocs,
  kInfra,   // metrics: need the key, never refused for concurrency
  kApi,     // everything else: key, concurrency limit, deadline, metrics once routed
};

// What a transport knows of a call when it arrives.
struct CallInfo {
  std::string_view transport;   // "HTTP/1.1", "gRPC"
  std::string_view method;      // "POST", or "RPC" for gRPC
  std::string_view target;      // "/run?x=1", "/inference.GRPCInferenceService/ModelInfer"
  std::string_view remote;      // "127.0.0.1:51234"
  std::string_view request_id;  // X-Request-Id (HTTP header or gRPC metadata) or generated
  // The Authorization header or `authorization` metadata; nullopt when absent.
  std::optional<std::string_view> authorization;
  CallClass call_class = CallClass::kApi;
  // When the request began to arrive (its duration counts from here); unset: at Admit, on the
  // Admission's clock.
  std::optional<Clock::TimePoint> start;
};

class Admission;

// One admitted (or refused) call. Created only by Admission::Admit, held by shared_ptr: by the
// transport until the answer is written, and by the handler's completion until it answers.
class Call {
 public:
  using TimePoint = Clock::TimePoint;
  ~Call();  // releases the concurrency slot, if still held
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // OK when admitted; else the refusal (UNAUTHENTICATED, RESOURCE_EXHAUSTED), which the
  // transport answers without calling any handler.
  const Status& status() const { return status_; }
  // When the transport must answer DEADLINE_EXCEEDED; TimePoint::max() for none.
  TimePoint deadline() const { return deadline_; }
  // The deadline's length in milliseconds, for the 504 message; 0 for none.
  int64_t timeout_ms() const;

  // Names the route the call matched, from a bounded set ("/run", "/v2",
  // "/inference.GRPCInferenceService/ModelInfer"). From then on the call shows in the
  // in-progress gauge, and Finish counts it under this endpoint. At most once; calls that
  // match no route (404s) are logged but not counted, which keeps label values bounded.
  void SetEndpoint(std::string endpoint);

  // The handler has answered: frees the call's concurrency slot. Idempotent.
  void Release();

  // The answer went out with this HTTP status code (gRPC: policy::HttpStatusFor of its
  // Status) and body size: records the request metrics and writes the access log line. The
  // first call counts; later ones are ignored.
  void Finish(int http_status, size_t bytes);

 private:
  friend class Admission;
  struct Shared;
  Call(std::shared_ptr<Shared> shared, const CallInfo& info, Status status, bool counted,
       TimePoint deadline);

  const std::shared_ptr<Shared> shared_;
  const Status status_;
  std::atomic<bool> holds_slot_;  // counted against the concurrency limit until Release
  const TimePoint deadline_;
  const TimePoint start_;
  // For the access log line (copied only when the log is on).
  std::string transport_, method_, target_, remote_, request_id_;
  std::string endpoint_;                // guarded by the call's single owner until Finish
  std::atomic<bool> finished_{false};
};

class Admission {
 public:
  // Registers the request metrics in `metrics`, which every Call keeps alive.
  Admission(AdmissionOptions options, std::shared_ptr<MetricsRegistry> metrics);
  ~Admission();
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;

  // Applies the policy to a call as it arrives: never null. See Call::status().
  std::shared_ptr<Call> Admit(const CallInfo& info);
  // A call the transport answers itself before admission (a malformed request, say): not
  // checked, never counted, only logged when Finish is called.
  std::shared_ptr<Call> Record(const CallInfo& info);

  const AdmissionOptions& options() const;
  // API calls holding a concurrency slot now.
  int in_flight() const;

  // The policy's classes of HTTP paths and gRPC methods (the method's short name,
  // "ModelInfer"): /livez, /healthz, /readyz, /v2/health/live and /v2/health/ready (and the
  // gRPC ServerLive and ServerReady) are health checks, which Kubernetes probes reach with
  // no credentials; /metrics is infrastructure; everything else is an API call.
  static CallClass HttpClass(std::string_view path);
  static CallClass GrpcClass(std::string_view method);

 private:
  std::shared_ptr<Call::Shared> shared_;
};

}  // namespace bento::policy

#endif  // BENTO_POLICY_ADMISSION_H_
