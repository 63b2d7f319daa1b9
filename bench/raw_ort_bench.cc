// The limit: raw in-process ONNX Runtime, closed loop. N threads each call Ort::Session::Run
// back to back on the same inputs for a fixed time, sharing one session, as a server's
// workers would. Prints one JSON line: {"concurrency", "batch", "rps", "items_per_s",
// "p50_ms", "p99_ms"}.
//
//   bento_bench_raw MODEL.onnx REQUEST.json --concurrency 8 --seconds 5 [--batch 4]
//
// REQUEST.json is the same body POST /run takes; --batch repeats it along dim 0.
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/fs.h"
#include "runtime/onnx_model.h"
#include "tensor/json_codec.h"

namespace {

using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL.onnx REQUEST.json [--concurrency N] [--seconds S] "
                 "[--batch B] [--threads T]\n", argv[0]);
    return 2;
  }
  int concurrency = 1, batch = 1, threads = 0;
  double seconds = 5;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--concurrency")) concurrency = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
  }
  auto model_bytes = bento::fs::ReadFile(argv[1]);
  auto body = bento::fs::ReadFile(argv[2]);
  if (!model_bytes.ok() || !body.ok()) {
    std::fprintf(stderr, "cannot read the model or the request\n");
    return 1;
  }
  auto info = bento::runtime::InspectOnnxModel(*model_bytes);
  if (!info.ok()) {
    std::fprintf(stderr, "%s\n", info.status().ToString().c_str());
    return 1;
  }
  auto tensors = bento::DecodeJsonTensors(*body, [&](std::string_view name)
                                                     -> bento::StatusOr<bento::DType> {
    for (const auto& s : info->inputs) {
      if (s.name == name) return s.dtype;
    }
    return bento::InvalidArgumentError("unknown input");
  });
  if (!tensors.ok()) {
    std::fprintf(stderr, "%s\n", tensors.status().ToString().c_str());
    return 1;
  }
  // Repeat each input `batch` times along dim 0.
  std::vector<std::string> names;
  std::vector<std::vector<char>> buffers;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<ONNXTensorElementDataType> types;
  for (const auto& [name, t] : *tensors) {
    names.push_back(name);
    std::vector<char> buf;
    for (int b = 0; b < batch; ++b) buf.insert(buf.end(), t.bytes().begin(), t.bytes().end());
    buffers.push_back(std::move(buf));
    auto shape = t.shape();
    if (!shape.empty()) shape[0] *= batch;
    shapes.push_back(shape);
    types.push_back(static_cast<ONNXTensorElementDataType>(t.dtype()));
  }

  Ort::Env env(ORT_LOGGING_LEVEL_ERROR, "bench");
  Ort::SessionOptions so;
  if (threads > 0) so.SetIntraOpNumThreads(threads);
  Ort::Session session(env, argv[1], so);
  Ort::AllocatorWithDefaultOptions allocator;
  std::vector<Ort::AllocatedStringPtr> out_holders;
  std::vector<const char*> out_names, in_names;
  for (size_t i = 0; i < session.GetOutputCount(); ++i) {
    out_holders.push_back(session.GetOutputNameAllocated(i, allocator));
    out_names.push_back(out_holders.back().get());
  }
  for (const auto& n : names) in_names.push_back(n.c_str());
  auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);

  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(concurrency);
  std::vector<std::thread> workers;
  auto start = Clock::now();
  for (int w = 0; w < concurrency; ++w) {
    workers.emplace_back([&, w] {
      while (!stop.load(std::memory_order_relaxed)) {
        auto t0 = Clock::now();
        std::vector<Ort::Value> values;
        for (size_t i = 0; i < names.size(); ++i) {
          values.push_back(Ort::Value::CreateTensor(memory, buffers[i].data(), buffers[i].size(),
                                                    shapes[i].data(), shapes[i].size(),
                                                    types[i]));
        }
        auto out = session.Run(Ort::RunOptions{nullptr}, in_names.data(), values.data(),
                               values.size(), out_names.data(), out_names.size());
        latencies[w].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : workers) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  double rps = all.size() / elapsed;
  std::printf("{\"concurrency\": %d, \"batch\": %d, \"rps\": %.1f, \"items_per_s\": %.1f, "
              "\"p50_ms\": %.3f, \"p99_ms\": %.3f}\n",
              concurrency, batch, rps, rps * batch, Percentile(all, 0.5), Percentile(all, 0.99));
  return 0;
}
