// A port of PyYAML's emitter.py (block style, default options of safe_dump). Names of
// members and methods follow PyYAML's so the two can be read side by side.
#include "store/pyyaml_emitter.h"

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/pyyaml_scalar.h"

namespace bento::store::internal {
namespace {

constexpr int kBestIndent = 2;
constexpr int kBestWidth = 80;
constexpr int kMaxSimpleKeyLength = 128;

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
bool IsSpaceOrBreak(char32_t c) { return c == 0 || c == ' ' || c == '\t' || c == '\r' || IsBreak(c); }
bool In(char32_t c, std::u32string_view set) { return set.find(c) != std::u32string_view::npos; }

// PyYAML's ScalarAnalysis (allow_unicode=False).
struct Analysis {
  bool empty = false;
  bool multiline = false;
  bool allow_flow_plain = true;
  bool allow_block_plain = true;
  bool allow_single_quoted = true;
};

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

// A scalar event: its text and whether a plain rendering would read back as the same type.
struct Scalar {
  std::u32string text;
  bool plain_implicit = true;
};

Scalar StringScalar(const std::string& value) {
  return {DecodeUtf8(value), PlainResolvesToString(value)};
}

Scalar ToScalar(const OrderedJson& v) {
  switch (v.type()) {
    case OrderedJson::value_t::string: return StringScalar(v.get_ref<const std::string&>());
    case OrderedJson::value_t::boolean: return {v.get<bool>() ? U"true" : U"false"};
    case OrderedJson::value_t::number_integer: return {DecodeUtf8(std::to_string(v.get<int64_t>()))};
    case OrderedJson::value_t::number_unsigned:
      return {DecodeUtf8(std::to_string(v.get<uint64_t>()))};
    case OrderedJson::value_t::number_float: return {DecodeUtf8(PyYamlFloat(v.get<double>()))};
    default: return {U"null"};
  }
}

class Emitter {
 public:
  std::string Dump(const OrderedJson& document) {
    ExpectNode(document, Context{});
    WriteIndent();  // document end
    return std::move(stream_);
  }

 private:
  struct Context {
    bool sequence = false;
    bool mapping = false;
    bool simple_key = false;
  };

  void ExpectNode(const OrderedJson& node, Context context) {
    context_ = context;
    if (node.is_object() || node.is_array()) {
      if (node.empty()) return ExpectEmptyFlowCollection(node.is_object() ? "{" : "[",
                                                         node.is_object() ? "}" : "]");
      return node.is_object() ? ExpectBlockMapping(node) : ExpectBlockSequence(node);
    }
    ExpectScalar(ToScalar(node));
  }

  void ExpectScalar(const Scalar& scalar) {
    IncreaseIndent(/*flow=*/true, /*indentless=*/false);
    ProcessScalar(scalar);
    PopIndent();
  }

  void ExpectEmptyFlowCollection(const char* open, const char* close) {
    WriteIndicator(open, true, /*whitespace=*/true);
    ++flow_level_;
    IncreaseIndent(/*flow=*/true, false);
    PopIndent();
    --flow_level_;
    WriteIndicator(close, false);
  }

  void ExpectBlockSequence(const OrderedJson& node) {
    IncreaseIndent(/*flow=*/false, /*indentless=*/context_.mapping && !indention_);
    for (const auto& item : node) {
      WriteIndent();
      WriteIndicator("-", true, false, /*indention=*/true);
      ExpectNode(item, Context{.sequence = true});
    }
    PopIndent();
  }

  void ExpectBlockMapping(const OrderedJson& node) {
    IncreaseIndent(/*flow=*/false, false);
    for (const auto& [key, value] : node.items()) {
      WriteIndent();
      Scalar key_scalar = StringScalar(key);
      Analysis a = AnalyzeScalar(key_scalar.text);
      bool simple = static_cast<int>(key_scalar.text.size()) < kMaxSimpleKeyLength && !a.empty &&
                    !a.multiline;
      if (simple) {
        context_ = Context{.mapping = true, .simple_key = true};
        ExpectScalar(key_scalar);
        WriteIndicator(":", false);
      } else {
        WriteIndicator("?", true, false, /*indention=*/true);
        context_ = Context{.mapping = true};
        ExpectScalar(key_scalar);
        WriteIndent();
        WriteIndicator(":", true, false, /*indention=*/true);
      }
      ExpectNode(value, Context{.mapping = true});
    }
    PopIndent();
  }

  void IncreaseIndent(bool flow, bool indentless) {
    indents_.push_back(indent_);
    if (!indent_) {
      indent_ = flow ? kBestIndent : 0;
    } else if (!indentless) {
      *indent_ += kBestIndent;
    }
  }
  void PopIndent() {
    indent_ = indents_.back();
    indents_.pop_back();
  }

  void ProcessScalar(const Scalar& scalar) {
    Analysis a = AnalyzeScalar(scalar.text);
    bool split = !context_.simple_key;
    // choose_scalar_style
    if (scalar.plain_implicit && !(context_.simple_key && (a.empty || a.multiline)) &&
        (flow_level_ ? a.allow_flow_plain : a.allow_block_plain)) {
      return WritePlain(scalar.text, split);
    }
    if (a.allow_single_quoted && !(context_.simple_key && a.multiline)) {
      return WriteSingleQuoted(scalar.text, split);
    }
    WriteDoubleQuoted(scalar.text, split);
  }

  // Writes ASCII text (every scalar style here only writes ASCII).
  void Write(std::u32string_view data) {
    for (char32_t c : data) stream_.push_back(static_cast<char>(c));
    column_ += static_cast<int>(data.size());
  }
  void Write(std::string_view data) {
    stream_ += data;
    column_ += static_cast<int>(data.size());
  }

  void WriteIndicator(std::string_view indicator, bool need_whitespace, bool whitespace = false,
                      bool indention = false) {
    if (!whitespace_ && need_whitespace) Write(" ");
    Write(indicator);
    whitespace_ = whitespace;
    indention_ = indention_ && indention;
  }

  void WriteIndent() {
    int indent = indent_.value_or(0);
    if (!indention_ || column_ > indent || (column_ == indent && !whitespace_)) {
      WriteLineBreak();
    }
    if (column_ < indent) {
      whitespace_ = true;
      stream_.append(static_cast<size_t>(indent - column_), ' ');
      column_ = indent;
    }
  }

  void WriteLineBreak() {
    whitespace_ = indention_ = true;
    column_ = 0;
    stream_.push_back('\n');
  }

  // Line breaks of single-quoted and plain scalars: one extra for a leading '\n'.
  void WriteBreaks(std::u32string_view breaks) {
    if (breaks[0] == '\n') WriteLineBreak();
    for (size_t i = 0; i < breaks.size(); ++i) WriteLineBreak();
    WriteIndent();
  }

  void WritePlain(const std::u32string& text, bool split);
  void WriteSingleQuoted(const std::u32string& text, bool split);
  void WriteDoubleQuoted(const std::u32string& text, bool split);

  std::string stream_;
  int column_ = 0;
  bool whitespace_ = true;
  bool indention_ = true;
  std::optional<int> indent_;  // PyYAML's None before the root collection
  std::vector<std::optional<int>> indents_;
  int flow_level_ = 0;
  Context context_;
};

void Emitter::WritePlain(const std::u32string& text, bool split) {
  if (text.empty()) return;
  if (!whitespace_) Write(" ");
  whitespace_ = indention_ = false;
  bool spaces = false, breaks = false;
  size_t start = 0;
  for (size_t end = 0; end <= text.size(); ++end) {
    bool has = end < text.size();
    char32_t ch = has ? text[end] : 0;
    std::u32string_view chunk = std::u32string_view(text).substr(start, end - start);
    if (spaces) {
      if (!has || ch != ' ') {
        if (start + 1 == end && column_ > kBestWidth && split) {
          WriteIndent();
          whitespace_ = indention_ = false;
        } else {
          Write(chunk);
        }
        start = end;
      }
    } else if (breaks) {
      if (!has || !IsBreak(ch)) {
        WriteBreaks(chunk);
        whitespace_ = indention_ = false;
        start = end;
      }
    } else if (!has || ch == ' ' || IsBreak(ch)) {
      Write(chunk);
      start = end;
    }
    if (has) {
      spaces = ch == ' ';
      breaks = IsBreak(ch);
    }
  }
}

void Emitter::WriteSingleQuoted(const std::u32string& text, bool split) {
  WriteIndicator("'", true);
  bool spaces = false, breaks = false;
  size_t start = 0;
  for (size_t end = 0; end <= text.size(); ++end) {
    bool has = end < text.size();
    char32_t ch = has ? text[end] : 0;
    std::u32string_view chunk = std::u32string_view(text).substr(start, end - start);
    if (spaces) {
      if (!has || ch != ' ') {
        if (start + 1 == end && column_ > kBestWidth && split && start != 0 &&
            end != text.size()) {
          WriteIndent();
        } else {
          Write(chunk);
        }
        start = end;
      }
    } else if (breaks) {
      if (!has || !IsBreak(ch)) {
        WriteBreaks(chunk);
        start = end;
      }
    } else if (!has || ch == ' ' || IsBreak(ch) || ch == '\'') {
      if (start < end) {
        Write(chunk);
        start = end;
      }
    }
    if (has && ch == '\'') {
      Write("''");
      start = end + 1;
    }
    if (has) {
      spaces = ch == ' ';
      breaks = IsBreak(ch);
    }
  }
  WriteIndicator("'", false);
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

void Emitter::WriteDoubleQuoted(const std::u32string& text, bool split) {
  WriteIndicator("\"", true);
  const auto n = static_cast<std::ptrdiff_t>(text.size());
  std::ptrdiff_t start = 0;
  for (std::ptrdiff_t end = 0; end <= n; ++end) {
    bool has = end < n;
    char32_t ch = has ? text[end] : 0;
    if (!has || ch == '"' || ch == '\\' || ch < 0x20 || ch > 0x7E) {
      if (start < end) {
        Write(std::u32string_view(text).substr(start, end - start));
        start = end;
      }
      if (has) {
        Write(Escape(ch));
        start = end + 1;
      }
    }
    if (0 < end && end < n - 1 && (ch == ' ' || start >= end) &&
        column_ + (end - start) > kBestWidth && split) {
      if (start < end) {
        Write(std::u32string_view(text).substr(start, end - start));
        start = end;
      }
      Write("\\");
      WriteIndent();
      whitespace_ = indention_ = false;
      if (text[start] == ' ') Write("\\");
    }
  }
  WriteIndicator("\"", false);
}

}  // namespace

std::string DumpPyYaml(const OrderedJson& document) { return Emitter().Dump(document); }

}  // namespace bento::store::internal
