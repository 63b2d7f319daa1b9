// WordTokenizer tests. Expected values are Python 3.11's str.lower() and str.split().
#include "bento/text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bento {
namespace {

using Ids = std::vector<int64_t>;

TEST(LowerTest, MatchesPythonForEveryScript) {
  // 'ÄÖÜ Straße ΣΟΦΙΑ Дом İstanbul ǅ'.lower() in Python.
  EXPECT_EQ(Lower("ÄÖÜ Straße ΣΟΦΙΑ Дом İstanbul ǅ").value(),
            "äöü straße σοφια дом i\xCC\x87stanbul ǆ");
  EXPECT_EQ(Lower("Hello, WORLD 42!").value(), "hello, world 42!");
  EXPECT_EQ(Lower("").value(), "");
}

TEST(LowerTest, RefusesInvalidUtf8) {
  for (std::string bad : {"\xFF", "ab\xC3", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
    StatusOr<std::string> lower = Lower(bad);
    ASSERT_FALSE(lower.ok()) << bad;
    EXPECT_EQ(lower.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(lower.status().message().find("UTF-8"), std::string::npos);
  }
}

TEST(SplitTest, SplitsOnPythonWhitespaceOnly) {
  // 'a\u00a0b\u2003c\x1cd\u200be'.split() == ['a', 'b', 'c', 'd\u200be']: a zero-width
  // space is not whitespace to Python.
  EXPECT_EQ(Split("a\u00a0b\u2003c\x1c" "d\u200b" "e").value(),
            (std::vector<std::string>{"a", "b", "c", "d\u200b" "e"}));
  EXPECT_EQ(Split("  two\t\n words  ").value(), (std::vector<std::string>{"two", "words"}));
  EXPECT_TRUE(Split(" \t\r\n ").value().empty());
  EXPECT_TRUE(Split("").value().empty());
  EXPECT_FALSE(Split("ok \xFF").ok());
}

TEST(PadOrTruncateTest, PadsWithZeroOrCuts) {
  EXPECT_EQ(PadOrTruncate({5, 6}, 4), (Ids{5, 6, 0, 0}));
  EXPECT_EQ(PadOrTruncate({5, 6, 7}, 2), (Ids{5, 6}));
  EXPECT_EQ(PadOrTruncate({5, 6}, 2), (Ids{5, 6}));
  EXPECT_EQ(PadOrTruncate({1}, 3, -1), (Ids{1, -1, -1}));
}

WordTokenizer Tokenizer() {
  return WordTokenizer::FromJson({{"the", 1}, {"cat", 2}, {"sat", 3}, {"über", 4}}).value();
}

TEST(WordTokenizerTest, EncodesLikeTheSeed) {
  WordTokenizer tokenizer = Tokenizer();
  EXPECT_EQ(tokenizer.size(), 4u);
  // Lowercased, split on whitespace, unknown words (and words with punctuation) are 0.
  EXPECT_EQ(tokenizer.Encode("The  CAT sat on the mat.").value(), (Ids{1, 2, 3, 0, 1, 0}));
  EXPECT_EQ(tokenizer.Encode("ÜBER").value(), (Ids{4}));
  EXPECT_TRUE(tokenizer.Encode("   ").value().empty());
}

TEST(WordTokenizerTest, ToTensorPadsAndTruncatesToInt64Rows) {
  WordTokenizer tokenizer = Tokenizer();
  Tensor one = tokenizer.ToTensor("the cat", 4).value();
  EXPECT_EQ(one.dtype(), DType::kInt64);
  EXPECT_EQ(one.shape(), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(Ids(one.values<int64_t>().begin(), one.values<int64_t>().end()), (Ids{1, 2, 0, 0}));

  std::vector<std::string> texts = {"sat sat sat sat sat", "cat"};
  Tensor batch = tokenizer.ToTensor(texts, 3).value();
  EXPECT_EQ(batch.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(Ids(batch.values<int64_t>().begin(), batch.values<int64_t>().end()),
            (Ids{3, 3, 3, 2, 0, 0}));
}

TEST(WordTokenizerTest, UnknownIdIsConfigurable) {
  WordTokenizer tokenizer({{"a", 7}}, /*unknown_id=*/1);
  EXPECT_EQ(tokenizer.Encode("a b").value(), (Ids{7, 1}));
}

TEST(WordTokenizerTest, RejectsBadInput) {
  EXPECT_FALSE(WordTokenizer::FromJson(Json::array({1, 2})).ok());
  StatusOr<WordTokenizer> bad_id = WordTokenizer::FromJson({{"a", "one"}});
  ASSERT_FALSE(bad_id.ok());
  EXPECT_NE(bad_id.status().message().find("'a'"), std::string::npos);
  EXPECT_FALSE(Tokenizer().ToTensor("the cat", 0).ok());
  StatusOr<Tensor> not_utf8 = Tokenizer().ToTensor("caf\xE9", 4);
  ASSERT_FALSE(not_utf8.ok());
  EXPECT_EQ(not_utf8.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace bento
