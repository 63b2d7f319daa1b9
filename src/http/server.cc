#include "http/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <sys/resource.h>
#include <thread>

#include "base/cpu.h"
#include "http/connection.h"
#include "http/tls.h"

namespace bento::http {
namespace {

namespace net = boost::asio;
using ReusePort = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
using tcp = net::ip::tcp;
using ErrorCode = boost::system::error_code;

constexpr std::chrono::milliseconds kAcceptRetry{50};
constexpr std::chrono::milliseconds kForceCloseWait{1000};

Status ValidateOptions(const ServerOptions& o) {
  if (o.io_threads < 0) return InvalidArgumentError("io_threads must be >= 0");
  if (o.max_header_bytes == 0 || o.max_header_bytes > (size_t{1} << 31)) {
    return InvalidArgumentError("max_header_bytes must be in 1..2^31");
  }
  for (auto t : {o.header_timeout, o.read_timeout, o.idle_timeout, o.drain_timeout}) {
    if (t.count() < 0) return InvalidArgumentError("timeouts must be >= 0");
  }
  return OkStatus();
}

// Each connection holds a descriptor until its timeout reclaims it; a low soft limit (often
// 1024) would let a crowd of idle clients lock everyone else out. The hard limit is ours to
// take, as Go's runtime and nginx do.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    spdlog::debug("open file limit raised from {} to {}", before, limit.rlim_cur);
  }
}

}  // namespace

struct Server::Impl {
  Impl(int threads, ServerOptions options, Handler handler,
       std::shared_ptr<net::ssl::context> tls, std::shared_ptr<policy::Admission> admission)
      : contexts(MakeContexts(threads)),
        ioc(*contexts.front()),
        state(std::make_shared<ServerState>(std::move(options), std::move(handler),
                                            std::move(tls), std::move(admission))),
        acceptor(ioc),
        accept_timer(acceptor.get_executor()) {}

  static std::vector<std::unique_ptr<net::io_context>> MakeContexts(int threads) {
    std::vector<std::unique_ptr<net::io_context>> contexts;
    for (int i = 0; i < threads; ++i) contexts.push_back(std::make_unique<net::io_context>(1));
    return contexts;
  }

  Status Listen();
  void Accept();
  void OnAccept(ErrorCode ec, Connection::Socket socket);
  void RunIoThread(net::io_context& context);
  // Waits until every connection is gone, up to `timeout` (zero: no limit), or until
  // force_drain. Returns true when they are all gone.
  bool WaitDrained(std::chrono::milliseconds timeout) EXCLUDES(state->mu);
  std::vector<std::shared_ptr<Connection>> LiveConnections() EXCLUDES(state->mu);

  // One io_context per I/O thread, each run by its thread alone, and each connection on one
  // of them, in turn: a connection's handlers never wake another I/O thread, as they did
  // when the threads shared one io_context, whose scheduler wakes an idle thread for each
  // handler it queues. Since one thread runs each, what is on one needs no strand: its
  // handlers run one at a time. First member: destroyed last, after everything using them.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  net::io_context& ioc;  // the first: the acceptor's, the resolver's and the signals'
  size_t next_context = 0;  // the next accepted connection's, on the acceptor's thread
  const std::shared_ptr<ServerState> state;
  tcp::acceptor acceptor;        // on `ioc`
  net::steady_timer accept_timer;  // retries accept after EMFILE and the like
  std::vector<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;

  Mutex stop_mu;
  bool stop_requested GUARDED_BY(stop_mu) = false;  // a signal came, or RequestStop
  CondVar stop_cv;
  uint16_t port = 0;
  bool started = false;
  bool shut_down = false;
};

Status Server::Impl::Listen() {
  const ServerOptions& o = state->options;
  ErrorCode ec;
  tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(o.host, std::to_string(o.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec) return InvalidArgumentError(fmt::format("cannot resolve host '{}': {}", o.host,
                                                  ec.message()));
  for (const auto& entry : endpoints) {
    acceptor.close(ec);
    acceptor.open(entry.endpoint().protocol(), ec);
    if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec && o.reuse_port) acceptor.set_option(ReusePort(true), ec);
    if (!ec) acceptor.bind(entry.endpoint(), ec);
    if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (!ec) break;
  }
  if (ec || !acceptor.is_open()) {
    ErrorCode ignored;
    acceptor.close(ignored);
    std::string hint = ec == net::error::address_in_use
                           ? fmt::format(" (is another server running on port {}?)", o.port)
                           : "";
    return UnavailableError(
        fmt::format("cannot listen on {}:{}: {}{}", o.host, o.port, ec.message(), hint));
  }
  port = acceptor.local_endpoint(ec).port();
  return OkStatus();
}

void Server::Impl::Accept() {
  net::io_context& context = *contexts[next_context++ % contexts.size()];
  acceptor.async_accept(context, [this](ErrorCode ec, Connection::Socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Server::Impl::OnAccept(ErrorCode ec, Connection::Socket socket) {
  if (ec == net::error::operation_aborted || state->stopping.load() || !acceptor.is_open()) {
    return;
  }
  if (ec) {
    spdlog::warn("accept failed: {}", ec.message());
    // Out of descriptors or memory: back off instead of spinning; otherwise go on.
    if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space ||
        ec == net::error::no_memory) {
      accept_timer.expires_after(kAcceptRetry);
      accept_timer.async_wait([this](ErrorCode wait_ec) {
        if (!wait_ec && !state->stopping.load()) Accept();
      });
      return;
    }
    return Accept();
  }
  std::make_shared<Connection>(state, std::move(socket))->Start();
  Accept();
}

void Server::Impl::RunIoThread(net::io_context& context) {
  for (;;) {
    try {
      context.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("exception escaped on an HTTP I/O thread: {}", e.what());
    }
  }
}

std::vector<std::shared_ptr<Connection>> Server::Impl::LiveConnections() {
  std::vector<std::shared_ptr<Connection>> live;
  MutexLock lock(state->mu);
  for (const auto& [id, weak] : state->connections) {
    if (auto connection = weak.lock()) live.push_back(std::move(connection));
  }
  return live;
}

bool Server::Impl::WaitDrained(std::chrono::milliseconds timeout) {
  MutexLock lock(state->mu);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!state->connections.empty() && !state->force_drain) {
    if (timeout.count() > 0) {
      if (!state->drained.WaitUntil(state->mu, deadline)) break;
    } else {
      state->drained.Wait(state->mu);
    }
  }
  return state->connections.empty();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Shutdown();
}

StatusOr<std::unique_ptr<Server>> Server::Create(ServerOptions options, Handler handler,
                                                std::shared_ptr<policy::Admission> admission) {
  if (!handler) return InvalidArgumentError("http server needs a handler");
  if (!admission) {
    admission = std::make_shared<policy::Admission>(
        policy::AdmissionOptions{.access_log = false},
        std::make_shared<policy::MetricsRegistry>());
  }
  RETURN_IF_ERROR(ValidateOptions(options));
  ASSIGN_OR_RETURN(auto tls, MakeTlsContext(options));
  RaiseOpenFileLimit();
  int threads = options.io_threads;
  if (threads == 0) threads = AvailableCpus();
  auto impl =
      std::make_unique<Impl>(threads, std::move(options), std::move(handler), std::move(tls),
                             std::move(admission));
  RETURN_IF_ERROR(impl->Listen());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->port; }

void Server::Start() {
  Impl& s = *impl_;
  if (s.started || s.shut_down) return;
  s.started = true;
  for (auto& context : s.contexts) s.work.push_back(net::make_work_guard(*context));
  net::post(s.acceptor.get_executor(), [&s] { s.Accept(); });
  for (auto& context : s.contexts) {
    s.threads.emplace_back([&s, &context = *context] { s.RunIoThread(context); });
  }
  spdlog::debug("http server listening on port {} with {} I/O threads", s.port,
                s.contexts.size());
}

void Server::Shutdown() {
  Impl& s = *impl_;
  if (s.shut_down) return;
  s.shut_down = true;
  s.state->stopping.store(true);
  if (s.started) {
    net::post(s.acceptor.get_executor(), [&s] {
      ErrorCode ignored;
      s.acceptor.close(ignored);
      s.accept_timer.cancel();
    });
    for (auto& connection : s.LiveConnections()) connection->PostShutdown();
    if (!s.WaitDrained(s.state->options.drain_timeout)) {
      auto live = s.LiveConnections();
      spdlog::warn("shutdown: closing {} connection(s) still busy", live.size());
      for (auto& connection : live) connection->PostForceClose();
      live.clear();
      s.WaitDrained(kForceCloseWait);
    }
    s.work.clear();
    for (auto& context : s.contexts) context->stop();
    for (auto& thread : s.threads) thread.join();
    s.threads.clear();
  } else {
    ErrorCode ignored;
    s.acceptor.close(ignored);
  }
  // From here on Responders must not touch the io_context, which ~Impl destroys.
  MutexLock lock(s.state->post_mu);
  s.state->io_alive = false;
}

void Server::RequestStop() {
  Impl& s = *impl_;
  MutexLock lock(s.stop_mu);
  s.stop_requested = true;
  s.stop_cv.NotifyAll();
}

int Server::RunUntilSignal() {
  Impl& s = *impl_;
  net::signal_set signals(s.ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const ErrorCode& ec, int number) {
    if (!ec) spdlog::info("signal {} received: finishing requests in flight", number);
    // A second signal stops waiting for requests in flight.
    signals.async_wait([state = s.state](const ErrorCode& ec2, int) {
      if (ec2) return;
      spdlog::warn("second signal: closing connections now");
      MutexLock lock(state->mu);
      state->force_drain = true;
      state->drained.NotifyAll();
    });
    RequestStop();
  });
  Start();
  {
    MutexLock lock(s.stop_mu);
    while (!s.stop_requested) s.stop_cv.Wait(s.stop_mu);
  }
  Shutdown();
  return 0;
}

}  // namespace bento::http
