// Internal to src/http: one accepted TCP connection, and the state it shares with the Server.
//
// A Connection reads one request at a time (header, then body), hands it to the Handler,
// waits for the answer, writes it, and loops while keep-alive allows. It owns the socket,
// the parser, the per-connection timeouts and the request timer. All of its work runs on
// its I/O thread (the one thread that runs its io_context), so its members need no lock;
// other threads reach it only through Post* functions, which hop onto that thread.
//
// Lifetime: a Connection is owned by the shared_ptrs its pending asynchronous operations
// hold (shared_from_this). While the handler works, the pending request timer keeps it alive.
// Responders and the Server hold only weak_ptrs; when the last operation ends it is
// destroyed, which closes the socket and unregisters it from ServerState.
//
// Only server.cc and connection.cc include this header, because Beast is slow to compile.
#ifndef BENTO_HTTP_CONNECTION_H_
#define BENTO_HTTP_CONNECTION_H_

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/thread_annotations.h"
#include "http/request.h"
#include "http/server.h"
#include "http/tls.h"

namespace bento::http {

class Connection;

// What the Server, its Connections and outstanding Responders share. Held by shared_ptr so
// that a Responder called after the Server is gone still finds valid memory.
struct ServerState {
  ServerState(ServerOptions o, Handler h, std::shared_ptr<boost::asio::ssl::context> t,
              std::shared_ptr<policy::Admission> a)
      : options(std::move(o)), handler(std::move(h)), tls(std::move(t)), admission(std::move(a)) {}

  const ServerOptions options;
  const Handler handler;
  const std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP
  const std::shared_ptr<policy::Admission> admission;    // never null

  std::atomic<bool> stopping{false};  // Shutdown began: no new requests, close after answer

  Mutex mu;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections GUARDED_BY(mu);  // alive
  uint64_t next_connection_id GUARDED_BY(mu) = 0;
  bool force_drain GUARDED_BY(mu) = false;  // Shutdown should stop waiting for connections
  CondVar drained;  // notified, under mu, when `connections` empties or force_drain is set

  // Gate for reaching the io_context from threads that are not its own (Responders).
  // io_alive turns false, under post_mu, before the io_context is destroyed.
  Mutex post_mu;
  bool io_alive GUARDED_BY(post_mu) = true;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // The socket, stream and timer name their io_context's executor type instead of Asio's
  // default type-erased any_io_executor, whose copies and destruction on every asynchronous
  // operation cost about 15% of an I/O thread's user time on small requests.
  using Executor = boost::asio::io_context::executor_type;
  using Socket = boost::asio::ip::tcp::socket::rebind_executor<Executor>::other;

  // `socket` must be on an io_context that one thread runs.
  Connection(std::shared_ptr<ServerState> state, Socket socket);
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers with ServerState and starts reading. Call once, right after construction.
  void Start();

  // Shutdown began: close now if idle (no byte of a request received) or lingering after an
  // error, else after the current request is answered.
  void PostShutdown();

  // Shutdown's patience ran out: close now, whatever the phase.
  void PostForceClose();

  // A handler's answer to request number `sequence`; dropped unless it is still awaited.
  void PostReply(uint64_t sequence, HttpResponse response);

 private:
  enum class Phase {
    kHandshake,      // TLS handshake, before the first request
    kWaiting,        // keep-alive: for the first byte of the next request
    kReadingHeader,
    kReadingBody,
    kHandling,       // the handler has the request
    kWriting,
    kLingering,      // after an error answer: discarding what the client still sends
    kClosed,
  };
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;
  using Clock = std::chrono::steady_clock;
  using TcpStream = boost::beast::basic_stream<boost::asio::ip::tcp, Executor>;
  using TlsStream = boost::beast::ssl_stream<TcpStream&>;
  using Timer = boost::asio::steady_timer::rebind_executor<Executor>::other;

  // Calls f with the stream that carries HTTP: the TLS stream when there is one, else the
  // TCP stream. Timeouts and closing always act on the TCP stream below.
  template <class F>
  void WithStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(stream_);
    }
  }

  void Handshake();
  void WaitForRequest();
  void ReadHeader();
  void OnHeader(boost::beast::error_code ec);
  void ReadBody();
  void OnBody(boost::beast::error_code ec);
  void OnReadError(boost::beast::error_code ec);
  void Dispatch();
  void OnReply(uint64_t sequence, HttpResponse response);
  void OnRequestTimeout(uint64_t sequence, boost::beast::error_code ec);
  // Writes `response` for the current request; `close` forces Connection: close and a
  // lingering close after it (for errors that leave unread bytes behind).
  void Write(HttpResponse response, bool close, bool linger);
  void OnWrite(bool close, bool linger, boost::beast::error_code ec);
  void Linger();
  void LingerRead();
  void Close();
  void SetExpiry(std::chrono::milliseconds timeout);
  // What the Admission needs to know of the current request.
  policy::CallInfo Info(policy::CallClass call_class,
                        std::optional<std::string_view> authorization) const;

  const std::shared_ptr<ServerState> state_;
  const ServerOptions& options_;  // state_->options
  TcpStream stream_;
  std::optional<TlsStream> tls_;  // over stream_, for HTTPS
  Timer request_timer_;
  boost::beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  std::string head_out_;  // the answer being written: its header,
  std::string body_out_;  // and its body
  std::string remote_;
  uint64_t id_ = 0;
  bool registered_ = false;  // in state_->connections

  // The request being served.
  Phase phase_ = Phase::kWaiting;
  uint64_t sequence_ = 0;  // requests begun on this connection
  bool shutdown_ = false;  // close after the current answer
  std::string method_, target_, request_id_;
  // The current request's call (admitted or refused, or recorded for an error the
  // connection answers itself); finished when its answer is written.
  std::shared_ptr<policy::Call> call_;
  unsigned version_ = 11;  // 10 or 11, as the client spoke
  bool head_request_ = false;
  bool keep_alive_ = false;
  Clock::time_point started_;  // header read began
  int status_ = 0;             // of the response being written
  size_t bytes_ = 0;           // its body size
};

}  // namespace bento::http

#endif  // BENTO_HTTP_CONNECTION_H_
