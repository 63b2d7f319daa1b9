#include "http/connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <exception>

#include "base/strings.h"
#include "http/request_id.h"
#include "policy/http_status.h"

namespace bento::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr size_t kReadChunk = 4096;
constexpr std::chrono::milliseconds kMaxLinger{2000};

std::string ToStd(beast::string_view s) { return std::string(s.data(), s.size()); }

// The sanitized X-Request-Id of `req`, or a generated one.
template <class Fields>
std::string RequestIdOf(const bhttp::request_header<Fields>& req) {
  auto it = req.find("X-Request-Id");
  if (it == req.end()) return SanitizeOrGenerateRequestId(std::nullopt);
  return SanitizeOrGenerateRequestId(std::string_view(it->value().data(), it->value().size()));
}

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// An answer's header and body, as one buffer sequence for net::async_write. Not a std::array,
// which Asio keeps whole from one write to the next: once the header is out, the next write
// starts with an empty buffer, on which Beast's TLS stream (Boost 1.74) writes nothing and
// so ends the write with the body unsent. Other sequences skip the buffers written.
struct HeadAndBody {
  using value_type = net::const_buffer;
  using const_iterator = const net::const_buffer*;
  const_iterator begin() const { return buffers.data(); }
  const_iterator end() const { return buffers.data() + buffers.size(); }
  std::array<net::const_buffer, 2> buffers;
};

// Fields that frame the message: the connection writes them, never a handler.
bool IsFramingField(std::string_view name) {
  return EqualsIgnoreAsciiCase(name, "Content-Length") ||
         EqualsIgnoreAsciiCase(name, "Transfer-Encoding") ||
         EqualsIgnoreAsciiCase(name, "Connection");
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  if (ep.address().is_v6()) return fmt::format("[{}]:{}", ep.address().to_string(), ep.port());
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

// The shared state behind one Responder: makes the first call count, frees the call's
// concurrency slot when the handler answers, and answers 500 if the handler drops every copy
// unanswered.
class ReplySlot {
 public:
  ReplySlot(std::shared_ptr<ServerState> state, std::weak_ptr<Connection> connection,
            uint64_t sequence, std::shared_ptr<policy::Call> call)
      : state_(std::move(state)),
        connection_(std::move(connection)),
        sequence_(sequence),
        call_(std::move(call)) {}

  ~ReplySlot() {
    if (!done_.load()) {
      spdlog::error("handler dropped its responder without answering");
      Finish(HttpResponse::Error(500, "internal error: the request was not answered"));
    }
  }

  ReplySlot(const ReplySlot&) = delete;
  ReplySlot& operator=(const ReplySlot&) = delete;

  void Finish(HttpResponse response) {
    if (done_.exchange(true)) {
      spdlog::debug("responder called more than once; later answers are ignored");
      return;
    }
    call_->Release();  // the handler is done: its concurrency slot is free
    call_.reset();
    MutexLock lock(state_->post_mu);
    if (!state_->io_alive) return;
    if (auto connection = connection_.lock()) {
      connection->PostReply(sequence_, std::move(response));
    }
  }

 private:
  const std::shared_ptr<ServerState> state_;
  const std::weak_ptr<Connection> connection_;
  const uint64_t sequence_;
  std::shared_ptr<policy::Call> call_;  // reset by the first Finish
  std::atomic<bool> done_{false};
};

}  // namespace

Connection::Connection(std::shared_ptr<ServerState> state, Socket socket)
    : state_(std::move(state)),
      options_(state_->options),
      stream_(std::move(socket)),
      request_timer_(stream_.get_executor()) {
  if (state_->tls) tls_.emplace(stream_, *state_->tls);
  beast::error_code ec;
  tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
  remote_ = ec ? "-" : FormatEndpoint(peer);
  stream_.socket().set_option(tcp::no_delay(true), ec);
}

Connection::~Connection() {
  if (!registered_) return;
  MutexLock lock(state_->mu);
  state_->connections.erase(id_);
  if (state_->connections.empty()) state_->drained.NotifyAll();
}

void Connection::Start() {
  {
    MutexLock lock(state_->mu);
    id_ = state_->next_connection_id++;
    state_->connections.emplace(id_, weak_from_this());
    registered_ = true;
  }
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    if (self->state_->stopping.load()) return self->Close();
    if (self->tls_) return self->Handshake();
    self->WaitForRequest();
  });
}

// The handshake is bounded by header_timeout, like the header of a first request.
void Connection::Handshake() {
  phase_ = Phase::kHandshake;
  SetExpiry(options_.header_timeout);
  tls_->async_handshake(net::ssl::stream_base::server,
                        [self = shared_from_this()](beast::error_code ec) {
                          if (self->phase_ == Phase::kClosed) return;
                          if (ec) {
                            spdlog::debug("TLS handshake with {} failed: {}", self->remote_,
                                          ec.message());
                            return self->Close();
                          }
                          self->WaitForRequest();
                        });
}

void Connection::PostShutdown() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->shutdown_ = true;
    // A request whose first bytes have arrived is in flight: it is answered (and the
    // connection closed after it) like one being handled. Only connections with no request
    // begun close now.
    beast::error_code ignored;
    bool request_begun =
        (self->phase_ == Phase::kReadingHeader &&
         (self->buffer_.size() > 0 || (self->parser_ && self->parser_->got_some()))) ||
        (self->phase_ == Phase::kWaiting && self->stream_.socket().available(ignored) > 0);
    if (!request_begun &&
        (self->phase_ == Phase::kHandshake || self->phase_ == Phase::kWaiting ||
         self->phase_ == Phase::kReadingHeader || self->phase_ == Phase::kLingering)) {
      self->Close();
    }
  });
}

void Connection::PostForceClose() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

void Connection::PostReply(uint64_t sequence, HttpResponse response) {
  net::post(stream_.get_executor(),
            [self = shared_from_this(), sequence, response = std::move(response)]() mutable {
              self->OnReply(sequence, std::move(response));
            });
}

void Connection::SetExpiry(std::chrono::milliseconds timeout) {
  if (timeout.count() > 0) {
    stream_.expires_after(timeout);
  } else {
    stream_.expires_never();
  }
}

void Connection::WaitForRequest() {
  phase_ = Phase::kWaiting;
  method_ = "-";
  target_ = "-";
  request_id_.clear();
  version_ = 11;
  keep_alive_ = false;
  head_request_ = false;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
  parser_->body_limit(options_.max_body_bytes);
  // The first request (and a pipelined one already buffered) is bounded by header_timeout
  // alone; a keep-alive wait for the next one by idle_timeout until its first byte.
  if (sequence_ == 0 || buffer_.size() > 0) return ReadHeader();
  SetExpiry(options_.idle_timeout);
  auto on_read = [self = shared_from_this()](beast::error_code ec, size_t n) {
    if (self->phase_ == Phase::kClosed) return;
    if (ec) return self->Close();  // idle timeout or client left
    self->buffer_.commit(n);
    self->ReadHeader();
  };
  WithStream([&](auto& s) { s.async_read_some(buffer_.prepare(kReadChunk), on_read); });
}

void Connection::ReadHeader() {
  phase_ = Phase::kReadingHeader;
  started_ = Clock::now();
  SetExpiry(options_.header_timeout);
  auto on_header = [self = shared_from_this()](beast::error_code ec, size_t) {
    self->OnHeader(ec);
  };
  WithStream([&](auto& s) { bhttp::async_read_header(s, buffer_, *parser_, on_header); });
}

void Connection::OnHeader(beast::error_code ec) {
  if (phase_ == Phase::kClosed) return;
  if (ec) return OnReadError(ec);
  ++sequence_;
  const auto& req = parser_->get();
  method_ = ToStd(req.method_string());
  target_ = ToStd(req.target());
  request_id_ = RequestIdOf(req);
  version_ = req.version() == 10 ? 10 : 11;
  keep_alive_ = req.keep_alive();
  head_request_ = req.method() == bhttp::verb::head;
  if (parser_->is_done()) return Dispatch();

  auto expect = req.find(bhttp::field::expect);
  if (req.version() >= 11 && expect != req.end() &&
      beast::iequals(expect->value(), "100-continue")) {
    phase_ = Phase::kReadingBody;
    SetExpiry(options_.read_timeout);
    auto on_continue = [self = shared_from_this()](beast::error_code ec, size_t) {
      if (self->phase_ == Phase::kClosed) return;
      if (ec) return self->Close();
      self->ReadBody();
    };
    WithStream([&](auto& s) {
      net::async_write(s, net::buffer(kContinue.data(), kContinue.size()), on_continue);
    });
    return;
  }
  ReadBody();
}

void Connection::ReadBody() {
  phase_ = Phase::kReadingBody;
  SetExpiry(options_.read_timeout);
  auto on_body = [self = shared_from_this()](beast::error_code ec, size_t) {
    if (self->phase_ == Phase::kClosed) return;
    if (ec) return self->OnReadError(ec);
    self->Dispatch();
  };
  WithStream([&](auto& s) { bhttp::async_read(s, buffer_, *parser_, on_body); });
}

void Connection::OnReadError(beast::error_code ec) {
  static const auto& kParseErrors = bhttp::make_error_code(bhttp::error::bad_method).category();
  int status;
  std::string message;
  if (ec == bhttp::error::body_limit) {
    status = 413;
    message = fmt::format("request body over the limit of {} bytes", options_.max_body_bytes);
  } else if (ec == bhttp::error::header_limit) {
    status = 431;
    message = fmt::format("request header over the limit of {} bytes", options_.max_header_bytes);
  } else if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
             ec.category() != kParseErrors) {
    // The client left, or a timeout (beast::error::timeout) or I/O error: just close.
    if (ec == beast::error::timeout) {
      spdlog::debug("closing connection from {}: {} timed out", remote_,
                    phase_ == Phase::kReadingBody ? "body" : "header");
    }
    return Close();
  } else {
    status = 400;
    message = "malformed request: " + ec.message();
  }
  // Name the request in the answer and the log as far as it was parsed.
  const auto& req = parser_->get();
  if (!req.method_string().empty()) method_ = ToStd(req.method_string());
  if (!req.target().empty()) target_ = ToStd(req.target());
  if (request_id_.empty()) request_id_ = RequestIdOf(req);
  keep_alive_ = false;
  Write(HttpResponse::Error(status, message), /*close=*/true, /*linger=*/true);
}

void Connection::Dispatch() {
  phase_ = Phase::kHandling;
  auto& req = parser_->get();
  HttpRequest request;
  request.method = method_;
  request.target = target_;
  size_t question = target_.find('?');
  request.path = target_.substr(0, question);
  if (question != std::string::npos) request.query = target_.substr(question + 1);
  for (const auto& field : req) {
    request.headers.emplace_back(ToStd(field.name_string()), ToStd(field.value()));
  }
  request.body = std::move(req.body());
  request.request_id = request_id_;
  request.remote = remote_;

  call_ = state_->admission->Admit(
      Info(policy::Admission::HttpClass(request.path), request.header("Authorization")));
  if (!call_->status().ok()) {
    HttpResponse refusal =
        HttpResponse::Error(policy::HttpStatusFor(call_->status()), call_->status().message());
    if (call_->status().code() == StatusCode::kUnauthenticated) {
      refusal.headers.emplace_back("WWW-Authenticate", "Bearer");
    }
    return Write(std::move(refusal), /*close=*/false, /*linger=*/false);
  }
  request.call = call_;

  // The pending timer keeps this connection alive while the handler works.
  request_timer_.expires_at(call_->deadline());
  request_timer_.async_wait([self = shared_from_this(), sequence = sequence_](
                                beast::error_code ec) { self->OnRequestTimeout(sequence, ec); });

  auto slot = std::make_shared<ReplySlot>(state_, weak_from_this(), sequence_, call_);
  try {
    state_->handler(std::move(request),
                    [slot](HttpResponse response) { slot->Finish(std::move(response)); });
  } catch (const std::exception& e) {
    spdlog::error("handler failed on {} {} (request {}): {}", method_, target_, request_id_,
                  e.what());
    slot->Finish(HttpResponse::Error(500, "internal error"));
  } catch (...) {
    spdlog::error("handler failed on {} {} (request {}): unknown exception", method_, target_,
                  request_id_);
    slot->Finish(HttpResponse::Error(500, "internal error"));
  }
}

void Connection::OnReply(uint64_t sequence, HttpResponse response) {
  if (phase_ != Phase::kHandling || sequence != sequence_) {
    spdlog::debug("dropping a late answer for request {} on {}", sequence, remote_);
    return;
  }
  request_timer_.cancel();
  Write(std::move(response), /*close=*/false, /*linger=*/false);
}

void Connection::OnRequestTimeout(uint64_t sequence, beast::error_code ec) {
  if (ec || phase_ != Phase::kHandling || sequence != sequence_) return;
  spdlog::warn("{} {} (request {}) not answered within {} ms", method_, target_, request_id_,
               call_->timeout_ms());
  Write(HttpResponse::Error(
            504, fmt::format("request not answered within {} ms", call_->timeout_ms())),
        /*close=*/false, /*linger=*/false);
}

void Connection::Write(HttpResponse response, bool close, bool linger) {
  phase_ = Phase::kWriting;
  if (response.status < 200 || response.status > 999) {
    spdlog::error("handler answered with invalid status {}", response.status);
    response = HttpResponse::Error(500, "internal error: invalid status");
  }
  bool keep = keep_alive_ && !close && !shutdown_ && !state_->stopping.load();
  status_ = response.status;
  // A HEAD answer says the length of the body it leaves out; 204 and 304 have none.
  const size_t content_length = response.body.size();
  bool bodiless = response.status == 204 || response.status == 304;
  if (head_request_ || bodiless) response.body.clear();
  bytes_ = response.body.size();
  // The header is written here rather than by Beast's serializer, whose buffer sequences
  // cost more than the rest of the write; its buffer keeps its capacity between requests.
  std::string& head = head_out_;
  head.clear();
  head += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  fmt::format_to(std::back_inserter(head), "{} ", response.status);
  auto reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status_)));
  head.append(reason.data(), reason.size());
  head += "\r\nServer: bento\r\n";
  auto field = [&head](std::string_view name, std::string_view value) {
    head.append(name);
    head += ": ";
    head.append(value);
    head += "\r\n";
  };
  if (!response.content_type.empty() && !HasCrLf(response.content_type)) {
    field("Content-Type", response.content_type);
  }
  field("X-Request-Id", request_id_);
  for (const auto& [name, value] : response.headers) {
    if (name.empty() || HasCrLf(name) || HasCrLf(value) ||
        name.find_first_of(" :") != std::string::npos || IsFramingField(name)) {
      spdlog::warn("dropping invalid response header '{}'", name);
      continue;
    }
    field(name, value);
  }
  if (!bodiless) {
    fmt::format_to(std::back_inserter(head), "Content-Length: {}\r\n", content_length);
  }
  if (keep && version_ == 10) field("Connection", "keep-alive");
  if (!keep && version_ != 10) field("Connection", "close");
  head += "\r\n";
  body_out_ = std::move(response.body);
  SetExpiry(options_.read_timeout);
  auto on_write = [self = shared_from_this(), close = !keep, linger](beast::error_code ec,
                                                                      size_t) {
    self->OnWrite(close, linger, ec);
  };
  HeadAndBody buffers{{net::buffer(head_out_), net::buffer(body_out_)}};
  WithStream([&](auto& s) { net::async_write(s, buffers, on_write); });
}

void Connection::OnWrite(bool close, bool linger, beast::error_code ec) {
  if (!call_) {
    // An answer the connection made itself, before any admission (a malformed request).
    call_ = state_->admission->Record(Info(policy::CallClass::kHealth, std::nullopt));
  }
  call_->Finish(status_, bytes_);
  call_.reset();
  body_out_ = std::string();  // an answer's body can be large: do not keep it
  if (phase_ == Phase::kClosed) return;
  if (ec) return Close();
  if (close || shutdown_) {
    if (linger) return Linger();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    return Close();
  }
  WaitForRequest();
}

// After an error answer the client may still be sending (a body over the limit); closing
// with unread bytes would make the kernel send RST and the client could lose the answer.
// So stop sending, discard input until the client closes, and give up after a while.
// Over TLS the discarded bytes are read from the TCP stream below, undecrypted.
void Connection::Linger() {
  phase_ = Phase::kLingering;
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  auto wait = options_.read_timeout.count() > 0 ? std::min(options_.read_timeout, kMaxLinger)
                                                : kMaxLinger;
  stream_.expires_after(wait);
  buffer_.consume(buffer_.size());
  LingerRead();
}

void Connection::LingerRead() {
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (ec || self->phase_ == Phase::kClosed) return self->Close();
                            self->LingerRead();
                          });
}

void Connection::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  request_timer_.cancel();
  stream_.close();
}

policy::CallInfo Connection::Info(policy::CallClass call_class,
                                  std::optional<std::string_view> authorization) const {
  return policy::CallInfo{.transport = version_ == 10 ? "HTTP/1.0" : "HTTP/1.1",
                          .method = method_,
                          .target = target_,
                          .remote = remote_,
                          .request_id = request_id_,
                          .authorization = authorization,
                          .call_class = call_class,
                          .start = started_};
}

}  // namespace bento::http
