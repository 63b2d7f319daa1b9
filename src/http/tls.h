// Internal to src/http: the TLS context a Server shares among its connections.
//
// Only server.cc, connection.cc and tls.cc include this header (Asio's SSL headers pull in
// OpenSSL and are slow to compile).
#ifndef BENTO_HTTP_TLS_H_
#define BENTO_HTTP_TLS_H_

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "bento/status.h"
#include "http/server.h"

namespace bento::http {

// A server-side TLS context from options.ssl_certfile and options.ssl_keyfile (PEM), or
// nullptr when neither is set (plain HTTP). TLS 1.2 and newer only. The returned context is
// configured once here and then only read, so connections on any thread may share it.
// Errors: InvalidArgument when only one of the two files is given, when a file cannot be
// read or parsed (or the key's password is wrong), or when the key does not match the
// certificate; the message names the file.
StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const ServerOptions& options);

}  // namespace bento::http

#endif  // BENTO_HTTP_TLS_H_
