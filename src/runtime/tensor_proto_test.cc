#include "runtime/tensor_proto.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace bento::runtime {
namespace {

// A protobuf varint field (wire type 0) with field number `field`.
std::string VarintField(int field, uint64_t value) {
  std::string out(1, static_cast<char>(field << 3));
  do {
    out += static_cast<char>((value & 0x7f) | (value >= 0x80 ? 0x80 : 0));
    value >>= 7;
  } while (value);
  return out;
}

TEST(TensorFromProtoTest, ReadsTypedValues) {
  // dims [2], data_type FLOAT (1), raw_data 8 bytes (field 9, length-delimited).
  std::string proto = VarintField(1, 2) + VarintField(2, 1) + "\x4a\x08" +
                      std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);
  auto t = TensorFromProto(proto);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->tensor.shape(), (std::vector<int64_t>{2}));
  EXPECT_EQ(t->tensor.values<float>()[1], 2.0f);
}

// Found by `make test-asan` (UBSan) on a libonnx-testdata file that is not a TensorProto:
// dims whose product overflows int64 were multiplied anyway (undefined behaviour).
TEST(TensorFromProtoTest, DimsWhoseProductOverflowsAreRefused) {
  std::string proto =
      VarintField(1, 105) + VarintField(1, 1840022140283712000) + VarintField(2, 1);
  auto t = TensorFromProto(proto);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("more elements than int64 holds"), std::string::npos)
      << t.status();
}

}  // namespace
}  // namespace bento::runtime
