// Fuzzes the whole request path below the socket: the input is raw bytes from a client, parsed
// by Beast's request parser (as http::Connection parses them, with its limits) into one or more
// pipelined requests, each handed to serving::App and answered. The App serves
//   - a real ONNX model (y = x + w, float32[4]) without code: POST /run, /add/run and the
//     Open Inference Protocol under /v2 (JSON and the binary extension);
//   - a small C++ service whose APIs take an image, a string, a tensor, images and a file, so
//     that JSON objects of parameters, multipart/form-data and raw bodies are all parsed;
//   - the infra routes (/livez, /readyz, /metrics, /docs.json, Swagger UI).
// The model is tiny so that ONNX Runtime does not dominate. Invariant: no input is answered
// with 500 (a bug: README's error table) or a status outside 200..599.
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bento/image.h"
#include "bento/onnx.h"
#include "bento/service.h"
#include "fuzz/fuzz_check.h"
#include "runtime/test_models.h"
#include "serving/app.h"
#include "serving/app_test_util.h"
#include "kserve/http_routes.h"
#include "manager/model_manager.h"
#include "serving/no_code.h"
#include "serving/service_adapter.h"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace stdfs = std::filesystem;

// Limits small enough to keep each run fast; the parser enforces them as the server does.
constexpr size_t kMaxHeaderBytes = 8 * 1024;
constexpr size_t kMaxBodyBytes = 256 * 1024;
constexpr int kMaxRequestsPerInput = 4;

class ProbeService : public bento::Service {
 public:
  ProbeService() : Service("Probe") {
    Api("describe", &ProbeService::Describe, {"image", "note", "values"});
    Api("count", &ProbeService::Count, {"images"});
    Api("echo_file", &ProbeService::EchoFile, {"file"});
    Api("shout", &ProbeService::Shout, {"text"});
  }
  bento::Json Describe(const bento::Image& image, const std::string& note,
                       const bento::Tensor& values) {
    return {{"width", image.width()}, {"note", note}, {"values", values.num_elements()}};
  }
  bento::Json Count(const std::vector<bento::Image>& images) { return images.size(); }
  bento::File EchoFile(const bento::File& file) { return file; }
  std::string Shout(const std::string& text) { return text + "!"; }
};

struct Fixture {
  stdfs::path home;
  std::unique_ptr<bento::manager::ModelManager> models;
  std::unique_ptr<bento::kserve::Protocol> protocol;
  ProbeService probe;
  std::unique_ptr<bento::serving::App> app;
};

[[noreturn]] void Fail(const std::string& what, const bento::Status& status) {
  std::fprintf(stderr, "http_app_fuzzer setup: %s: %s\n", what.c_str(),
               status.ToString().c_str());
  std::abort();
}

Fixture* MakeFixture() {
  auto* f = new Fixture;
  f->home = stdfs::temp_directory_path() / ("bento-http-fuzzer-" + std::to_string(::getpid()));
  stdfs::remove_all(f->home);
  stdfs::create_directories(f->home);
  ::setenv("BENTOML_HOME", f->home.c_str(), 1);
  auto tag = bento::onnx::save_model("add", bento::onnx::ModelBytes{bento::testing::AddModel(4)});
  if (!tag.ok()) Fail("save_model", tag.status());
  bento::manager::ManagerOptions options;
  options.batching = false;  // a batcher waits for company: slow and timing-dependent
  options.session_options.intra_op_num_threads = 1;
  auto models = bento::manager::ModelManager::Create({"add"}, options);
  if (!models.ok()) Fail("ModelManager::Create", models.status());
  f->models = std::move(*models);
  if (auto s = f->models->LoadAll(); !s.ok()) Fail("LoadAll", s);

  f->protocol = std::make_unique<bento::kserve::Protocol>(*f->models);
  bento::serving::ServiceDef def = bento::serving::NoCodeService(*f->models);
  for (auto& api : bento::kserve::HttpRoutes(*f->protocol)) def.apis.push_back(std::move(api));
  for (auto& api : bento::serving::ServiceDefinition(f->probe).apis) {
    def.apis.push_back(std::move(api));
  }
  f->app = std::make_unique<bento::serving::App>(std::move(def),
                                                 bento::serving::AppOptions{.workers = 1});
  stdfs::remove_all(f->home);  // the sessions are loaded; nothing reads the store again
  return f;
}

// The HttpRequest http::Connection builds from a parsed message.
bento::http::HttpRequest ToHttpRequest(bhttp::request<bhttp::string_body>&& message) {
  bento::http::HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  size_t question = request.target.find('?');
  request.path = request.target.substr(0, question);
  if (question != std::string::npos) request.query = request.target.substr(question + 1);
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  request.request_id = "fuzz";
  request.remote = "127.0.0.1:1";
  return request;
}

Fixture& GetFixture() {
  static Fixture* fixture = MakeFixture();
  return *fixture;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  GetFixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& fixture = GetFixture();
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < kMaxRequestsPerInput && !input.empty(); ++i) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    beast::error_code ec;
    size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
    if (ec) return 0;  // the connection answers 400/413/431 and closes
    input.remove_prefix(used);
    if (!parser.is_done()) {
      parser.put_eof(ec);  // the client closed: a body without a length ends here
      if (ec || !parser.is_done()) return 0;
    }
    auto response = bento::serving::testing::Call(*fixture.app, ToHttpRequest(parser.release()));
    FUZZ_CHECK(response.status >= 200 && response.status <= 599, "status %d", response.status);
    FUZZ_CHECK(response.status != 500, "500: %s", response.body.c_str());
  }
  return 0;
}
