#include "policy/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace bento::policy {
namespace {

TEST(MetricsTest, RendersCountersGaugesAndHistograms) {
  MetricsRegistry registry;
  auto& total = registry.AddCounter("bentoml_service_request_total", "Total requests",
                                    {"endpoint", "http_response_code"});
  auto& in_progress = registry.AddGauge("bentoml_service_request_in_progress", "In progress",
                                        {"endpoint"});
  auto& latency = registry.AddHistogram("latency_seconds", "Latency", {"endpoint"}, {0.1, 1.0});
  total.With({"/run", "200"}).Inc();
  total.With({"/run", "200"}).Inc();
  total.With({"/run", "400"}).Inc();
  in_progress.With({"/run"}).Add(3);
  in_progress.With({"/run"}).Add(-1);
  latency.With({"/run"}).Observe(0.05);
  latency.With({"/run"}).Observe(0.5);
  latency.With({"/run"}).Observe(5);

  std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE bentoml_service_request_total counter"), std::string::npos);
  EXPECT_NE(text.find("bentoml_service_request_total{endpoint=\"/run\",http_response_code=\"200\"} 2"),
            std::string::npos) << text;
  EXPECT_NE(text.find("bentoml_service_request_in_progress{endpoint=\"/run\"} 2"),
            std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{endpoint=\"/run\",le=\"0.1\"} 1"),
            std::string::npos) << text;
  EXPECT_NE(text.find("latency_seconds_bucket{endpoint=\"/run\",le=\"1\"} 2"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{endpoint=\"/run\",le=\"+Inf\"} 3"),
            std::string::npos);
  EXPECT_NE(text.find("latency_seconds_count{endpoint=\"/run\"} 3"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_sum{endpoint=\"/run\"} 5.55"), std::string::npos);
}

TEST(MetricsTest, EscapesLabelValues) {
  MetricsRegistry registry;
  registry.AddCounter("c", "help", {"l"}).With({"a\"b\\c\nd"}).Inc();
  EXPECT_NE(registry.Render().find("c{l=\"a\\\"b\\\\c\\nd\"} 1"), std::string::npos);
}

TEST(MetricsTest, CountsFromManyThreads) {
  MetricsRegistry registry;
  auto& family = registry.AddCounter("c", "help", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) family.With({"x"}).Inc();
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(family.With({"x"}).value(), 80000);
}

}  // namespace
}  // namespace bento::policy
