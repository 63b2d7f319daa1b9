#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>

#include "bento/model.h"

namespace bento {
namespace {

TEST(TagTest, ParsesNameAndVersion) {
  auto tag = Tag::Parse("my-model_1.2:abc123");
  ASSERT_TRUE(tag.ok()) << tag.status();
  EXPECT_EQ(tag->name, "my-model_1.2");
  EXPECT_EQ(tag->version, "abc123");
  EXPECT_TRUE(tag->has_version());
  EXPECT_EQ(tag->ToString(), "my-model_1.2:abc123");
}

TEST(TagTest, NameAloneAndLatestMeanNewest) {
  auto bare = Tag::Parse("abs");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->version, "");
  EXPECT_FALSE(bare->has_version());
  EXPECT_EQ(bare->ToString(), "abs");
  auto latest = Tag::Parse("abs:latest");
  ASSERT_TRUE(latest.ok());
  EXPECT_FALSE(latest->has_version());
}

TEST(TagTest, FoldsUpperCase) {
  auto tag = Tag::Parse("MyModel:V1");
  ASSERT_TRUE(tag.ok());
  EXPECT_EQ(tag->ToString(), "mymodel:v1");
}

TEST(TagTest, PrefixIsAValidVersion) {
  auto tag = Tag::Parse("abs:kcy3");
  ASSERT_TRUE(tag.ok());
  EXPECT_EQ(tag->version, "kcy3");
}

TEST(TagTest, RejectsMalformedTagsSayingWhy) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : {Case{"", "empty"}, Case{"../x", "must consist of"},
                        Case{"a:b:c", "at most one ':'"}, Case{"a b", "must consist of"},
                        Case{"abs:", "latest"}, Case{":v1", "name is empty"},
                        Case{"-abc", "start and end"}, Case{"abc-", "start and end"},
                        Case{"a/b", "must consist of"}, Case{"abs:v 1", "not a valid tag version"},
                        Case{"a\nb", "must consist of"}}) {
    auto tag = Tag::Parse(c.text);
    ASSERT_FALSE(tag.ok()) << c.text;
    EXPECT_EQ(tag.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(tag.status().message().find(c.why), std::string::npos)
        << c.text << ": " << tag.status().message();
  }
}

TEST(TagTest, LengthLimitIs63) {
  EXPECT_TRUE(Tag::ValidateName(std::string(63, 'a')).ok());
  Status status = Tag::ValidateName(std::string(64, 'a'));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("at most 63"), std::string::npos) << status;
  EXPECT_FALSE(Tag::Parse("abs:" + std::string(64, 'b')).ok());
}

TEST(TagTest, ValidateNameIsExact) {
  EXPECT_TRUE(Tag::ValidateName("a").ok());
  EXPECT_TRUE(Tag::ValidateName("a.b-c_d9").ok());
  EXPECT_FALSE(Tag::ValidateName("").ok());
  EXPECT_FALSE(Tag::ValidateName("Abs").ok());  // Parse folds case; names must be lower already
  EXPECT_FALSE(Tag::ValidateName(".hidden").ok());
  EXPECT_FALSE(Tag::ValidateName("a:b").ok());
}

TEST(TagTest, NewVersionsIncreaseAndMatchTheTagRules) {
  const std::regex kVersion("^[0-9a-v]{16}$");
  std::string previous;
  for (int i = 0; i < 1000; ++i) {
    std::string version = Tag::NewVersion();
    ASSERT_TRUE(std::regex_match(version, kVersion)) << version;
    ASSERT_TRUE(Tag::ValidateName(version).ok()) << version;
    ASSERT_LT(previous, version);
    previous = version;
  }
}

TEST(TagTest, NewVersionStartsWithTheTimeInMilliseconds) {
  std::string version = Tag::NewVersion();
  // The first 48 bits (9.6 characters) are milliseconds since the epoch.
  uint64_t bits = 0;
  for (char c : version.substr(0, 10)) {
    bits = (bits << 5) | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  auto ms = static_cast<int64_t>(bits >> 2);
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  EXPECT_LE(std::abs(now - ms), 60'000);
}

}  // namespace
}  // namespace bento
