// Session::Run with BYTES (ONNX string) tensors: every element, whatever its bytes, reaches the
// model and comes back exactly, through an Identity model.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "base/fs.h"
#include "bento/onnx.h"
#include "runtime/test_models.h"

namespace bento::onnx {
namespace {

namespace stdfs = std::filesystem;
using namespace std::string_literals;

class SessionBytesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = *fs::MakeTempDir(stdfs::temp_directory_path(), "bento-session-test-");
    ::setenv("BENTOML_HOME", home_.c_str(), 1);
    ASSERT_TRUE(save_model("ident", ModelBytes{testing::StringIdentityModel()}).ok());
    auto session = load_model("ident");
    ASSERT_TRUE(session.ok()) << session.status();
    session_.emplace(*std::move(session));
  }
  void TearDown() override { (void)fs::RemoveAll(home_); }

  // Runs `x` through the Identity model and checks that y has x's shape and every element
  // byte for byte; `label` names the tensor in a failure.
  void ExpectRoundTrip(const Tensor& x, const std::string& label) {
    auto out = session_->Run({{"x", x}});
    ASSERT_TRUE(out.ok()) << label << ": " << out.status();
    ASSERT_EQ(out->size(), 1u);
    const Tensor& y = (*out)[0];
    ASSERT_EQ(y.dtype(), DType::kString) << label;
    ASSERT_EQ(y.shape(), x.shape()) << label;
    ASSERT_EQ(y.strings().size(), x.strings().size()) << label;
    for (size_t i = 0; i < x.strings().size(); ++i) {
      const std::string& want = x.strings()[i];
      const std::string& got = y.strings()[i];
      // Not ASSERT_EQ, which would print long elements whole: show at most 32 bytes of each.
      ASSERT_TRUE(got == want) << label << ", element " << i << ": got " << got.size()
                           << " bytes, want " << want.size() << ": "
                           << ::testing::PrintToString(got.substr(0, 32)) << " vs "
                           << ::testing::PrintToString(want.substr(0, 32));
    }
  }

  stdfs::path home_;
  std::optional<Session> session_;
};

// The elements that C-string handling gets wrong, and bytes that are not UTF-8.
std::vector<std::string> SpecialElements() {
  return {"he\0llo"s, "\0lead"s,   "trail\0"s, "\0"s,      ""s,           "plain"s,
          "caf\xc3\xa9"s, "\xff\xfe"s, "\x80"s,    "\xc3"s,    "a\xbf\x80z"s, "\xed\xa0\x80"s};
}

// Regression: Session::Run filled string tensors from c_str() pointers, and ONNX Runtime copied
// each element only up to its first NUL, so "he\0llo" came back as "he" on every transport.
TEST_F(SessionBytesTest, NulBytesInStringInputsAreNotCut) {
  std::vector<std::string> elements = SpecialElements();
  ExpectRoundTrip(Tensor::Strings({static_cast<int64_t>(elements.size())}, elements),
                  "special elements");

  // 64 four-byte blobs that hold every byte value 0..255 once.
  std::vector<std::string> blobs;
  for (int b = 0; b < 256; b += 4) {
    blobs.push_back({static_cast<char>(b), static_cast<char>(b + 1), static_cast<char>(b + 2),
                     static_cast<char>(b + 3)});
  }
  ExpectRoundTrip(Tensor::Strings({16, 4}, blobs), "every byte value");

  std::string long_element(100000, 'x');
  for (size_t i = 0; i < long_element.size(); i += 997) long_element[i] = '\0';
  ExpectRoundTrip(Tensor::Strings({2}, {long_element, ""}), "long element with NULs");
  ExpectRoundTrip(Tensor::Strings({3}, {"", "", ""}), "only empty elements");
}

// One random element: a special one, a 4-byte blob, random bytes of any value, or (rarely)
// a long run of random bytes.
std::string RandomElement(std::mt19937& rng) {
  static const std::vector<std::string> kSpecial = SpecialElements();
  auto below = [&rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  auto random_bytes = [&](size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(below(256));
    return s;
  };
  switch (below(10)) {
    case 0:
    case 1:
    case 2: return kSpecial[below(kSpecial.size())];
    case 3:
    case 4: return random_bytes(4);
    case 5: return "";
    case 6: return below(8) == 0 ? random_bytes(1000 + below(20000)) : random_bytes(below(64));
    default: return random_bytes(below(16));
  }
}

// Property: for random shapes (ranks 0-3, dims 1-5, a zero dim in about one tensor of seven)
// and random elements, y == x byte for byte. The seed is fixed, so a failure reproduces.
TEST_F(SessionBytesTest, RandomBytesTensorsRoundTripExactly) {
  std::mt19937 rng(20240611);
  auto below = [&rng](int64_t n) { return std::uniform_int_distribution<int64_t>(0, n - 1)(rng); };
  int zero_sized = 0;
  for (int t = 0; t < 200; ++t) {
    std::vector<int64_t> shape(below(4));
    for (int64_t& d : shape) d = 1 + below(5);
    if (!shape.empty() && below(5) == 0) shape[below(shape.size())] = 0;
    int64_t count = 1;
    for (int64_t d : shape) count *= d;
    zero_sized += count == 0;
    std::vector<std::string> elements(count);
    for (auto& e : elements) e = RandomElement(rng);
    ExpectRoundTrip(Tensor::Strings(shape, std::move(elements)),
                    "tensor " + std::to_string(t) + " of shape " + ShapeToString(shape));
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(zero_sized, 0) << "the generator made no zero-sized tensor";
}

}  // namespace
}  // namespace bento::onnx
