#include "http/tls.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace bento::http {
namespace {

namespace ssl = boost::asio::ssl;

// What OpenSSL says went wrong ("no start line", "bad decrypt"): Asio has already moved the
// error out of OpenSSL's queue into `ec`; anything still queued is cleared.
std::string Reason(const boost::system::error_code& ec) {
  ERR_clear_error();
  return ec.message();
}

Status KeyMismatch(const ServerOptions& options) {
  return InvalidArgumentError(fmt::format("TLS key '{}' does not match certificate '{}'",
                                          options.ssl_keyfile, options.ssl_certfile));
}

}  // namespace

StatusOr<std::shared_ptr<ssl::context>> MakeTlsContext(const ServerOptions& options) {
  const bool has_cert = !options.ssl_certfile.empty();
  const bool has_key = !options.ssl_keyfile.empty();
  if (!has_cert && !has_key) return std::shared_ptr<ssl::context>();
  if (has_cert != has_key) {
    return InvalidArgumentError(
        "TLS needs both a certificate and its key (--ssl-certfile and --ssl-keyfile)");
  }
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       ec);
  if (ec) return InvalidArgumentError("cannot set up TLS: " + Reason(ec));
  // Never let OpenSSL prompt on the terminal for a key's password.
  std::string password = options.ssl_keyfile_password;
  context->set_password_callback(
      [password](size_t, ssl::context::password_purpose) { return password; }, ec);
  context->use_certificate_chain_file(options.ssl_certfile, ec);
  if (ec) {
    return InvalidArgumentError(
        fmt::format("cannot load TLS certificate '{}': {} (expected a PEM certificate)",
                    options.ssl_certfile, Reason(ec)));
  }
  context->use_private_key_file(options.ssl_keyfile, ssl::context::pem, ec);
  // Asio moves OpenSSL's error code into `ec`.
  if (ec && ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH) {
    return KeyMismatch(options);
  }
  if (ec) {
    return InvalidArgumentError(
        fmt::format("cannot load TLS key '{}': {} (expected a PEM private key, and the "
                    "right password if it is encrypted)",
                    options.ssl_keyfile, Reason(ec)));
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    ERR_clear_error();
    return KeyMismatch(options);
  }
  return context;
}

}  // namespace bento::http
