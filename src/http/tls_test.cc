// MakeTlsContext's refusals: each bad certificate or key setting is a clear INVALID_ARGUMENT
// naming the file, so `bento serve` stops at start instead of failing every handshake.
// (Serving over TLS is tested end to end in tests/test_tls.py with an openssl certificate.)
#include "http/tls.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace bento::http {
namespace {

std::string WriteTemp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("bento_tls_test_" + name);
  std::ofstream(path) << text;
  return path.string();
}

TEST(TlsTest, NoFilesMeansPlainHttp) {
  auto context = MakeTlsContext(ServerOptions{});
  ASSERT_TRUE(context.ok()) << context.status().ToString();
  EXPECT_EQ(*context, nullptr);
}

TEST(TlsTest, OneFileWithoutTheOtherIsRefused) {
  ServerOptions options;
  options.ssl_certfile = "cert.pem";
  EXPECT_EQ(MakeTlsContext(options).status().code(), StatusCode::kInvalidArgument);
  options = ServerOptions{};
  options.ssl_keyfile = "key.pem";
  EXPECT_EQ(MakeTlsContext(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(TlsTest, MissingOrNonPemFilesAreRefusedByName) {
  ServerOptions options;
  options.ssl_certfile = "/nonexistent/cert.pem";
  options.ssl_keyfile = "/nonexistent/key.pem";
  auto context = MakeTlsContext(options);
  EXPECT_EQ(context.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(context.status().message().find("/nonexistent/cert.pem"), std::string::npos);

  options.ssl_certfile = WriteTemp("garbage.pem", "not a certificate\n");
  context = MakeTlsContext(options);
  EXPECT_EQ(context.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(context.status().message().find("expected a PEM certificate"), std::string::npos)
      << context.status().message();
}

}  // namespace
}  // namespace bento::http
