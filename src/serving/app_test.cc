// App at the handler level: requests built from strings, answers captured, no socket.
#include "serving/app.h"
#include "serving/app_test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace bento::serving {
namespace {

using testing::Call;
using testing::Request;

ServiceDef EchoService(bool* ready) {
  ServiceDef def;
  def.name = "echo";
  def.ready = [ready] { return *ready; };
  ApiDef echo;
  echo.name = "echo";
  echo.route = "/echo";
  echo.handler = [](const http::HttpRequest& request, ReplyCallback done) {
    if (request.body == "fail") return done(InvalidArgumentError("bad body"));
    if (request.body == "busy") return done(UnavailableError("shed"));
    if (request.body == "throw") throw std::runtime_error("boom");
    done(Reply{"application/json", request.body});
  };
  def.apis.push_back(echo);
  return def;
}

TEST(AppTest, RoutesApisAndInfra) {
  bool ready = false;
  App app(EchoService(&ready), {.workers = 2});
  EXPECT_EQ(Call(app, Request("GET", "/livez")).status, 200);
  EXPECT_EQ(Call(app, Request("GET", "/readyz")).status, 503);
  ready = true;
  EXPECT_EQ(Call(app, Request("GET", "/readyz")).status, 200);
  auto r = Call(app, Request("POST", "/echo", "[1]"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "[1]");
  EXPECT_EQ(Call(app, Request("GET", "/echo")).status, 405);
  EXPECT_EQ(Call(app, Request("POST", "/nope")).status, 404);
  auto docs = Call(app, Request("GET", "/docs.json"));
  EXPECT_EQ(docs.status, 200);
  EXPECT_NE(docs.body.find("\"/echo\""), std::string::npos);
}

// Found by schemathesis: TRACE /livez answered 200, and so did any method on infra routes.
TEST(AppTest, InfraRoutesAnswerOnlyGetAndHead) {
  bool ready = true;
  App app(EchoService(&ready), {.workers = 1});
  for (std::string path :
       {"/livez", "/healthz", "/readyz", "/metrics", "/docs.json", "/schema.json"}) {
    EXPECT_EQ(Call(app, Request("HEAD", path)).status, 200) << path;
    for (std::string method : {"POST", "PUT", "DELETE", "TRACE"}) {
      auto r = Call(app, Request(method, path));
      EXPECT_EQ(r.status, 405) << method << " " << path;
      bool allow = false;
      for (const auto& [k, v] : r.headers) allow |= k == "Allow" && v == "GET, HEAD";
      EXPECT_TRUE(allow) << method << " " << path;
    }
  }
}

TEST(AppTest, StatusesBecomeJsonErrors) {
  bool ready = true;
  App app(EchoService(&ready), {.workers = 1});
  auto bad = Call(app, Request("POST", "/echo", "fail"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, R"({"error": "bad body", "detail": null})");
  auto busy = Call(app, Request("POST", "/echo", "busy"));
  EXPECT_EQ(busy.status, 503);
  bool retry_after = false;
  for (const auto& [k, v] : busy.headers) retry_after |= k == "Retry-After";
  EXPECT_TRUE(retry_after);
  EXPECT_EQ(Call(app, Request("POST", "/echo", "throw")).status, 500);
  auto wrong_type = Call(app, Request("POST", "/echo", "x=1", "application/x-www-form-urlencoded"));
  EXPECT_EQ(wrong_type.status, 415);
}

TEST(AppTest, MetricsCountRoutedRequestsByCode) {
  bool ready = true;
  auto registry = std::make_shared<policy::MetricsRegistry>();
  policy::Admission admission({.access_log = false, .service_name = "echo"}, registry);
  App app(EchoService(&ready), {.workers = 1}, registry);
  Call(app, Request("POST", "/echo", "1"), &admission);
  Call(app, Request("POST", "/echo", "fail"), &admission);
  // A wrong method or content type on a route is counted under that route; no route is not.
  EXPECT_EQ(Call(app, Request("GET", "/echo"), &admission).status, 405);
  EXPECT_EQ(Call(app, Request("POST", "/echo", "x", "text/csv"), &admission).status, 415);
  EXPECT_EQ(Call(app, Request("POST", "/nowhere"), &admission).status, 404);
  auto metrics = Call(app, Request("GET", "/metrics"), &admission);
  EXPECT_NE(metrics.body.find("bentoml_service_request_total{endpoint=\"/echo\",service_name="
                              "\"echo\",service_version=\"not available\",http_response_code="
                              "\"200\"} 1"),
            std::string::npos)
      << metrics.body;
  for (const char* code : {"400", "405", "415"}) {
    EXPECT_NE(metrics.body.find(std::string("http_response_code=\"") + code + "\"} 1"),
              std::string::npos)
        << code << metrics.body;
  }
  EXPECT_EQ(metrics.body.find("/nowhere"), std::string::npos) << metrics.body;
  // The worker queue is timed under the same registry.
  EXPECT_NE(metrics.body.find("bento_request_queue_seconds_count{endpoint=\"/echo\""),
            std::string::npos)
      << metrics.body;
}

}  // namespace
}  // namespace bento::serving

namespace bento::serving {
namespace {

TEST(AppTest, RouteTemplatesCaptureSegmentsAndAnswer405WithAllow) {
  ServiceDef def;
  def.name = "t";
  for (const char* method : {"GET", "POST"}) {
    ApiDef api;
    api.name = std::string("echo_") + method;
    api.route = method == std::string("GET") ? "/m/{model}/v/{version}" : "/m/{model}/infer";
    api.methods = {method};
    api.content_types.clear();
    api.handler = [](const http::HttpRequest& request, ReplyCallback done) {
      done(Reply{"text/plain", std::string(request.PathParam("model")) + "|" +
                                   std::string(request.PathParam("version"))});
    };
    def.apis.push_back(api);
  }
  App app(std::move(def), {.workers = 1});
  auto got = testing::Call(app, testing::Request("GET", "/m/resnet/v/3"));
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "resnet|3");
  EXPECT_EQ(testing::Call(app, testing::Request("POST", "/m/a%2Fb/infer")).body, "a%2Fb|");
  auto wrong = testing::Call(app, testing::Request("GET", "/m/resnet/infer"));
  EXPECT_EQ(wrong.status, 405);
  ASSERT_EQ(wrong.headers.size(), 1u);
  EXPECT_EQ(wrong.headers[0], (std::pair<std::string, std::string>{"Allow", "POST"}));
  for (const char* path : {"/m//infer", "/m/resnet/infer/", "/m/resnet", "/m/resnet/v/3/x"}) {
    EXPECT_EQ(testing::Call(app, testing::Request("POST", path)).status, 404) << path;
  }
}

// The worker queue's metrics carry the model a request names, when the service serves it: a
// made-up name is counted under model="" so that clients cannot grow the series.
TEST(AppTest, QueueMetricsNameServedModelsOnly) {
  ServiceDef def;
  def.name = "q";
  def.serves = [](const std::string& name) { return name == "resnet"; };
  ApiDef infer;
  infer.name = "infer";
  infer.route = "/m/{model}/infer";
  infer.content_types.clear();
  infer.handler = [](const http::HttpRequest&, ReplyCallback done) { done(Reply{"text/plain", ""}); };
  def.apis.push_back(infer);
  ApiDef fixed = infer;
  fixed.name = "fixed";
  fixed.route = "/fixed";
  fixed.model = "resnet";
  def.apis.push_back(fixed);
  App app(std::move(def), {.workers = 1});
  for (const char* path : {"/m/resnet/infer", "/m/made-up/infer", "/fixed"}) {
    EXPECT_EQ(testing::Call(app, testing::Request("POST", path)).status, 200) << path;
  }
  std::string metrics = testing::Call(app, testing::Request("GET", "/metrics")).body;
  for (const char* series : {
           "bento_request_queue_seconds_count{endpoint=\"/m/{model}/infer\",model=\"resnet\"",
           "bento_request_queue_seconds_count{endpoint=\"/m/{model}/infer\",model=\"\"",
           "bento_request_queue_seconds_count{endpoint=\"/fixed\",model=\"resnet\"",
           "bento_request_queued{endpoint=\"/fixed\",model=\"resnet\",service_name=\"q\","
           "service_version=\"not available\"} 0"}) {
    EXPECT_NE(metrics.find(series), std::string::npos) << series << "\n" << metrics;
  }
  EXPECT_EQ(metrics.find("made-up"), std::string::npos) << metrics;
}

// An API whose handler is quick runs on the thread that calls Handle (in a server, the I/O
// thread that read the request); a slow one, or one that turns slow, on the worker pool.
struct ThreadProbe {
  std::atomic<std::chrono::microseconds::rep> sleep_us{0};  // the handler's time
  std::atomic<std::thread::id> ran_on;

  ServiceDef Service() {
    ServiceDef def;
    def.name = "probe";
    ApiDef api;
    api.name = "probe";
    api.route = "/probe";
    api.handler = [this](const http::HttpRequest&, ReplyCallback done) {
      ran_on = std::this_thread::get_id();
      std::this_thread::sleep_for(std::chrono::microseconds(sleep_us.load()));
      done(Reply{"application/json", "{}"});
    };
    def.apis.push_back(api);
    return def;
  }

  // Whether one call ran on the calling thread.
  bool RanInline(App& app) {
    EXPECT_EQ(Call(app, Request("POST", "/probe")).status, 200);
    return ran_on.load() == std::this_thread::get_id();
  }

  // Makes the handler do nothing and calls it until a call runs on the calling thread (a
  // sanitizer build, or a busy machine, may slow a few calls: allow for them).
  bool ReachInline(App& app) {
    sleep_us = 0;
    bool moved = false;
    for (int i = 0; i < 200 && !moved; ++i) moved = RanInline(app);
    return moved;
  }
};

TEST(AppTest, QuickHandlersRunOnTheCallersThreadAndSlowOnesOnThePool) {
  ThreadProbe probe;
  App app(probe.Service(), {.workers = 2});
  for (int i = 0; i < 16; ++i) EXPECT_FALSE(probe.RanInline(app)) << "call " << i;
  // Timed on the pool first; a handler that does nothing then stays on the caller's thread.
  ASSERT_TRUE(probe.ReachInline(app));
  // One slow call (50 times the threshold) on the caller's thread sends the API back to the
  // pool. (A call the machine slowed may have sent it back already: then the slow call ran
  // on the pool; try again.)
  bool slow_inline = false;
  for (int attempt = 0; attempt < 20 && !slow_inline; ++attempt) {
    ASSERT_TRUE(probe.ReachInline(app));
    probe.sleep_us = 5000;
    slow_inline = probe.RanInline(app);
  }
  ASSERT_TRUE(slow_inline);
  EXPECT_FALSE(probe.RanInline(app));
  EXPECT_FALSE(probe.RanInline(app));
  // And it comes back once its calls are quick again.
  EXPECT_TRUE(probe.ReachInline(app));

  // The calls the pool ran are in its queue metrics.
  std::string metrics = Call(app, Request("GET", "/metrics")).body;
  EXPECT_NE(metrics.find("bento_request_queue_seconds_count{endpoint=\"/probe\""),
            std::string::npos);
}

// An API whose calls take between the threshold and twice it stays where it is: on the pool
// if it was there, on the caller's thread if it was there.
TEST(AppTest, HandlersBetweenTheThresholdAndTwiceItStayWhereTheyAre) {
  // With the threshold at 5 ms, calls of 6 ms (sleeps run long, not short) leave 4 ms below
  // twice it: the average (a call weighing 1/8) crosses only if one call stalls past 38 ms,
  // which a sanitizer build on a busy machine did at a 1 ms threshold (one call past 7 ms).
  constexpr int kBetween = 6000;  // us
  constexpr auto kThreshold = std::chrono::milliseconds(5);
  ThreadProbe pooled;
  pooled.sleep_us = kBetween;
  App pooled_app(pooled.Service(), {.workers = 2, .inline_below = kThreshold});
  for (int i = 0; i < 40; ++i) EXPECT_FALSE(pooled.RanInline(pooled_app)) << "call " << i;

  ThreadProbe moved;
  App moved_app(moved.Service(), {.workers = 2, .inline_below = kThreshold});
  // Quick at first, then between: each call keeps running on the caller's thread. (A call
  // the machine stalled past that may send it to the pool: start again.)
  bool stayed = false;
  for (int attempt = 0; attempt < 10 && !stayed; ++attempt) {
    ASSERT_TRUE(moved.ReachInline(moved_app));
    moved.sleep_us = kBetween;
    stayed = true;
    for (int i = 0; i < 24 && stayed; ++i) stayed = moved.RanInline(moved_app);
  }
  EXPECT_TRUE(stayed);
}

TEST(AppTest, SlowHandlersAndAZeroInlineBelowAlwaysUseThePool) {
  ThreadProbe slow;
  slow.sleep_us = 500;  // five times AppOptions::inline_below
  App slow_app(slow.Service(), {.workers = 2});
  ThreadProbe quick;
  App never(quick.Service(), {.workers = 2, .inline_below = {}});
  for (int i = 0; i < 40; ++i) {
    EXPECT_FALSE(slow.RanInline(slow_app)) << "call " << i;
    EXPECT_FALSE(quick.RanInline(never)) << "call " << i;
  }
}

}  // namespace
}  // namespace bento::serving
