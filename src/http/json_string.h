// JSON string escaping, so that the HTTP layer can write its own error bodies without a JSON
// library. Output is always valid JSON: quotes, backslashes and control characters are
// escaped, and bytes that are not valid UTF-8 become U+FFFD.
//
// Thread-safety: pure functions.
#ifndef BENTO_HTTP_JSON_STRING_H_
#define BENTO_HTTP_JSON_STRING_H_

#include <string>
#include <string_view>

namespace bento::http {

// Appends `text` to `*out` as a quoted JSON string: `a"b` -> `"a\"b"`.
void AppendJsonString(std::string* out, std::string_view text);

// `text` as a quoted JSON string.
std::string JsonString(std::string_view text);

// {"error": "<message>", "detail": null}
std::string JsonErrorBody(std::string_view message);

}  // namespace bento::http

#endif  // BENTO_HTTP_JSON_STRING_H_
