#include "io/multipart.h"

#include <gtest/gtest.h>

#include <string>

namespace bento::io {
namespace {

const char kType[] = "multipart/form-data; boundary=XyZ";

void ExpectInvalid(std::string_view body, std::string_view type, std::string_view message) {
  StatusOr<std::vector<Part>> parts = ParseMultipart(body, type);
  ASSERT_FALSE(parts.ok()) << "accepted: " << body;
  EXPECT_EQ(parts.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parts.status().message().find(message), std::string::npos) << parts.status();
}

TEST(MultipartTest, TwoFields) {
  const std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"a\"\r\n"
      "\r\n"
      "hello\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"b\"\r\n"
      "\r\n"
      "two\r\nlines\r\n"
      "--XyZ--\r\n";
  StatusOr<std::vector<Part>> parts = ParseMultipart(body, kType);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "a");
  EXPECT_EQ((*parts)[0].data, "hello");
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[0].content_type, "");
  EXPECT_EQ((*parts)[1].name, "b");
  EXPECT_EQ((*parts)[1].data, "two\r\nlines");
  // The data points into the body: no copy.
  EXPECT_GE((*parts)[0].data.data(), body.data());
  EXPECT_LT((*parts)[0].data.data(), body.data() + body.size());
}

TEST(MultipartTest, FileWithFilenameAndContentType) {
  const std::string png("\x89PNG\r\n\x1a\n\0\0binary--XyZ", 21);  // looks like a boundary
  const std::string body = "--XyZ\r\n"
                           "content-disposition: form-data; name=image; filename=\"cat.png\"\r\n"
                           "Content-Type: image/png\r\n"
                           "\r\n" +
                           png + "\r\n--XyZ--";
  StatusOr<std::vector<Part>> parts = ParseMultipart(body, kType);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 1u);
  const Part& part = (*parts)[0];
  EXPECT_EQ(part.name, "image");
  EXPECT_EQ(part.filename, "cat.png");
  EXPECT_EQ(part.content_type, "image/png");
  EXPECT_EQ(part.data, png);
  const File file = ToFile(part);
  EXPECT_EQ(file.filename, "cat.png");
  EXPECT_EQ(file.content_type, "image/png");
  EXPECT_EQ(file.bytes, png);
}

TEST(MultipartTest, QuotedBoundaryPreambleAndEpilogue) {
  const std::string body =
      "This is the preamble.\r\n--a b:c\r\n"
      "Content-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n"
      "--a b:c--\r\nepilogue, ignored\r\n--a b:c\r\nnot a part";
  StatusOr<std::vector<Part>> parts =
      ParseMultipart(body, "Multipart/Form-Data; charset=utf-8; BOUNDARY=\"a b:c\"");
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, "1");
}

TEST(MultipartTest, DispositionParameters) {
  const std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"semi;colon\"; "
      "filename=\"C:\\dir\\a \\\"b\\\".txt\"\r\n"
      "\r\nx\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=f; filename=\"fallback.txt\"; "
      "filename*=UTF-8''%E2%82%AC%20rates.txt\r\n"
      "\r\ny\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data;\r\n name=\"folded\"\r\n"
      "\r\nz\r\n"
      "--XyZ--";
  StatusOr<std::vector<Part>> parts = ParseMultipart(body, kType);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "semi;colon");
  EXPECT_EQ((*parts)[0].filename, "C:\\dir\\a \"b\".txt");  // only \" and \\ are escapes
  EXPECT_EQ((*parts)[1].filename, "\xE2\x82\xAC rates.txt");  // filename* wins
  EXPECT_EQ((*parts)[2].name, "folded");
}

TEST(MultipartTest, EmptyPartsAndNoParts) {
  const std::string body =
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"empty\"\r\n"
      "\r\n"
      "\r\n"
      "--XyZ\r\n"
      "\r\n"  // a part with no headers at all
      "\r\n"
      "--XyZ\r\n"
      "Content-Disposition: form-data; name=\"sloppy\"\r\n"
      "\r\n"  // blank line straight into the delimiter
      "--XyZ--";
  StatusOr<std::vector<Part>> parts = ParseMultipart(body, kType);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "empty");
  EXPECT_EQ((*parts)[0].data, "");
  EXPECT_EQ((*parts)[1].name, "");
  EXPECT_EQ((*parts)[1].data, "");
  EXPECT_EQ((*parts)[2].name, "sloppy");
  EXPECT_EQ((*parts)[2].data, "");

  StatusOr<std::vector<Part>> none = ParseMultipart("--XyZ--\r\n", kType);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
}

TEST(MultipartTest, BareLineFeeds) {
  const std::string body = "--XyZ\nContent-Disposition: form-data; name=a\n\nv\n--XyZ--\n";
  StatusOr<std::vector<Part>> parts = ParseMultipart(body, kType);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "a");
  EXPECT_EQ((*parts)[0].data, "v");
}

TEST(MultipartTest, RefusesTruncatedBodies) {
  const std::string whole =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--XyZ--";
  // Every strict prefix that holds a part is truncated; shorter ones have no boundary.
  for (size_t n = 5; n < whole.size(); ++n) {
    ExpectInvalid(whole.substr(0, n), kType, "truncated multipart body");
  }
  ExpectInvalid("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n--XyZ\r\n",
                kType, "truncated multipart body");  // no final boundary
  ExpectInvalid("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello", kType,
                "truncated multipart body");
}

TEST(MultipartTest, RefusesMissingBoundary) {
  ExpectInvalid("--XyZ--", "multipart/form-data", "without a boundary");
  ExpectInvalid("--XyZ--", "multipart/form-data; boundary=", "without a boundary");
  ExpectInvalid("--XyZ--", "multipart/form-data; boundary=\"\"", "without a boundary");
  ExpectInvalid("--XyZ--", "application/json", "not a multipart content type");
  ExpectInvalid("--XyZ--", "", "not a multipart content type");
  ExpectInvalid("no delimiter in here", kType, "does not contain its boundary");
  ExpectInvalid("", kType, "does not contain its boundary");
  ExpectInvalid("--XyZ--", "multipart/form-data; boundary=" + std::string(201, 'b'), "longer");
}

TEST(MultipartTest, RefusesMalformedHeaders) {
  ExpectInvalid("--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--", kType, "malformed");
}

// Found by fuzz/multipart_fuzzer: an empty part's data was a null view, not a view into the
// body as Part promises.
TEST(MultipartTest, EmptyPartDataPointsIntoTheBody) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--XyZ--\r\n";
  StatusOr<std::vector<Part>> parts = ParseMultipart(body, kType);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_TRUE((*parts)[0].data.empty());
  EXPECT_GE((*parts)[0].data.data(), body.data());
  EXPECT_LE((*parts)[0].data.data(), body.data() + body.size());
}

TEST(MultipartTest, RefusesTooManyParts) {
  std::string body;
  for (size_t i = 0; i <= kMaxParts; ++i) body += "--XyZ\r\n\r\nv\r\n";
  body += "--XyZ--";
  ExpectInvalid(body, kType, "more than 1000 multipart parts");

  std::string just_enough;
  for (size_t i = 0; i < kMaxParts; ++i) just_enough += "--XyZ\r\n\r\nv\r\n";
  just_enough += "--XyZ--";
  StatusOr<std::vector<Part>> parts = ParseMultipart(just_enough, kType);
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->size(), kMaxParts);
}

TEST(MultipartTest, RefusesHugeHeaders) {
  const std::string body = "--XyZ\r\nX-Big: " + std::string(kMaxHeaderBytes, 'a') +
                           "\r\n\r\nv\r\n--XyZ--";
  ExpectInvalid(body, kType, "headers over 16 KiB");
}

TEST(MultipartTest, HostileInputsTerminate) {
  // Many near-delimiters and long padding: each gets its precise error. (How the time grows
  // with the size is a benchmark question; ctest only bounds it by its timeout.)
  std::string body = "--XyZ\r\n\r\n";
  for (int i = 0; i < 20000; ++i) body += "\r\n--XyZx";
  body += "\r\n--XyZ" + std::string(100000, ' ') + "x";
  ExpectInvalid(body, kType, "truncated multipart body");
  // "---" is the delimiter "--" + "-" followed by "--": a close delimiter, so no parts.
  StatusOr<std::vector<Part>> dashes =
      ParseMultipart(std::string(100000, '-'), "multipart/form-data; boundary=-");
  ASSERT_TRUE(dashes.ok()) << dashes.status();
  EXPECT_TRUE(dashes->empty());
  ExpectInvalid(std::string(100000, '\n'), kType, "does not contain its boundary");
}

}  // namespace
}  // namespace bento::io
