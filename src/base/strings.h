// Small text helpers that several layers need, one copy each: UTF-8 validation, JSON string
// escaping, ASCII case folding and hex digits.
//
// Thread-safety: pure functions.
#ifndef BENTO_BASE_STRINGS_H_
#define BENTO_BASE_STRINGS_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace bento {

inline constexpr char kHexDigits[] = "0123456789abcdef";

// The length of the valid UTF-8 sequence at the start of `text` (1 for ASCII), or 0 when it
// is not valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
// REQUIRES: !text.empty().
size_t Utf8SequenceLength(std::string_view text);

// The most characters WriteJsonString writes for `n` bytes of text: each byte may become a
// six-character escape, plus the quotes.
constexpr size_t JsonStringMaxLength(size_t n) { return n * 6 + 2; }

// Writes `text` as a quoted JSON string at `out` and returns the end. Quotes, backslashes and
// control characters (NUL included) are escaped, and each byte that does not start a valid
// UTF-8 sequence becomes \ufffd, so the output is always valid JSON: `a"b` -> `"a\"b"`.
// REQUIRES: `out` has room for JsonStringMaxLength(text.size()) characters.
char* WriteJsonString(std::string_view text, char* out);

// Appends `text` as a quoted JSON string (WriteJsonString) to `*out`.
void AppendJsonString(std::string* out, std::string_view text);
// `text` as a quoted JSON string.
std::string JsonString(std::string_view text);

// The first non-empty line of `text`, without surrounding spaces, for one-line log messages
// made of a library's multi-line errors: "a\n  b" -> "a".
std::string_view FirstLine(std::string_view text);

// `text` with A-Z turned to a-z; other bytes unchanged.
std::string AsciiLower(std::string_view text);
// Whether `a` and `b` are equal once A-Z are folded to a-z (HTTP header names, say).
bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b);

}  // namespace bento

#endif  // BENTO_BASE_STRINGS_H_
