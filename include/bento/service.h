// bento::Service: a BentoML-style service written as a C++ class.
//
//   class Classifier : public bento::Service {
//    public:
//     Classifier() : Service("Classifier", {.resources = {.gpu = "1", .memory = "4Gi"}}) {
//       session_ = bento::onnx::load_model("clf:latest").value();
//       Api("classify_image", &Classifier::ClassifyImage, {"image"});
//     }
//     bento::Json ClassifyImage(const bento::Image& image) { ... }
//    private:
//     std::optional<bento::onnx::Session> session_;
//   };
//   BENTO_SERVICE_MAIN(Classifier)
//
// Each API is a member function; its parameter types say how the request body is parsed
// and validated, and what the OpenAPI schema says:
//   bento::Image, std::vector<bento::Image>, bento::File  — multipart/form-data parts (or the
//       raw body, e.g. image/png, for a single-parameter API);
//   std::string                                            — a JSON string, a form field or
//       a text/plain body;
//   bento::Tensor, std::vector<...> of numbers, numbers, bool, bento::Json — JSON values.
// Parameters come as a JSON object of named parameters, as multipart/form-data, or as the raw
// body for a single-parameter API. Return bento::Json, bento::Tensor, std::string (text/plain),
// bento::File (its bytes and content type), or StatusOr<any of these> to answer an error
// (INVALID_ARGUMENT → 400, UNAVAILABLE → 503, ...).
//
// Thread-safety: API methods are called from many worker threads at once; a method must be
// safe for that (bento::onnx::Session::Run is). Registration (Api) happens in the constructor.
#ifndef BENTO_SERVICE_H_
#define BENTO_SERVICE_H_

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "bento/detail/api_traits.h"
#include "bento/json.h"
#include "bento/status.h"

namespace bento {

// The guide's @bentoml.service(resources=...): recorded in the OpenAPI document and logged.
struct Resources {
  std::string cpu;
  std::string gpu;
  std::string memory;
};

// The guide's traffic settings: defaults for --timeout and --max-concurrency.
struct Traffic {
  double timeout = 60;      // seconds; a slower answer is a 504
  int max_concurrency = 0;  // requests served at once; more get 429 (0: unlimited)
};

struct ServiceOptions {
  Resources resources;
  Traffic traffic;
};

// A value the service keeps itself, exported on /metrics next to the server's own metrics
// (see Service::Metric).
struct ServiceMetric {
  enum class Type { kCounter, kGauge };
  std::string name;  // a Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]*
  std::string help;
  Type type = Type::kGauge;
  std::function<double()> read;  // the current value, read at each scrape
};

class Service {
 public:
  explicit Service(std::string name, ServiceOptions options = {});
  virtual ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const std::string& name() const { return name_; }
  const ServiceOptions& options() const { return options_; }
  const std::vector<detail::ApiRegistration>& apis() const { return apis_; }
  const std::vector<ServiceMetric>& metrics() const { return metrics_; }

  // /readyz answers 200 only while ready (the default). A service whose model failed to load
  // sets it false and keeps running: its APIs can then answer 503 themselves.
  void SetReady(bool ready) { ready_ = ready; }
  bool ready() const { return ready_; }

 protected:
  // Registers `method` as POST /<name>. `params` names its parameters in order.
  template <typename S, typename R, typename... Args>
  void Api(std::string name, R (S::*method)(Args...),
           std::array<std::string_view, sizeof...(Args)> params, std::string doc = "") {
    Register<R, Args...>(std::move(name), params, std::move(doc),
                         [this, method](std::decay_t<Args>&... args) {
                           return (static_cast<S*>(this)->*method)(args...);
                         });
  }
  template <typename S, typename R, typename... Args>
  void Api(std::string name, R (S::*method)(Args...) const,
           std::array<std::string_view, sizeof...(Args)> params, std::string doc = "") {
    Register<R, Args...>(std::move(name), params, std::move(doc),
                         [this, method](std::decay_t<Args>&... args) {
                           return (static_cast<const S*>(this)->*method)(args...);
                         });
  }

  // Exports a value the service keeps (a request count, a mean latency) on GET /metrics as a
  // Prometheus counter or gauge named `name`, labelled with service_name. `read` is called at
  // every scrape, on a server thread and concurrently with API calls, so it must be
  // thread-safe. Register in the constructor, like APIs. REQUIRES: `name` is a valid
  // Prometheus name, not used by another metric.
  void Metric(std::string name, std::string help, ServiceMetric::Type type,
              std::function<double()> read) {
    metrics_.push_back({std::move(name), std::move(help), type, std::move(read)});
  }

  // Registers an API described at run time rather than by a member function's types (the
  // Python package's services): `api.params` say how each parameter is parsed and what the
  // schemas say, `api.invoke` runs it, and `api.batch` with `api.batch_call` make it batchable.
  void AddApi(detail::ApiRegistration api) { apis_.push_back(std::move(api)); }

  // Registers a batchable API: `method` takes a batch of inputs as one tensor and returns
  // the batch of outputs. Clients send one request's tensor (e.g. [1, 3, 224, 224]); the
  // adaptive batcher concatenates concurrent requests along batch_dim.first, calls `method`
  // once, and splits its result along batch_dim.second.
  template <typename S>
  void BatchApi(std::string name, StatusOr<Tensor> (S::*method)(const Tensor&),
                std::string_view param, detail::BatchOptions options = {}, std::string doc = "") {
    Api(name, method, {param}, doc);
    apis_.back().batch = options;
    apis_.back().batch_call = [this, method](const Tensor& t) {
      return (static_cast<S*>(this)->*method)(t);
    };
  }

 private:
  template <typename R, typename... Args, typename F>
  void Register(std::string name, std::array<std::string_view, sizeof...(Args)> params,
                std::string doc, F call) {
    detail::ApiRegistration api;
    api.name = std::move(name);
    api.doc = std::move(doc);
    api.params = {detail::ParamTraits<std::decay_t<Args>>::Info()...};
    for (size_t i = 0; i < api.params.size(); ++i) api.params[i].name = std::string(params[i]);
    api.result = detail::ResultTraits<R>::Info();
    api.invoke = [call, params](detail::Arguments& args) -> StatusOr<detail::Result> {
      return detail::Invoke<R, std::decay_t<Args>...>(call, params, args,
                                                      std::index_sequence_for<Args...>{});
    };
    apis_.push_back(std::move(api));
  }

  std::string name_;
  ServiceOptions options_;
  std::vector<detail::ApiRegistration> apis_;
  std::vector<ServiceMetric> metrics_;
  std::atomic<bool> ready_{true};
};

// Runs a service with the serve flags of `bento serve` (--host, --port, --timeout, ...).
// `factory` builds the service (loading its models) before the server answers /readyz.
// With --processes N, N worker processes each call `factory` and serve on the one port.
int ServeMain(std::function<std::unique_ptr<Service>()> factory, int argc, char** argv);

namespace detail {
// ServeMain for a binding from another language (bento's Python package): the default of
// --processes (a Python service's `workers`; 0 means one per core), and the fork that
// starts a worker process (Python's os.fork, which keeps the interpreter sound in it).
struct ServeProcesses {
  int processes = 1;
  std::function<int()> fork;  // returns 0 in the new process, its pid in the caller, or -1
};
int ServeMain(std::function<std::unique_ptr<Service>()> factory, int argc, char** argv,
              const ServeProcesses& processes);
}  // namespace detail

}  // namespace bento

// Defines main() for a service class with a default constructor.
#define BENTO_SERVICE_MAIN(ServiceClass)                                                    \
  int main(int argc, char** argv) {                                                         \
    return ::bento::ServeMain([] { return std::unique_ptr<::bento::Service>(new ServiceClass()); }, \
                              argc, argv);                                                  \
  }

#endif  // BENTO_SERVICE_H_
