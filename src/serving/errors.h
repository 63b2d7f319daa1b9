// The one place where a Status becomes an HTTP status code. (The JSON error body is
// http::HttpResponse::Error.)
#ifndef BENTO_SERVING_ERRORS_H_
#define BENTO_SERVING_ERRORS_H_

#include <string>

#include "bento/status.h"

namespace bento::serving {

// INVALID_ARGUMENT/OUT_OF_RANGE/FAILED_PRECONDITION → 400, UNAUTHENTICATED → 401,
// PERMISSION_DENIED → 403, NOT_FOUND → 404, ALREADY_EXISTS → 409, RESOURCE_EXHAUSTED → 429,
// UNIMPLEMENTED → 501, UNAVAILABLE → 503, DEADLINE_EXCEEDED → 504, everything else → 500
// (a bug).
int HttpStatusFor(const Status& status);

}  // namespace bento::serving

#endif  // BENTO_SERVING_ERRORS_H_
