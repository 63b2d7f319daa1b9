#include "store/pickle.h"

#include <gtest/gtest.h>

#include <random>

namespace bento::store {
namespace {

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

Json RandomValue(std::mt19937_64& rng, int depth) {
  switch (rng() % (depth < 4 ? 8 : 6)) {
    case 0: return nullptr;
    case 1: return rng() % 2 == 0;
    case 2: {
      static const int64_t kInts[] = {0, -1, 1, INT32_MAX, INT32_MIN, int64_t{INT32_MAX} + 1,
                                      INT64_MAX, INT64_MIN, -255, 256};
      return kInts[rng() % std::size(kInts)];
    }
    case 3: return rng() % 2 ? Json(uint64_t{UINT64_MAX}) : Json(uint64_t{1} << 63);
    case 4: {
      static const double kFloats[] = {0.0, -0.0, 0.1, 1e308, -4.9e-324, 1.0 / 3};
      return kFloats[rng() % std::size(kFloats)];
    }
    case 5: {
      static const char* kTexts[] = {"", "cat", "n\xc3\xa9" "e \xe2\x98\x83", "a\0b", "\xf0\x9f\x98\x80"};
      size_t i = rng() % std::size(kTexts);
      return i == 3 ? std::string("a\0b", 3) : std::string(kTexts[i]);
    }
    case 6: {
      Json list = Json::array();
      for (int i = static_cast<int>(rng() % 4); i > 0; --i) list.push_back(RandomValue(rng, depth + 1));
      return list;
    }
    default: {
      Json dict = Json::object();
      for (int i = static_cast<int>(rng() % 4); i > 0; --i) {
        dict["k" + std::to_string(rng() % 100)] = RandomValue(rng, depth + 1);
      }
      return dict;
    }
  }
}

TEST(PickleTest, RandomJsonRoundTripsExactly) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    Json value = RandomValue(rng, 0);
    auto back = ReadPickle(WritePickle(value));
    ASSERT_TRUE(back.ok()) << back.status() << " " << value.dump();
    EXPECT_EQ(back->dump(), value.dump());
    // Types too, deep: 1, 1.0 and true differ (a Python int is one type, signed or not).
    auto kinds = [](const Json& v) {
      std::string out;
      std::vector<const Json*> todo = {&v};
      while (!todo.empty()) {
        const Json* x = todo.back();
        todo.pop_back();
        out += x->is_number_integer() ? 'i' : static_cast<char>('a' + static_cast<int>(x->type()));
        if (x->is_structured()) {
          for (const auto& item : *x) todo.push_back(&item);
        }
      }
      return out;
    };
    EXPECT_EQ(kinds(*back), kinds(value)) << value.dump();
  }
}

// What Python 3.11's pickle.dumps writes, protocol 4, for
// {"a": [shared, shared], "t": (1, 2, 3), "x": -2**40, "f": 0.1} with shared = [1, "two"]:
// memo recalls (BINGET) and tuples (TUPLE3), framed.
TEST(PickleTest, ReadsWhatPythonWrites) {
  auto value = ReadPickle(Hex(
      "80049540000000000000007d94288c0161945d94285d94284b018c0374776f94656803658c017494"
      "4b014b024b0387948c0178948a060000000000ff8c016694473fb999999999999a752e"));
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->dump(),
            R"({"a":[[1,"two"],[1,"two"]],"f":0.1,"t":[1,2,3],"x":-1099511627776})");
}

// A payload that would call os.system("echo pwned") when unpickled by Python: refused, and
// the message names the custom object that holds it.
TEST(PickleTest, RefusesWhatWouldRunCode) {
  auto evil = ReadPickle(Hex(
      "8004953a000000000000007d94288c026f6b944b018c077061796c6f6164948c05706f736978948c0673"
      "797374656d9493948c0a6563686f2070776e65649485945294752e"));
  ASSERT_FALSE(evil.ok());
  EXPECT_EQ(evil.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(evil.status().message().find("custom object 'payload'"), std::string::npos)
      << evil.status();
  // Nested, protocol 2: the top-level key is still named.
  auto nested = ReadPickle(Hex(
      "80027d710058020000006f6b71015d7102284b017d7103580100000078710463706f7369780a7379737465"
      "6d0a7105580a0000006563686f2070776e656471068571075271087365732e"));
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("custom object 'ok'"), std::string::npos)
      << nested.status();
}

TEST(PickleTest, GarbageIsAnErrorNotACrash) {
  std::string good = WritePickle(Json{{"a", Json::array({1, "x", 2.5})}});
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(ReadPickle(good.substr(0, n)).ok()) << n;  // every truncation
  }
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = good;
    bytes[rng() % bytes.size()] = static_cast<char>(rng());
    (void)ReadPickle(bytes);  // any answer but a crash
  }
  for (std::string bad : {std::string("\x80\x02" "a.", 4), std::string("\x80\x02" "(.", 4),
                          std::string("\x80\x02" "h\x05.", 5), std::string("\x80\x02" "N0.", 5),
                          std::string("\x80\x02" "}K\x01K\x02s.", 9)}) {
    EXPECT_EQ(ReadPickle(bad).status().code(), StatusCode::kInvalidArgument);
  }
  // An integer wider than JSON's, and a string that is not UTF-8.
  EXPECT_FALSE(ReadPickle(std::string("\x80\x02\x8a\x09\0\0\0\0\0\0\0\0\x01.", 14)).ok());
  EXPECT_FALSE(ReadPickle(std::string("\x80\x02X\x01\0\0\0\xff.", 10)).ok());
}

}  // namespace
}  // namespace bento::store
