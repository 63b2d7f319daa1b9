// HttpRequest, HttpResponse and Handler: the whole contract between the socket layer
// (http::Server) and whoever answers requests (src/serving). They are plain values with no
// socket in sight, so a handler can be tested by building an HttpRequest from strings and
// capturing what it passes to its Responder.
//
// Ownership: the server moves each HttpRequest into the handler, which owns it from then on.
// A Responder owns nothing of the connection (it holds a weak reference); see Handler below.
//
// Thread-safety: HttpRequest and HttpResponse are values; distinct objects may be used from
// different threads. A Responder may be called from any thread (see Handler).
#ifndef BENTO_HTTP_REQUEST_H_
#define BENTO_HTTP_REQUEST_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/admission.h"

namespace bento::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One parsed HTTP request, body included (the server reads the whole body, bounded by
// ServerOptions::max_body_bytes, before calling the handler).
struct HttpRequest {
  std::string method;  // "GET", "POST", ... as sent (HTTP methods are case-sensitive)
  std::string target;  // the raw request-target: "/run?x=1"
  std::string path;    // target up to '?', NOT percent-decoded: "/run"
  std::string query;   // target after '?', without it; "" when absent: "x=1"
  HeaderList headers;  // in arrival order; names as sent
  std::string body;
  std::string request_id;  // X-Request-Id as received (sanitized) or generated; echoed back
  std::string remote;      // peer address, "127.0.0.1:51234"
  // Parameters of the route template the path matched ("/v2/models/{model}/infer" gives
  // {"model", "m"}), filled in by the router. Values are path segments as sent.
  std::vector<std::pair<std::string, std::string>> path_params;
  // The admitted call (policy/admission.h): the handler names its route with
  // call->SetEndpoint so that the request is counted. Null when built outside a server.
  std::shared_ptr<policy::Call> call;

  // The value of the first header called `name`, compared case-insensitively; nullopt when
  // absent. The view points into `headers`: it lives as long as this request is unchanged.
  std::optional<std::string_view> header(std::string_view name) const;

  // The Content-Type's media type, lower-cased, without parameters: "multipart/form-data"
  // for "Multipart/Form-Data; boundary=x"; "" when there is no Content-Type.
  std::string media_type() const;

  // The percent-decoded value of the first query parameter called `name` ('+' decodes to a
  // space, as in HTML forms); "" for a bare "?name"; nullopt when absent. Names are compared
  // after decoding, case-sensitively.
  std::optional<std::string> QueryParam(std::string_view name) const;

  // The value of the route parameter `name`; "" when the route has none by that name.
  std::string_view PathParam(std::string_view name) const;
};

// What a handler answers. An aggregate, so `HttpResponse{200, "text/plain", {}, "ok"}` works.
// The server adds Content-Length, Connection, Server and X-Request-Id itself; `headers` are
// extra fields (a name or value holding CR or LF is dropped, with a warning).
struct HttpResponse {
  int status = 200;  // a final status, 200..999; anything else is answered as 500
  std::string content_type = "application/json";
  HeaderList headers;
  std::string body;

  // `body` is sent as is with content type application/json.
  static HttpResponse Json(int status, std::string body);

  // bento's error body: {"error": "<message>", "detail": null}, message JSON-escaped.
  static HttpResponse Error(int status, std::string_view message);
};

// Answers the request it was handed. Call it exactly once, from any thread, at any time;
// later calls are ignored. It stays valid (and harmless) after the client has gone, after the
// request timed out with 504 and after the server was destroyed: the answer is then dropped.
using Responder = std::function<void(HttpResponse)>;

// Called on an I/O thread once per complete request. It must not block: long work
// (inference, batching) goes elsewhere and calls `respond` when done. The connection reads
// nothing more until `respond` is called or the request timeout passes, then writes the
// answer on its own I/O thread. An exception escaping the handler is logged and answered with
// 500 (unless it already answered). Dropping every copy of `respond` without calling it
// answers 500. The handler may be called concurrently for different connections.
using Handler = std::function<void(HttpRequest&& request, Responder respond)>;

// Percent-decodes `text` ("%2F" -> "/"; a malformed escape is kept as is). With
// `plus_is_space`, '+' decodes to ' ' (query strings).
std::string PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace bento::http

#endif  // BENTO_HTTP_REQUEST_H_
