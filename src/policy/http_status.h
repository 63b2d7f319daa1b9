// The one place where a Status becomes an HTTP status code, for HTTP answers and for the
// `http_response_code` label that every transport's requests are counted under. (The JSON
// error body is http::HttpResponse::Error; gRPC answers carry the Status code itself.)
#ifndef BENTO_POLICY_HTTP_STATUS_H_
#define BENTO_POLICY_HTTP_STATUS_H_

#include "bento/status.h"

namespace bento::policy {

// OK → 200, INVALID_ARGUMENT/OUT_OF_RANGE/FAILED_PRECONDITION → 400, UNAUTHENTICATED → 401,
// PERMISSION_DENIED → 403, NOT_FOUND → 404, ALREADY_EXISTS → 409, RESOURCE_EXHAUSTED → 429,
// CANCELLED → 499 (the client went away), UNIMPLEMENTED → 501, UNAVAILABLE → 503,
// DEADLINE_EXCEEDED → 504, everything else → 500 (a bug).
int HttpStatusFor(StatusCode code);
inline int HttpStatusFor(const Status& status) { return HttpStatusFor(status.code()); }

}  // namespace bento::policy

#endif  // BENTO_POLICY_HTTP_STATUS_H_
