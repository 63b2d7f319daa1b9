// bento._core: the C++ side of `import bento`, over bento's public C++ API (bento/onnx.h,
// bento/models.h). It converts, and nothing more: the Python modules (bento/onnx.py,
// bento/models.py) give it BentoML's shapes.
//
//   - A failed Status raises the class of bento.exceptions for its code.
//   - Session.run borrows each C-contiguous numpy input without a copy (others are made
//     contiguous by nanobind first), releases the GIL while ONNX Runtime runs, and hands each
//     output tensor to numpy without a copy (the array owns the tensor).
//   - String tensors travel as (shape, list of str): numpy has no fixed-size string type
//     ONNX Runtime shares.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "bento/detail/api_traits.h"
#include "bento/logging.h"
#include "bento/models.h"
#include "bento/onnx.h"

#include "core.h"

namespace bento::python {

using namespace nb::literals;  // NOLINT: "name"_a

// Raises the failed `status` as bento.exceptions' class for its code.
[[noreturn]] void Raise(const Status& status) {
  const char* name = "BentoException";
  switch (status.code()) {
    case StatusCode::kInvalidArgument: name = "InvalidArgument"; break;
    case StatusCode::kNotFound: name = "NotFound"; break;
    case StatusCode::kAlreadyExists: name = "AlreadyExists"; break;
    case StatusCode::kUnavailable: name = "ServiceUnavailable"; break;
    default: break;
  }
  nb::object cls = nb::module_::import_("bento.exceptions").attr(name);
  PyErr_SetString(cls.ptr(), std::string(status.message()).c_str());
  throw nb::python_error();
}

void Check(const Status& status) {
  if (!status.ok()) Raise(status);
}

namespace {

template <typename T>
T Value(StatusOr<T> result) {
  if (!result.ok()) Raise(result.status());
  return *std::move(result);
}

// ---- dtypes ------------------------------------------------------------------------------

DType FromDlpack(nb::dlpack::dtype dtype) {
  using Code = nb::dlpack::dtype_code;
  const auto code = static_cast<Code>(dtype.code);
  if (dtype.lanes != 1) return DType::kUndefined;
  switch (code) {
    case Code::Bool: return dtype.bits == 8 ? DType::kBool : DType::kUndefined;
    case Code::Float:
      return dtype.bits == 16 ? DType::kFloat16
             : dtype.bits == 32 ? DType::kFloat32
             : dtype.bits == 64 ? DType::kFloat64
                                : DType::kUndefined;
    case Code::Bfloat: return dtype.bits == 16 ? DType::kBFloat16 : DType::kUndefined;
    case Code::Complex:
      return dtype.bits == 64 ? DType::kComplex64
             : dtype.bits == 128 ? DType::kComplex128
                                 : DType::kUndefined;
    case Code::Int:
    case Code::UInt: {
      const bool is_signed = code == Code::Int;
      switch (dtype.bits) {
        case 8: return is_signed ? DType::kInt8 : DType::kUInt8;
        case 16: return is_signed ? DType::kInt16 : DType::kUInt16;
        case 32: return is_signed ? DType::kInt32 : DType::kUInt32;
        case 64: return is_signed ? DType::kInt64 : DType::kUInt64;
        default: return DType::kUndefined;
      }
    }
    default: return DType::kUndefined;
  }
}

nb::dlpack::dtype ToDlpack(DType dtype) {
  using Code = nb::dlpack::dtype_code;
  auto make = [](Code code, int bits) {
    return nb::dlpack::dtype{static_cast<uint8_t>(code), static_cast<uint8_t>(bits), 1};
  };
  switch (dtype) {
    case DType::kBool: return make(Code::Bool, 8);
    case DType::kFloat16: return make(Code::Float, 16);
    case DType::kFloat32: return make(Code::Float, 32);
    case DType::kFloat64: return make(Code::Float, 64);
    case DType::kBFloat16: return make(Code::Bfloat, 16);
    case DType::kComplex64: return make(Code::Complex, 64);
    case DType::kComplex128: return make(Code::Complex, 128);
    case DType::kInt8: return make(Code::Int, 8);
    case DType::kInt16: return make(Code::Int, 16);
    case DType::kInt32: return make(Code::Int, 32);
    case DType::kInt64: return make(Code::Int, 64);
    case DType::kUInt8: return make(Code::UInt, 8);
    case DType::kUInt16: return make(Code::UInt, 16);
    case DType::kUInt32: return make(Code::UInt, 32);
    case DType::kUInt64: return make(Code::UInt, 64);
    default: return make(Code::UInt, 8);
  }
}

}  // namespace

// A numpy array that owns the tensor (no copy), or a StringTensor for a string tensor.
nb::object TensorToPython(Tensor tensor) {
  if (tensor.dtype() == DType::kString) {
    return nb::cast(StringTensor{tensor.shape(), tensor.strings()});
  }
  auto* owned = new Tensor(std::move(tensor));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  std::vector<size_t> shape(owned->shape().begin(), owned->shape().end());
  nb::ndarray<nb::numpy> array(const_cast<void*>(owned->data()), shape.size(), shape.data(),
                               owner, nullptr, ToDlpack(owned->dtype()));
  return nb::cast(array);
}

// A borrowed view of a numpy array, valid while the array lives.
StatusOr<Tensor> ArrayToTensor(const std::string& name, const Array& array) {
  const DType dtype = FromDlpack(array.dtype());
  if (dtype == DType::kUndefined) {
    return InvalidArgumentError("'" + name + "' has a dtype ONNX has no type for");
  }
  std::vector<int64_t> shape(array.shape_ptr(), array.shape_ptr() + array.ndim());
  return Tensor::Borrow(dtype, std::move(shape), array.data(), nullptr);
}

namespace {

// ---- models --------------------------------------------------------------------------------

using Dims = std::vector<nb::object>;  // int, str (a symbolic dim) or None
using Spec = std::tuple<std::string, std::string, std::optional<Dims>>;  // name, dtype, dims

Spec SpecTuple(const bento::TensorSpec& spec) {
  std::optional<Dims> dims;
  if (spec.has_shape) {
    dims.emplace();
    for (const auto& d : spec.dims) {
      if (d.fixed()) dims->push_back(nb::int_(d.value));
      else if (!d.param.empty()) dims->push_back(nb::str(d.param.c_str()));
      else dims->push_back(nb::none());
    }
  }
  return {spec.name, std::string(bento::DTypeName(spec.dtype)), dims};
}

// A stored model as a dict of plain values; bento/onnx.py makes its Model of it. JSON values
// travel as text, which Python's json module reads.
nb::dict ModelDict(const bento::onnx::Model& model) {
  nb::dict d;
  d["name"] = model.tag.name;
  d["version"] = model.tag.version;
  d["path"] = model.path.string();
  d["module"] = model.info.module;
  d["labels"] = model.info.labels;
  d["metadata"] = model.info.metadata.dump();
  d["custom_objects"] = model.custom_objects.dump();
  nb::dict signatures;
  for (const auto& [name, s] : model.info.signatures) {
    signatures[name.c_str()] = std::make_tuple(s.batchable, s.batch_dim.first, s.batch_dim.second);
  }
  d["signatures"] = signatures;
  d["creation_time"] = std::chrono::duration<double>(
                           model.info.creation_time.time_since_epoch()).count();
  std::vector<Spec> inputs, outputs;
  if (model.info.input_specs.count("run")) {
    for (const auto& s : model.info.inputs("run")) inputs.push_back(SpecTuple(s));
  }
  if (model.info.output_specs.count("run")) {
    for (const auto& s : model.info.outputs("run")) outputs.push_back(SpecTuple(s));
  }
  d["inputs"] = inputs;
  d["outputs"] = outputs;
  return d;
}

std::string SaveModel(const std::string& name, std::optional<std::string> path,
                      std::optional<nb::bytes> data,
                      const std::map<std::string, std::tuple<bool, int, int>>& signatures,
                      const std::map<std::string, std::string>& labels,
                      const std::string& metadata, std::optional<std::string> custom_objects,
                      std::optional<nb::bytes> custom_objects_pickle) {
  bento::onnx::SaveOptions options;
  options.signatures.clear();
  for (const auto& [method, s] : signatures) {
    options.signatures[method] = {std::get<0>(s), {std::get<1>(s), std::get<2>(s)}};
  }
  if (options.signatures.empty()) options.signatures["run"] = {};
  options.labels = labels;
  options.metadata = bento::Json::parse(metadata);
  if (custom_objects) options.custom_objects = bento::Json::parse(*custom_objects);
  if (custom_objects_pickle) {
    options.custom_objects_pickle.assign(custom_objects_pickle->c_str(),
                                         custom_objects_pickle->size());
  }
  StatusOr<bento::Tag> tag = bento::InvalidArgumentError("give a model path or its bytes");
  if (path) {
    nb::gil_scoped_release release;
    tag = bento::onnx::save_model(name, std::filesystem::path(*path), options);
  } else if (data) {
    bento::onnx::ModelBytes bytes{std::string(data->c_str(), data->size())};
    nb::gil_scoped_release release;
    tag = bento::onnx::save_model(name, bytes, options);
  }
  return Value(std::move(tag)).ToString();
}

// ---- sessions ------------------------------------------------------------------------------


class PySession {
 public:
  explicit PySession(bento::onnx::Session session) : session_(std::move(session)) {}

  std::string tag() const { return session_.tag().ToString(); }
  std::vector<Spec> inputs() const { return Specs(session_.inputs()); }
  std::vector<Spec> outputs() const { return Specs(session_.outputs()); }
  std::vector<std::string> providers() const { return session_.providers(); }

  // Each output is a numpy array, or a StringTensor for a string output.
  std::vector<nb::object> Run(const std::vector<std::string>& output_names,
                              const std::map<std::string, Array>& arrays,
                              const std::map<std::string, StringTensor>& strings) const {
    std::map<std::string, Tensor> feed;
    for (const auto& [name, array] : arrays) {
      // Borrowed: the caller's dict holds the array for the whole call.
      feed.emplace(name, Value(ArrayToTensor("input '" + name + "'", array)));
    }
    for (const auto& [name, value] : strings) {
      if (bento::NumElements(value.first) != static_cast<int64_t>(value.second.size())) {
        Raise(bento::InvalidArgumentError("input '" + name + "': shape and strings disagree"));
      }
      feed.emplace(name, Tensor::Strings(value.first, value.second));
    }
    StatusOr<std::vector<Tensor>> result = bento::InvalidArgumentError("not run");
    {
      nb::gil_scoped_release release;
      result = session_.Run(feed, output_names);
    }
    std::vector<Tensor> tensors = Value(std::move(result));
    std::vector<nb::object> out;
    for (auto& tensor : tensors) out.push_back(TensorToPython(std::move(tensor)));
    return out;
  }

 private:
  static std::vector<Spec> Specs(const std::vector<bento::TensorSpec>& specs) {
    std::vector<Spec> out;
    for (const auto& s : specs) out.push_back(SpecTuple(s));
    return out;
  }

  bento::onnx::Session session_;
};

bento::onnx::GraphOptimizationLevel OptimizationLevel(int level) {
  using L = bento::onnx::GraphOptimizationLevel;
  // onnxruntime.GraphOptimizationLevel's values: 0, 1, 2, 99.
  switch (level) {
    case 0: return L::kDisableAll;
    case 1: return L::kBasic;
    case 2: return L::kExtended;
    default: return L::kAll;
  }
}

PySession LoadModel(const std::string& tag,
                    const std::vector<std::pair<std::string, std::string>>& providers,
                    const std::map<std::string, nb::object>& session_options) {
  std::vector<bento::onnx::Provider> chosen;
  for (const auto& [name, options] : providers) {
    chosen.emplace_back(name, bento::Json::parse(options));
  }
  bento::onnx::SessionOptions options;
  for (const auto& [key, value] : session_options) {
    if (key == "graph_optimization_level") {
      options.graph_optimization_level = OptimizationLevel(nb::cast<int>(value));
    } else if (key == "intra_op_num_threads") {
      options.intra_op_num_threads = nb::cast<int>(value);
    } else if (key == "inter_op_num_threads") {
      options.inter_op_num_threads = nb::cast<int>(value);
    } else if (key == "execution_mode") {
      options.execution_mode = nb::cast<int>(value) == 1 ? bento::onnx::ExecutionMode::kParallel
                                                         : bento::onnx::ExecutionMode::kSequential;
    } else if (key == "optimized_model_filepath") {
      options.optimized_model_filepath = nb::cast<std::string>(value);
    } else if (key == "allow_spinning") {
      options.allow_spinning = nb::cast<bool>(value);
    } else {
      Raise(bento::InvalidArgumentError("unknown session option '" + key + "'"));
    }
  }
  StatusOr<bento::onnx::Session> session = bento::InvalidArgumentError("not loaded");
  {
    nb::gil_scoped_release release;
    session = bento::onnx::load_model(tag, chosen, options);
  }
  return PySession(Value(std::move(session)));
}

}  // namespace
}  // namespace bento::python

NB_MODULE(_core, m) {
  using namespace bento::python;  // NOLINT: the module's own functions
  using namespace nanobind::literals;  // NOLINT
  m.doc() = "bento's C++ engine: the store, ONNX Runtime sessions";
  // bento's log on stderr, never on the program's stdout; BENTO_LOG_LEVEL sets the level.
  bento::InitLogging("info");
  m.def("save_model", &SaveModel, "name"_a, "path"_a.none(), "data"_a.none(), "signatures"_a,
        "labels"_a, "metadata"_a, "custom_objects"_a.none(), "custom_objects_pickle"_a.none());
  m.def("get", [](const std::string& tag, bool onnx_only) {
    return ModelDict(Value(onnx_only ? bento::onnx::get(tag) : bento::models::get(tag)));
  });
  m.def("list", [](const std::string& name) {
    std::vector<nb::dict> out;
    for (const auto& model : Value(bento::models::list(name))) out.push_back(ModelDict(model));
    return out;
  });
  m.def("delete", [](const std::string& tag) { Check(bento::models::delete_model(tag)); });
  m.def("export_model", [](const std::string& tag, const std::string& path) {
    return Value(bento::models::export_model(tag, path)).string();
  });
  m.def("import_model", [](const std::string& path) {
    return Value(bento::models::import_model(path)).ToString();
  });
  m.def("load_model", &LoadModel, "tag"_a, "providers"_a, "session_options"_a);
  m.def("available_providers", &bento::onnx::available_providers);
  // The OpenAPI schema (with its x-bentoml mark) of a tensor of any shape, for bento/_serve.py.
  m.def("tensor_schema", [] { return bento::detail::AnyTensorSchema().dump(); });
  nb::class_<PySession>(m, "Session")
      .def_prop_ro("tag", &PySession::tag)
      .def("inputs", &PySession::inputs)
      .def("outputs", &PySession::outputs)
      .def("providers", &PySession::providers)
      .def("run", &PySession::Run, "output_names"_a, "arrays"_a, "strings"_a);
  BindServe(m);
}
