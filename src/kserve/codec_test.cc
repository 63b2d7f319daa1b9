#include "kserve/codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tensor/random_tensors.h"
#include "tensor/half.h"

namespace bento::kserve {
namespace {

using Shape = std::vector<int64_t>;

InferRequest Parse(std::string_view body, std::optional<size_t> header_length = std::nullopt) {
  StatusOr<InferRequest> r = ParseInferRequest(body, header_length);
  EXPECT_TRUE(r.ok()) << body << ": " << r.status();
  return r.ok() ? *r : InferRequest();
}

std::string ParseError(std::string_view body, std::optional<size_t> header_length = std::nullopt) {
  StatusOr<InferRequest> r = ParseInferRequest(body, header_length);
  EXPECT_FALSE(r.ok()) << body << " parsed";
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status();
  return r.status().message();
}

void ExpectSame(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.dtype(), b.dtype());
  EXPECT_EQ(a.shape(), b.shape());
  if (a.dtype() == DType::kString) {
    EXPECT_EQ(a.strings(), b.strings());
  } else {
    EXPECT_EQ(a.bytes(), b.bytes());
  }
}

// One tensor of every KServe datatype.
std::vector<Tensor> EveryType() {
  const uint8_t bools[] = {1, 0, 0, 1, 1, 0};
  std::vector<uint16_t> halves, bf16s;
  for (float f : {0.5f, -1.0f, 2.25f, 65504.0f}) {
    halves.push_back(FloatToHalf(f));
    bf16s.push_back(FloatToBFloat16(f));
  }
  auto bytes = [](const std::vector<uint16_t>& v) {
    return std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * 2);
  };
  return {
      *Tensor::FromBytes(DType::kBool, {2, 3}, {reinterpret_cast<const char*>(bools), 6}),
      Tensor::Of<uint8_t>({3}, {0, 7, 255}),
      Tensor::Of<uint16_t>({2}, {0, 65535}),
      Tensor::Of<uint32_t>({2}, {1, 4294967295u}),
      Tensor::Of<uint64_t>({2}, {2, 18446744073709551615ull}),
      Tensor::Of<int8_t>({2}, {-128, 127}),
      Tensor::Of<int16_t>({2}, {-32768, 32767}),
      Tensor::Of<int32_t>({1, 2}, {-5, 2147483647}),
      Tensor::Of<int64_t>({2, 1}, {-9223372036854775807LL, 42}),
      *Tensor::FromBytes(DType::kFloat16, {2, 2}, bytes(halves)),
      Tensor::Of<float>({2, 2}, {1.5f, -0.1f, 3e38f, 0.0f}),
      Tensor::Of<double>({3}, {0.1, -2.5e300, 1.0}),
      *Tensor::FromBytes(DType::kBFloat16, {4}, bytes(bf16s)),
      Tensor::Strings({2}, {"hello", std::string("a\0b\"\xc3\xa9", 6)}),
      Tensor::Of<float>({}, {7.0f}),
      Tensor::Of<int32_t>({0, 3}, {}),
  };
}

// A response's "outputs" read back as a request's "inputs".
StatusOr<InferRequest> Reparse(const std::vector<InferOutput>& outputs) {
  size_t header_length = 0;
  std::string body = EncodeInferResponse("m", "1", "", Json(), outputs, &header_length);
  size_t at = body.find("\"outputs\"");
  body.replace(at, 9, "\"inputs\"");
  if (header_length) --header_length;
  return ParseInferRequest(body, header_length ? std::optional<size_t>(header_length)
                                               : std::nullopt);
}

TEST(KServeCodecTest, DatatypeNames) {
  for (std::string_view name : {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
                                "INT32", "INT64", "FP16", "FP32", "FP64", "BF16", "BYTES"}) {
    std::optional<DType> dtype = DTypeFromKServe(name);
    ASSERT_TRUE(dtype) << name;
    EXPECT_EQ(KServeName(*dtype), name);
  }
  EXPECT_EQ(DTypeFromKServe("BYTES"), DType::kString);
  EXPECT_FALSE(DTypeFromKServe("fp32"));
  EXPECT_FALSE(DTypeFromKServe("COMPLEX64"));
  EXPECT_EQ(KServeName(DType::kComplex64), "");
}

TEST(KServeCodecTest, RoundTripsEveryTypeAsJsonAndBinary) {
  for (bool binary : {false, true}) {
    std::vector<InferOutput> outputs;
    int i = 0;
    for (const Tensor& t : EveryType()) outputs.push_back({"t" + std::to_string(i++), t, binary});
    StatusOr<InferRequest> r = Reparse(outputs);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->inputs.size(), outputs.size());
    for (size_t k = 0; k < outputs.size(); ++k) {
      SCOPED_TRACE(outputs[k].name + (binary ? " binary" : " json"));
      EXPECT_EQ(r->inputs[k].name, outputs[k].name);
      ExpectSame(r->inputs[k].tensor, outputs[k].tensor);
    }
  }
}

// Property: random tensors of every datatype, written as a response's outputs (JSON or
// binary) and read back as a request's inputs, come back exactly. JSON carries no NaN
// payload and only UTF-8 text (the writer's rule, pinned in the JSON codec's tests), so
// its tensors have neither; binary ones carry any bits and any bytes.
TEST(KServeCodecTest, RandomTensorsOfEveryTypeRoundTripExactly) {
  std::mt19937 rng(11);
  for (int round = 0; round < 60; ++round) {
    const bool binary = round % 2;
    std::vector<InferOutput> outputs;
    for (DType dtype : testing::kEveryDType) {
      outputs.push_back({"t" + std::to_string(outputs.size()),
                         testing::RandomTensor(dtype, rng, /*text=*/!binary), binary});
    }
    StatusOr<InferRequest> r = Reparse(outputs);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->inputs.size(), outputs.size());
    for (size_t k = 0; k < outputs.size(); ++k) {
      SCOPED_TRACE(std::string(KServeName(outputs[k].tensor.dtype())) +
                   (binary ? " binary" : " json"));
      ExpectSame(r->inputs[k].tensor, outputs[k].tensor);
    }
  }
}

TEST(KServeCodecTest, NestedAndFlatDataAgree) {
  InferRequest flat = Parse(R"({"inputs":[{"name":"x","datatype":"INT32","shape":[2,3],
                                "data":[1,2,3,4,5,6]}]})");
  InferRequest nested = Parse(R"({"inputs":[{"data":[[1,2,3],[4,5,6]],"shape":[2,3],
                                  "datatype":"INT32","name":"x"}]})");
  ASSERT_EQ(flat.inputs.size(), 1u);
  ASSERT_EQ(nested.inputs.size(), 1u);
  ExpectSame(flat.inputs[0].tensor, Tensor::Of<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6}));
  ExpectSame(nested.inputs[0].tensor, flat.inputs[0].tensor);
}

TEST(KServeCodecTest, ReadsIdParametersAndOutputFlags) {
  InferRequest r = Parse(R"({"id":"42","parameters":{"binary_data_output":true,"k":[1]},
      "inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1],"parameters":{"a":1}}],
      "outputs":[{"name":"y"},{"name":"z","parameters":{"binary_data":false}}]})");
  EXPECT_EQ(r.id, "42");
  EXPECT_TRUE(r.binary_outputs_default);
  EXPECT_EQ(r.parameters["k"], Json::array({1}));
  EXPECT_EQ(r.inputs[0].parameters["a"], 1);
  ASSERT_EQ(r.outputs.size(), 2u);
  EXPECT_EQ(r.outputs[0].name, "y");
  EXPECT_TRUE(r.outputs[0].binary_data);
  EXPECT_FALSE(r.outputs[1].binary_data);
  InferRequest plain = Parse(R"({"inputs":[],"outputs":[{"name":"y"},
      {"name":"z","parameters":{"binary_data":true}}]})");
  EXPECT_FALSE(plain.binary_outputs_default);
  EXPECT_FALSE(plain.outputs[0].binary_data);
  EXPECT_TRUE(plain.outputs[1].binary_data);
}

std::string BinaryRequest(size_t* header_length) {
  std::string header = R"({"inputs":[{"name":"x","datatype":"FP32","shape":[2],)"
                       R"("parameters":{"binary_data_size":8}},)"
                       R"({"name":"s","datatype":"BYTES","shape":[3],)"
                       R"("parameters":{"binary_data_size":17}}]})";
  *header_length = header.size();
  float f[2] = {1.5f, -2.0f};
  std::string body = header + std::string(reinterpret_cast<const char*>(f), 8);
  body += std::string("\x03\0\0\0abc", 7) + std::string("\0\0\0\0", 4) +
          std::string("\x02\0\0\0hi", 6);
  return body;
}

TEST(KServeCodecTest, BinaryInputsAndBytesFraming) {
  size_t header_length = 0;
  std::string body = BinaryRequest(&header_length);
  InferRequest r = Parse(body, header_length);
  ASSERT_EQ(r.inputs.size(), 2u);
  ExpectSame(r.inputs[0].tensor, Tensor::Of<float>({2}, {1.5f, -2.0f}));
  ExpectSame(r.inputs[1].tensor, Tensor::Strings({3}, {"abc", "", "hi"}));
}

TEST(KServeCodecTest, ErrorsNameTheProblem) {
  auto input = [](std::string fields) { return R"({"inputs":[{)" + fields + "}]}"; };
  const std::string x = R"("name":"x",)";
  struct Case {
    std::string body;
    std::optional<size_t> header_length;
    std::string fragment;
  };
  std::vector<Case> cases = {
      {input(x + R"("datatype":"FP8","shape":[1],"data":[1])"), {}, "unknown datatype 'FP8'"},
      {input(x + R"("datatype":"FP32","shape":[2,3],"data":[1,2,3,4,5])"), {},
       "input 'x': shape [2,3] needs 6 elements, got 5"},
      {input(x + R"("datatype":"FP32","shape":[2,3],"data":[[1,2],[3,4]])"), {},
       "input 'x': shape [2,3] needs 6 elements, got 4"},
      {input(x + R"("datatype":"FP32","shape":[-1],"data":[1])"), {}, "negative dimension"},
      {input(R"("datatype":"FP32","shape":[1],"data":[1])"), {}, "input #0 has no 'name'"},
      {input(x + R"("shape":[1],"data":[1])"), {}, "input 'x' has no 'datatype'"},
      {input(x + R"("datatype":"FP32","data":[1])"), {}, "input 'x' has no 'shape'"},
      {input(x + R"("datatype":"FP32","shape":[1])"), {}, "has no 'data'"},
      {R"({"inputs":[{"name":"x","datatype":"FP32","shape":[1],"data":[1]},
                     {"name":"x","datatype":"FP32","shape":[1],"data":[1]}]})", {},
       "duplicate input name 'x'"},
      {input(x + R"("datatype":"INT8","shape":[1],"data":[1.5])"), {}, "input 'x'"},
      {input(x + R"("datatype":"FP32","shape":[2],"parameters":{"binary_data_size":100})") +
           std::string(40, 'a'),
       input(x + R"("datatype":"FP32","shape":[2],"parameters":{"binary_data_size":100})").size(),
       "binary data of input 'x' is 100 bytes but only 40 remain"},
      {input(x + R"("datatype":"FP32","shape":[2],"parameters":{"binary_data_size":7})") +
           std::string(7, 'a'),
       input(x + R"("datatype":"FP32","shape":[2],"parameters":{"binary_data_size":7})").size(),
       "binary data size 7 is not a multiple of the FP32 element size 4"},
      {input(x + R"("datatype":"FP32","shape":[2],"parameters":{"binary_data_size":4})") +
           std::string(4, 'a'),
       input(x + R"("datatype":"FP32","shape":[2],"parameters":{"binary_data_size":4})").size(),
       "input 'x': shape [2] needs 2 elements, got 1"},
      {input(x + R"("datatype":"FP32","shape":[1],"data":[1])") + "abc",
       input(x + R"("datatype":"FP32","shape":[1],"data":[1])").size(),
       "3 bytes of binary data left over"},
      {"{}", 100, "Inference-Header-Content-Length 100 exceeds the body size 2"},
      {input(x + R"("datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":6})") +
           std::string("\x09\0\0\0ab", 6),
       input(x + R"("datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":6})").size(),
       "BYTES element 0 is 9 bytes but only 2 remain"},
      {input(x + R"("datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":2})") +
           std::string("\x09\0", 2),
       input(x + R"("datatype":"BYTES","shape":[1],"parameters":{"binary_data_size":2})").size(),
       "truncated 4-byte length"},
      {input(x + R"("datatype":"FP32","shape":[1],"data":[1],)"
                 R"("parameters":{"binary_data_size":4})"),
       {}, "both 'data' and 'binary_data_size'"},
      {R"({"inputs":{}})", {}, "'inputs' must be an array of objects"},
      {R"([1])", {}, "must be a JSON object"},
      {R"({"outputs":[]})", {}, "no 'inputs'"},
      {R"({"inputs":[]} x)", {}, "malformed JSON"},
      {R"({"inputs":[], "parameters":{"binary_data_output":1}})", {}, "'binary_data_output'"},
      {input(x + R"("datatype":"FP32","shape":[1],"data":[1],"parameters":)" +
             std::string(200, '[') + std::string(200, ']')),
       {}, "'parameters'"},
      {input(x + R"("datatype":"FP32","shape":[99999999999,99999999999],"data":[1])"), {},
       "too large"},
  };
  for (const Case& c : cases) {
    EXPECT_NE(ParseError(c.body, c.header_length).find(c.fragment), std::string::npos)
        << c.body << "\nwanted: " << c.fragment
        << "\ngot: " << ParseInferRequest(c.body, c.header_length).status();
  }
}

TEST(KServeCodecTest, EncodesMixedBinaryAndJsonOutputs) {
  std::vector<InferOutput> outputs = {
      {"a", Tensor::Of<int32_t>({2, 2}, {1, 2, 3, 4}), false},
      {"b", Tensor::Of<float>({2}, {1.0f, 2.5f}), true},
      {"c", *Tensor::FromBytes(DType::kBool, {2}, std::string_view("\1\0", 2)), false},
      {"d", Tensor::Strings({2}, {"x", "yz"}), true},
      {"e", Tensor::Strings({1}, {"q\""}), false},
  };
  size_t header_length = 99;
  std::string body = EncodeInferResponse("m", "2", "req-1", Json{{"p", 1}}, outputs,
                                         &header_length);
  std::string json =
      R"({"model_name":"m","model_version":"2","id":"req-1","parameters":{"p":1},"outputs":[)"
      R"({"name":"a","datatype":"INT32","shape":[2,2],"data":[1,2,3,4]},)"
      R"({"name":"b","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}},)"
      R"({"name":"c","datatype":"BOOL","shape":[2],"data":[true,false]},)"
      R"({"name":"d","datatype":"BYTES","shape":[2],"parameters":{"binary_data_size":11}},)"
      R"({"name":"e","datatype":"BYTES","shape":[1],"data":["q\""]}]})";
  ASSERT_EQ(header_length, json.size());
  EXPECT_EQ(body.substr(0, header_length), json);
  float f[2] = {1.0f, 2.5f};
  std::string binary = std::string(reinterpret_cast<const char*>(f), 8) +
                       std::string("\1\0\0\0x\2\0\0\0yz", 11);
  EXPECT_EQ(body.substr(header_length), binary);

  std::string plain = EncodeInferResponse("m", "", "", Json(), {outputs[0]}, &header_length);
  EXPECT_EQ(header_length, 0u);
  EXPECT_EQ(plain, R"({"model_name":"m","model_version":"","outputs":[)"
                   R"({"name":"a","datatype":"INT32","shape":[2,2],"data":[1,2,3,4]}]})");
  EXPECT_EQ(EncodeInferResponse("m", "1", "", Json(), {{"h", EveryType()[9], false}}, nullptr),
            R"({"model_name":"m","model_version":"1","outputs":[{"name":"h","datatype":"FP16",)"
            R"("shape":[2,2],"data":[0.5,-1.0,2.25,65504.0]}]})");
}

TEST(KServeCodecTest, GarbageAndTruncatedBodiesNeverCrash) {
  size_t header_length = 0;
  const std::string valid = BinaryRequest(&header_length);
  std::mt19937 rng(1234);
  for (int i = 0; i < 600; ++i) {
    std::string body = valid;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = rng() % body.size();
      switch (rng() % 4) {
        case 0: body[at] = static_cast<char>(rng()); break;
        case 1: body.erase(at, 1 + rng() % 8); break;
        case 2: body.insert(at, 1, "{}[]\",:0-9e\\"[rng() % 12]); break;
        default: body.resize(at); break;
      }
      if (body.empty()) body = "{";
    }
    std::optional<size_t> length;
    if (rng() % 4 != 0) length = rng() % 3 == 0 ? rng() % (body.size() + 8) : header_length;
    StatusOr<InferRequest> r = ParseInferRequest(body, length);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status();
    }
  }
  for (size_t n = 0; n <= valid.size(); ++n) {
    StatusOr<InferRequest> r = ParseInferRequest(valid.substr(0, n), std::min(n, header_length));
    EXPECT_EQ(r.ok(), n == valid.size());
  }
}

TEST(KServeCodecTest, InputsAndOutputsInSharedMemory) {
  auto parsed = ParseInferRequest(
      R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2],
                      "parameters": {"shared_memory_region": "in", "shared_memory_byte_size": 16}}],
          "outputs": [{"name": "y", "parameters": {"shared_memory_region": "out",
                       "shared_memory_byte_size": 16, "shared_memory_offset": 32}}]})",
      std::nullopt);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const InferInput& x = parsed->inputs[0];
  ASSERT_TRUE(x.region.has_value());
  EXPECT_EQ(x.region->byte_size, 16u);
  EXPECT_EQ(x.dtype, DType::kFloat32);
  EXPECT_EQ(x.shape, (std::vector<int64_t>{2, 2}));
  ASSERT_TRUE(parsed->outputs[0].region.has_value());
  EXPECT_EQ(parsed->outputs[0].region->offset, 32u);
  for (const char* bad : {
           R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1],
               "parameters": {"shared_memory_region": "in", "shared_memory_byte_size": 4}}]})",
           R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1],
               "parameters": {"shared_memory_region": "in"}}]})",
           R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [-1],
               "parameters": {"shared_memory_region": "in", "shared_memory_byte_size": 4}}]})",
           R"({"inputs": [], "outputs": [{"name": "y", "parameters": {
               "shared_memory_region": "out", "shared_memory_byte_size": "8"}}]})"}) {
    EXPECT_EQ(ParseInferRequest(bad, std::nullopt).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  // The answer names the region, with no data.
  std::vector<InferOutput> outputs;
  outputs.push_back({"y", *Tensor::FromBytes(DType::kFloat32, {1}, std::string(4, '\0')), true,
                     RegionRef{"out", 32, 4}});
  size_t header = 1;
  std::string body = EncodeInferResponse("m", "1", "", nullptr, outputs, &header);
  EXPECT_EQ(header, 0u);
  EXPECT_EQ(body, R"({"model_name":"m","model_version":"1","outputs":[{"name":"y","datatype":)"
                  R"("FP32","shape":[1],"parameters":{"shared_memory_region":"out",)"
                  R"("shared_memory_byte_size":4,"shared_memory_offset":32}}]})");
}

}  // namespace
}  // namespace bento::kserve
