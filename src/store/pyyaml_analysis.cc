// PyYAML's analyze_scalar and its double-quoted escapes (emitter.py), for pyyaml_emitter.cc.
#include "store/pyyaml_analysis.h"

#include <cstdio>

namespace bento::store::internal {
namespace {

bool In(char32_t c, std::u32string_view set) { return set.find(c) != std::u32string_view::npos; }

}  // namespace

std::u32string DecodeUtf8(std::string_view s) {
  std::u32string out;
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    char32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = len > 0 && i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      ok = (c >> 6) == 2;
      cp = (cp << 6) | (c & 0x3F);
    }
    // Past U+10FFFF or a surrogate: no character, and no escape YAML can read back.
    ok = ok && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

bool IsBreak(char32_t c) { return c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029; }
bool IsSpaceOrBreak(char32_t c) {
  return c == 0 || c == ' ' || c == '\t' || c == '\r' || IsBreak(c);
}

Analysis AnalyzeScalar(const std::u32string& s) {
  Analysis a;
  if (s.empty()) {
    a.empty = true;
    a.allow_flow_plain = false;
    return a;
  }
  bool block_indicators = false, flow_indicators = false, line_breaks = false;
  bool special_characters = false;
  bool leading_space = false, leading_break = false, trailing_space = false;
  bool trailing_break = false, break_space = false, space_break = false;
  std::u32string_view view(s);
  if (view.starts_with(U"---") || view.starts_with(U"...")) {
    block_indicators = flow_indicators = true;
  }
  bool preceded_by_whitespace = true;
  bool followed_by_whitespace = s.size() == 1 || IsSpaceOrBreak(s[1]);
  bool previous_space = false, previous_break = false;
  for (size_t index = 0; index < s.size(); ++index) {
    char32_t ch = s[index];
    if (index == 0) {
      if (In(ch, U"#,[]{}&*!|>'\"%@`")) flow_indicators = block_indicators = true;
      if (In(ch, U"?:")) {
        flow_indicators = true;
        if (followed_by_whitespace) block_indicators = true;
      }
      if (ch == '-' && followed_by_whitespace) flow_indicators = block_indicators = true;
    } else {
      if (In(ch, U",?[]{}")) flow_indicators = true;
      if (ch == ':') {
        flow_indicators = true;
        if (followed_by_whitespace) block_indicators = true;
      }
      if (ch == '#' && preceded_by_whitespace) flow_indicators = block_indicators = true;
    }
    if (IsBreak(ch)) line_breaks = true;
    // Without allow_unicode, anything but printable ASCII and '\n' is special.
    if (!(ch == '\n' || (ch >= 0x20 && ch <= 0x7E))) special_characters = true;
    if (ch == ' ') {
      if (index == 0) leading_space = true;
      if (index == s.size() - 1) trailing_space = true;
      if (previous_break) break_space = true;
      previous_space = true;
      previous_break = false;
    } else if (IsBreak(ch)) {
      if (index == 0) leading_break = true;
      if (index == s.size() - 1) trailing_break = true;
      if (previous_space) space_break = true;
      previous_space = false;
      previous_break = true;
    } else {
      previous_space = previous_break = false;
    }
    preceded_by_whitespace = IsSpaceOrBreak(ch);
    followed_by_whitespace = index + 2 >= s.size() || IsSpaceOrBreak(s[index + 2]);
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break) {
    a.allow_flow_plain = a.allow_block_plain = false;
  }
  if (break_space) a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = false;
  if (space_break || special_characters) {
    a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = false;
  }
  if (line_breaks) a.allow_flow_plain = a.allow_block_plain = false;
  if (flow_indicators) a.allow_flow_plain = false;
  if (block_indicators) a.allow_block_plain = false;
  return a;
}

std::string Escape(char32_t ch) {
  switch (ch) {
    case 0: return "\\0";
    case 0x07: return "\\a";
    case 0x08: return "\\b";
    case 0x09: return "\\t";
    case 0x0A: return "\\n";
    case 0x0B: return "\\v";
    case 0x0C: return "\\f";
    case 0x0D: return "\\r";
    case 0x1B: return "\\e";
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case 0x85: return "\\N";
    case 0xA0: return "\\_";
    case 0x2028: return "\\L";
    case 0x2029: return "\\P";
    default: break;
  }
  char buf[16];
  if (ch <= 0xFF) {
    std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned>(ch));
  } else if (ch <= 0xFFFF) {
    std::snprintf(buf, sizeof(buf), "\\u%04X", static_cast<unsigned>(ch));
  } else {
    std::snprintf(buf, sizeof(buf), "\\U%08X", static_cast<unsigned>(ch));
  }
  return buf;
}

}  // namespace bento::store::internal
