#include "kserve/grpc_codec.h"

#include <gtest/gtest.h>

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

TEST(GrpcCodecTest, StatusCodesCarryOver) {
  EXPECT_EQ(ToGrpcStatus(NotFoundError("unknown model 'x'")).error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(InvalidArgumentError("bad")).error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcStatus(UnavailableError("busy")).error_message(), "busy");
  EXPECT_TRUE(ToGrpcStatus(OkStatus()).ok());
}

}  // namespace
}  // namespace bento::kserve
