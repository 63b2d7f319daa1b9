// Socket-free tests of the request/response values, JSON escaping and request ids.
#include <gtest/gtest.h>

#include "http/request.h"
#include "http/request_id.h"

namespace bento::http {
namespace {

TEST(HttpRequestTest, HeaderLookupIsCaseInsensitiveAndFirstWins) {
  HttpRequest request;
  request.headers = {{"Content-Type", "text/plain"}, {"X-A", "1"}, {"x-a", "2"}};
  EXPECT_EQ(request.header("content-type"), "text/plain");
  EXPECT_EQ(request.header("X-a"), "1");
  EXPECT_FALSE(request.header("Accept").has_value());
}

TEST(HttpRequestTest, QueryParamDecodesAndDistinguishesAbsentFromEmpty) {
  HttpRequest request;
  request.query = "a=1&b=hello+world%21&flag&c%20d=%2Fx&a=2&bad=%zz";
  EXPECT_EQ(request.QueryParam("a"), "1");
  EXPECT_EQ(request.QueryParam("b"), "hello world!");
  EXPECT_EQ(request.QueryParam("flag"), "");
  EXPECT_EQ(request.QueryParam("c d"), "/x");
  EXPECT_EQ(request.QueryParam("bad"), "%zz");
  EXPECT_FALSE(request.QueryParam("missing").has_value());
}

TEST(HttpRequestTest, PercentDecodeKeepsPlusInPaths) {
  EXPECT_EQ(PercentDecode("a+b%2Bc%", /*plus_is_space=*/false), "a+b+c%");
  EXPECT_EQ(PercentDecode("a+b", /*plus_is_space=*/true), "a b");
  EXPECT_EQ(PercentDecode("%4", /*plus_is_space=*/true), "%4");
}

TEST(HttpResponseTest, ErrorBodyIsDesignJson) {
  HttpResponse response = HttpResponse::Error(404, "no route \"/x\"");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body, R"({"error": "no route \"/x\"", "detail": null})");
}

TEST(HttpResponseTest, JsonAndAggregateInitialization) {
  HttpResponse json = HttpResponse::Json(201, "[1]");
  EXPECT_EQ(json.status, 201);
  EXPECT_EQ(json.content_type, "application/json");
  EXPECT_EQ(json.body, "[1]");
  HttpResponse text{200, "text/plain", {}, "ok"};
  EXPECT_EQ(text.body, "ok");
}

TEST(RequestIdTest, GeneratesSixteenHexCharacters) {
  std::string a = GenerateRequestId();
  std::string b = GenerateRequestId();
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

TEST(RequestIdTest, KeepsSaneIdsAndReplacesOthers) {
  EXPECT_EQ(SanitizeOrGenerateRequestId("abc-123 x"), "abc-123 x");
  EXPECT_EQ(SanitizeOrGenerateRequestId(std::string(128, 'a')), std::string(128, 'a'));
  for (std::string_view bad : {std::string_view(""), std::string_view("a\tb"),
                               std::string_view("caf\xc3\xa9"), std::string_view(" pad")}) {
    std::string id = SanitizeOrGenerateRequestId(bad);
    EXPECT_EQ(id.size(), 16u) << bad;
    EXPECT_NE(id, bad);
  }
  EXPECT_EQ(SanitizeOrGenerateRequestId(std::string(129, 'a')).size(), 16u);
  EXPECT_EQ(SanitizeOrGenerateRequestId(std::nullopt).size(), 16u);
}

}  // namespace
}  // namespace bento::http
