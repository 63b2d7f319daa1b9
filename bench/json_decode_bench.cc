// bento_bench_json: the JSON tensor codec against a plain nlohmann::json reference.
//
// Payloads are request bodies as Python's json.dumps writes them: a 1x3x224x224 float32 image
// (normalised pixels with three decimals, about 1 MB) and a 1x10 vector. For each it times
//   decode: body -> float32 tensor (bento: DecodeJsonTensors; reference: nlohmann::json::parse
//           + get<std::vector<...>> + copy into a Tensor)
//   encode: tensor -> nested-list JSON (bento: EncodeJsonTensor; reference: nlohmann::json
//           built from the nested vectors, then dump())
// and prints MB/s of JSON, million numbers per second and the speed-up (reference time / ours).
// Each figure is the median of five runs, in CPU time of the thread. Runtime: about 5 s.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bento/tensor.h"
#include "tensor/json_codec.h"

namespace bento {
namespace {

using Vec1 = std::vector<float>;
using Vec2 = std::vector<Vec1>;
using Vec4 = std::vector<std::vector<Vec2>>;

// CPU time of this thread: steadier than wall time on a shared, loaded machine.
double ThreadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Median CPU seconds per call of `fn`, over `runs` runs of at least `min_seconds` each.
double TimePerCall(const std::function<void()>& fn, double min_seconds = 0.1, int runs = 5) {
  fn();  // warm up
  std::vector<double> per_call;
  for (int r = 0; r < runs; ++r) {
    int64_t calls = 0;
    const double start = ThreadSeconds();
    double elapsed = 0;
    do {
      fn();
      ++calls;
      elapsed = ThreadSeconds() - start;
    } while (elapsed < min_seconds);
    per_call.push_back(elapsed / static_cast<double>(calls));
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[per_call.size() / 2];
}

// Nested lists with Python's ", " separators, numbers as repr(float) writes them.
void AppendNested(const std::vector<int64_t>& shape, size_t dim, const double*& next,
                  std::string* out) {
  *out += '[';
  for (int64_t i = 0; i < shape[dim]; ++i) {
    if (i) *out += ", ";
    if (dim + 1 < shape.size()) {
      AppendNested(shape, dim + 1, next, out);
    } else {
      char buf[32];
      const double value = *next++;
      char* end = std::to_chars(buf, buf + sizeof(buf), value).ptr;
      out->append(buf, end);
      if (std::find(buf, end, '.') == end && std::find(buf, end, 'e') == end) *out += ".0";
    }
  }
  *out += ']';
}

struct Payload {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<double> text_values;  // what the body spells out
  std::vector<float> values;        // the float32 tensor it means
  std::string body;                 // {"input": <nested lists>}
};

Payload MakePayload(std::string name, std::vector<int64_t> shape) {
  Payload p{std::move(name), std::move(shape), {}, {}, {}};
  std::mt19937 rng(11);
  for (int64_t i = 0; i < NumElements(p.shape); ++i) {
    // An ImageNet-normalised pixel, rounded to three decimals as a client might send it.
    const double pixel = static_cast<double>(rng() % 256) / 255.0;
    p.text_values.push_back(std::round((pixel - 0.45) / 0.225 * 1000) / 1000);
    p.values.push_back(static_cast<float>(p.text_values.back()));
  }
  p.body = "{\"input\": ";
  const double* next = p.text_values.data();
  AppendNested(p.shape, 0, next, &p.body);
  p.body += "}";
  return p;
}

// ---- The reference: nlohmann::json ----

Tensor ReferenceDecode(const std::string& body, const std::vector<int64_t>& shape) {
  nlohmann::json j = nlohmann::json::parse(body);
  std::vector<float> flat;
  flat.reserve(static_cast<size_t>(NumElements(shape)));
  if (shape.size() == 4) {
    for (const auto& a : j.at("input").get<Vec4>())
      for (const auto& b : a)
        for (const auto& c : b) flat.insert(flat.end(), c.begin(), c.end());
  } else {
    for (const auto& row : j.at("input").get<Vec2>()) {
      flat.insert(flat.end(), row.begin(), row.end());
    }
  }
  return Tensor::Of<float>(shape, flat);
}

std::string ReferenceEncode(const Tensor& t) {
  auto v = t.values<float>();
  const auto& s = t.shape();
  nlohmann::json j;
  if (s.size() == 4) {
    const auto d = [&](size_t i) { return static_cast<size_t>(s[i]); };
    Vec4 nested(d(0), std::vector<Vec2>(d(1), Vec2(d(2), Vec1(d(3)))));
    size_t k = 0;
    for (auto& a : nested)
      for (auto& b : a)
        for (auto& c : b)
          for (float& x : c) x = v[k++];
    j = nested;
  } else {
    Vec2 nested(static_cast<size_t>(s[0]), Vec1(static_cast<size_t>(s[1])));
    size_t k = 0;
    for (auto& row : nested)
      for (float& x : row) x = v[k++];
    j = nested;
  }
  return j.dump();
}

void Row(const std::string& payload, const char* what, double seconds, size_t bytes,
         int64_t numbers) {
  std::printf("%-22s %-18s %10.1f %10.1f %12.1f\n", payload.c_str(), what,
              static_cast<double>(bytes) / seconds / 1e6,
              static_cast<double>(numbers) / seconds / 1e6, seconds * 1e6);
}

int Run() {
  const std::vector<Payload> payloads = {MakePayload("image 1x3x224x224", {1, 3, 224, 224}),
                                         MakePayload("small 1x10", {1, 10})};
  const JsonDTypeFn dtype_for = [](std::string_view) -> StatusOr<DType> {
    return DType::kFloat32;
  };

  std::printf("%-22s %-18s %10s %10s %12s\n", "payload", "codec", "MB/s", "Mnum/s", "us/op");
  for (const Payload& p : payloads) {
    const int64_t n = NumElements(p.shape);

    // Check both decoders agree before timing them.
    auto ours = DecodeJsonTensors(p.body, dtype_for);
    if (!ours.ok()) {
      std::fprintf(stderr, "decode failed: %s\n", ours.status().ToString().c_str());
      return 1;
    }
    const Tensor& tensor = ours->at("input");
    if (tensor.bytes() != ReferenceDecode(p.body, p.shape).bytes() ||
        tensor.bytes() != Tensor::Of<float>(p.shape, p.values).bytes()) {
      std::fprintf(stderr, "%s: decoders disagree\n", p.name.c_str());
      return 1;
    }

    const double bento_decode = TimePerCall([&] {
      auto t = DecodeJsonTensors(p.body, dtype_for);
      if (!t.ok()) std::abort();
    });
    const double ref_decode = TimePerCall([&] { ReferenceDecode(p.body, p.shape); });

    std::string encoded;
    const double bento_encode = TimePerCall([&] {
      encoded.clear();
      if (!EncodeJsonTensor(tensor, &encoded).ok()) std::abort();
    });
    std::string ref_encoded = ReferenceEncode(tensor);
    const double ref_encode = TimePerCall([&] { ref_encoded = ReferenceEncode(tensor); });

    Row(p.name, "decode bento", bento_decode, p.body.size(), n);
    Row(p.name, "decode nlohmann", ref_decode, p.body.size(), n);
    Row(p.name, "encode bento", bento_encode, encoded.size(), n);
    Row(p.name, "encode nlohmann", ref_encode, ref_encoded.size(), n);
    std::printf("%-22s %-18s decode x%.1f, encode x%.1f  (JSON: %zu bytes in, %zu out)\n",
                p.name.c_str(), "speed-up", ref_decode / bento_decode, ref_encode / bento_encode,
                p.body.size(), encoded.size());
  }
  return 0;
}

}  // namespace
}  // namespace bento

int main() { return bento::Run(); }
