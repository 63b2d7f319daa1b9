#include "tensor/half.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

namespace bento {
namespace {

// Expected bits are Python's struct.pack('<e', x), which rounds to nearest even from double.
TEST(HalfTest, RoundsToNearestEven) {
  EXPECT_EQ(DoubleToHalf(0.0), 0x0000);
  EXPECT_EQ(DoubleToHalf(-0.0), 0x8000);
  EXPECT_EQ(DoubleToHalf(1.0), 0x3C00);
  EXPECT_EQ(DoubleToHalf(-2.5), 0xC100);
  EXPECT_EQ(DoubleToHalf(0.1), 0x2E66);
  EXPECT_EQ(DoubleToHalf(1.0 / 3), 0x3555);
  EXPECT_EQ(DoubleToHalf(1.00048828125), 0x3C00);  // tie between 0x3C00 and 0x3C01: even
  EXPECT_EQ(DoubleToHalf(1.00146484375), 0x3C02);  // tie between 0x3C01 and 0x3C02: even
}

TEST(HalfTest, LargestAndOverflow) {
  EXPECT_EQ(DoubleToHalf(65504), 0x7BFF);
  EXPECT_EQ(DoubleToHalf(65519.99), 0x7BFF);
  EXPECT_EQ(DoubleToHalf(65520), 0x7C00);  // the tie rounds up to infinity
  EXPECT_EQ(DoubleToHalf(1e5), 0x7C00);
  EXPECT_EQ(DoubleToHalf(-1e300), 0xFC00);
  EXPECT_EQ(DoubleToHalf(std::numeric_limits<double>::infinity()), 0x7C00);
}

TEST(HalfTest, Subnormals) {
  EXPECT_EQ(DoubleToHalf(6.103515625e-05), 0x0400);           // smallest normal
  EXPECT_EQ(DoubleToHalf(6.097555160522461e-05), 0x03FF);      // largest subnormal
  EXPECT_EQ(DoubleToHalf(5.960464477539063e-08), 0x0001);      // smallest subnormal
  EXPECT_EQ(DoubleToHalf(1e-7), 0x0002);
  EXPECT_EQ(DoubleToHalf(1e-8), 0x0000);                       // underflows to zero
  EXPECT_EQ(DoubleToHalf(-1e-8), 0x8000);
  EXPECT_EQ(DoubleToHalf(std::ldexp(1.0, -25)), 0x0000);       // tie: even
  EXPECT_EQ(DoubleToHalf(std::ldexp(1.0, -25) + std::ldexp(1.0, -60)), 0x0001);
  EXPECT_EQ(DoubleToHalf(3 * std::ldexp(1.0, -26)), 0x0001);
  EXPECT_EQ(DoubleToHalf(std::numeric_limits<double>::denorm_min()), 0x0000);
}

TEST(HalfTest, NoDoubleRoundingThroughFloat) {
  // 1 + 2^-11 + 2^-40 is just above a tie: via float the 2^-40 is lost and the tie rounds down.
  const double d = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  EXPECT_EQ(DoubleToHalf(d), 0x3C01);
  EXPECT_EQ(FloatToHalf(static_cast<float>(d)), 0x3C00);
  const double b = 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40);
  EXPECT_EQ(DoubleToBFloat16(b), 0x3F81);
  EXPECT_EQ(FloatToBFloat16(static_cast<float>(b)), 0x3F80);
}

TEST(HalfTest, NanStaysQuietNanWithSign) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(DoubleToHalf(nan), 0x7E00);
  EXPECT_EQ(DoubleToHalf(-nan), 0xFE00);
  EXPECT_TRUE(std::isnan(HalfToFloat(0x7E00)));
  EXPECT_EQ(DoubleToBFloat16(nan), 0x7FC0);
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(0x7FC0)));
}

TEST(HalfTest, EveryHalfRoundTrips) {
  for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    const auto h = static_cast<uint16_t>(bits);
    const float f = HalfToFloat(h);
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalf(f), h) << std::hex << bits;
  }
  EXPECT_EQ(HalfToFloat(0x7BFF), 65504.0f);
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(HalfToFloat(0xFC00), -std::numeric_limits<float>::infinity());
}

TEST(BFloat16Test, RoundsAndRoundTrips) {
  EXPECT_EQ(DoubleToBFloat16(1.0), 0x3F80);
  EXPECT_EQ(DoubleToBFloat16(0.1), 0x3DCD);
  EXPECT_EQ(DoubleToBFloat16(-2.0), 0xC000);
  EXPECT_EQ(DoubleToBFloat16(1.0 + std::ldexp(1.0, -8)), 0x3F80);      // tie: even
  EXPECT_EQ(DoubleToBFloat16(1.0 + 3 * std::ldexp(1.0, -8)), 0x3F82);  // tie: even
  EXPECT_EQ(DoubleToBFloat16(3.5e38), 0x7F80);                         // overflow
  EXPECT_EQ(DoubleToBFloat16(std::ldexp(1.0, -133)), 0x0001);          // smallest subnormal
  EXPECT_EQ(DoubleToBFloat16(1e-45), 0x0000);
  for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    const auto b = static_cast<uint16_t>(bits);
    const float f = BFloat16ToFloat(b);
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToBFloat16(f), b) << std::hex << bits;
  }
}

// For float inputs, rounding float -> bfloat16 must agree with the classic bit trick.
TEST(BFloat16Test, MatchesBitTrickForFloats) {
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const uint32_t bits = rng();
    const float f = std::bit_cast<float>(bits);
    if (std::isnan(f)) continue;
    const uint32_t rounded = bits + 0x7FFF + ((bits >> 16) & 1);
    ASSERT_EQ(FloatToBFloat16(f), static_cast<uint16_t>(rounded >> 16)) << std::hex << bits;
  }
}

static_assert(DoubleToHalf(1.0) == 0x3C00, "usable in constant expressions");

}  // namespace
}  // namespace bento
