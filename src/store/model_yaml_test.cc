#include "store/model_yaml.h"

#include <gtest/gtest.h>

#include <string>

namespace bento::store {
namespace {

using std::chrono::microseconds;
using std::chrono::system_clock;

// Written by bentoml==1.4.40's bentoml.onnx.save_model (with metadata y added).
constexpr const char* kBentoMlYaml = R"(name: abs
version: kcy32lxjyglsuax4
module: bentoml.onnx
labels:
  a: b
options:
  input_specs:
    run:
    - name: x
      type:
        tensorType:
          elemType: 1
          shape:
            dim:
            - dimValue: '3'
            - dimParam: batch
  output_specs:
    run:
    - name: y
      type:
        tensorType:
          elemType: 1
          shape:
            dim:
            - dimValue: '3'
  providers: null
  session_options: null
metadata:
  x: 1
  y:
  - 1
  - 2
context:
  framework_name: onnx
  framework_versions:
    onnx: 1.18.0
    onnxruntime: 1.22.1
  bentoml_version: 1.4.40
  python_version: 3.11.7
signatures:
  run:
    batchable: true
    batch_dim:
    - 0
    - 0
api_version: v2
creation_time: '2026-11-26T17:46:31.698874+00:00'
)";

TEST(ModelYamlTest, ReadsBentoMlOutput) {
  auto info = ParseModelYaml(kBentoMlYaml);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->tag.ToString(), "abs:kcy32lxjyglsuax4");
  EXPECT_EQ(info->module, "bentoml.onnx");
  EXPECT_EQ(info->labels, (std::map<std::string, std::string>{{"a", "b"}}));
  ASSERT_EQ(info->inputs().size(), 1u);
  const TensorSpec& x = info->inputs()[0];
  EXPECT_EQ(x.name, "x");
  EXPECT_EQ(x.dtype, DType::kFloat32);
  EXPECT_TRUE(x.has_shape);
  EXPECT_EQ(x.dims, (std::vector<Dim>{Dim{3, ""}, Dim{-1, "batch"}}));
  ASSERT_EQ(info->outputs().size(), 1u);
  EXPECT_EQ(info->outputs()[0].dims, (std::vector<Dim>{Dim{3, ""}}));
  EXPECT_TRUE(info->providers.is_null());
  EXPECT_EQ(info->metadata, (Json{{"x", 1}, {"y", {1, 2}}}));
  EXPECT_EQ(info->context.framework_name, "onnx");
  EXPECT_EQ(info->context.framework_versions.at("onnxruntime"), "1.22.1");
  EXPECT_EQ(info->context.bentoml_version, "1.4.40");
  EXPECT_EQ(info->context.python_version, "3.11.7");
  EXPECT_EQ(info->signatures.at("run"), (Signature{true, {0, 0}}));
  EXPECT_EQ(info->api_version, "v2");
  EXPECT_EQ(FormatCreationTime(info->creation_time), "2026-11-26T17:46:31.698874+00:00");
}

TEST(ModelYamlTest, RewritesBentoMlOutputByteForByte) {
  auto info = ParseModelYaml(kBentoMlYaml);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(WriteModelYaml(*info), kBentoMlYaml);
}

ModelInfo SampleInfo() {
  ModelInfo info;
  info.tag = {"clf", "0123456789abcdef"};
  info.labels = {{"owner", "me"}, {"stage", "1.0"}};
  TensorSpec any{"any", DType::kInt64, {}, /*has_shape=*/false};
  TensorSpec scalar{"scalar", DType::kBool, {}, /*has_shape=*/true};
  TensorSpec image{"image", DType::kUInt8, {Dim{-1, "n"}, Dim{}, Dim{224, ""}}, true};
  info.input_specs["run"] = {image, any, scalar};
  info.output_specs["run"] = {TensorSpec{"probs", DType::kFloat32, {Dim{-1, "n"}, Dim{1000, ""}}}};
  info.providers = Json::array({"CPUExecutionProvider"});
  info.metadata = Json{{"int", 7},
                       {"float", 0.5},
                       {"big", 1e20},
                       {"numeric", "3"},
                       {"truthy", "yes"},
                       {"nothing", nullptr},
                       {"empty", ""},
                       {"list", {1, "a", 2.5}},
                       {"nested", {{"k", {{"v", true}}}}},
                       {"unicode", "\xc3\xa9t\xc3\xa9"},
                       {"multi", "a\nb"},
                       {"newline", "\n"},
                       {"newlines", "\n\n"},
                       {"trailing_newlines", "b\n\n"},
                       {"quoted_lines", "it's\n  indented\n\nlast "},
                       // Written "\_\N", which yaml-cpp 0.7 decodes to Latin-1 bytes.
                       {"nbsp_nel", "\xc2\xa0x\xc2\x85"}};
  info.context.framework_versions = {{"bento", "0.1.0"}, {"onnxruntime", "1.22.1"}};
  info.signatures = {{"run", Signature{false, {0, 0}}}, {"batched", Signature{true, {1, 0}}}};
  info.creation_time = system_clock::time_point(microseconds(1795715191698874));
  return info;
}

// Found by fuzz/model_yaml_fuzzer: a label holding bytes that decode past U+10FFFF (a 0xF7
// lead byte) was written as the escape "\U001FFFFF", which no YAML parser reads back.
TEST(ModelYamlTest, InvalidUtf8BeyondUnicodeWritesBackReadably) {
  const std::string text = "name: m\nversion: v1\nlabels: {a: \"x\xf7\xbf\xbf\xbfy\"}\n"
                           "creation_time: '2024-01-01T00:00:00+00:00'\n";
  auto info = ParseModelYaml(text);
  ASSERT_TRUE(info.ok()) << info.status();
  const std::string written = WriteModelYaml(*info);
  auto again = ParseModelYaml(written);
  ASSERT_TRUE(again.ok()) << again.status() << "\n" << written;
  EXPECT_EQ(again->labels.at("a").front(), 'x');
  EXPECT_EQ(again->labels.at("a").back(), 'y');
}

TEST(ModelYamlTest, RoundTripsEveryField) {
  ModelInfo info = SampleInfo();
  std::string text = WriteModelYaml(info);
  auto back = ParseModelYaml(text);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
  EXPECT_EQ(back->tag, info.tag);
  EXPECT_EQ(back->labels, info.labels);
  EXPECT_EQ(back->input_specs, info.input_specs);
  EXPECT_EQ(back->output_specs, info.output_specs);
  EXPECT_EQ(back->providers, info.providers);
  EXPECT_EQ(back->metadata, info.metadata);
  EXPECT_TRUE(back->metadata["int"].is_number_integer());
  EXPECT_TRUE(back->metadata["float"].is_number_float());
  EXPECT_TRUE(back->metadata["numeric"].is_string());
  EXPECT_EQ(back->context.framework_versions, info.context.framework_versions);
  EXPECT_EQ(back->signatures, info.signatures);
  EXPECT_EQ(back->creation_time, info.creation_time);
  EXPECT_EQ(WriteModelYaml(*back), text);
}

TEST(ModelYamlTest, WritesBentoMlShapes) {
  std::string text = WriteModelYaml(SampleInfo());
  EXPECT_NE(text.find("labels:\n  owner: me\n  stage: '1.0'\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    - name: any\n      type:\n        tensorType:\n          elemType: 7\n"
                      "    - name: scalar"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("elemType: 9\n          shape: {}\n"), std::string::npos) << text;
  EXPECT_NE(text.find("            - {}\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  run:\n    batchable: false\napi_version"), std::string::npos) << text;
  EXPECT_NE(text.find("  numeric: '3'\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  big: 1.0e+20\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  unicode: \"\\xE9t\\xE9\"\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  nbsp_nel: \"\\_x\\N\"\n"), std::string::npos) << text;
  // No bentoml_version / python_version when empty.
  EXPECT_EQ(text.find("bentoml_version"), std::string::npos);
}

TEST(ModelYamlTest, EmptyLabelsAndMetadataAreFlowMaps) {
  ModelInfo info;
  info.tag = {"a", "b"};
  std::string text = WriteModelYaml(info);
  EXPECT_NE(text.find("\nlabels: {}\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nmetadata: {}\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  input_specs: {}\n  output_specs: {}\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\ncreation_time: '1970-01-01T00:00:00+00:00'\n"), std::string::npos)
      << text;
}

TEST(ModelYamlTest, ReadsOtherFrameworksAndUnknownOptions) {
  auto info = ParseModelYaml(R"(name: iris
version: v1
module: bentoml.sklearn
labels: {}
options:
  some_future_option: [1, 2]
  input_specs:
    run:
    - name: t
      type:
        sequenceType: {elemType: {tensorType: {elemType: 1}}}
metadata: {}
context:
  framework_name: sklearn
  framework_versions:
    scikit-learn: 1.3.0
  bentoml_version: 1.1.0
  python_version: 3.10.0
signatures:
  predict:
    batchable: false
    batch_dim: 0
api_version: v1
creation_time: 2023-01-02 03:04:05.5+01:00
unknown_top_level_key: 3
)");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->module, "bentoml.sklearn");
  EXPECT_EQ(info->context.framework_versions.at("scikit-learn"), "1.3.0");
  EXPECT_EQ(info->signatures.count("predict"), 1u);
  EXPECT_EQ(info->signatures.count("run"), 0u);
  ASSERT_EQ(info->inputs().size(), 1u);
  EXPECT_EQ(info->inputs()[0].dtype, DType::kUndefined);
  EXPECT_EQ(FormatCreationTime(info->creation_time), "2023-01-02T02:04:05.500000+00:00");
}

TEST(ModelYamlTest, RejectsGarbageSayingWhy) {
  const std::string good_tail = "creation_time: '2026-11-26T17:46:31+00:00'\n";
  struct Case {
    std::string text;
    const char* why;
  };
  for (const Case& c : {
           Case{"", "not a mapping"},
           Case{"- a\n- b\n", "not a mapping"},
           Case{"just text", "not a mapping"},
           Case{"name: [1,\n", "not valid YAML"},
           Case{"version: v1\n" + good_tail, "name: missing"},
           Case{"name: abs\n" + good_tail, "version: missing"},
           Case{"name: ../x\nversion: v1\n" + good_tail, "not a valid tag name"},
           Case{"name: abs\nversion: latest\n" + good_tail, "latest"},
           Case{"name: abs\nversion: v1\n", "creation_time: missing"},
           Case{"name: abs\nversion: v1\ncreation_time: yesterday\n", "bad creation_time"},
           Case{"name: abs\nversion: v1\n" + good_tail + "metadata: [1]\n", "metadata"},
           Case{"name: abs\nversion: v1\n" + good_tail + "signatures:\n  run:\n    batchable: 3\n",
                "true or false"},
           Case{"name: abs\nversion: v1\n" + good_tail + "labels: [a]\n", "labels"},
           Case{"name: abs\nversion: v1\n" + good_tail +
                    "options:\n  input_specs:\n    run:\n    - type:\n        tensorType:\n"
                    "          shape:\n            dim:\n            - dimValue: abc\n",
                "integer"},
       }) {
    auto info = ParseModelYaml(c.text);
    ASSERT_FALSE(info.ok()) << c.text;
    EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(info.status().message().find(c.why), std::string::npos)
        << c.text << " -> " << info.status().message();
  }
}

TEST(CreationTimeTest, FormatsAsPythonIsoformat) {
  auto t = system_clock::time_point(microseconds(1795715191698874));
  EXPECT_EQ(FormatCreationTime(t), "2026-11-26T17:46:31.698874+00:00");
  EXPECT_EQ(FormatCreationTime(system_clock::time_point(microseconds(1795715191000000))),
            "2026-11-26T17:46:31+00:00");
  EXPECT_EQ(FormatCreationTime(t + std::chrono::nanoseconds(999)),
            "2026-11-26T17:46:31.698874+00:00");
}

// Found by fuzz/model_yaml_fuzzer: year 1012 overflowed system_clock's nanoseconds (undefined
// behaviour) instead of being refused.
TEST(CreationTimeTest, YearsSystemClockCannotHoldAreRefused) {
  for (const char* text :
       {"1012-02-29T23:59:59.999999Z", "1677-01-01T00:00:00", "2262-12-31T00:00:00"}) {
    auto t = ParseCreationTime(text);
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_NE(t.status().message().find("year outside"), std::string::npos) << t.status();
  }
  EXPECT_TRUE(ParseCreationTime("1678-01-01T00:00:00-23:59").ok());
  EXPECT_TRUE(ParseCreationTime("2261-12-31T23:59:59.999999+00:00").ok());
}

TEST(CreationTimeTest, ParsesIsoFormsAndOffsets) {
  auto expected = system_clock::time_point(microseconds(1795715191698874));
  for (const char* text :
       {"2026-11-26T17:46:31.698874+00:00", "2026-11-26 17:46:31.698874Z",
        "2026-11-26T17:46:31.698874", "2026-11-26T19:46:31.698874+02:00",
        "2026-11-26T16:46:31.6988741-01:00", "2026-11-26T17:46:31.698874 +0000"}) {
    auto t = ParseCreationTime(text);
    ASSERT_TRUE(t.ok()) << text << ": " << t.status();
    EXPECT_EQ(*t, expected) << text;
  }
  for (const char* text : {"", "2026-11-26", "2026-13-01T00:00:00", "2026-02-30T00:00:00",
                           "2026-11-26T25:00:00", "2026-11-26T17:46:31.+00:00",
                           "2026-11-26T17:46:31 junk", "26-11-26T17:46:31"}) {
    auto t = ParseCreationTime(text);
    EXPECT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace bento::store
