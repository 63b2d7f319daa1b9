// http::Server's limits and timeouts, with a real socket: body and header limits, malformed
// requests, the request timeout, max_concurrency, slow and vanishing clients.
#include <gtest/gtest.h>

#include <thread>

#include "http/server.h"
#include "http/test_client.h"

namespace bento::http {
namespace {

using std::chrono::milliseconds;
using testing::Fetch;
using testing::Parked;
using testing::StartServer;
using testing::TestClient;
using testing::TestOptions;

void Ok(HttpRequest&& request, Responder respond) {
  respond(HttpResponse{200, "text/plain", {}, "ok " + request.path});
}

TEST(ServerLimitsTest, BodyOverLimitIs413JsonAndCloses) {
  ServerOptions options = TestOptions();
  options.max_body_bytes = 1024;
  bool called = false;
  auto server = StartServer(options, [&called](HttpRequest&& r, Responder respond) {
    called = true;
    Ok(std::move(r), std::move(respond));
  });
  ASSERT_TRUE(server);
  // Declared too large: refused after the header, while the client is still sending.
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" +
                           std::string(20000, 'x')));
  auto response = client->Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_EQ(response->header("Content-Type"), "application/json");
  EXPECT_EQ(response->body,
            R"({"error": "request body over the limit of 1024 bytes", "detail": null})");
  EXPECT_EQ(response->header("Connection"), "close");
  client->Close();

  // Chunked: found too large while reading.
  auto chunked = TestClient::Connect(server->port());
  ASSERT_TRUE(chunked->Send("POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "800\r\n" + std::string(0x800, 'y') + "\r\n"));
  response = chunked->Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(chunked->WaitClosed());
  EXPECT_FALSE(called);

  auto exact = Fetch(server->port(), "POST", "/fits", std::string(1024, 'z'));
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->status, 200);
}

TEST(ServerLimitsTest, HeaderOverLimitIs431) {
  ServerOptions options = TestOptions();
  options.max_header_bytes = 1024;
  auto server = StartServer(options, Ok);
  ASSERT_TRUE(server);
  auto response = Fetch(server->port(), "GET", "/", "",
                        "X-Big: " + std::string(2000, 'h') + "\r\n");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_NE(response->body.find("\"error\": \"request header over the limit of 1024 bytes\""),
            std::string::npos)
      << response->body;
}

TEST(ServerLimitsTest, MalformedRequestIs400AndServerKeepsServing) {
  auto server = StartServer(TestOptions(), Ok);
  ASSERT_TRUE(server);
  for (std::string_view bad : {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n",
                               "GET / HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    auto client = TestClient::Connect(server->port());
    ASSERT_TRUE(client->Send(bad));
    auto response = client->Read();
    ASSERT_TRUE(response) << bad;
    EXPECT_EQ(response->status, 400) << bad;
    EXPECT_NE(response->body.find("\"error\": \"malformed request"), std::string::npos);
    EXPECT_EQ(response->header("X-Request-Id").size(), 16u);
    EXPECT_TRUE(client->WaitClosed());
  }
  auto good = Fetch(server->port(), "GET", "/after");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200);
}

TEST(ServerLimitsTest, SlowHandlerGets504AndItsLateAnswerIsHarmless) {
  ServerOptions options = TestOptions();
  Parked parked;
  auto server = StartServer(
      options,
      [&parked](HttpRequest&& request, Responder respond) {
        if (request.path == "/slow") return parked.Add(std::move(respond));
        Ok(std::move(request), std::move(respond));
      },
      {.request_timeout = milliseconds(150), .access_log = false});
  ASSERT_TRUE(server);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto timed_out = client->Read();
  ASSERT_TRUE(timed_out);
  EXPECT_EQ(timed_out->status, 504);
  EXPECT_EQ(timed_out->body, R"({"error": "request not answered within 150 ms", "detail": null})");

  // The connection lives on; the late answer must not be taken for the next request's.
  ASSERT_TRUE(client->Send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n"));
  parked.Take()(HttpResponse{200, "text/plain", {}, "late"});
  auto next = client->Read();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "ok /next");
}

TEST(ServerLimitsTest, OverMaxConcurrencyIs429ButExemptPathsPass) {
  ServerOptions options = TestOptions();
  Parked parked;
  auto server = StartServer(
      options,
      [&parked](HttpRequest&& request, Responder respond) {
        if (request.path == "/slow") return parked.Add(std::move(respond));
        Ok(std::move(request), std::move(respond));
      },
      {.max_concurrency = 1, .access_log = false});
  ASSERT_TRUE(server);
  auto busy = TestClient::Connect(server->port());
  ASSERT_TRUE(busy->Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(parked.WaitFor(1));

  auto refused = Fetch(server->port(), "POST", "/predict", "{}");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(refused->body, R"j({"error": "too many requests in flight (limit 1)", "detail": null})j");
  auto live = Fetch(server->port(), "GET", "/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  auto lookalike = Fetch(server->port(), "GET", "/livezz");
  ASSERT_TRUE(lookalike);
  EXPECT_EQ(lookalike->status, 429);

  parked.Take()(HttpResponse{200, "text/plain", {}, "done"});
  auto done = busy->Read();
  ASSERT_TRUE(done);
  EXPECT_EQ(done->body, "done");
  auto again = Fetch(server->port(), "POST", "/predict", "{}");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST(ServerLimitsTest, ClientLeavingMidBodyOrMidHandlerCostsNothing) {
  Parked parked;
  auto server = StartServer(TestOptions(), [&parked](HttpRequest&& request, Responder respond) {
    if (request.path == "/slow") return parked.Add(std::move(respond));
    Ok(std::move(request), std::move(respond));
  });
  ASSERT_TRUE(server);
  auto mid_body = TestClient::Connect(server->port());
  ASSERT_TRUE(mid_body->Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc"));
  mid_body->Close();

  auto mid_handler = TestClient::Connect(server->port());
  ASSERT_TRUE(mid_handler->Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(parked.WaitFor(1));
  mid_handler->Close();
  parked.Take()(HttpResponse::Json(200, "{}"));  // written to nobody, dropped

  auto other = Fetch(server->port(), "GET", "/other");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
}

TEST(ServerLimitsTest, SlowlorisIsDisconnectedWhileOthersAreServed) {
  ServerOptions options = TestOptions();
  options.header_timeout = milliseconds(200);
  auto server = StartServer(options, Ok);
  ASSERT_TRUE(server);
  auto slow = TestClient::Connect(server->port());
  ASSERT_TRUE(slow->Send("GET / HTTP/1.1\r\n"));
  auto start = std::chrono::steady_clock::now();

  auto other = Fetch(server->port(), "GET", "/other");  // the acceptor is not blocked
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);

  bool closed = false;
  const std::string trickle = "X-Slow: " + std::string(100, 's');
  for (char c : trickle) {  // one byte every 20 ms: each read is quick, the header is not
    if (!slow->Send(std::string_view(&c, 1)) || slow->WaitClosed(milliseconds(20))) {
      closed = true;
      break;
    }
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed);
  EXPECT_GE(elapsed, milliseconds(150));
  EXPECT_LT(elapsed, milliseconds(1500));
}

TEST(ServerLimitsTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  ServerOptions options = TestOptions();
  options.idle_timeout = milliseconds(100);
  auto server = StartServer(options, Ok);
  ASSERT_TRUE(server);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(client->Read());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client->WaitClosed(milliseconds(2000)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(80));
}

TEST(ServerLimitsTest, SlowBodyIsDisconnectedAfterReadTimeout) {
  ServerOptions options = TestOptions();
  options.read_timeout = milliseconds(150);
  auto server = StartServer(options, Ok);
  ASSERT_TRUE(server);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"));
  EXPECT_TRUE(client->WaitClosed(milliseconds(2000)));
}

}  // namespace
}  // namespace bento::http
