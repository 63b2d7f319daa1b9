#include "tensor/json_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tensor/half.h"
#include "tensor/json_codec_simdjson.h"
#include "tensor/random_tensors.h"

namespace bento {
namespace {

using Shape = std::vector<int64_t>;

Tensor Decode(std::string_view json, DType dtype) {
  StatusOr<Tensor> t = DecodeJsonTensor(json, dtype);
  EXPECT_TRUE(t.ok()) << json << ": " << t.status();
  return t.ok() ? *t : Tensor();
}

// The INVALID_ARGUMENT message decoding `json` gives.
std::string DecodeError(std::string_view json, DType dtype) {
  StatusOr<Tensor> t = DecodeJsonTensor(json, dtype);
  EXPECT_FALSE(t.ok()) << json << " decoded";
  if (t.ok()) return "";
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << t.status();
  return t.status().message();
}

// The shape nested lists can express: dimensions after a 0 leave no trace ([2, 0, 3] -> [[], []]).
Shape NestedShape(Shape shape) {
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 0) shape.resize(i + 1);
  }
  return shape;
}

std::string Encode(const Tensor& t) {
  std::string out;
  Status s = EncodeJsonTensor(t, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  auto v = t.values<T>();
  return {v.begin(), v.end()};
}

// ---- Shapes ----

TEST(JsonDecodeTest, Float32Matrix) {
  Tensor t = Decode("[[1.0, 2.0], [3.0, 4.5]]", DType::kFloat32);
  EXPECT_EQ(t.dtype(), DType::kFloat32);
  EXPECT_EQ(t.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<float>(t), (std::vector<float>{1, 2, 3, 4.5}));
}

TEST(JsonDecodeTest, ScalarIsZeroD) {
  Tensor t = Decode(" 2.5 ", DType::kFloat64);
  EXPECT_EQ(t.shape(), Shape{});
  EXPECT_EQ(Values<double>(t), std::vector<double>{2.5});
  EXPECT_EQ(Encode(t), "2.5");
  EXPECT_EQ(Encode(Decode("true", DType::kBool)), "true");
  EXPECT_EQ(Encode(Decode("\"hi\"", DType::kString)), "\"hi\"");
  EXPECT_EQ(Encode(Decode("-7", DType::kInt8)), "-7");
}

TEST(JsonDecodeTest, OneAndThreeDimensions) {
  Tensor v = Decode("[1,2,3]", DType::kInt64);
  EXPECT_EQ(v.shape(), Shape{3});
  EXPECT_EQ(Values<int64_t>(v), (std::vector<int64_t>{1, 2, 3}));
  Tensor t = Decode("[[[1,2],[3,4],[5,6]],[[7,8],[9,10],[11,12]]]", DType::kInt32);
  EXPECT_EQ(t.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(Values<int32_t>(t)[7], 8);
  EXPECT_EQ(Encode(t), "[[[1,2],[3,4],[5,6]],[[7,8],[9,10],[11,12]]]");
}

TEST(JsonDecodeTest, EmptyArrays) {
  EXPECT_EQ(Decode("[]", DType::kFloat32).shape(), Shape{0});
  EXPECT_EQ(Decode("[[],[]]", DType::kFloat32).shape(), (Shape{2, 0}));
  EXPECT_EQ(Decode("[[]]", DType::kString).shape(), (Shape{1, 0}));
  EXPECT_EQ(Decode("[[[]],[[]]]", DType::kInt64).shape(), (Shape{2, 1, 0}));
  EXPECT_EQ(Encode(Decode("[[],[]]", DType::kFloat32)), "[[],[]]");
  EXPECT_EQ(Encode(Decode("[]", DType::kString)), "[]");
  EXPECT_EQ(Encode(Tensor::Zeros(DType::kInt32, {0, 3})), "[]");
  EXPECT_EQ(Encode(Tensor::Zeros(DType::kInt32, {2, 0, 3})), "[[],[]]");
}

TEST(JsonDecodeTest, DecodedTensorOwnsAWritableBuffer) {
  Tensor t = Decode("[1, 2, 3]", DType::kFloat32);
  t.mutable_values<float>()[1] = 20;
  EXPECT_EQ(Values<float>(t), (std::vector<float>{1, 20, 3}));
}

// ---- Ragged arrays ----

TEST(JsonDecodeTest, RaggedArrays) {
  EXPECT_EQ(DecodeError("[[1,2,3],[4,5]]", DType::kFloat32),
            "ragged array at depth 1: expected 3 elements, got 2");
  EXPECT_EQ(DecodeError("[[1,2],[3,4,5]]", DType::kFloat32),
            "ragged array at depth 1: expected 2 elements, got 3");
  EXPECT_EQ(DecodeError("[[[1],[2]],[[3],[4,5]]]", DType::kInt64),
            "ragged array at depth 2: expected 1 elements, got 2");
  EXPECT_EQ(DecodeError("[[1,2],3]", DType::kFloat32),
            "ragged array at depth 1: expected an array, got a number at [1]");
  EXPECT_EQ(DecodeError("[1,[2]]", DType::kFloat32),
            "ragged array at depth 1: expected a number, got an array at [1]");
  EXPECT_EQ(DecodeError("[[true],[[false]]]", DType::kBool),
            "ragged array at depth 2: expected a boolean, got an array at [1][0]");
  EXPECT_EQ(DecodeError("[[],[1]]", DType::kFloat32),
            "ragged array at depth 1: expected 0 elements, got 1");
  EXPECT_EQ(DecodeError("[[1],[]]", DType::kFloat32),
            "ragged array at depth 1: expected 1 elements, got 0");
  EXPECT_EQ(DecodeError("[[[]],[]]", DType::kFloat32),
            "ragged array at depth 1: expected 1 elements, got 0");
  EXPECT_EQ(DecodeError("[[1],NaN]", DType::kFloat32),
            "malformed JSON at [1]: unexpected 'NaN'");
}

// ---- Type errors ----

TEST(JsonDecodeTest, TypeErrorsNameThePath) {
  EXPECT_EQ(DecodeError("[[1.0,2.0],[\"x\",4.0]]", DType::kFloat32),
            "invalid value at [1][0]: expected a number for float32, got a string");
  EXPECT_EQ(DecodeError("[1,null]", DType::kFloat64),
            "invalid value at [1]: expected a number for float64, got null");
  EXPECT_EQ(DecodeError("[{\"a\":1}]", DType::kFloat16),
            "invalid value at [0]: expected a number for float16, got an object");
  EXPECT_EQ(DecodeError("[[1,true]]", DType::kInt32),
            "invalid value at [0][1]: expected an integer for int32, got a boolean");
  EXPECT_EQ(DecodeError("[\"true\"]", DType::kBool),
            "invalid value at [0]: expected a boolean for bool, got a string");
  EXPECT_EQ(DecodeError("[1]", DType::kString),
            "invalid value at [0]: expected a string for string, got a number");
  EXPECT_EQ(DecodeError("\"x\"", DType::kFloat32),
            "invalid value at the top level: expected a number for float32, got a string");
  EXPECT_EQ(DecodeError("{\"a\": [1]}", DType::kFloat32),
            "invalid value at the top level: expected a number for float32, got an object");
}

TEST(JsonDecodeTest, UnsupportedDTypes) {
  StatusOr<Tensor> t = DecodeJsonTensor("[1]", DType::kComplex64);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnimplemented);
  EXPECT_FALSE(DecodeJsonTensor("[1]", DType::kUndefined).ok());
}

// ---- Every dtype ----

TEST(JsonDtypeTest, Float32RoundTrip) {
  Tensor t = Decode("[0.1, 3.4028235e+38, 1, -0.0, 1e-45, 16777216]", DType::kFloat32);
  EXPECT_EQ(Values<float>(t)[0], 0.1f);
  EXPECT_EQ(Values<float>(t)[1], std::numeric_limits<float>::max());
  EXPECT_TRUE(std::signbit(Values<float>(t)[3]));
  EXPECT_EQ(Values<float>(t)[4], std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(Encode(t), "[0.1,3.4028235e+38,1.0,-0.0,1e-45,16777216.0]");
  EXPECT_EQ(Encode(Decode("[1e39]", DType::kFloat32)), "[Infinity]");  // overflow: +inf
}

TEST(JsonDtypeTest, Float64RoundTrip) {
  Tensor t = Decode("[0.1, -2.5, 1e300, 5e-324, 1e16, 123456789012345678]", DType::kFloat64);
  EXPECT_EQ(Values<double>(t)[0], 0.1);
  EXPECT_EQ(Values<double>(t)[3], std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(Encode(t), "[0.1,-2.5,1e+300,5e-324,1e+16,123456789012345680.0]");
}

TEST(JsonDtypeTest, Float16RoundsFromDouble) {
  Tensor t = Decode("[0.1, 65504, 65520, 1e-8, 1e-7, -0.0, 1.0004882812509095]",
                    DType::kFloat16);
  EXPECT_EQ(Values<uint16_t>(t),
            (std::vector<uint16_t>{0x2E66, 0x7BFF, 0x7C00, 0x0000, 0x0002, 0x8000, 0x3C01}));
  EXPECT_EQ(Encode(t), "[0.099975586,65504.0,Infinity,0.0,1.1920929e-07,-0.0,1.0009766]");
  // What the encoder writes reads back to the same bits.
  Tensor back = Decode(Encode(t), DType::kFloat16);
  EXPECT_EQ(Values<uint16_t>(back), Values<uint16_t>(t));
}

TEST(JsonDtypeTest, BFloat16RoundsFromDouble) {
  Tensor t = Decode("[1, 0.1, -2, 3.5e38]", DType::kBFloat16);
  EXPECT_EQ(Values<uint16_t>(t), (std::vector<uint16_t>{0x3F80, 0x3DCD, 0xC000, 0x7F80}));
  EXPECT_EQ(Encode(t), "[1.0,0.100097656,-2.0,Infinity]");
  EXPECT_EQ(Values<uint16_t>(Decode(Encode(t), DType::kBFloat16)), Values<uint16_t>(t));
}

TEST(JsonDtypeTest, IntegersRoundTripAtTheirLimits) {
  struct Case {
    DType dtype;
    const char* json;
  };
  for (const Case& c : {
           Case{DType::kInt8, "[-128,0,127]"},
           Case{DType::kInt16, "[-32768,0,32767]"},
           Case{DType::kInt32, "[-2147483648,0,2147483647]"},
           Case{DType::kInt64, "[-9223372036854775808,0,9223372036854775807]"},
           Case{DType::kUInt8, "[0,1,255]"},
           Case{DType::kUInt16, "[0,1,65535]"},
           Case{DType::kUInt32, "[0,1,4294967295]"},
           Case{DType::kUInt64, "[0,1,18446744073709551615]"},
       }) {
    Tensor t = Decode(c.json, c.dtype);
    EXPECT_EQ(t.dtype(), c.dtype);
    EXPECT_EQ(t.shape(), Shape{3});
    EXPECT_EQ(Encode(t), c.json) << DTypeName(c.dtype);
  }
  EXPECT_EQ(Values<uint64_t>(Decode("[18446744073709551615]", DType::kUInt64))[0],
            18446744073709551615ull);
}

TEST(JsonDtypeTest, IntegralFloatsAreIntegers) {
  EXPECT_EQ(Values<int64_t>(Decode("[2.0, 3e2, -0.0, -1.5e1]", DType::kInt64)),
            (std::vector<int64_t>{2, 300, 0, -15}));
  EXPECT_EQ(Values<uint64_t>(Decode("[1e19]", DType::kUInt64)),
            std::vector<uint64_t>{10000000000000000000ull});
  EXPECT_EQ(Values<uint8_t>(Decode("[2.55e2]", DType::kUInt8)), std::vector<uint8_t>{255});
  EXPECT_EQ(DecodeError("[1, 1.5]", DType::kInt64),
            "invalid value at [1]: expected an integer for int64, got 1.5");
  EXPECT_EQ(DecodeError("[1e-1]", DType::kUInt8),
            "invalid value at [0]: expected an integer for uint8, got 1e-1");
}

TEST(JsonDtypeTest, IntegerRangeChecks) {
  EXPECT_EQ(DecodeError("[0,255,256]", DType::kUInt8),
            "invalid value at [2]: 256 is out of range for uint8 [0, 255]");
  EXPECT_EQ(DecodeError("[-1]", DType::kUInt32),
            "invalid value at [0]: -1 is out of range for uint32 [0, 4294967295]");
  EXPECT_EQ(DecodeError("[[-129]]", DType::kInt8),
            "invalid value at [0][0]: -129 is out of range for int8 [-128, 127]");
  EXPECT_EQ(DecodeError("[40000]", DType::kInt16),
            "invalid value at [0]: 40000 is out of range for int16 [-32768, 32767]");
  EXPECT_EQ(DecodeError("[9223372036854775808]", DType::kInt64),
            "invalid value at [0]: 9223372036854775808 is out of range for int64 "
            "[-9223372036854775808, 9223372036854775807]");
  // Rounds to -2^63 as a double, but is below it.
  EXPECT_EQ(DecodeError("[-9223372036854775809]", DType::kInt64),
            "invalid value at [0]: -9223372036854775809 is out of range for int64 "
            "[-9223372036854775808, 9223372036854775807]");
  EXPECT_EQ(DecodeError("[18446744073709551616]", DType::kUInt64),
            "invalid value at [0]: 18446744073709551616 is out of range for uint64 "
            "[0, 18446744073709551615]");
  EXPECT_EQ(DecodeError("[1e19]", DType::kInt64),
            "invalid value at [0]: 1e19 is out of range for int64 "
            "[-9223372036854775808, 9223372036854775807]");
  EXPECT_EQ(DecodeError("[-1e-0]", DType::kUInt16),
            "invalid value at [0]: -1e-0 is out of range for uint16 [0, 65535]");
  EXPECT_EQ(DecodeError("[2147483648]", DType::kInt32),
            "invalid value at [0]: 2147483648 is out of range for int32 "
            "[-2147483648, 2147483647]");
}

TEST(JsonDtypeTest, Bool) {
  Tensor t = Decode("[[true, false], [1, 0], [1.0, 0e0]]", DType::kBool);
  EXPECT_EQ(t.shape(), (Shape{3, 2}));
  EXPECT_EQ(Values<uint8_t>(t), (std::vector<uint8_t>{1, 0, 1, 0, 1, 0}));
  EXPECT_EQ(Encode(t), "[[true,false],[true,false],[true,false]]");
  EXPECT_EQ(DecodeError("[true, 2]", DType::kBool),
            "invalid value at [1]: expected true, false, 0 or 1 for bool, got 2");
  EXPECT_EQ(DecodeError("[null]", DType::kBool),
            "invalid value at [0]: expected a boolean for bool, got null");
}

TEST(JsonDtypeTest, StringsWithEscapesAndUnicode) {
  Tensor t = Decode(
      R"([["a\"b", "\u00e9t\u00e9", "\ud83d\ude00", "tab\there\n", "nul\u0000x", "/\\\/",)"
      R"( "日本"]])",
      DType::kString);
  EXPECT_EQ(t.shape(), (Shape{1, 7}));
  const auto& s = t.strings();
  EXPECT_EQ(s[0], "a\"b");
  EXPECT_EQ(s[1], "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(s[2], "\xF0\x9F\x98\x80");
  EXPECT_EQ(s[3], "tab\there\n");
  EXPECT_EQ(s[4], std::string("nul\0x", 5));
  EXPECT_EQ(s[5], "/\\/");
  EXPECT_EQ(s[6], "\xE6\x97\xA5\xE6\x9C\xAC");
  EXPECT_EQ(Encode(t),
            "[[\"a\\\"b\",\"\xC3\xA9t\xC3\xA9\",\"\xF0\x9F\x98\x80\",\"tab\\there\\n\","
            "\"nul\\u0000x\",\"/\\\\/\",\"\xE6\x97\xA5\xE6\x9C\xAC\"]]");
  // What the encoder writes decodes to the same strings.
  EXPECT_EQ(Decode(Encode(t), DType::kString).strings(), s);
}

TEST(JsonEncodeTest, InvalidUtf8BecomesReplacementCharacter) {
  Tensor t = Tensor::Strings({5}, {"ok\x01", "\xFF", "a\xC3", "\xED\xA0\x80", "\xF4\x90\x80\x80"});
  EXPECT_EQ(Encode(t),
            "[\"ok\\u0001\",\"\\ufffd\",\"a\\ufffd\",\"\\ufffd\\ufffd\\ufffd\","
            "\"\\ufffd\\ufffd\\ufffd\\ufffd\"]");
}

TEST(JsonDecodeTest, LoneSurrogateIsMalformed) {
  EXPECT_EQ(DecodeError(R"(["\ud800"])", DType::kString),
            "malformed JSON at [0]: invalid string '\"\\ud800\"'");
}

// ---- NaN and infinities ----

TEST(JsonNanTest, DecodesPythonsTokensForFloats) {
  for (DType dtype : {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16}) {
    Tensor t = Decode("[NaN, Infinity, -Infinity, 1]", dtype);
    EXPECT_EQ(t.shape(), Shape{4});
    EXPECT_EQ(Encode(t), "[NaN,Infinity,-Infinity,1.0]") << DTypeName(dtype);
  }
  Tensor root = Decode(" NaN ", DType::kFloat64);
  EXPECT_TRUE(std::isnan(Values<double>(root)[0]));
  EXPECT_EQ(Encode(Tensor::Of<float>({2}, {-std::nanf(""), 0})), "[NaN,0.0]");
}

TEST(JsonNanTest, RejectedForOtherDTypes) {
  EXPECT_EQ(DecodeError("[NaN]", DType::kInt32), "malformed JSON at [0]: unexpected 'NaN'");
  EXPECT_EQ(DecodeError("[nan]", DType::kFloat32), "malformed JSON at [0]: invalid literal 'nan'");
  EXPECT_EQ(DecodeError("NaN x", DType::kFloat32),
            "malformed JSON: unexpected content after the value (near byte 4)");
}

// ---- Malformed JSON ----

TEST(JsonMalformedTest, SyntaxErrors) {
  for (const char* json : {"[1,,2]", "[1 2]", "[1,2", "[[1],[2]", "[1,2,]", "[1]]", "]",
                           "[\"abc]", "[1,2]x"}) {
    std::string message = DecodeError(json, DType::kFloat32);
    EXPECT_EQ(message.rfind("malformed JSON", 0), 0u) << json << ": " << message;
  }
  EXPECT_EQ(DecodeError("[tru]", DType::kBool), "malformed JSON at [0]: invalid literal 'tru'");
  EXPECT_EQ(DecodeError("[nul]", DType::kFloat32), "malformed JSON at [0]: invalid literal 'nul'");
  // An object where a tensor belongs is refused before simdjson reads far enough to see more.
  EXPECT_EQ(DecodeError("{", DType::kFloat32),
            "invalid value at the top level: expected a number for float32, got an object");
  EXPECT_EQ(DecodeError("[1] [2]", DType::kInt32),
            "malformed JSON: unexpected content after the value (near byte 4)");
  EXPECT_EQ(DecodeError("2.5 3", DType::kFloat32),
            "malformed JSON: unexpected content after the value (near byte 4)");
  EXPECT_EQ(DecodeError("[1 2]", DType::kInt32),
            "malformed JSON: The JSON document has an improper structure: missing or "
            "superfluous commas, braces, missing keys, etc. (check for a missing or extra "
            "comma, bracket or quote) (near byte 3)");
  EXPECT_EQ(DecodeError("", DType::kFloat32),
            "malformed JSON: Empty: no JSON found (the body is empty)");
  EXPECT_EQ(DecodeError("[\"\xFF\"]", DType::kString).rfind("malformed JSON: ", 0), 0u);
  EXPECT_EQ(DecodeError("[-]", DType::kFloat32),
            "invalid value at [0]: cannot read '-' as float32 (malformed, or beyond the range "
            "of float64)");
  EXPECT_EQ(DecodeError("[1e400]", DType::kFloat64),
            "invalid value at [0]: cannot read '1e400' as float64 (malformed, or beyond the "
            "range of float64)");
}

TEST(JsonMalformedTest, NestingDeeperThan32IsRejected) {
  auto nested = [](int depth) {
    return std::string(depth, '[') + "1" + std::string(depth, ']');
  };
  Tensor t = Decode(nested(32), DType::kFloat32);
  EXPECT_EQ(t.shape(), Shape(32, 1));
  EXPECT_EQ(DecodeError(nested(33), DType::kFloat32), "arrays nested deeper than 32 levels");
  EXPECT_EQ(DecodeError(nested(100000), DType::kFloat32), "arrays nested deeper than 32 levels");
  EXPECT_FALSE(DecodeJsonTensor(std::string(100000, '['), DType::kFloat32).ok());
}

// Random short inputs from JSON's alphabet: every one must return, ok or not.
TEST(JsonMalformedTest, RandomInputsNeverCrash) {
  const std::string alphabet = "[]{},:\"\\ 0123456789.eE-+truefalsnNaIfiy\x01\xC3\xA9\xFF";
  std::mt19937 rng(42);
  const DType dtypes[] = {DType::kFloat32, DType::kFloat16, DType::kInt8,  DType::kUInt64,
                          DType::kInt64,   DType::kBool,    DType::kString};
  auto any = [](std::string_view) -> StatusOr<DType> { return DType::kFloat64; };
  int ok = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string json;
    const size_t len = rng() % 24;
    for (size_t j = 0; j < len; ++j) json += alphabet[rng() % alphabet.size()];
    if (i % 3 == 0) json = "[" + json;
    const DType dtype = dtypes[i % 7];
    ok += DecodeJsonTensors("{\"a\":" + json, any).ok();
    StatusOr<Tensor> t = DecodeJsonTensor(json, dtype);
    if (!t.ok()) {
      // A refusal says what was wrong.
      EXPECT_FALSE(t.status().message().empty()) << json;
      EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << json;
    } else {
      // What was accepted is a whole tensor of the asked dtype, and reads back the same
      // from what the encoder writes of it.
      ++ok;
      EXPECT_EQ(t->dtype(), dtype) << json;
      EXPECT_EQ(t->num_elements(), NumElements(t->shape())) << json;
      Tensor again = Decode(Encode(*t), dtype);
      EXPECT_EQ(again.shape(), NestedShape(t->shape())) << json;
      if (again.num_elements() != t->num_elements()) continue;
      if (dtype == DType::kString) {
        EXPECT_EQ(again.strings(), t->strings()) << json;
      } else {
        EXPECT_EQ(again.bytes(), t->bytes()) << json;
      }
    }
  }
  EXPECT_GT(ok, 0);
}

// ---- Big tensors ----

TEST(JsonDecodeTest, MillionFloats) {
  std::vector<float> values(1000 * 1000);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1000, 1000);
  for (float& v : values) v = dist(rng);
  Tensor original = Tensor::Of<float>({1000, 1000}, values);
  std::string json = Encode(original);
  Tensor t = Decode(json, DType::kFloat32);
  ASSERT_EQ(t.shape(), (Shape{1000, 1000}));
  EXPECT_EQ(t.bytes(), original.bytes());
}

// float32 text read as a double (as Python does) and narrowed must give the same float.
TEST(JsonEncodeTest, Float32ShortestTextRoundTripsThroughDouble) {
  std::mt19937 rng(3);
  std::vector<float> values;
  for (int i = 0; i < 200000; ++i) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    if (std::isfinite(f)) values.push_back(f);
  }
  std::string json = Encode(Tensor::Of<float>({static_cast<int64_t>(values.size())}, values));
  Tensor doubles = Decode(json, DType::kFloat64);
  auto d = doubles.values<double>();
  ASSERT_EQ(d.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(static_cast<float>(d[i])),
              std::bit_cast<uint32_t>(values[i]))
        << i;
  }
}

// Property: for random shapes and random bits of every dtype (NaN aside), decoding what the
// encoder wrote gives back the same tensor, bit for bit (and the same strings).
TEST(JsonEncodeTest, DecodeOfEncodeIsIdentityForEveryDType) {
  std::mt19937 rng(9);
  const DType dtypes[] = {DType::kFloat32, DType::kFloat64, DType::kFloat16, DType::kBFloat16,
                          DType::kInt8,    DType::kInt16,   DType::kInt32,   DType::kInt64,
                          DType::kUInt8,   DType::kUInt16,  DType::kUInt32,  DType::kUInt64,
                          DType::kBool,    DType::kString};
  // Whole pieces, so that each is valid or invalid UTF-8 whatever comes next to it: NUL
  // survives, and each byte that is not UTF-8 (0xFF, a lone continuation 0x80) comes back
  // as U+FFFD, the writer's documented rule.
  const std::string pieces[] = {"a", "\"", "\\", "\n", "\x01", "\xC3\xA9", "\xF0\x9F\x98\x80", "/",
                                std::string(1, '\0'), "\xFF", "\x80"};
  for (int round = 0; round < 420; ++round) {
    const DType dtype = dtypes[round % std::size(dtypes)];
    Shape shape(rng() % 5);
    for (int64_t& d : shape) d = rng() % 4;
    const int64_t n = NumElements(shape);
    if (dtype == DType::kString) {
      std::vector<std::string> values, want;
      for (int64_t i = 0; i < n; ++i) {
        std::string s, w;
        for (size_t len = rng() % 6; len > 0; --len) {
          const std::string& piece = pieces[rng() % std::size(pieces)];
          s += piece;
          w += piece == "\xFF" || piece == "\x80" ? "\xEF\xBF\xBD" : piece;
        }
        values.push_back(s);
        want.push_back(w);
      }
      const std::string json = Encode(Tensor::Strings(shape, values));
      Tensor back = Decode(json, dtype);
      EXPECT_EQ(back.shape(), NestedShape(shape)) << json;
      if (back.num_elements() == n) {
        EXPECT_EQ(back.strings(), want) << json;
      }
      continue;
    }
    Tensor t = Tensor::Zeros(dtype, shape);
    testing::FillRandomBits(t, rng, /*no_nan=*/true);
    const std::string json = Encode(t);
    Tensor back = Decode(json, dtype);
    EXPECT_EQ(back.shape(), NestedShape(shape)) << json;
    EXPECT_EQ(back.bytes(), t.bytes()) << DTypeName(dtype) << " " << json;
  }
}

TEST(JsonEncodeTest, AppendsAndRejectsWhatJsonCannotCarry) {
  std::string out = "{\"y\":";
  ASSERT_TRUE(EncodeJsonTensor(Tensor::Of<int64_t>({2}, {1, -2}), &out).ok());
  EXPECT_EQ(out, "{\"y\":[1,-2]");
  Status s = EncodeJsonTensor(Tensor::Zeros(DType::kComplex64, {1}), &out);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(out, "{\"y\":[1,-2]");
  EXPECT_FALSE(EncodeJsonTensor(Tensor(), &out).ok());
}

// ---- Request bodies ----

StatusOr<DType> ModelInputs(std::string_view name) {
  if (name == "input") return DType::kFloat32;
  if (name == "mask") return DType::kBool;
  if (name == "ids") return DType::kInt64;
  if (name == "extra") return DType::kUndefined;
  return NotFoundError("no input named '" + std::string(name) + "'");
}

TEST(JsonBodyTest, DecodesNamedInputs) {
  auto tensors = DecodeJsonTensors(
      R"({"input": [[1.0, 2.0], [3.0, 4.0]], "mask": [[true, false]], "extra": {"k": [1]},
          "ids": 7})",
      ModelInputs);
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  ASSERT_EQ(tensors->size(), 3u);
  const Tensor& input = tensors->at("input");
  EXPECT_EQ(input.dtype(), DType::kFloat32);
  EXPECT_EQ(input.shape(), (Shape{2, 2}));
  EXPECT_EQ(Values<float>(input), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(tensors->at("mask").shape(), (Shape{1, 2}));
  EXPECT_EQ(tensors->at("ids").shape(), Shape{});
  EXPECT_TRUE(DecodeJsonTensors("{}", ModelInputs)->empty());
}

TEST(JsonBodyTest, Errors) {
  auto unknown = DecodeJsonTensors(R"({"input": [1], "other": [2]})", ModelInputs);
  EXPECT_EQ(unknown.status(), NotFoundError("no input named 'other'"));

  auto bad = DecodeJsonTensors(R"({"input": [1, "x"]})", ModelInputs);
  EXPECT_EQ(bad.status(),
            InvalidArgumentError("input 'input': invalid value at [1]: expected a number for "
                                 "float32, got a string"));

  auto twice = DecodeJsonTensors(R"({"ids": 1, "ids": 2})", ModelInputs);
  EXPECT_EQ(twice.status(), InvalidArgumentError("input 'ids' given twice"));

  auto array = DecodeJsonTensors("[[1.0]]", ModelInputs);
  EXPECT_EQ(array.status(),
            InvalidArgumentError("the body must be a JSON object of named inputs, such as "
                                 "{\"input\": [[1.0, 2.0]]}; got an array"));

  auto malformed = DecodeJsonTensors(R"({"input": [1, 2}, "ids": 3})", ModelInputs);
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(malformed.status().message().find("malformed JSON"), std::string::npos)
      << malformed.status();
  EXPECT_NE(malformed.status().message().find("near byte"), std::string::npos)
      << malformed.status();

  auto trailing = DecodeJsonTensors(R"({"ids": 1} {"ids": 2})", ModelInputs);
  EXPECT_EQ(trailing.status(),
            InvalidArgumentError(
                "malformed JSON: unexpected content after the value (near byte 11)"));
}

// A C++ service's parameters: tensors decoded in place, other values handed back as text.
TEST(JsonObjectTest, DecodesTensorsInPlaceAndHandsBackTheRest) {
  auto plan = [](std::string_view name) -> StatusOr<JsonMemberPlan> {
    using Kind = JsonMemberPlan::Kind;
    if (name == "x" || name == "flags" || name == "ids") return JsonMemberPlan{Kind::kTensor};
    if (name == "typed") return JsonMemberPlan{Kind::kTensor, DType::kFloat64};
    if (name == "skipped") return JsonMemberPlan{};
    if (name == "options" || name == "label") return JsonMemberPlan{Kind::kText};
    return NotFoundError("unknown parameter '" + std::string(name) + "'");
  };
  auto members = DecodeJsonObject(
      R"({"x": [[1.5, 2], [3, 4]], "flags": [true, false], "ids": [[-7, 8]], "typed": [1],
          "skipped": [1, {"deep": true}], "options": {"k": [1, "two"]} , "label": "a\u0000b"})",
      plan, "parameter");
  ASSERT_TRUE(members.ok()) << members.status();
  EXPECT_EQ(members->tensors.at("x").dtype(), DType::kFloat32);
  EXPECT_EQ(Values<float>(members->tensors.at("x")), (std::vector<float>{1.5f, 2, 3, 4}));
  EXPECT_EQ(members->tensors.at("flags").dtype(), DType::kBool);
  EXPECT_EQ(Values<int64_t>(members->tensors.at("ids")), (std::vector<int64_t>{-7, 8}));
  EXPECT_EQ(members->tensors.at("typed").dtype(), DType::kFloat64);
  EXPECT_EQ(members->tensors.size(), 4u);
  EXPECT_EQ(members->texts.at("options"), R"({"k": [1, "two"]})");
  EXPECT_EQ(members->texts.at("label"), R"("a\u0000b")");
  EXPECT_EQ(members->texts.size(), 2u);

  EXPECT_EQ(DecodeJsonObject(R"({"x": [1], "nope": 2})", plan, "parameter").status(),
            NotFoundError("unknown parameter 'nope'"));
  EXPECT_EQ(DecodeJsonObject(R"({"x": ["a"]})", plan, "parameter").status(),
            InvalidArgumentError("parameter 'x': must be a tensor (nested lists of numbers), "
                                 "got a string"));
  EXPECT_EQ(DecodeJsonObject(R"({"x": [1, 2.5]})", plan, "parameter").status().code(),
            StatusCode::kInvalidArgument);  // int64 from the first leaf
  EXPECT_EQ(DecodeJsonObject(R"({"label": 1, "label": 2})", plan, "parameter").status(),
            InvalidArgumentError("parameter 'label' given twice"));
  EXPECT_EQ(DecodeJsonObject("[1]", plan, "parameter").status(),
            InvalidArgumentError("the body must be a JSON object of named parameters, such as "
                                 "{\"parameter\": [[1.0, 2.0]]}; got an array"));
}

TEST(JsonObjectTest, InferredDTypeFollowsTheFirstLeaf) {
  EXPECT_EQ(*InferJsonTensorDType(" [[ true, 1]]"), DType::kBool);
  EXPECT_EQ(*InferJsonTensorDType("[[-12, 3]]"), DType::kInt64);
  EXPECT_EQ(*InferJsonTensorDType("7"), DType::kInt64);
  for (const char* json : {"[1.0]", "[1e3]", "[2E-1]", "[-Infinity]", "[NaN]", "[]", "[[], []]"}) {
    EXPECT_EQ(*InferJsonTensorDType(json), DType::kFloat32) << json;
  }
  EXPECT_EQ(InferJsonTensorDType("[{}]").status().message(),
            "must be a tensor (nested lists of numbers), got an object");
  EXPECT_EQ(InferJsonTensorDType("[null]").status().message(),
            "must be a tensor (nested lists of numbers), got null");
}

// A JsonDTypeFn may itself decode (it gets its own parser).
TEST(JsonBodyTest, ReentrantCallback) {
  auto nested = [](std::string_view name) -> StatusOr<DType> {
    auto inner = DecodeJsonTensors(R"({"ids": [1, 2]})", ModelInputs);
    if (!inner.ok() || inner->at("ids").num_elements() != 2) return InternalError("inner");
    return ModelInputs(name);
  };
  auto tensors = DecodeJsonTensors(R"({"input": [1.5], "ids": [3]})", nested);
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  EXPECT_EQ(Values<float>(tensors->at("input")), std::vector<float>{1.5f});
  EXPECT_EQ(Values<int64_t>(tensors->at("ids")), std::vector<int64_t>{3});
}

// The KServe v2 codec finds "data" itself and decodes it in place.
TEST(JsonSimdjsonTest, DecodesAValueInsideADocument) {
  simdjson::padded_string json(
      std::string_view(R"({"inputs": [{"name": "x", "data": [[1, 2, 3]], "shape": [1, 3]}]})"));
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc = parser.iterate(json);
  simdjson::ondemand::value data = doc["inputs"].at(0)["data"];
  StatusOr<Tensor> t = DecodeJsonTensor(data, DType::kInt32);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->shape(), (Shape{1, 3}));
  EXPECT_EQ(Values<int32_t>(*t), (std::vector<int32_t>{1, 2, 3}));
}

}  // namespace
}  // namespace bento

namespace bento {
namespace {

TEST(EncodeJsonValueTest, FollowsTheTensorWritersRules) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  Json value = {{"b", {true, false, nullptr}},
                {"f", {1.0, 0.1, -2.5e-8, nan, inf, -inf}},
                {"i", {-3, 0, uint64_t{18446744073709551615u}}},
                {"s", "caf\xc3\xa9 \"q\" \xff\n"},
                {"o", Json::object()},
                {"a", Json::array()}};
  std::string out;
  EncodeJsonValue(value, &out);
  EXPECT_EQ(out,
            "{\"a\":[],\"b\":[true,false,null],"
            "\"f\":[1.0,0.1,-2.5e-08,NaN,Infinity,-Infinity],"
            "\"i\":[-3,0,18446744073709551615],\"o\":{},"
            "\"s\":\"caf\xc3\xa9 \\\"q\\\" \\ufffd\\n\"}");
  // A float reads the same whether it is answered as a tensor or as a Json value.
  std::string tensor;
  ASSERT_TRUE(EncodeJsonTensor(Tensor::Of<double>({3}, {nan, 1.0, -inf}), &tensor).ok());
  std::string json;
  EncodeJsonValue(Json::array({nan, 1.0, -inf}), &json);
  EXPECT_EQ(tensor, json);
  // Appends, as the tensor writer does.
  std::string prefix = "x=";
  EncodeJsonValue(Json(7), &prefix);
  EXPECT_EQ(prefix, "x=7");
}

}  // namespace
}  // namespace bento
