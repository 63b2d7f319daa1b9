// The tiny path's bound over HTTP: bento's own JSON decode, Run and JSON encode of a stored
// model (POST /run, as `bento serve` answers it) behind the least HTTP/1.1 server there can
// be: one epoll loop per thread, each on its own SO_REUSEPORT socket, keep-alive and
// Content-Length bodies only, and nothing else: no routing, policies, deadlines, metrics or
// logs. Not a server to use: what any HTTP layer in front of this path could at most serve on
// this machine, which bench/profile_tiny.py sets beside `bento serve` and the nginx floor.
//
//   bento_bench_bare TAG --port P [--threads N] [--intra-op-threads N] [--echo]
//
// TAG is a model in $BENTOML_HOME's store. Every POST is the model's /run (whatever its
// path); a GET answers 200 with an empty body (for /readyz). --echo answers each POST with
// its own body instead, the loop alone: the same floor nginx gives. --threads defaults to
// one loop per core, as bento's I/O threads; --intra-op-threads to 1, as `bento serve` runs
// a model it does not batch on one API worker's share of two cores.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/cpu.h"
#include "base/strings.h"
#include "bento/onnx.h"
#include "tensor/json_codec.h"

namespace {

constexpr size_t kMaxHead = 16 * 1024;
constexpr size_t kMaxBody = 64 << 20;

struct Options {
  std::string tag;
  int port = 0;
  int threads = 0;
  int intra_op_threads = 1;
  bool echo = false;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bento_bench_bare: %s\n", what.c_str());
  std::exit(1);
}

// POST /run's answer for one body, or a 400 with bento's error message.
class RunPath {
 public:
  explicit RunPath(bento::onnx::Session session) : session_(std::move(session)) {}

  // The status line's code and the JSON body.
  std::pair<int, std::string> Answer(std::string_view body) const {
    auto dtype_for = [&](std::string_view name) -> bento::StatusOr<bento::DType> {
      for (const auto& spec : session_.inputs()) {
        if (spec.name == name) return spec.dtype;
      }
      return bento::InvalidArgumentError("unknown input " + std::string(name));
    };
    auto inputs = bento::DecodeJsonTensors(body, dtype_for);
    if (!inputs.ok()) return {400, Error(inputs.status())};
    auto outputs = session_.Run(*inputs);
    if (!outputs.ok()) return {400, Error(outputs.status())};
    std::string out = "{";
    for (size_t i = 0; i < outputs->size(); ++i) {
      if (i > 0) out += ',';
      out += '"' + session_.outputs()[i].name + "\": ";
      if (auto s = bento::EncodeJsonTensor((*outputs)[i], &out); !s.ok()) return {500, Error(s)};
    }
    return {200, out + "}"};
  }

 private:
  static std::string Error(const bento::Status& status) {
    std::string out = "{\"error\":";
    bento::AppendJsonString(&out, status.message());
    return out + "}";
  }
  bento::onnx::Session session_;
};

struct Connection {
  std::string in;
  std::string out;
  size_t sent = 0;
  bool close_after = false;
  bool watching_out = false;  // registered for EPOLLOUT: an answer waits for room to send
};

// The value of header `name` in one request head, or "" when absent.
std::string_view Header(std::string_view head, std::string_view name) {
  for (size_t at = head.find("\r\n"); at != std::string_view::npos && at + 2 < head.size();) {
    const size_t end = head.find("\r\n", at + 2);
    std::string_view line = head.substr(at + 2, end - at - 2);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::string_view value = line.substr(name.size() + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return value;
    }
    at = end;
  }
  return {};
}

void Respond(Connection& c, int code, std::string_view body) {
  c.out += "HTTP/1.1 ";
  c.out += code == 200 ? "200 OK" : code == 400 ? "400 Bad Request" : "500 Internal Server Error";
  c.out += "\r\nServer: bento-bare\r\nContent-Type: application/json\r\nContent-Length: ";
  c.out += std::to_string(body.size());
  c.out += "\r\n\r\n";
  c.out += body;
}

// Answers every whole request buffered on `c`; one that cannot be read is answered 400 and
// its connection closed.
void Serve(Connection& c, const RunPath* path) {
  size_t used = 0;
  for (;;) {
    std::string_view in = std::string_view(c.in).substr(used);
    const size_t head_end = in.find("\r\n\r\n");
    if (head_end == std::string_view::npos) {
      if (in.size() > kMaxHead) break;
      c.in.erase(0, used);
      return;
    }
    std::string_view head = in.substr(0, head_end);
    size_t length = 0;
    std::string_view given = Header(head, "content-length");
    if (!Header(head, "transfer-encoding").empty()) break;
    if (!given.empty()) {
      auto [end, ec] = std::from_chars(given.data(), given.data() + given.size(), length);
      if (ec != std::errc() || end != given.data() + given.size() || length > kMaxBody) break;
    }
    if (in.size() < head_end + 4 + length) {
      c.in.erase(0, used);
      return;
    }
    std::string_view body = in.substr(head_end + 4, length);
    if (head.starts_with("GET ")) {
      Respond(c, 200, "");
    } else if (path == nullptr) {
      Respond(c, 200, body);
    } else {
      auto [code, answer] = path->Answer(body);
      Respond(c, code, answer);
    }
    used += head_end + 4 + length;
  }
  c.in.clear();
  Respond(c, 400, "{\"error\":\"malformed request\"}");
  c.close_after = true;
}

// Writes what `c` has to send; false on a broken connection.
bool Flush(int fd, Connection& c) {
  while (c.sent < c.out.size()) {
    ssize_t n = ::send(fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.sent += static_cast<size_t>(n);
  }
  c.out.clear();
  c.sent = 0;
  return true;
}

void Loop(int port, const RunPath* path) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, 1024) != 0) {
    Die("cannot listen on port " + std::to_string(port) + ": " + std::strerror(errno));
  }
  const int poll = ::epoll_create1(0);
  auto watch = [&](int op, int fd, uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    ::epoll_ctl(poll, op, fd, &event);
  };
  watch(EPOLL_CTL_ADD, listener, EPOLLIN);
  std::unordered_map<int, Connection> connections;
  std::vector<char> buffer(256 * 1024);
  epoll_event events[256];
  for (;;) {
    const int ready = ::epoll_wait(poll, events, 256, -1);
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        for (int client; (client = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
          ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          watch(EPOLL_CTL_ADD, client, EPOLLIN);
          connections[client];
        }
        continue;
      }
      Connection& c = connections[fd];
      bool open = (events[i].events & (EPOLLERR | EPOLLHUP)) == 0;
      if (open && (events[i].events & EPOLLIN) && !c.close_after) {
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n > 0) {
          c.in.append(buffer.data(), static_cast<size_t>(n));
          Serve(c, path);
        } else {
          open = n < 0 && (errno == EAGAIN || errno == EINTR);
        }
      }
      open = open && Flush(fd, c) && !(c.out.empty() && c.close_after);
      if (!open) {
        ::close(fd);
        connections.erase(fd);
      } else if (c.watching_out == c.out.empty()) {
        c.watching_out = !c.out.empty();
        watch(EPOLL_CTL_MOD, fd, c.watching_out ? EPOLLIN | EPOLLOUT : EPOLLIN);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> int {
      if (i + 1 >= argc) Die(arg + " needs a value");
      return std::atoi(argv[++i]);
    };
    if (arg == "--port") options.port = value();
    else if (arg == "--threads") options.threads = value();
    else if (arg == "--intra-op-threads") options.intra_op_threads = value();
    else if (arg == "--echo") options.echo = true;
    else if (options.tag.empty() && !arg.starts_with("--")) options.tag = arg;
    else Die("unknown argument " + arg);
  }
  if (options.tag.empty() || options.port <= 0) {
    Die("usage: bento_bench_bare TAG --port P [--threads N] [--intra-op-threads N] [--echo]");
  }
  spdlog::set_level(spdlog::level::warn);
  bento::onnx::SessionOptions session_options;
  session_options.intra_op_num_threads = options.intra_op_threads;
  auto session = bento::onnx::load_model(options.tag, {}, session_options);
  if (!session.ok()) Die(session.status().ToString());
  const RunPath path(*std::move(session));
  const int threads = options.threads > 0 ? options.threads : bento::AvailableCpus();
  std::vector<std::thread> loops;
  for (int t = 0; t < threads; ++t) {
    loops.emplace_back(Loop, options.port, options.echo ? nullptr : &path);
  }
  for (auto& loop : loops) loop.join();
}
