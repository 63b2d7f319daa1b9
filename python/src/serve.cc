// bento._core.serve: a Python service (@bento.service, @bento.api) served by bento's C++
// server, in this process, through bento::ServeMain, so that it gets every serve flag and
// policy of a C++ service: OpenAPI and /schema.json, metrics, health, API key, TLS, limits,
// KServe v2 over the models its __init__ loaded, and adaptive batching.
//
// The handoff to Python: each API is a detail::ApiRegistration whose parameters are parsed
// (JSON, multipart, images decoded) on a worker thread without the GIL; the GIL is taken
// only to build the Python arguments, call the method and encode its result. A batchable
// API's batches go to the C++ batcher, and Python is called once per batch.
//
// Python objects held here are borrowed from the caller of serve(), whose frame keeps them
// alive until serve() returns; the service instance is owned, and released with the GIL.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "bento/detail/api_traits.h"
#include "bento/service.h"
#include "core.h"

namespace bento::python {
namespace {

// How a parameter is parsed, from its Python type hint (bento/_serve.py).
enum class Kind { kImage, kImages, kText, kTensor, kJson };

struct Param {
  std::string name;
  Kind kind;
  std::string schema;  // the OpenAPI schema of a kJson parameter, as JSON text
  std::optional<std::string> default_json;  // the Python default, when it has a JSON one
  bool required;
};

// One API as bento/_serve.py describes it.
struct ApiSpec {
  std::string name;    // the API's name (@bento.api(name=...), else the method's)
  std::string method;  // the method's name on the instance
  std::string route;   // "/path"; empty: "/" + name
  std::string doc;
  std::vector<Param> params;
  std::string result_schema;  // JSON text
  std::string result_content_type;
  // (max_batch_size, max_latency_ms, input batch dim, output batch dim) when batchable.
  std::optional<std::tuple<int, double, int, int>> batch;
};

Kind KindOf(const std::string& name) {
  if (name == "image") return Kind::kImage;
  if (name == "images") return Kind::kImages;
  if (name == "text") return Kind::kText;
  if (name == "tensor") return Kind::kTensor;
  return Kind::kJson;
}

detail::ParamInfo InfoOf(const Param& p) {
  detail::ParamInfo info;
  switch (p.kind) {
    case Kind::kImage: info = detail::ParamTraits<Image>::Info(); break;
    case Kind::kImages: info = detail::ParamTraits<std::vector<Image>>::Info(); break;
    case Kind::kText: info = detail::ParamTraits<std::string>::Info(); break;
    case Kind::kTensor: info = detail::ParamTraits<Tensor>::Info(); break;
    case Kind::kJson: info = {"", detail::ParamSource::kJson, Json::parse(p.schema),
                              "application/json"};
  }
  info.name = p.name;
  info.required = p.required;
  if (p.default_json) info.schema["default"] = Json::parse(*p.default_json);
  return info;
}

// A parameter's value as parsed without the GIL.
using Parsed = std::variant<std::monostate, Image, std::vector<Image>, std::string, Tensor, Json>;

StatusOr<Parsed> ParseOne(const Param& p, detail::Arguments& args) {
  detail::Argument& arg = args[p.name];
  if (!arg.present() && !p.required) return Parsed{};  // Python's default applies
  switch (p.kind) {
    case Kind::kImage: {
      ASSIGN_OR_RETURN(Image image, detail::ParseImage(p.name, arg));
      return Parsed{std::move(image)};
    }
    case Kind::kImages: {
      ASSIGN_OR_RETURN(auto images, detail::ParamTraits<std::vector<Image>>::Parse(p.name, arg));
      return Parsed{std::move(images)};
    }
    case Kind::kText: {
      ASSIGN_OR_RETURN(std::string text, detail::ParseText(p.name, arg));
      return Parsed{std::move(text)};
    }
    case Kind::kTensor: {
      ASSIGN_OR_RETURN(Tensor tensor, detail::ParseTensor(p.name, arg));
      return Parsed{std::move(tensor)};
    }
    case Kind::kJson: {
      ASSIGN_OR_RETURN(Json json, detail::ParseJson(p.name, arg));
      return Parsed{std::move(json)};
    }
  }
  return Parsed{};
}

// The GIL, taken on one of the server's C++ threads (an API worker, a batcher's). The
// thread's Python thread state is made on its first call and kept for the thread's life, by
// a first PyGILState_Ensure that is never released: with nanobind's gil_scoped_acquire
// alone, each call made a thread state and freed it, and with it the frame stack CPython
// maps for it, which added about 80 us to every request.
class ServerThreadGil {
 public:
  ServerThreadGil() = default;
  ServerThreadGil(const ServerThreadGil&) = delete;
  ServerThreadGil& operator=(const ServerThreadGil&) = delete;

 private:
  struct KeptThreadState {
    KeptThreadState() {
      thread_local bool kept = false;
      if (kept) return;
      PyGILState_Ensure();
      PyEval_SaveThread();
      kept = true;
    }
  };
  KeptThreadState kept_;  // first: the state must exist before the GIL is taken with it
  nb::gil_scoped_acquire gil_;
};

// The Python objects serve() was given, borrowed for its duration.
struct Runtime {
  nb::handle codec;  // bento._serve: make_image, loads, encode, error_status
  nb::handle encode;  // codec.encode, looked up once
};

nb::object ImageToPython(const Runtime& rt, const Image& image) {
  auto pixels = image.pixels();
  return rt.codec.attr("make_image")(image.width(), image.height(), image.channels(),
                                     nb::bytes(pixels.data(), pixels.size()));
}

nb::object ToPython(const Runtime& rt, Parsed& value) {
  if (auto* image = std::get_if<Image>(&value)) return ImageToPython(rt, *image);
  if (auto* images = std::get_if<std::vector<Image>>(&value)) {
    nb::list list;
    for (const auto& image : *images) list.append(ImageToPython(rt, image));
    return list;
  }
  if (auto* text = std::get_if<std::string>(&value)) return nb::str(text->c_str(), text->size());
  if (auto* tensor = std::get_if<Tensor>(&value)) {
    return rt.codec.attr("from_tensor")(TensorToPython(std::move(*tensor)));
  }
  if (auto* json = std::get_if<Json>(&value)) return rt.codec.attr("loads")(json->dump());
  return nb::none();
}

// A Python exception as the Status the server answers with: bento.exceptions' classes by
// their error_code; anything else is a 500 with its traceback logged (bento/_serve.py).
Status FromPython(const Runtime& rt, nb::python_error& error) {
  auto status =
      nb::cast<nb::tuple>(rt.codec.attr("error_status")(error.value(), error.traceback()));
  const int code = nb::cast<int>(status[0]);
  std::string message = nb::cast<std::string>(status[1]);
  switch (code) {
    case 400: return InvalidArgumentError(message);
    case 404: return NotFoundError(message);
    case 503: return UnavailableError(message);
    default: return InternalError(message);
  }
}

class PythonService : public Service {
 public:
  PythonService(std::string name, ServiceOptions options, nb::object instance)
      : Service(std::move(name), std::move(options)), instance_(std::move(instance)) {}
  ~PythonService() override {
    nb::gil_scoped_acquire gil;
    methods_.clear();
    instance_.reset();
  }

  void Add(const Runtime& rt, const ApiSpec& spec) {
    detail::ApiRegistration api;
    api.name = spec.name;
    api.route = spec.route;
    api.doc = spec.doc;
    for (const auto& p : spec.params) api.params.push_back(InfoOf(p));
    api.result = {spec.result_content_type, Json::parse(spec.result_schema)};
    // A bound method is made afresh at each attribute access: keep this one alive.
    methods_.push_back(instance_.attr(spec.method.c_str()));
    nb::handle method = methods_.back();
    api.invoke = [rt, spec, method](detail::Arguments& args) -> StatusOr<detail::Result> {
      std::vector<Parsed> parsed;
      for (const auto& p : spec.params) {
        ASSIGN_OR_RETURN(Parsed value, ParseOne(p, args));
        parsed.push_back(std::move(value));
      }
      ServerThreadGil gil;
      try {
        nb::object result;
        const bool all_given = std::none_of(parsed.begin(), parsed.end(), [](const Parsed& v) {
          return std::holds_alternative<std::monostate>(v);
        });
        if (all_given) {  // positionally, the cheaper call
          std::vector<nb::object> values;
          for (Parsed& value : parsed) values.push_back(ToPython(rt, value));
          std::vector<PyObject*> argv;
          for (const nb::object& value : values) argv.push_back(value.ptr());
          result = nb::steal(PyObject_Vectorcall(method.ptr(), argv.data(), argv.size(), nullptr));
          if (!result.is_valid()) throw nb::python_error();
        } else {  // by name, leaving out those whose Python default applies
          nb::dict kwargs;
          for (size_t i = 0; i < parsed.size(); ++i) {
            if (std::holds_alternative<std::monostate>(parsed[i])) continue;
            kwargs[spec.params[i].name.c_str()] = ToPython(rt, parsed[i]);
          }
          result = method(**kwargs);
        }
        auto encoded = nb::cast<nb::tuple>(rt.encode(result));
        auto body = nb::cast<nb::bytes>(encoded[1]);
        return detail::Result{nb::cast<std::string>(encoded[0]),
                              std::string(body.c_str(), body.size())};
      } catch (nb::python_error& e) {
        return FromPython(rt, e);
      }
    };
    if (spec.batch) {
      const auto& [max_batch_size, max_latency_ms, in_dim, out_dim] = *spec.batch;
      api.batch = detail::BatchOptions{max_batch_size, max_latency_ms, {in_dim, out_dim}};
      api.batch_call = [rt, method](const Tensor& batch) -> StatusOr<Tensor> {
        ServerThreadGil gil;
        try {
          nb::object result =
              rt.codec.attr("batch_result")(method(rt.codec.attr("from_tensor")(
                  TensorToPython(batch))));
          ASSIGN_OR_RETURN(Tensor view, ArrayToTensor("the batch's result",
                                                      nb::cast<Array>(result)));
          // A copy: the numpy array is Python's, and the batcher splits this later.
          return Tensor::FromBytes(view.dtype(), view.shape(), view.bytes());
        } catch (nb::python_error& e) {
          return FromPython(rt, e);
        }
      };
    }
    AddApi(std::move(api));
  }

 private:
  nb::object instance_;
  std::vector<nb::object> methods_;  // keeps the bound methods alive; released with the GIL
};

using ParamTuple =
    std::tuple<std::string, std::string, std::string, std::optional<std::string>, bool>;
using BatchTuple = std::tuple<int, double, int, int>;
using ApiTuple = std::tuple<std::string, std::string, std::string, std::string,
                            std::vector<ParamTuple>, std::string, std::string,
                            std::optional<BatchTuple>>;

// resources: (cpu, gpu, memory); traffic: (timeout seconds, max_concurrency); workers: the
// default of --processes.
int Serve(const std::string& name,
          const std::tuple<std::string, std::string, std::string>& resources,
          const std::tuple<double, int>& traffic, int workers, nb::handle factory,
          const std::vector<ApiTuple>& api_tuples, nb::handle codec,
          std::vector<std::string> argv) {
  nb::object encode = codec.attr("encode");
  Runtime rt{codec, encode};
  std::vector<ApiSpec> specs;
  for (const auto& [api_name, method, route, doc, params, schema, content_type, batch] :
       api_tuples) {
    ApiSpec spec{api_name, method, route, doc, {}, schema, content_type, batch};
    for (const auto& [pname, kind, pschema, default_json, required] : params) {
      spec.params.push_back({pname, KindOf(kind), pschema, default_json, required});
    }
    specs.push_back(std::move(spec));
  }
  ServiceOptions options;
  options.resources = {std::get<0>(resources), std::get<1>(resources), std::get<2>(resources)};
  options.traffic = {std::get<0>(traffic), std::get<1>(traffic)};
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  detail::ServeProcesses processes;
  processes.processes = workers;
  // os.fork runs the interpreter's fork handlers (os.register_at_fork) and makes the child's
  // interpreter sound again. ServeMain forks before bento starts any thread of its own.
  processes.fork = [] {
    nb::gil_scoped_acquire gil;
    try {
      return nb::cast<int>(nb::module_::import_("os").attr("fork")());
    } catch (const nb::python_error&) {
      return -1;  // fork's errno stays, and ForkServers reports it
    }
  };
  nb::gil_scoped_release release;
  return detail::ServeMain(
      [&]() -> std::unique_ptr<Service> {
        nb::gil_scoped_acquire gil;
        try {
          auto service = std::make_unique<PythonService>(name, options, factory());
          for (const auto& spec : specs) service->Add(rt, spec);
          return service;
        } catch (nb::python_error& e) {
          // ServeMain logs it and exits 1; the traceback says where.
          throw std::runtime_error(e.what());
        }
      },
      static_cast<int>(argv.size()), args.data(), processes);
}

}  // namespace

void BindServe(nb::module_& m) {
  m.def("serve", &Serve, nb::arg("name"), nb::arg("resources"), nb::arg("traffic"),
        nb::arg("workers"), nb::arg("factory"), nb::arg("apis"), nb::arg("codec"),
        nb::arg("argv"));
}

}  // namespace bento::python
