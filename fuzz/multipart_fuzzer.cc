// Fuzzes multipart/form-data parsing (src/io/multipart.h). The input's first line is the
// Content-Type header value, the rest the body. Every part must lie inside the body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "io/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  std::string_view content_type = input.substr(0, newline);
  std::string_view body = input.substr(newline + 1);

  auto parts = bento::io::ParseMultipart(body, content_type);
  if (!parts.ok()) return 0;
  FUZZ_CHECK(parts->size() <= bento::io::kMaxParts, "%zu parts", parts->size());
  for (const auto& part : *parts) {
    FUZZ_CHECK(part.data.data() >= body.data() &&
                   part.data.data() + part.data.size() <= body.data() + body.size(),
               "part '%s' outside the body", part.name.c_str());
    bento::File file = bento::io::ToFile(part);
    (void)file;
  }
  return 0;
}
