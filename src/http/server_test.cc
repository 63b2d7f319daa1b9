// http::Server with a real socket: requests, keep-alive, request ids, asynchronous and
// failing handlers, access log, shutdown. Limits and timeouts are in server_limits_test.cc.
#include "http/server.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <sstream>
#include <thread>

#include "http/test_client.h"

namespace bento::http {
namespace {

using testing::Fetch;
using testing::Parked;
using testing::StartServer;
using testing::TestClient;
using testing::TestOptions;

// Answers "METHOD path|query|q=<param q>|body" as text/plain.
void Echo(HttpRequest&& request, Responder respond) {
  std::string q = request.QueryParam("q").value_or("-");
  respond(HttpResponse{200, "text/plain", {{"X-Path", request.path}},
                       request.method + " " + request.path + "|" + request.query + "|q=" + q +
                           "|" + request.body});
}

TEST(ServerTest, GetAndPostAreEchoed) {
  auto server = StartServer(TestOptions(), Echo);
  ASSERT_TRUE(server);
  auto get = Fetch(server->port(), "GET", "/run/a%20b?q=x+y&z=1");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "GET /run/a%20b|q=x+y&z=1|q=x y|");
  EXPECT_EQ(get->header("Content-Type"), "text/plain");
  EXPECT_EQ(get->header("Server"), "bento");
  EXPECT_EQ(get->header("X-Path"), "/run/a%20b");

  auto post = Fetch(server->port(), "POST", "/predict", R"({"input": [[1, 2]]})");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 200);
  EXPECT_EQ(post->body, R"(POST /predict||q=-|{"input": [[1, 2]]})");
}

TEST(ServerTest, KeepAliveAndPipeliningServeRequestsInOrderOnOneSocket) {
  auto server = StartServer(TestOptions(), Echo);
  ASSERT_TRUE(server);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto first = client->Read();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body, "GET /one||q=-|");
  EXPECT_NE(first->header("Connection"), "close");
  ASSERT_TRUE(client->Send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n"
                           "POST /three HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  auto second = client->Read();
  auto third = client->Read();
  ASSERT_TRUE(second && third);
  EXPECT_EQ(second->body, "GET /two||q=-|");
  EXPECT_EQ(third->body, "POST /three||q=-|abc");
}

TEST(ServerTest, ConnectionCloseAndHttp10AreHonoured) {
  auto server = StartServer(TestOptions(), Echo);
  ASSERT_TRUE(server);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto response = client->Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->header("Connection"), "close");
  EXPECT_TRUE(client->WaitClosed());

  auto old = TestClient::Connect(server->port());
  ASSERT_TRUE(old->Send("GET /b HTTP/1.0\r\n\r\n"));
  response = old->Read();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(old->WaitClosed());
}

TEST(ServerTest, HandlerStatusHeadersAndBodyPassThrough) {
  auto server = StartServer(TestOptions(), [](HttpRequest&& request, Responder respond) {
    HttpResponse response = HttpResponse::Error(404, "no route " + request.path);
    response.headers.emplace_back("Retry-After", "1");
    response.headers.emplace_back("Bad\r\nInjected", "x");
    respond(std::move(response));
  });
  ASSERT_TRUE(server);
  auto response = Fetch(server->port(), "GET", "/nope");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->header("Content-Type"), "application/json");
  EXPECT_EQ(response->header("Retry-After"), "1");
  EXPECT_EQ(response->header("Injected"), "");
  EXPECT_EQ(response->body, R"({"error": "no route /nope", "detail": null})");
}

TEST(ServerTest, HeadAnswersWithoutBody) {
  auto server = StartServer(TestOptions(), [](HttpRequest&&, Responder respond) {
    respond(HttpResponse{200, "text/plain", {}, "hello"});
  });
  ASSERT_TRUE(server);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = client->Read(std::chrono::seconds(5), /*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->header("Content-Length"), "5");
  auto get = client->Read();  // would start with HEAD's body if the server had sent one
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "hello");
}

// The connection writes the status line and the fields that frame the answer itself: a
// handler's Content-Length, Transfer-Encoding or Connection is dropped, 204 carries no body,
// and HTTP/1.0 keep-alive is answered in kind.
TEST(ServerTest, TheConnectionFramesEveryAnswerItself) {
  auto server = StartServer(TestOptions(), [](HttpRequest&& request, Responder respond) {
    if (request.path == "/empty") return respond(HttpResponse{204, "", {}, "dropped"});
    if (request.path == "/odd") return respond(HttpResponse{599, "text/plain", {}, "?"});
    HttpResponse response{200, "text/plain", {}, "abc"};
    for (const char* name : {"Content-Length", "transfer-encoding", "Connection"}) {
      response.headers.emplace_back(name, name[0] == 'C' ? "999" : "chunked");
    }
    response.headers.emplace_back("X-Kept", "yes");
    respond(std::move(response));
  });
  ASSERT_TRUE(server);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("GET /empty HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /framed HTTP/1.1\r\nHost: x\r\n\r\n"
                           "GET /odd HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto empty = client->Read();
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status_line, "HTTP/1.1 204 No Content");
  EXPECT_EQ(empty->header("Content-Length"), "");
  auto framed = client->Read();  // would begin with 204's body had it been sent
  ASSERT_TRUE(framed);
  EXPECT_EQ(framed->status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(framed->body, "abc");
  EXPECT_EQ(framed->header("Content-Length"), "3");
  EXPECT_EQ(framed->header("Transfer-Encoding"), "");
  EXPECT_EQ(framed->header("Connection"), "");
  EXPECT_EQ(framed->header("X-Kept"), "yes");
  EXPECT_EQ(framed->header("Server"), "bento");
  auto odd = client->Read();
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->status, 599);
  EXPECT_EQ(odd->body, "?");

  auto old = TestClient::Connect(server->port());
  for (int i = 0; i < 2; ++i) {  // both on one socket
    ASSERT_TRUE(old->Send("GET /framed HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto response = old->Read();
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->status_line, "HTTP/1.0 200 OK");
    EXPECT_EQ(response->header("Connection"), "keep-alive");
    EXPECT_EQ(response->body, "abc");
  }
}

TEST(ServerTest, RequestIdIsEchoedOrGenerated) {
  std::string seen;
  auto server = StartServer(TestOptions(), [&seen](HttpRequest&& request, Responder respond) {
    seen = request.request_id;
    respond(HttpResponse::Json(200, "{}"));
  });
  ASSERT_TRUE(server);
  auto given = Fetch(server->port(), "GET", "/", "", "X-Request-Id: trace-42\r\n");
  ASSERT_TRUE(given);
  EXPECT_EQ(given->header("X-Request-Id"), "trace-42");
  EXPECT_EQ(seen, "trace-42");

  auto generated = Fetch(server->port(), "GET", "/");
  ASSERT_TRUE(generated);
  EXPECT_EQ(generated->header("X-Request-Id").size(), 16u);
  EXPECT_EQ(generated->header("X-Request-Id"), seen);

  auto too_long = Fetch(server->port(), "GET", "/", "",
                        "X-Request-Id: " + std::string(200, 'a') + "\r\n");
  ASSERT_TRUE(too_long);
  EXPECT_EQ(too_long->header("X-Request-Id").size(), 16u);
}

TEST(ServerTest, HandlerMayAnswerFromAnotherThread) {
  std::vector<std::thread> workers;
  std::mutex mu;
  auto server = StartServer(TestOptions(), [&](HttpRequest&& request, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    workers.emplace_back([body = std::move(request.body), respond = std::move(respond)] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      respond(HttpResponse{200, "text/plain", {}, "worker:" + body});
      respond(HttpResponse{500, "text/plain", {}, "second call is ignored"});
    });
  });
  ASSERT_TRUE(server);
  auto client = TestClient::Connect(server->port());
  for (int i = 0; i < 3; ++i) {
    std::string body = std::to_string(i);
    ASSERT_TRUE(client->Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n" + body));
    auto response = client->Read();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "worker:" + body);
  }
  server.reset();
  for (auto& worker : workers) worker.join();
}

TEST(ServerTest, ThrowingHandlerAnswers500AndServerKeepsServing) {
  auto server = StartServer(TestOptions(), [](HttpRequest&& request, Responder respond) {
    if (request.path == "/throw") throw std::runtime_error("boom");
    if (request.path == "/drop") return;  // drops `respond` unanswered
    respond(HttpResponse::Json(200, "{}"));
  });
  ASSERT_TRUE(server);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto thrown = client->Read();
  ASSERT_TRUE(thrown);
  EXPECT_EQ(thrown->status, 500);
  EXPECT_EQ(thrown->body, R"({"error": "internal error", "detail": null})");
  ASSERT_TRUE(client->Send("GET /drop HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto dropped = client->Read();
  ASSERT_TRUE(dropped);
  EXPECT_EQ(dropped->status, 500);
  ASSERT_TRUE(client->Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto ok = client->Read();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(ServerTest, ExpectContinueGets100ThenTheAnswer) {
  auto server = StartServer(TestOptions(), Echo);
  ASSERT_TRUE(server);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                           "Content-Length: 4\r\n\r\n"));
  auto interim = client->Read();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client->Send("data"));
  auto final_response = client->Read();
  ASSERT_TRUE(final_response);
  EXPECT_EQ(final_response->status, 200);
  EXPECT_EQ(final_response->body, "POST /up||q=-|data");
}

TEST(ServerTest, AccessLogHasOneLinePerRequest) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  auto capture = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  spdlog::set_default_logger(capture);
  {
    auto server = StartServer(TestOptions(), Echo, {.access_log = true});
    ASSERT_TRUE(server);
    auto response = Fetch(server->port(), "GET", "/logged?x=1", "", "X-Request-Id: rid-7\r\n");
    ASSERT_TRUE(response);
  }
  spdlog::set_default_logger(previous);
  std::string text = log.str();
  EXPECT_NE(text.find("127.0.0.1:"), std::string::npos) << text;
  EXPECT_NE(text.find("\"GET /logged?x=1\" 200 "), std::string::npos) << text;
  EXPECT_NE(text.find("ms id=rid-7"), std::string::npos) << text;
}

TEST(ServerTest, ShutdownFinishesRequestsInFlightAndClosesIdleConnections) {
  Parked parked;
  auto server = StartServer(
      TestOptions(),
      [&parked](HttpRequest&& request, Responder respond) {
        if (request.path == "/slow") return parked.Add(std::move(respond));
        respond(HttpResponse::Json(200, "{}"));
      },
      {.request_timeout = std::chrono::milliseconds(0), .access_log = false});  // no limit
  ASSERT_TRUE(server);
  auto idle = TestClient::Connect(server->port());
  ASSERT_TRUE(idle->Send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle->Read());
  auto busy = TestClient::Connect(server->port());
  ASSERT_TRUE(busy->Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(parked.WaitFor(1));

  std::thread stopper([&server] { server->Shutdown(); });
  EXPECT_TRUE(idle->WaitClosed());  // the idle keep-alive connection goes at once
  parked.Take()(HttpResponse{200, "text/plain", {}, "finished"});
  auto response = busy->Read();
  stopper.join();  // Shutdown returned
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "finished");
  EXPECT_EQ(response->header("Connection"), "close");
  auto late = TestClient::Connect(server->port());
  EXPECT_TRUE(!late || !late->Send("GET / HTTP/1.1\r\n\r\n") || !late->Read());
}

TEST(ServerTest, RunUntilSignalStopsOnSigterm) {
  auto created = Server::Create(TestOptions(), Echo);
  ASSERT_TRUE(created.ok()) << created.status();
  std::unique_ptr<Server> server = std::move(*created);
  int code = -1;
  std::thread runner([&] { code = server->RunUntilSignal(); });
  // Once a request is answered the signal handler is installed (it precedes Start()).
  std::optional<testing::RawResponse> response;
  for (int i = 0; i < 200 && !response; ++i) {
    response = Fetch(server->port(), "GET", "/");
    if (!response) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(response);
  ::kill(::getpid(), SIGTERM);
  runner.join();
  EXPECT_EQ(code, 0);
  EXPECT_FALSE(Fetch(server->port(), "GET", "/"));
}

TEST(ServerTest, BindingAPortInUseIsAClearError) {
  auto first = StartServer(TestOptions(), Echo);
  ASSERT_TRUE(first);
  ServerOptions options = TestOptions();
  options.port = first->port();
  auto second = Server::Create(options, Echo);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();

  options.host = "no-such-host.invalid";
  options.port = 0;
  EXPECT_EQ(Server::Create(options, Echo).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Server::Create(TestOptions(), nullptr).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ServerTest, ResponderCalledAfterServerIsDestroyedIsHarmless) {
  Parked parked;
  ServerOptions options = TestOptions();
  options.drain_timeout = std::chrono::milliseconds(50);
  auto server = StartServer(options, [&parked](HttpRequest&&, Responder respond) {
    parked.Add(std::move(respond));
  });
  ASSERT_TRUE(server);
  auto client = TestClient::Connect(server->port());
  ASSERT_TRUE(client->Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(parked.WaitFor(1));
  Responder respond = parked.Take();
  server.reset();  // Shutdown gives up on the parked request after drain_timeout
  EXPECT_TRUE(client->WaitClosed());
  respond(HttpResponse::Json(200, "{}"));  // must neither crash nor reach anyone (ASan)
  // The late answer left nothing broken behind: a new server in this process serves.
  auto again = StartServer(options, [](HttpRequest&&, Responder r) {
    r(HttpResponse::Json(200, "{}"));
  });
  ASSERT_TRUE(again);
  std::optional<testing::RawResponse> r = testing::Fetch(again->port(), "GET", "/");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

}  // namespace
}  // namespace bento::http
