// float16 (IEEE 754 binary16) and bfloat16 conversions, as raw 16-bit patterns.
//
// Tensors store these dtypes as uint16_t bits; the JSON, KServe v2 and ONNX paths convert through
// here. Narrowing rounds to nearest, ties to even, straight from the wider value (converting a
// double through float first would round twice and can be off by one ulp). Overflow gives
// infinity, values too small for a subnormal give signed zero, and NaN stays a quiet NaN with
// its sign, as numpy and ONNX Runtime do. Widening is exact.
//
// Pure functions: thread-safe and constexpr.
#ifndef BENTO_TENSOR_HALF_H_
#define BENTO_TENSOR_HALF_H_

#include <bit>
#include <cstdint>

namespace bento {
namespace half_internal {

// Rounds `value` to a binary format with kExpBits exponent and kMantBits mantissa bits
// (1 + kExpBits + kMantBits == 16) and returns its bits.
template <int kExpBits, int kMantBits>
constexpr uint16_t RoundDouble(double value) {
  static_assert(1 + kExpBits + kMantBits == 16);
  constexpr int kBias = (1 << (kExpBits - 1)) - 1;
  constexpr int kMinNormalExp = 1 - kBias;
  constexpr uint32_t kInf = ((1u << kExpBits) - 1) << kMantBits;
  constexpr uint32_t kQuietNan = kInf | (1u << (kMantBits - 1));
  constexpr uint64_t kDoubleMantMask = (uint64_t{1} << 52) - 1;

  const uint64_t bits = std::bit_cast<uint64_t>(value);
  const uint32_t sign = static_cast<uint32_t>(bits >> 48) & 0x8000u;
  const uint64_t abs = bits & ~(uint64_t{1} << 63);
  if (abs >= 0x7FF0000000000000ull) {  // Inf or NaN
    return static_cast<uint16_t>(sign | (abs == 0x7FF0000000000000ull ? kInf : kQuietNan));
  }
  const int exp = static_cast<int>(abs >> 52) - 1023;
  if (exp > kBias) return static_cast<uint16_t>(sign | kInf);

  uint64_t mant;   // significand with its leading one (exact for normals of the double)
  int shift;       // bits of `mant` below the target's last mantissa bit
  uint64_t base;   // target exponent field, already in place
  if (exp >= kMinNormalExp) {
    mant = abs & kDoubleMantMask;
    shift = 52 - kMantBits;
    base = static_cast<uint64_t>(exp + kBias) << kMantBits;
  } else {
    // A target subnormal: count in units of 2^(kMinNormalExp - kMantBits).
    mant = (abs & kDoubleMantMask) | (uint64_t{1} << 52);
    shift = 52 - kMantBits + kMinNormalExp - exp;
    if (shift > 53) return static_cast<uint16_t>(sign);  // below half the smallest subnormal
    base = 0;
  }
  const uint64_t kept = mant >> shift;
  const uint64_t rest = mant & ((uint64_t{1} << shift) - 1);
  const uint64_t halfway = uint64_t{1} << (shift - 1);
  uint64_t result = base + kept;  // a carry out of the mantissa bumps the exponent: correct
  if (rest > halfway || (rest == halfway && (kept & 1))) ++result;
  return static_cast<uint16_t>(sign | static_cast<uint32_t>(result));
}

}  // namespace half_internal

// double or float -> float16 bits, round to nearest even. 65520 and above become infinity.
constexpr uint16_t DoubleToHalf(double value) {
  return half_internal::RoundDouble<5, 10>(value);
}
constexpr uint16_t FloatToHalf(float value) { return DoubleToHalf(value); }

// float16 bits -> float, exactly.
constexpr float HalfToFloat(uint16_t half) {
  const uint32_t sign = static_cast<uint32_t>(half & 0x8000u) << 16;
  const uint32_t exp = (half >> 10) & 0x1Fu;
  const uint32_t mant = half & 0x3FFu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24 is exact in float
    const float magnitude = static_cast<float>(mant) * (1.0f / 16777216.0f);
    return sign ? -magnitude : magnitude;
  }
  if (exp == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 127 - 15) << 23) | (mant << 13));
}

// double or float -> bfloat16 bits (the top half of a float32), round to nearest even.
constexpr uint16_t DoubleToBFloat16(double value) {
  return half_internal::RoundDouble<8, 7>(value);
}
constexpr uint16_t FloatToBFloat16(float value) { return DoubleToBFloat16(value); }

// bfloat16 bits -> float, exactly.
constexpr float BFloat16ToFloat(uint16_t bf16) {
  return std::bit_cast<float>(static_cast<uint32_t>(bf16) << 16);
}

}  // namespace bento

#endif  // BENTO_TENSOR_HALF_H_
