// Request ids: every request carries one in X-Request-Id, taken from the client when it is
// sane and generated otherwise, so a log line can be matched to the client's view.
//
// Thread-safety: both functions may be called from any thread (the generator is
// thread-local).
#ifndef BENTO_HTTP_REQUEST_ID_H_
#define BENTO_HTTP_REQUEST_ID_H_

#include <optional>
#include <string>
#include <string_view>

namespace bento::http {

inline constexpr size_t kMaxRequestIdLength = 128;

// 16 random lowercase hex characters.
std::string GenerateRequestId();

// `from_client` when it is 1..kMaxRequestIdLength printable ASCII characters (0x20..0x7E),
// not starting or ending with a space; otherwise a fresh GenerateRequestId().
std::string SanitizeOrGenerateRequestId(std::optional<std::string_view> from_client);

}  // namespace bento::http

#endif  // BENTO_HTTP_REQUEST_ID_H_
