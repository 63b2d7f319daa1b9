// multipart/form-data (RFC 7578 over RFC 2046) parsing: how images and files reach an API.
//
// ParseMultipart splits a whole, already-received body into parts. Part::data points into
// the body: the caller keeps the body alive as long as it uses the parts. Nothing is copied
// but the small header fields.
//
// What it accepts: a boundary parameter quoted or not; CRLF line ends (and bare LF, when the
// first boundary line ends that way); a preamble before the first boundary and an epilogue
// after the last, both ignored; whitespace after a boundary; Content-Disposition parameters
// as tokens or quoted strings (backslash escapes), and RFC 5987 `filename*=UTF-8''...`, which
// wins over `filename`. A boundary string followed by anything but "--" or a line end is part
// of the data, not a delimiter.
//
// What it refuses, with INVALID_ARGUMENT: a Content-Type that is not multipart/* or has no
// boundary; a body without the boundary; a body that ends before the closing boundary
// ("truncated multipart body"); more than kMaxParts parts; a part whose headers exceed
// kMaxHeaderBytes; a header line without a colon. Its work is linear in the body size
// (times the boundary length) for any input.
//
// Thread-safety: pure functions.
#ifndef BENTO_IO_MULTIPART_H_
#define BENTO_IO_MULTIPART_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bento/file.h"
#include "bento/status.h"

namespace bento::io {

inline constexpr size_t kMaxParts = 1000;
inline constexpr size_t kMaxHeaderBytes = 16 * 1024;  // per part
inline constexpr size_t kMaxBoundaryBytes = 200;       // RFC 2046 says 70; clients vary

struct Part {
  std::string name;          // Content-Disposition name; empty if absent
  std::string filename;      // Content-Disposition filename (or filename*); empty if absent
  std::string content_type;  // the part's Content-Type; empty if absent (RFC 7578: text/plain)
  std::string_view data;     // the part's bytes, inside the body passed to ParseMultipart
};

// REQUIRES: `body` outlives the returned parts' `data`.
StatusOr<std::vector<Part>> ParseMultipart(std::string_view body,
                                           std::string_view content_type_header);

// The boundary parameter of a multipart Content-Type header value.
StatusOr<std::string> MultipartBoundary(std::string_view content_type_header);

// A File holding a copy of the part's bytes.
File ToFile(const Part& part);

}  // namespace bento::io

#endif  // BENTO_IO_MULTIPART_H_
