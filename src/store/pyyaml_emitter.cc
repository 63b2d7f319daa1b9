// A port of PyYAML's emitter.py (block style, default options of safe_dump). Names of
// members and methods follow PyYAML's so the two can be read side by side.
#include "store/pyyaml_emitter.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/pyyaml_analysis.h"
#include "store/pyyaml_scalar.h"

namespace bento::store {
namespace {

// The scalar analysis and resolution, shared with the reader (pyyaml_analysis.h,
// pyyaml_scalar.h).
using namespace internal;  // NOLINT(build/namespaces)

constexpr int kBestIndent = 2;
constexpr int kBestWidth = 80;
constexpr int kMaxSimpleKeyLength = 128;

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
    case OrderedJson::value_t::number_integer:
      return {DecodeUtf8(std::to_string(v.get<int64_t>()))};
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
      // check_simple_key counts the key's tag too: "!!str", 5 characters.
      bool simple = static_cast<int>(key_scalar.text.size()) + 5 < kMaxSimpleKeyLength &&
                    !a.empty && !a.multiline;
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

}  // namespace bento::store
