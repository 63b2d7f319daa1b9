// http::Server: bento's socket server (Boost.Beast over Asio). It owns the listening socket,
// the I/O threads and every connection, and with them parsing, size limits, connection
// timeouts, keep-alive, request ids and graceful shutdown. Every complete request goes
// through policy::Admission (the API key, the concurrency limit, the deadline, request
// metrics and the access log, shared with the other transports) and then to one Handler
// (http/request.h). It knows nothing of models.
//
//   auto server = http::Server::Create(options, handler);   // binds and listens
//   if (!server.ok()) ...                                    // e.g. port in use
//   return (*server)->RunUntilSignal();                      // until SIGTERM / SIGINT
//
// What a client sees:
//   - HTTP/1.1 with keep-alive; pipelined requests are answered in order, one at a time.
//   - Every response carries `Server: bento` and `X-Request-Id`.
//   - Errors the server produces itself have the JSON body {"error": ..., "detail": null}:
//     400 malformed request, 413 body over max_body_bytes, 431 header over max_header_bytes
//     (these three close the connection); from Admission, 401 (with WWW-Authenticate:
//     Bearer) without the API key and 429 over the concurrency limit; 500 when the handler
//     threw or dropped its responder; 504 when it did not answer by the call's deadline.
//   - `Expect: 100-continue` is answered with 100 before the body is read.
//   - With ssl_certfile and ssl_keyfile, all of the above over TLS; a failed handshake
//     (plain HTTP on the TLS port, say) just closes that connection.
//   - Slow or idle clients cost only their own connection: each phase has its timeout, and
//     Create raises the soft limit on open files to the hard one so that many idle sockets
//     do not exhaust descriptors before the timeouts reclaim them.
//
// Ownership: the Server owns its threads and connections and shares the Admission; the
// Handler is copied in and must stay callable (and whatever it captures alive) until the
// Server is destroyed. Responders
// handed to the handler may outlive the Server; calling them late is harmless.
//
// Thread-safety: Start, Shutdown and RunUntilSignal are called from one controlling thread,
// never from an I/O thread (a handler). port() and RequestStop() may be called from any
// thread.
#ifndef BENTO_HTTP_SERVER_H_
#define BENTO_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bento/status.h"
#include "http/request.h"
#include "policy/admission.h"

namespace bento::http {

struct ServerOptions {
  std::string host = "127.0.0.1";  // an address or a name; "0.0.0.0" listens everywhere
  uint16_t port = 3000;            // 0 picks a free port; see Server::port()
  int io_threads = 0;              // 0: AvailableCpus() (base/cpu.h: the cgroup limit, or the cores)
  // SO_REUSEPORT: share host:port with other processes that ask too (a service's worker
  // processes, cli/processes.h), the kernel spreading connections among them. Off, a second
  // server on the port fails to bind instead of silently taking half the connections.
  bool reuse_port = false;

  size_t max_body_bytes = 64 << 20;   // over it: 413
  size_t max_header_bytes = 16 << 10;  // request line and fields; over it: 431

  // Connection timeouts; zero disables one. Each is per connection, so a slow client only
  // ever costs its own connection. (The handler's deadline is the Admission's.)
  std::chrono::milliseconds header_timeout{10000};   // first byte to end of header
  std::chrono::milliseconds read_timeout{30000};     // whole body; also bounds each write
  std::chrono::milliseconds idle_timeout{60000};     // keep-alive wait for the next request
  std::chrono::milliseconds drain_timeout{30000};    // Shutdown's wait for requests in flight

  // HTTPS: a PEM certificate (chain) and its PEM private key, both or neither. With them
  // every connection is TLS (1.2 or newer) and plain HTTP is refused at the handshake;
  // without them the server speaks plain HTTP. The password unlocks an encrypted key.
  std::string ssl_certfile;
  std::string ssl_keyfile;
  std::string ssl_keyfile_password;
};

class Server {
 public:
  // Validates `options`, loads the TLS certificate and key when given, resolves the host,
  // binds (SO_REUSEADDR) and listens. Nothing is accepted until Start(). Errors:
  // InvalidArgument for bad options, an unknown host or an unreadable or mismatched
  // certificate or key; Unavailable when the address cannot be bound (in use, not permitted).
  // `admission` applies the server's policy to every request; null admits everything (no
  // key, no limit, 60 s deadline, no access log), for tests of the socket layer alone.
  static StatusOr<std::unique_ptr<Server>> Create(
      ServerOptions options, Handler handler,
      std::shared_ptr<policy::Admission> admission = nullptr);

  // Shuts down if still running.
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port actually bound (the chosen one when options.port was 0).
  uint16_t port() const;

  // Starts the I/O threads and accepting; returns at once.
  // REQUIRES: called once, before Shutdown.
  void Start();

  // Graceful stop: stops accepting, closes idle keep-alive connections, lets requests
  // already being read or handled finish (answered with Connection: close), waits for them
  // up to drain_timeout, then stops and joins the I/O threads. Idempotent. The server cannot
  // be started again.
  void Shutdown();

  // Start(), wait for SIGTERM or SIGINT (or RequestStop), Shutdown(); returns the exit
  // code, 0.
  int RunUntilSignal();

  // Makes RunUntilSignal shut down as a signal would: for a server that has nothing left to
  // serve (every model failed to load, say). Idempotent.
  void RequestStop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace bento::http

#endif  // BENTO_HTTP_SERVER_H_
