#include "http/request_id.h"

#include <cstdint>
#include <random>

#include "base/strings.h"

namespace bento::http {

std::string GenerateRequestId() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  uint64_t bits = engine();
  std::string id(16, '0');
  for (int i = 15; i >= 0; --i, bits >>= 4) id[static_cast<size_t>(i)] = kHexDigits[bits & 0xF];
  return id;
}

std::string SanitizeOrGenerateRequestId(std::optional<std::string_view> from_client) {
  if (!from_client || from_client->empty() || from_client->size() > kMaxRequestIdLength ||
      from_client->front() == ' ' || from_client->back() == ' ') {
    return GenerateRequestId();
  }
  for (char c : *from_client) {
    if (c < 0x20 || c > 0x7E) return GenerateRequestId();
  }
  return std::string(*from_client);
}

}  // namespace bento::http
