// TestClient: a small blocking HTTP/1.1 client over a raw POSIX socket, for the server tests.
// Raw bytes on purpose: tests must be able to send malformed, partial and slow requests.
// Not thread-safe; one per test thread.
#ifndef BENTO_HTTP_TEST_CLIENT_H_
#define BENTO_HTTP_TEST_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/thread_annotations.h"
#include "http/server.h"

namespace bento::http::testing {

struct RawResponse {
  std::string status_line;  // "HTTP/1.1 200 OK"
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // First header called `name` (case-insensitive), or "" when absent.
  std::string header(std::string_view name) const;
};

class TestClient {
 public:
  // Connects to 127.0.0.1:port; nullptr on failure.
  static std::unique_ptr<TestClient> Connect(uint16_t port);
  ~TestClient();

  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // Sends all of `bytes`; false when the peer has gone.
  bool Send(std::string_view bytes);

  // Reads one response (a 100 Continue counts as one), framed by Content-Length, or with no
  // body at all when `head` (the answer to a HEAD request). nullopt on EOF, error, or no
  // complete response within `timeout`.
  std::optional<RawResponse> Read(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                  bool head = false);

  // True when the server closes the connection (EOF or reset) within `timeout`; bytes that
  // arrive meanwhile are discarded.
  bool WaitClosed(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Closes the socket now.
  void Close();

 private:
  explicit TestClient(int fd) : fd_(fd) {}
  // Reads more bytes into buffer_; false on EOF, error or timeout.
  bool Fill(std::chrono::steady_clock::time_point deadline);

  int fd_;
  std::string buffer_;
};

// One request on a fresh connection: "GET /x" etc. Extra header lines end with "\r\n".
std::optional<RawResponse> Fetch(uint16_t port, std::string_view method, std::string_view target,
                                 std::string_view body = "", std::string_view headers = "");

// Options for a test server: port 0, two I/O threads, no access log.
ServerOptions TestOptions();

// Creates and starts a server; fails the calling test (and returns nullptr) on error.
// `admission` is the policy in front of the handler (no access log unless asked).
std::unique_ptr<Server> StartServer(ServerOptions options, Handler handler,
                                    policy::AdmissionOptions admission = {.access_log = false});

// Collects the Responders of handlers that answer later, so tests can hold requests in
// flight. Thread-safe.
class Parked {
 public:
  void Add(Responder responder);
  // Waits until at least `n` responders were parked in total; false after 5 s.
  bool WaitFor(size_t n);
  // Takes the oldest responder still parked. REQUIRES: one is parked.
  Responder Take();

 private:
  Mutex mu_;
  CondVar cv_;  // notified, under mu_, when a responder is added
  std::vector<Responder> responders_ GUARDED_BY(mu_);
  size_t total_ GUARDED_BY(mu_) = 0;
};

}  // namespace bento::http::testing

#endif  // BENTO_HTTP_TEST_CLIENT_H_
