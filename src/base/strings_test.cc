#include "base/strings.h"

#include <gtest/gtest.h>

namespace bento {
namespace {

TEST(JsonStringTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonString("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
  EXPECT_EQ(JsonString(std::string_view("\x01\x1f\0", 3)), "\"\\u0001\\u001f\\u0000\"");
}

TEST(JsonStringTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(JsonString("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(JsonString("a\xff" "b"), "\"a\\ufffdb\"");
  EXPECT_EQ(JsonString("\xc0\xaf"), "\"\\ufffd\\ufffd\"");    // overlong '/'
  EXPECT_EQ(JsonString("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
  EXPECT_EQ(JsonString("\xe2\x82"), "\"\\ufffd\\ufffd\"");    // truncated
}

TEST(Utf8Test, SequenceLengths) {
  EXPECT_EQ(Utf8SequenceLength("a"), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xc3\xa9"), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82\xac"), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98\x80"), 4u);
  EXPECT_EQ(Utf8SequenceLength("\xf4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xe0\x80\x80"), 0u);      // overlong
  EXPECT_EQ(Utf8SequenceLength("\x80"), 0u);                // a lone continuation byte
}

TEST(AsciiLowerTest, FoldsOnlyAsciiLetters) {
  EXPECT_EQ(AsciiLower("Multipart/Form-Data; X=1"), "multipart/form-data; x=1");
  EXPECT_EQ(AsciiLower("\xc3\x89T\xc3\xa9"), "\xc3\x89t\xc3\xa9");
  EXPECT_TRUE(EqualsIgnoreAsciiCase("Content-Type", "content-TYPE"));
  EXPECT_FALSE(EqualsIgnoreAsciiCase("Content-Type", "Content-Typ"));
  EXPECT_FALSE(EqualsIgnoreAsciiCase("\xc3\x89", "\xc3\xa9"));
}

TEST(StringsTest, FirstLineKeepsOneLineOfAMultiLineError) {
  EXPECT_EQ(FirstLine("\n  CUDA failure 100: no device  \r\n  at cuda_call.cc:121\n"),
            "CUDA failure 100: no device");
  EXPECT_EQ(FirstLine("one"), "one");
  EXPECT_EQ(FirstLine(" \n\t "), "");
  EXPECT_EQ(FirstLine(""), "");
}

}  // namespace
}  // namespace bento
