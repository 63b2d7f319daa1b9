#include "policy/admission.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "policy/http_status.h"

namespace bento::policy {
namespace {

CallInfo Api(std::string_view target = "/run",
             std::optional<std::string_view> authorization = std::nullopt) {
  CallInfo info;
  info.transport = "HTTP/1.1";
  info.method = "POST";
  info.target = target;
  info.authorization = authorization;
  info.call_class = Admission::HttpClass(target);
  return info;
}

TEST(AdmissionTest, ApiKeyGuardsEverythingButHealthChecksAndTheDocuments) {
  auto metrics = std::make_shared<MetricsRegistry>();
  Admission admission({.api_key = "s3cret", .access_log = false}, metrics);
  EXPECT_EQ(admission.Admit(Api("/run"))->status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(admission.Admit(Api("/metrics"))->status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(admission.Admit(Api("/run", "Bearer wrong!"))->status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(admission.Admit(Api("/run", "Bearer s3cre"))->status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(admission.Admit(Api("/run", "Basic s3cret"))->status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_TRUE(admission.Admit(Api("/run", "Bearer s3cret"))->status().ok());
  for (std::string_view health :
       {"/livez", "/healthz", "/readyz", "/v2/health/live", "/v2/health/ready"}) {
    EXPECT_TRUE(admission.Admit(Api(health))->status().ok()) << health;
  }
  // Swagger UI must load before its user can give the key; it, /docs.json and /schema.json
  // hold no data.
  for (std::string_view docs :
       {"/", "/docs", "/docs.json", "/schema.json", "/static_content/swagger-ui-bundle.js"}) {
    EXPECT_TRUE(admission.Admit(Api(docs))->status().ok()) << docs;
  }
  EXPECT_EQ(admission.Admit(Api("/docs/x"))->status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(admission.Admit(Api("/static_contentx"))->status().code(),
            StatusCode::kUnauthenticated);
  CallInfo grpc_live{.transport = "gRPC", .call_class = Admission::GrpcClass("ServerLive")};
  EXPECT_TRUE(admission.Admit(grpc_live)->status().ok());
  CallInfo grpc_infer{.transport = "gRPC", .call_class = Admission::GrpcClass("ModelInfer")};
  EXPECT_EQ(admission.Admit(grpc_infer)->status().code(), StatusCode::kUnauthenticated);
  grpc_infer.authorization = "Bearer s3cret";
  EXPECT_TRUE(admission.Admit(grpc_infer)->status().ok());
}

TEST(AdmissionTest, ConcurrencyLimitCountsApiCallsUntilReleased) {
  auto metrics = std::make_shared<MetricsRegistry>();
  Admission admission({.max_concurrency = 2, .access_log = false}, metrics);
  auto a = admission.Admit(Api());
  auto b = admission.Admit(Api());
  ASSERT_TRUE(a->status().ok());
  ASSERT_TRUE(b->status().ok());
  EXPECT_EQ(admission.in_flight(), 2);
  auto refused = admission.Admit(Api());
  EXPECT_EQ(refused->status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(refused->status().message().find("limit 2"), std::string::npos);
  // Health checks and /metrics are never refused, and take no slot.
  EXPECT_TRUE(admission.Admit(Api("/readyz"))->status().ok());
  EXPECT_TRUE(admission.Admit(Api("/metrics"))->status().ok());
  EXPECT_EQ(admission.in_flight(), 2);
  // Finishing (the answer went out) does not free the slot; the handler's answer (Release)
  // does, once, and so does dropping a call that was never released.
  a->Finish(504, 0);
  EXPECT_EQ(admission.in_flight(), 2);
  a->Release();
  a->Release();
  EXPECT_EQ(admission.in_flight(), 1);
  a.reset();
  EXPECT_EQ(admission.in_flight(), 1);
  b.reset();
  EXPECT_EQ(admission.in_flight(), 0);
  EXPECT_TRUE(admission.Admit(Api())->status().ok());
}

TEST(AdmissionTest, DeadlineFollowsTheTimeout) {
  auto metrics = std::make_shared<MetricsRegistry>();
  SimulatedClock clock;
  Admission timed({.request_timeout = std::chrono::milliseconds(250),
                   .access_log = false,
                   .clock = &clock},
                  metrics);
  auto call = timed.Admit(Api());
  EXPECT_EQ(call->deadline(), clock.Now() + std::chrono::milliseconds(250));
  EXPECT_EQ(call->timeout_ms(), 250);
  clock.Advance(std::chrono::milliseconds(100));
  EXPECT_EQ(timed.Admit(Api())->deadline(), clock.Now() + std::chrono::milliseconds(250));

  auto other = std::make_shared<MetricsRegistry>();
  Admission untimed({.request_timeout = std::chrono::milliseconds(0), .access_log = false},
                    other);
  EXPECT_EQ(untimed.Admit(Api())->deadline(), Call::TimePoint::max());
}

TEST(AdmissionTest, RoutedCallsAreCountedOnceByEndpointAndCode) {
  auto metrics = std::make_shared<MetricsRegistry>();
  Admission admission({.access_log = false, .service_name = "svc", .service_version = "v1"},
                      metrics);
  auto ok = admission.Admit(Api());
  ok->SetEndpoint("/run");
  EXPECT_NE(metrics->Render().find("bentoml_service_request_in_progress{endpoint=\"/run\","
                                  "service_name=\"svc\",service_version=\"v1\"} 1"),
            std::string::npos);
  ok->Finish(200, 10);
  ok->Finish(500, 10);  // ignored: the first answer counts
  auto grpc = admission.Admit({.transport = "gRPC", .call_class = CallClass::kApi});
  grpc->SetEndpoint("/inference.GRPCInferenceService/ModelInfer");
  grpc->Finish(HttpStatusFor(InvalidArgumentError("x")), 0);
  auto unrouted = admission.Admit(Api("/nowhere"));
  unrouted->Finish(404, 0);  // no endpoint: not counted

  std::string text = metrics->Render();
  EXPECT_NE(text.find("bentoml_service_request_total{endpoint=\"/run\",service_name=\"svc\","
                      "service_version=\"v1\",http_response_code=\"200\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("http_response_code=\"500\""), std::string::npos) << text;
  EXPECT_NE(text.find("bentoml_service_request_total{endpoint=\"/inference."
                      "GRPCInferenceService/ModelInfer\",service_name=\"svc\",service_version="
                      "\"v1\",http_response_code=\"400\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("/nowhere"), std::string::npos) << text;
  EXPECT_NE(text.find("bentoml_service_request_in_progress{endpoint=\"/run\","
                      "service_name=\"svc\",service_version=\"v1\"} 0"),
            std::string::npos)
      << text;
}

TEST(AdmissionTest, ConcurrentAdmitsNeverExceedTheLimit) {
  auto metrics = std::make_shared<MetricsRegistry>();
  Admission admission({.max_concurrency = 3, .access_log = false}, metrics);
  std::atomic<int> peak{0}, admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto call = admission.Admit(Api());
        if (!call->status().ok()) continue;
        admitted.fetch_add(1);
        int now = admission.in_flight();
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(peak.load(), 3);
  EXPECT_GT(admitted.load(), 0);
  EXPECT_EQ(admission.in_flight(), 0);
}

}  // namespace
}  // namespace bento::policy
