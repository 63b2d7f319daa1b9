// A C++ service through App at the handler level: typed parameters from JSON, raw bodies and
// multipart, errors, and a batchable API.
#include "serving/service_adapter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/fs.h"
#include "bento/image.h"
#include "serving/app.h"
#include "serving/app_test_util.h"

namespace bento::serving {
namespace {

class TestService : public Service {
 public:
  TestService() : Service("TestService") {
    Api("shout", &TestService::Shout, {"text"});
    Api("sum", &TestService::Sum, {"values", "scale"});
    Api("describe", &TestService::Describe, {"image"});
    Api("inspect", &TestService::Inspect, {"x", "options"});
    Api("echo", &TestService::Echo, {"data"});
    BatchApi("twice", &TestService::Twice, "x", {.max_batch_size = 8, .max_latency_ms = 500});
    // The same with a budget no test waits out: its queued requests are never shed.
    BatchApi("twice_patient", &TestService::Twice, "x",
             {.max_batch_size = 8, .max_latency_ms = 600000});
  }
  std::string Shout(const std::string& text) { return text + "!"; }
  Json Sum(const std::vector<std::vector<double>>& values, double scale) {
    double total = 0;
    for (const auto& row : values) for (double v : row) total += v;
    return {{"sum", total * scale}};
  }
  Json Describe(const Image& image) {
    return {{"width", image.width()}, {"height", image.height()}};
  }
  Json Inspect(const Tensor& x, const Json& options) {
    return {{"dtype", DTypeName(x.dtype())}, {"shape", x.shape()}, {"options", options}};
  }
  Json Echo(const Json& data) { return data; }
  StatusOr<Tensor> Twice(const Tensor& x) {
    ++calls;
    {
      std::unique_lock lock(gate_mu);
      gate_cv.wait(lock, [this] { return gate_open; });
    }
    Tensor out = Tensor::Zeros(x.dtype(), x.shape());
    auto in = x.values<float>();
    auto o = out.mutable_values<float>();
    for (size_t i = 0; i < in.size(); ++i) o[i] = 2 * in[i];
    return out;
  }
  std::atomic<int> calls{0};
  // Twice waits while the gate is closed, so that requests queue behind a running batch.
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool gate_open = true;
};

using testing::Call;

http::HttpRequest Post(std::string path, std::string body, std::string type) {
  return testing::Request("POST", std::move(path), std::move(body), std::move(type));
}

TEST(ServiceAdapterTest, ParsesTypedParameters) {
  TestService service;
  App app(ServiceDefinition(service), {.workers = 2});
  auto r = Call(app, Post("/shout", R"({"text": "hi"})", "application/json"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hi!");
  EXPECT_EQ(Call(app, Post("/shout", "raw", "text/plain")).body, "raw!");
  r = Call(app, Post("/sum", R"({"values": [[1, 2], [3.5]], "scale": 2})", "application/json"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"sum":13.0})");

  auto png = fs::ReadFile("/usr/lib/python3/dist-packages/skimage/data/chelsea.png");
  ASSERT_TRUE(png.ok());
  std::string multipart = "--B\r\nContent-Disposition: form-data; name=\"image\"; "
                          "filename=\"c.png\"\r\nContent-Type: image/png\r\n\r\n" +
                          *png + "\r\n--B--\r\n";
  r = Call(app, Post("/describe", multipart, "multipart/form-data; boundary=B"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"height":300,"width":451})");
  EXPECT_EQ(Call(app, Post("/describe", *png, "image/png")).status, 200);
}

// A JSON body is walked once: a Tensor parameter is decoded in place, with its dtype from
// its first leaf, and the other members are read from their own text.
TEST(ServiceAdapterTest, TensorParametersDecodeInPlaceBesideOtherValues) {
  TestService service;
  App app(ServiceDefinition(service), {.workers = 1});
  auto r = Call(app, Post("/inspect", R"({"x": [[1, 2], [3, 4]], "options": {"k": [1, "a"]}})",
                          "application/json"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"dtype":"int64","options":{"k":[1,"a"]},"shape":[2,2]})");
  r = Call(app, Post("/inspect", R"({"options": null, "x": [true, false]})", "application/json"));
  EXPECT_EQ(r.body, R"({"dtype":"bool","options":null,"shape":[2]})");
  r = Call(app, Post("/inspect", R"({"options": 1, "x": [[0.5], [NaN]]})", "application/json"));
  EXPECT_EQ(r.body, R"({"dtype":"float32","options":1,"shape":[2,1]})");
  r = Call(app, Post("/inspect", R"({"options": 1, "x": [["a"]]})", "application/json"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("parameter 'x': must be a tensor (nested lists of numbers), got a "
                        "string"), std::string::npos) << r.body;
  r = Call(app, Post("/inspect", R"({"options": 1, "x": [1], "x": [2]})", "application/json"));
  EXPECT_NE(r.body.find("parameter 'x' given twice"), std::string::npos) << r.body;
}

// An API's only parameter takes the whole body when the body is no object of named
// parameters, as BentoML does.
TEST(ServiceAdapterTest, TheOnlyParameterTakesTheWholeBody) {
  TestService service;
  App app(ServiceDefinition(service), {.workers = 1});
  EXPECT_EQ(Call(app, Post("/echo", R"({"data": 5})", "application/json")).body, "5");
  EXPECT_EQ(Call(app, Post("/echo", R"({"a": [1], "b": "c"})", "application/json")).body,
            R"({"a":[1],"b":"c"})");
  EXPECT_EQ(Call(app, Post("/echo", "[1, 2]", "application/json")).body, "[1,2]");
  // A string, a number or a tensor cannot be an object: a wrong key is named as such.
  auto typo = Call(app, Post("/shout", R"({"txt": "hi"})", "application/json"));
  EXPECT_EQ(typo.status, 400);
  EXPECT_NE(typo.body.find("unknown parameter 'txt'; shout takes: text"), std::string::npos)
      << typo.body;
  auto tensor_typo = Call(app, Post("/twice", R"({"y": [1.0]})", "application/json"));
  EXPECT_NE(tensor_typo.body.find("unknown parameter 'y'; twice takes: x"), std::string::npos)
      << tensor_typo.body;
  auto both = Call(app, Post("/echo", R"({"data": 5, "b": 1})", "application/json"));
  EXPECT_EQ(both.status, 400);
  EXPECT_NE(both.body.find("unknown parameter 'b'; echo takes: data"), std::string::npos)
      << both.body;
  auto twice = Call(app, Post("/twice", "[[1.5, 2]]", "application/json"));
  EXPECT_EQ(twice.status, 200) << twice.body;
  EXPECT_EQ(twice.body, "[[3.0,4.0]]");
}

// BentoML's client sends each non-file field of a multipart request through json.dumps, and
// BentoML's server reads it back as JSON: a string parameter's form field "\"hi\"" is hi.
TEST(ServiceAdapterTest, AFormFieldHoldingAJsonStringIsThatString) {
  TestService service;
  App app(ServiceDefinition(service), {.workers = 1});
  auto form = [&](std::string part_headers, std::string value) {
    std::string body = "--B\r\nContent-Disposition: form-data; name=\"text\"" + part_headers +
                       "\r\n\r\n" + value + "\r\n--B--\r\n";
    return Call(app, Post("/shout", body, "multipart/form-data; boundary=B")).body;
  };
  EXPECT_EQ(form("", R"("hi")"), "hi!");
  EXPECT_EQ(form("", R"("tab\tand \u00e9")"), "tab\tand \xc3\xa9!");
  EXPECT_EQ(form("", "hi"), "hi!");                  // curl -F text=hi
  EXPECT_EQ(form("", R"("unclosed)"), "\"unclosed!");  // not JSON: as sent
  EXPECT_EQ(form("", R"("a" "b")"), "\"a\" \"b\"!");
  // A file's bytes and a text/plain body are never unquoted.
  EXPECT_EQ(form("; filename=\"t.txt\"", R"("hi")"), "\"hi\"!");
  EXPECT_EQ(Call(app, Post("/shout", R"("hi")", "text/plain")).body, "\"hi\"!");
}

// /schema.json: what BentoML 1.4's Service.schema() gives for the same Python signatures
// (str, List[List[float]] and float, PIL Image, np.ndarray and Any, np.ndarray batchable).
TEST(ServiceAdapterTest, SchemaJsonIsBentoMLsServiceSchema) {
  TestService service;
  App app(ServiceDefinition(service), {.workers = 1});
  auto r = Call(app, testing::Request("GET", "/schema.json"));
  ASSERT_EQ(r.status, 200);
  Json schema = Json::parse(r.body);
  EXPECT_EQ(schema["name"], "TestService");
  EXPECT_EQ(schema["type"], "service");
  std::map<std::string, Json> routes;
  for (const auto& route : schema["routes"]) routes[route["name"]] = route;
  ASSERT_EQ(routes.size(), 7u);
  EXPECT_EQ(routes["shout"], Json::parse(R"({
      "name": "shout", "route": "/shout", "batchable": false, "is_task": false,
      "input": {"type": "object", "title": "Input", "required": ["text"],
                "properties": {"text": {"type": "string", "title": "Text"}}},
      "output": {"type": "string"}})"));
  EXPECT_EQ(routes["sum"]["input"]["properties"], Json::parse(R"({
      "values": {"type": "array", "title": "Values",
                 "items": {"type": "array", "items": {"type": "number"}}},
      "scale": {"type": "number", "title": "Scale"}})"));
  EXPECT_EQ(routes["sum"]["output"], Json::object());
  EXPECT_EQ(routes["describe"]["input"]["properties"]["image"],
            Json::parse(R"({"type": "file", "format": "image", "pil": true, "title": "Image"})"));
  EXPECT_EQ(routes["inspect"]["input"]["properties"], Json::parse(R"({
      "x": {"type": "tensor", "format": "numpy-array", "title": "X"},
      "options": {"title": "Options"}})"));
  EXPECT_EQ(routes["twice"]["batchable"], true);
  EXPECT_EQ(routes["twice"]["output"], Json::parse(R"({"type": "tensor", "format": "numpy-array"})"));
  EXPECT_EQ(schema["paths"]["/twice_patient"], Json::parse(R"({"mounted": false})"));
  // The marks stay in the OpenAPI document too, as an extension Swagger UI ignores.
  auto docs = Json::parse(Call(app, testing::Request("GET", "/docs.json")).body);
  EXPECT_EQ(docs["paths"]["/describe"]["post"]["requestBody"]["content"]["multipart/form-data"]
                ["schema"]["properties"]["image"]["format"],
            "binary");
}

TEST(ServiceAdapterTest, BadParametersAre400) {
  TestService service;
  App app(ServiceDefinition(service), {.workers = 1});
  auto missing = Call(app, Post("/sum", R"({"values": [[1]]})", "application/json"));
  EXPECT_EQ(missing.status, 400);
  EXPECT_NE(missing.body.find("missing parameter 'scale'"), std::string::npos) << missing.body;
  auto unknown = Call(app, Post("/sum", R"({"values": [[1]], "scale": 1, "x": 0})",
                                "application/json"));
  EXPECT_NE(unknown.body.find("unknown parameter 'x'"), std::string::npos) << unknown.body;
  auto wrong = Call(app, Post("/sum", R"({"values": "abc", "scale": 1})", "application/json"));
  EXPECT_EQ(wrong.status, 400) << wrong.body;
  EXPECT_NE(wrong.body.find("parameter 'values' must be a list of lists of numbers, got a "
                            "string"), std::string::npos) << wrong.body;
  auto not_image = Call(app, Post("/describe", "garbage", "image/png"));
  EXPECT_EQ(not_image.status, 400);
  EXPECT_NE(not_image.body.find("not an image"), std::string::npos) << not_image.body;
  EXPECT_EQ(Call(app, Post("/describe", "{}", "application/json")).status, 415);
  EXPECT_EQ(Call(app, Post("/shout", "{", "application/json")).status, 400);
}

TEST(ServiceAdapterTest, BatchApiCombinesConcurrentRequests) {
  TestService service;
  App app(ServiceDefinition(service), {.workers = 16});
  std::vector<std::thread> clients;
  std::atomic<int> wrong{0};
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 10; ++i) {
        float v = static_cast<float>(c * 100 + i);
        std::string body = "{\"x\": [[" + std::to_string(v) + ", 1.0]]}";
        auto r = Call(app, Post("/twice", body, "application/json"));
        std::string want = "[[" + std::to_string(static_cast<int>(2 * v)) + ".0,2.0]]";
        if (r.status != 200 || r.body != want) ++wrong;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LT(service.calls.load(), 160);  // some requests shared a call
  auto metrics = Call(app, testing::Request("GET", "/metrics"));
  EXPECT_NE(metrics.body.find("bentoml_service_adaptive_batch_size_count{method_name=\"twice\""),
            std::string::npos) << metrics.body;
}

// Requests that arrive while batches run wait for them, then go together: with both batches
// in flight (max_inflight_batches 2) held, fourteen more requests queue
// (bento_batch_queued_requests says so) and are answered in ceil(14 / max_batch_size 8) = 2
// calls, each with its own rows.
// The executable's batching flags over a BatchApi's own options: --no-batching runs each
// request alone, and --max-batch-size 1 lets no two requests share a call.
TEST(ServiceAdapterTest, CommandLineBatchFlagsOverrideTheApisOptions) {
  for (BatchOverrides overrides : {BatchOverrides{.batching = false},
                                   BatchOverrides{.max_batch_size = 1}}) {
    TestService service;
    App app(ServiceDefinition(service, overrides), {.workers = 8});
    std::vector<std::thread> clients;
    std::atomic<int> wrong{0};
    for (int c = 0; c < 8; ++c) {
      clients.emplace_back([&] {
        for (int i = 0; i < 5; ++i) {
          auto r = Call(app, Post("/twice", R"({"x": [[1.5, 1.0]]})", "application/json"));
          if (r.status != 200 || r.body != "[[3.0,2.0]]") ++wrong;
        }
      });
    }
    for (auto& t : clients) t.join();
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(service.calls.load(), 40);  // one call per request
    auto metrics = Call(app, testing::Request("GET", "/metrics")).body;
    bool batched = metrics.find("bentoml_service_adaptive_batch_size_count{method_name=\"twice\"") !=
                   std::string::npos;
    EXPECT_EQ(batched, overrides.batching) << metrics;
  }
}

TEST(ServiceAdapterTest, RequestsQueuedBehindRunningBatchesGoTogether) {
  TestService service;
  {
    std::lock_guard lock(service.gate_mu);
    service.gate_open = false;
  }
  // Two batch slots (the default is one per CPU's share of the intra-op threads).
  App app(ServiceDefinition(service, {.max_inflight_batches = 2}), {.workers = 16});
  std::atomic<int> wrong{0};
  auto client = [&](int c) {
    float v = static_cast<float>(c);
    auto r = Call(app, Post("/twice_patient", "{\"x\": [[" + std::to_string(v) + ", 1.0]]}",
                            "application/json"));
    std::string want = "[[" + std::to_string(static_cast<int>(2 * v)) + ".0,2.0]]";
    if (r.status != 200 || r.body != want) ++wrong;
  };
  std::vector<std::thread> clients;
  auto entered = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (int c = 0; c < 2; ++c) {  // one request per batch slot, each held at the gate
    clients.emplace_back(client, c);
    while (service.calls.load() == c && std::chrono::steady_clock::now() < entered) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(service.calls.load(), c + 1) << "batch slot " << c << " never ran";
  }
  for (int c = 2; c < 16; ++c) clients.emplace_back(client, c);
  auto queued = [&] {  // the gauge's value for twice_patient, as /metrics renders it
    std::string body = Call(app, testing::Request("GET", "/metrics")).body;
    size_t line = body.find("bento_batch_queued_requests{method_name=\"twice_patient\"");
    if (line == std::string::npos) return std::string("none");
    size_t end = body.find('\n', line);
    size_t space = body.rfind(' ', end);
    return body.substr(space + 1, end - space - 1);
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (queued() != "14" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(queued(), "14");
  {
    std::lock_guard lock(service.gate_mu);
    service.gate_open = true;
  }
  service.gate_cv.notify_all();
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(service.calls.load(), 4);
}

// A service that counts its calls and exports the count (Service::Metric).
class CountingService : public Service {
 public:
  CountingService() : Service("CountingService") {
    Api("ping", &CountingService::Ping, {"text"});
    Metric("pings_total", "Pings answered", ServiceMetric::Type::kCounter,
           [this] { return static_cast<double>(pings_.load()); });
    Metric("last_ping_length", "Length of the last ping", ServiceMetric::Type::kGauge,
           [this] { return static_cast<double>(last_length_.load()); });
  }
  std::string Ping(const std::string& text) {
    ++pings_;
    last_length_ = text.size();
    return "pong";
  }

 private:
  std::atomic<int> pings_{0};
  std::atomic<size_t> last_length_{0};
};

TEST(ServiceAdapterTest, ServiceMetricsAppearOnMetrics) {
  CountingService service;
  App app(ServiceDefinition(service), {.workers = 2});
  for (int i = 0; i < 3; ++i) Call(app, Post("/ping", "hello", "text/plain"));
  auto metrics = Call(app, testing::Request("GET", "/metrics")).body;
  EXPECT_NE(metrics.find("# HELP pings_total Pings answered\n# TYPE pings_total counter\n"
                         "pings_total{service_name=\"CountingService\"} 3\n"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find("# TYPE last_ping_length gauge\n"
                         "last_ping_length{service_name=\"CountingService\"} 5\n"),
            std::string::npos) << metrics;
  // Read at each scrape, not once.
  Call(app, Post("/ping", "hi", "text/plain"));
  metrics = Call(app, testing::Request("GET", "/metrics")).body;
  EXPECT_NE(metrics.find("pings_total{service_name=\"CountingService\"} 4\n"), std::string::npos);
}

}  // namespace
}  // namespace bento::serving
