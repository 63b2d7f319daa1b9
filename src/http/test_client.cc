#include "http/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <strings.h>

#include <gtest/gtest.h>

namespace bento::http::testing {

std::string RawResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), key.size()) == 0) {
      return value;
    }
  }
  return "";
}

std::unique_ptr<TestClient> TestClient::Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return nullptr;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return nullptr;
  }
  return std::unique_ptr<TestClient>(new TestClient(fd));
}

TestClient::~TestClient() { Close(); }

void TestClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool TestClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool TestClient::Fill(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0 || fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(left.count()));
  if (ready <= 0) return false;
  char chunk[16384];
  ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n <= 0) return false;
  buffer_.append(chunk, static_cast<size_t>(n));
  return true;
}

std::optional<RawResponse> TestClient::Read(std::chrono::milliseconds timeout, bool head_request) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!Fill(deadline)) return std::nullopt;
  }
  RawResponse response;
  std::string_view head(buffer_.data(), end);
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12) return std::nullopt;  // "HTTP/1.1 200"
  response.status_line = status_line;
  response.status = std::stoi(std::string(status_line.substr(9, 3)));
  size_t content_length = 0;
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 2);
    line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string value(line.substr(colon + 1));
    value.erase(0, value.find_first_not_of(' '));
    response.headers.emplace_back(std::string(line.substr(0, colon)), value);
  }
  std::string length = response.header("Content-Length");
  if (!length.empty() && !head_request) content_length = std::stoul(length);
  while (buffer_.size() < end + 4 + content_length) {
    if (!Fill(deadline)) return std::nullopt;
  }
  response.body = buffer_.substr(end + 4, content_length);
  buffer_.erase(0, end + 4 + content_length);
  return response;
}

bool TestClient::WaitClosed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1)));
    if (ready < 0) return true;
    if (ready == 0) continue;
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return true;
  }
  return false;
}

std::optional<RawResponse> Fetch(uint16_t port, std::string_view method, std::string_view target,
                                 std::string_view body, std::string_view headers) {
  auto client = TestClient::Connect(port);
  if (!client) return std::nullopt;
  std::string request = std::string(method) + " " + std::string(target) +
                        " HTTP/1.1\r\nHost: localhost\r\n" + std::string(headers);
  if (!body.empty() || method == "POST") {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n";
  request += body;
  if (!client->Send(request)) return std::nullopt;
  return client->Read();
}

ServerOptions TestOptions() {
  ServerOptions options;
  options.port = 0;
  options.io_threads = 2;
  return options;
}

std::unique_ptr<Server> StartServer(ServerOptions options, Handler handler,
                                    policy::AdmissionOptions admission) {
  auto server = Server::Create(
      std::move(options), std::move(handler),
      std::make_shared<policy::Admission>(std::move(admission),
                                          std::make_shared<policy::MetricsRegistry>()));
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  (*server)->Start();
  return std::move(*server);
}

void Parked::Add(Responder responder) {
  MutexLock lock(mu_);
  responders_.push_back(std::move(responder));
  ++total_;
  cv_.NotifyAll();
}

bool Parked::WaitFor(size_t n) {
  MutexLock lock(mu_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (total_ < n) {
    if (!cv_.WaitUntil(mu_, deadline)) return total_ >= n;
  }
  return true;
}

Responder Parked::Take() {
  MutexLock lock(mu_);
  Responder responder = std::move(responders_.front());
  responders_.erase(responders_.begin());
  return responder;
}

}  // namespace bento::http::testing
