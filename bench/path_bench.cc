// The limit of each serving path: what bento's own decoders, ONNX Runtime (through a
// bento::onnx::Session loaded from a store, as the server loads it) and bento's own encoders
// reach in one process, with no HTTP and no load generator on the cores. N threads each loop
// over the path, closed loop; a server point divided by its path's limit says how much the
// server adds on top.
//
//   bento_bench_path json   MODEL.onnx REQUEST.json   [--concurrency N] [--seconds S] [--batch B]
//   bento_bench_path kserve MODEL.onnx REQUEST.json   ...
//   bento_bench_path image  MODEL.onnx IMAGE CUSTOM_OBJECTS.json ...
//
//   json    decode POST /run's JSON body, Run, encode the outputs as JSON (POST /run);
//   kserve  parse a KServe v2 binary request (JSON header + raw bytes, built here from
//           REQUEST.json), Run, encode a binary response (POST /v2/models/<m>/infer);
//   image   decode the image, convert to RGB, resize (Pillow's bicubic) and normalise with
//           custom_objects' preprocessing_params, Run, encode the outputs as JSON (the guide's
//           classify_image, without its top-5 formatting).
// With --batch B each iteration decodes B requests, concatenates them along dim 0, runs one
// batch and splits and encodes B answers, as the batched server does.
//
// Prints one JSON line: {"path", "concurrency", "batch", "rps" (requests/s), "items_per_s",
// "p50_ms", "p99_ms" (per iteration), "decode_ms", "run_ms", "encode_ms" (mean per
// iteration)}.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "base/fs.h"
#include "batching/concat.h"
#include "bento/image.h"
#include "bento/json.h"
#include "bento/onnx.h"
#include "kserve/codec.h"
#include "tensor/json_codec.h"

namespace {

using Clock = std::chrono::steady_clock;
using bento::Status;
using bento::StatusOr;
using bento::Tensor;
using bento::batching::TensorMap;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bento_bench_path: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Check(StatusOr<T> v, const char* what) {
  if (!v.ok()) Die(std::string(what) + ": " + v.status().ToString());
  return *std::move(v);
}

// One path: decode one request into the model's inputs, and encode one request's outputs.
struct Path {
  std::function<StatusOr<TensorMap>()> decode;
  std::function<std::string(const TensorMap& outputs)> encode;
};

std::string EncodeJson(const TensorMap& outputs) {
  std::string out = "{";
  for (const auto& [name, t] : outputs) {
    if (out.size() > 1) out += ',';
    out += '"' + name + "\":";
    Status s = bento::EncodeJsonTensor(t, &out);
    if (!s.ok()) Die("encode: " + s.ToString());
  }
  return out + "}";
}

// A KServe v2 binary request carrying `inputs`, asking for binary outputs.
std::string KServeBinaryRequest(const TensorMap& inputs, size_t* header_length) {
  bento::Json header = {{"inputs", bento::Json::array()},
                        {"parameters", {{"binary_data_output", true}}}};
  std::string data;
  for (const auto& [name, t] : inputs) {
    const size_t before = data.size();
    bento::kserve::AppendRawTensor(t, &data);
    header["inputs"].push_back(
        {{"name", name}, {"shape", t.shape()},
         {"datatype", std::string(bento::kserve::KServeName(t.dtype()))},
         {"parameters", {{"binary_data_size", data.size() - before}}}});
  }
  std::string body = header.dump();
  *header_length = body.size();
  return body + data;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s json|kserve MODEL.onnx REQUEST.json [options]\n"
                 "       %s image MODEL.onnx IMAGE CUSTOM_OBJECTS.json [options]\n"
                 "options: --concurrency N --seconds S --batch B\n",
                 argv[0], argv[0]);
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);  // stdout carries the result line alone
  const std::string kind = argv[1];
  const int first_option = kind == "image" ? 5 : 4;
  if (argc < first_option) Die("image needs IMAGE and CUSTOM_OBJECTS.json");
  int concurrency = 1, batch = 1;
  double seconds = 5;
  for (int i = first_option; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--concurrency")) concurrency = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch")) batch = std::max(1, std::atoi(argv[i + 1]));
    else Die(std::string("unknown option ") + argv[i]);
  }

  // The model goes through a store of its own, saved and loaded with bento's public API, as
  // a server loads it.
  std::string home = (std::filesystem::temp_directory_path() / "bento-bench-path-XXXXXX");
  if (!mkdtemp(home.data())) Die("cannot make a temporary store");
  setenv("BENTOML_HOME", home.c_str(), 1);
  struct RemoveStore {
    std::string path;
    ~RemoveStore() { std::filesystem::remove_all(path); }
  } remove_store{home};
  const bento::Tag tag = Check(bento::onnx::save_model("bench", argv[2]), "save the model");
  bento::onnx::Session session = Check(bento::onnx::load_model(tag.ToString()),
                                       "load the model");
  const std::vector<bento::TensorSpec>& model_inputs = session.inputs();
  auto dtype_for = [&](std::string_view name) -> StatusOr<bento::DType> {
    for (const auto& s : model_inputs) {
      if (s.name == name) return s.dtype;
    }
    return bento::InvalidArgumentError("unknown input " + std::string(name));
  };

  Path path;
  std::string body, image_bytes;
  size_t header_length = 0;
  std::vector<float> mean, stddev;
  if (kind == "json" || kind == "kserve") {
    body = Check(bento::fs::ReadFile(argv[3]), "read the request");
    if (kind == "json") {
      path.decode = [&] { return bento::DecodeJsonTensors(body, dtype_for); };
      path.encode = EncodeJson;
    } else {
      body = KServeBinaryRequest(Check(bento::DecodeJsonTensors(body, dtype_for), "decode"),
                                 &header_length);
      path.decode = [&]() -> StatusOr<TensorMap> {
        ASSIGN_OR_RETURN(auto request, bento::kserve::ParseInferRequest(body, header_length));
        TensorMap inputs;
        for (auto& input : request.inputs) inputs.emplace(input.name, std::move(input.tensor));
        return inputs;
      };
      path.encode = [](const TensorMap& outputs) {
        std::vector<bento::kserve::InferOutput> out;
        for (const auto& [name, t] : outputs) out.push_back({name, t, /*binary=*/true, {}});
        size_t length = 0;
        return bento::kserve::EncodeInferResponse("m", "1", "", nullptr, out, &length);
      };
    }
  } else if (kind == "image") {
    image_bytes = Check(bento::fs::ReadFile(argv[3]), "read the image");
    auto custom = bento::Json::parse(Check(bento::fs::ReadFile(argv[4]), "read custom objects"));
    auto params = custom.value("preprocessing_params", bento::Json::object());
    mean = params.value("mean", std::vector<float>{0, 0, 0});
    stddev = params.value("std", std::vector<float>{1, 1, 1});
    const auto& spec = model_inputs.at(0);
    if (spec.dims.size() != 4) Die("image: the model's input is not NCHW");
    const int height = static_cast<int>(spec.dims[2].value);
    const int width = static_cast<int>(spec.dims[3].value);
    if (height <= 0 || width <= 0) Die("image: the model's input needs a fixed height and width");
    path.decode = [&, height, width, name = spec.name]() -> StatusOr<TensorMap> {
      ASSIGN_OR_RETURN(bento::Image image, bento::Image::Decode(image_bytes));
      return TensorMap{{name, image.ConvertRGB().Resize(width, height).ToTensor(
                                  bento::Image::Layout::kNCHW, mean, stddev)}};
    };
    path.encode = EncodeJson;
  } else {
    Die("unknown path '" + kind + "' (json, kserve or image)");
  }

  // One iteration, timed by phase: B decodes (concatenated when B > 1), one Run, B encodes.
  struct Totals {
    std::vector<double> latencies;
    double decode = 0, run = 0, encode = 0;
  };
  auto iterate = [&](Totals& totals) {
    const auto t0 = Clock::now();
    std::vector<TensorMap> requests;
    for (int b = 0; b < batch; ++b) requests.push_back(Check(path.decode(), "decode"));
    TensorMap inputs = batch == 1 ? requests[0]
                                  : Check(bento::batching::ConcatMaps(requests, 0), "concat");
    const auto t1 = Clock::now();
    auto outputs = Check(session.Run(inputs), "run");
    TensorMap named;
    for (size_t i = 0; i < outputs.size(); ++i) {
      named.emplace(session.outputs()[i].name, std::move(outputs[i]));
    }
    const auto t2 = Clock::now();
    size_t bytes = 0;
    for (int b = 0; b < batch; ++b) {
      TensorMap mine = batch == 1 ? named
                                  : Check(bento::batching::SliceMap(named, 0, b, b + 1), "split");
      bytes += path.encode(mine).size();
    }
    const auto t3 = Clock::now();
    if (bytes == 0) Die("empty answer");
    totals.latencies.push_back(Ms(t3 - t0));
    totals.decode += Ms(t1 - t0);
    totals.run += Ms(t2 - t1);
    totals.encode += Ms(t3 - t2);
  };
  {
    Totals warm;
    iterate(warm);  // the arena and the first Run's allocations, outside the measurement
  }

  std::atomic<bool> stop{false};
  std::vector<Totals> totals(static_cast<size_t>(concurrency));
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([&, w] {
      while (!stop.load(std::memory_order_relaxed)) iterate(totals[static_cast<size_t>(w)]);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : workers) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  double decode = 0, run = 0, encode = 0;
  for (const Totals& t : totals) {
    all.insert(all.end(), t.latencies.begin(), t.latencies.end());
    decode += t.decode;
    run += t.run;
    encode += t.encode;
  }
  const double n = std::max<double>(1, static_cast<double>(all.size()));
  const double iterations_per_s = static_cast<double>(all.size()) / elapsed;
  std::printf("{\"path\": \"%s\", \"concurrency\": %d, \"batch\": %d, \"rps\": %.1f, "
              "\"items_per_s\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"decode_ms\": %.3f, "
              "\"run_ms\": %.3f, \"encode_ms\": %.3f}\n",
              kind.c_str(), concurrency, batch, iterations_per_s * batch,
              iterations_per_s * batch, Percentile(all, 0.5), Percentile(all, 0.99), decode / n,
              run / n, encode / n);
  return 0;
}
