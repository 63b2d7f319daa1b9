#include "kserve/grpc_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "tensor/random_tensors.h"

namespace bento::kserve {
namespace {

inference::ModelInferRequest OneInput(const std::string& datatype, std::vector<int64_t> shape) {
  inference::ModelInferRequest request;
  request.set_id("req-1");
  auto* input = request.add_inputs();
  input->set_name("x");
  input->set_datatype(datatype);
  for (int64_t d : shape) input->add_shape(d);
  return request;
}

TEST(GrpcCodecTest, TypedFp32ContentsBecomeATensor) {
  auto request = OneInput("FP32", {2, 2});
  auto* contents = request.mutable_inputs(0)->mutable_contents();
  for (float v : {1.f, 2.f, 3.f, 4.f}) contents->add_fp32_contents(v);
  auto parsed = FromProto(request);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->id, "req-1");
  const Tensor& t = parsed->inputs[0].tensor;
  EXPECT_EQ(t.dtype(), DType::kFloat32);
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(t.values<float>()[3], 4.f);
}

TEST(GrpcCodecTest, RawContentsOfEveryLayout) {
  auto request = OneInput("INT64", {3});
  int64_t values[] = {-1, 0, 1LL << 40};
  request.add_raw_input_contents(std::string(reinterpret_cast<char*>(values), sizeof values));
  auto parsed = FromProto(request);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->inputs[0].tensor.values<int64_t>()[2], 1LL << 40);

  auto strings = OneInput("BYTES", {2});
  strings.add_raw_input_contents(std::string("\x02\0\0\0hi\x00\0\0\0", 10));
  parsed = FromProto(strings);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->inputs[0].tensor.strings(), (std::vector<std::string>{"hi", ""}));
}

TEST(GrpcCodecTest, TypedIntegersOutOfRangeAreRefused) {
  auto request = OneInput("INT8", {1});
  request.mutable_inputs(0)->mutable_contents()->add_int_contents(300);
  auto parsed = FromProto(request);
  ASSERT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("out of range for INT8"), std::string::npos);
}

TEST(GrpcCodecTest, MalformedRequestsAreInvalidArgument) {
  auto wrong_count = OneInput("FP32", {2, 2});
  wrong_count.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1);
  auto short_raw = OneInput("FP32", {4});
  short_raw.add_raw_input_contents(std::string(12, '\0'));
  auto unknown_type = OneInput("FP33", {1});
  auto negative = OneInput("FP32", {-1});
  negative.add_raw_input_contents("");
  auto fp16_typed = OneInput("FP16", {1});
  fp16_typed.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1);
  auto raw_mismatch = OneInput("FP32", {1});
  raw_mismatch.add_raw_input_contents(std::string(4, '\0'));
  raw_mismatch.add_raw_input_contents(std::string(4, '\0'));
  auto both = OneInput("FP32", {1});
  both.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1);
  both.add_raw_input_contents(std::string(4, '\0'));
  auto truncated_bytes = OneInput("BYTES", {1});
  truncated_bytes.add_raw_input_contents(std::string("\x09\0\0\0abc", 7));
  for (const auto& request : {wrong_count, short_raw, unknown_type, negative, fp16_typed,
                              raw_mismatch, both, truncated_bytes}) {
    auto parsed = FromProto(request);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << request.DebugString();
  }
}

TEST(GrpcCodecTest, ResponsesCarryRawOutputsAndPassParametersThrough) {
  InferResponse response;
  response.model_name = "m";
  response.model_version = "v1";
  response.id = "7";
  response.parameters = {{"flag", true}, {"n", -3}, {"s", "x"}, {"f", 0.5}};
  response.outputs.push_back({"y", Tensor::Of<float>({2}, {1.5f, -2.f}), false});
  response.outputs.push_back({"names", Tensor::Strings({1}, {"cat"}), false});
  inference::ModelInferResponse out;
  ToProto(response, &out);
  EXPECT_EQ(out.id(), "7");
  ASSERT_EQ(out.outputs_size(), 2);
  EXPECT_EQ(out.outputs(0).datatype(), "FP32");
  EXPECT_EQ(out.raw_output_contents(0).size(), 8u);
  EXPECT_EQ(out.raw_output_contents(1), std::string("\x03\0\0\0cat", 7));
  EXPECT_TRUE(out.parameters().at("flag").bool_param());
  EXPECT_EQ(out.parameters().at("n").int64_param(), -3);
  EXPECT_EQ(out.parameters().at("s").string_param(), "x");
  EXPECT_EQ(ParametersToJson(out.parameters()), response.parameters);
}

// ---- Round trips: what ToProto writes, FromProto reads back, bit for bit ----

using testing::kEveryDType;
using testing::RandomTensor;

void ExpectSameTensor(const Tensor& got, const Tensor& want) {
  ASSERT_EQ(got.dtype(), want.dtype()) << KServeName(want.dtype());
  EXPECT_EQ(got.shape(), want.shape()) << KServeName(want.dtype());
  if (want.dtype() == DType::kString) {
    EXPECT_EQ(got.strings(), want.strings());
  } else {
    EXPECT_EQ(got.bytes(), want.bytes()) << KServeName(want.dtype());
  }
}

// A response's raw outputs, sent back as a request's raw inputs, as a client echoing them does.
inference::ModelInferRequest EchoOf(const inference::ModelInferResponse& response) {
  inference::ModelInferRequest request;
  for (int i = 0; i < response.outputs_size(); ++i) {
    auto* input = request.add_inputs();
    input->set_name(response.outputs(i).name());
    input->set_datatype(response.outputs(i).datatype());
    *input->mutable_shape() = response.outputs(i).shape();
    request.add_raw_input_contents(response.raw_output_contents(i));
  }
  return request;
}

TEST(GrpcCodecTest, RawContentsRoundTripEveryDTypeExactly) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    InferResponse response;
    std::vector<Tensor> sent;
    for (DType dtype : kEveryDType) {
      sent.push_back(RandomTensor(dtype, rng, /*text=*/false));
      response.outputs.push_back({"t" + std::to_string(sent.size()), sent.back(), false});
    }
    inference::ModelInferResponse proto;
    ToProto(response, &proto);
    auto back = FromProto(EchoOf(proto));
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ(back->inputs.size(), sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
      EXPECT_EQ(back->inputs[i].name, response.outputs[i].name);
      ExpectSameTensor(back->inputs[i].tensor, sent[i]);
    }
  }
}

template <typename T, typename Field>
void AddAll(const Tensor& t, Field* field) {
  for (size_t i = 0; i < static_cast<size_t>(t.num_elements()); ++i) {
    T v;
    std::memcpy(&v, static_cast<const char*>(t.data()) + i * sizeof(T), sizeof(T));
    field->Add(v);
  }
}

// Each dtype's typed field (FP16 and BF16 have none: the protocol sends them raw only).
bool FillTyped(const Tensor& t, inference::InferTensorContents* c) {
  switch (t.dtype()) {
    case DType::kBool: AddAll<bool>(t, c->mutable_bool_contents()); return true;
    case DType::kInt8: AddAll<int8_t>(t, c->mutable_int_contents()); return true;
    case DType::kInt16: AddAll<int16_t>(t, c->mutable_int_contents()); return true;
    case DType::kInt32: AddAll<int32_t>(t, c->mutable_int_contents()); return true;
    case DType::kInt64: AddAll<int64_t>(t, c->mutable_int64_contents()); return true;
    case DType::kUInt8: AddAll<uint8_t>(t, c->mutable_uint_contents()); return true;
    case DType::kUInt16: AddAll<uint16_t>(t, c->mutable_uint_contents()); return true;
    case DType::kUInt32: AddAll<uint32_t>(t, c->mutable_uint_contents()); return true;
    case DType::kUInt64: AddAll<uint64_t>(t, c->mutable_uint64_contents()); return true;
    case DType::kFloat32: AddAll<float>(t, c->mutable_fp32_contents()); return true;
    case DType::kFloat64: AddAll<double>(t, c->mutable_fp64_contents()); return true;
    case DType::kString:
      for (const std::string& s : t.strings()) c->add_bytes_contents(s);
      return true;
    default: return false;
  }
}

TEST(GrpcCodecTest, TypedContentsOfEveryTypedFieldAreReadExactly) {
  std::mt19937 rng(8);
  for (int round = 0; round < 50; ++round) {
    inference::ModelInferRequest request;
    std::vector<Tensor> sent;
    for (DType dtype : kEveryDType) {
      Tensor t = RandomTensor(dtype, rng, /*text=*/false);
      inference::InferTensorContents contents;
      if (!FillTyped(t, &contents)) continue;
      auto* input = request.add_inputs();
      input->set_name(std::string(KServeName(dtype)));
      input->set_datatype(std::string(KServeName(dtype)));
      for (int64_t d : t.shape()) input->add_shape(d);
      *input->mutable_contents() = std::move(contents);
      sent.push_back(std::move(t));
    }
    ASSERT_EQ(sent.size(), std::size(kEveryDType) - 2);
    auto back = FromProto(request);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ(back->inputs.size(), sent.size());
    for (size_t i = 0; i < sent.size(); ++i) ExpectSameTensor(back->inputs[i].tensor, sent[i]);
  }
}

TEST(GrpcCodecTest, Fp16AndBf16InTypedContentsAreRefusedAsRawOnly) {
  for (const char* datatype : {"FP16", "BF16"}) {
    auto request = OneInput(datatype, {1});
    request.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.f);
    auto parsed = FromProto(request);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << datatype;
    EXPECT_NE(parsed.status().message().find(std::string(datatype) +
                                             " data must come as raw_input_contents"),
              std::string::npos)
        << parsed.status();
  }
}

TEST(GrpcCodecTest, StatusCodesCarryOver) {
  EXPECT_EQ(ToGrpcStatus(NotFoundError("unknown model 'x'")).error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(InvalidArgumentError("bad")).error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcStatus(UnavailableError("busy")).error_message(), "busy");
  EXPECT_TRUE(ToGrpcStatus(OkStatus()).ok());
}

// raw_input_contents has one entry per input not in shared memory; the others name a region.
TEST(GrpcCodecTest, InputsAndOutputsInSharedMemory) {
  auto request = OneInput("FP32", {2});
  auto* params = request.mutable_inputs(0)->mutable_parameters();
  (*params)["shared_memory_region"].set_string_param("in");
  (*params)["shared_memory_byte_size"].set_int64_param(8);
  auto* y = request.add_inputs();
  y->set_name("y");
  y->set_datatype("INT32");
  y->add_shape(1);
  request.add_raw_input_contents(std::string("\x07\0\0\0", 4));
  auto* out = request.add_outputs();
  out->set_name("z");
  (*out->mutable_parameters())["shared_memory_region"].set_string_param("out");
  (*out->mutable_parameters())["shared_memory_byte_size"].set_uint64_param(8);
  (*out->mutable_parameters())["shared_memory_offset"].set_uint64_param(4);
  auto parsed = FromProto(request);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_TRUE(parsed->inputs[0].region.has_value());
  EXPECT_EQ(parsed->inputs[0].region->region, "in");
  EXPECT_EQ(parsed->inputs[0].shape, std::vector<int64_t>{2});
  EXPECT_FALSE(parsed->inputs[1].region.has_value());
  EXPECT_EQ(parsed->inputs[1].tensor.bytes(), std::string("\x07\0\0\0", 4));
  ASSERT_TRUE(parsed->outputs[0].region.has_value());
  EXPECT_EQ(parsed->outputs[0].region->offset, 4u);
  request.add_raw_input_contents("");  // one raw entry too many now
  EXPECT_EQ(FromProto(request).status().code(), StatusCode::kInvalidArgument);
  // The answer names the region and keeps the output's place in raw_output_contents.
  InferResponse response{"m", "1", "", nullptr, {}};
  response.outputs.push_back({"z", *Tensor::FromBytes(DType::kFloat32, {2}, std::string(8, '\0')),
                              false, RegionRef{"out", 0, 8}});
  inference::ModelInferResponse proto;
  ToProto(response, &proto);
  ASSERT_EQ(proto.raw_output_contents_size(), 1);
  EXPECT_EQ(proto.raw_output_contents(0), "");
  EXPECT_EQ(proto.outputs(0).parameters().at("shared_memory_region").string_param(), "out");
}

}  // namespace
}  // namespace bento::kserve
