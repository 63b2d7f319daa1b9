#include "io/multipart.h"

#include <optional>
#include <utility>

#include "base/strings.h"

namespace bento::io {
namespace {

struct Param {
  std::string name;  // lower case
  std::string value;
};

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Splits `type/subtype; a=b; c="d"` into the lower-cased value and its parameters.
// Quoted values undo the escapes `\"` and `\\` only (browsers send Windows paths unescaped).
std::pair<std::string, std::vector<Param>> ParseHeaderValue(std::string_view s) {
  const size_t semi = s.find(';');
  std::string value = AsciiLower(Trim(s.substr(0, semi)));
  std::vector<Param> params;
  size_t i = semi == std::string_view::npos ? s.size() : semi;
  while (i < s.size()) {
    if (s[i] == ';' || IsSpace(s[i])) {
      ++i;
      continue;
    }
    const size_t name_start = i;
    while (i < s.size() && s[i] != '=' && s[i] != ';') ++i;
    Param param{AsciiLower(Trim(s.substr(name_start, i - name_start))), ""};
    if (i < s.size() && s[i] == '=') {
      ++i;
      while (i < s.size() && IsSpace(s[i])) ++i;
      if (i < s.size() && s[i] == '"') {
        for (++i; i < s.size() && s[i] != '"'; ++i) {
          if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) ++i;
          param.value += s[i];
        }
        while (i < s.size() && s[i] != ';') ++i;  // the closing quote and anything after
      } else {
        const size_t value_start = i;
        while (i < s.size() && s[i] != ';') ++i;
        param.value = Trim(s.substr(value_start, i - value_start));
      }
    }
    params.push_back(std::move(param));
  }
  return {std::move(value), std::move(params)};
}

const std::string* FindParam(const std::vector<Param>& params, std::string_view name) {
  for (const Param& p : params) {
    if (p.name == name) return &p.value;
  }
  return nullptr;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 5987 ext-value: charset'language'percent-encoded. UTF-8 is kept as is, ISO-8859-1 is
// converted to UTF-8; nullopt for anything else or a malformed value.
std::optional<std::string> DecodeExtValue(std::string_view v) {
  const size_t q1 = v.find('\'');
  const size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  const std::string charset = AsciiLower(v.substr(0, q1));
  const bool latin1 = charset == "iso-8859-1";
  if (charset != "utf-8" && !latin1) return std::nullopt;
  std::string out;
  for (size_t i = q2 + 1; i < v.size(); ++i) {
    int c = static_cast<unsigned char>(v[i]);
    if (v[i] == '%') {
      if (i + 2 >= v.size() || HexDigit(v[i + 1]) < 0 || HexDigit(v[i + 2]) < 0) {
        return std::nullopt;
      }
      c = HexDigit(v[i + 1]) * 16 + HexDigit(v[i + 2]);
      i += 2;
    }
    if (latin1 && c >= 0x80) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Status Truncated() { return InvalidArgumentError("truncated multipart body"); }

// What follows "--boundary" at `at`.
enum class After { kClose, kNextPart, kNotDelimiter, kEndOfBody };

After ClassifyDelimiter(std::string_view body, size_t at, size_t* next, bool* crlf) {
  if (body.substr(at).starts_with("--")) return After::kClose;
  while (at < body.size() && IsSpace(body[at])) ++at;  // transport padding
  if (at == body.size()) return After::kEndOfBody;
  if (body[at] == '\n') {
    *next = at + 1;
    *crlf = false;
    return After::kNextPart;
  }
  if (body[at] != '\r') return After::kNotDelimiter;
  if (at + 1 == body.size()) return After::kEndOfBody;
  if (body[at + 1] != '\n') return After::kNotDelimiter;
  *next = at + 2;
  *crlf = true;
  return After::kNextPart;
}

// Parses one part's header block (lines separated by `nl`, without the blank line).
Status ParseHeaders(std::string_view block, std::string_view nl, Part* part) {
  std::vector<std::pair<std::string, std::string>> headers;
  while (!block.empty()) {
    const size_t end = block.find(nl);
    std::string_view line = block.substr(0, end);
    block.remove_prefix(end == std::string_view::npos ? block.size() : end + nl.size());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);  // CRLF in LF mode
    if (!line.empty() && IsSpace(line.front()) && !headers.empty()) {  // obsolete folding
      headers.back().second += ' ';
      headers.back().second += Trim(line);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return InvalidArgumentError("malformed multipart part header");
    }
    headers.emplace_back(AsciiLower(Trim(line.substr(0, colon))), Trim(line.substr(colon + 1)));
  }
  for (const auto& [name, value] : headers) {
    if (name == "content-type") {
      part->content_type = std::string(Trim(value));
    } else if (name == "content-disposition") {
      const auto [kind, params] = ParseHeaderValue(value);
      if (const std::string* v = FindParam(params, "name")) part->name = *v;
      if (const std::string* v = FindParam(params, "filename")) part->filename = *v;
      if (const std::string* v = FindParam(params, "filename*")) {
        if (std::optional<std::string> decoded = DecodeExtValue(*v)) part->filename = *decoded;
      }
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::string> MultipartBoundary(std::string_view content_type_header) {
  const auto [type, params] = ParseHeaderValue(content_type_header);
  if (!type.starts_with("multipart/")) {
    return InvalidArgumentError("not a multipart content type: '" + type + "'");
  }
  const std::string* boundary = FindParam(params, "boundary");
  if (boundary == nullptr || boundary->empty()) {
    return InvalidArgumentError("multipart content type without a boundary");
  }
  if (boundary->size() > kMaxBoundaryBytes) {
    return InvalidArgumentError("multipart boundary longer than " +
                                std::to_string(kMaxBoundaryBytes) + " bytes");
  }
  return *boundary;
}

StatusOr<std::vector<Part>> ParseMultipart(std::string_view body,
                                           std::string_view content_type_header) {
  ASSIGN_OR_RETURN(const std::string boundary, MultipartBoundary(content_type_header));
  const std::string dash_boundary = "--" + boundary;

  // The first delimiter: at the start of the body, or at the start of a preamble line.
  size_t pos = 0;
  bool crlf = true;
  for (size_t from = 0;;) {
    const size_t found = body.find(dash_boundary, from);
    if (found == std::string_view::npos) {
      return InvalidArgumentError("multipart body does not contain its boundary");
    }
    from = found + 1;
    if (found != 0 && body[found - 1] != '\n') continue;
    const After after = ClassifyDelimiter(body, found + dash_boundary.size(), &pos, &crlf);
    if (after == After::kClose) return std::vector<Part>();  // no parts at all
    if (after == After::kEndOfBody) return Truncated();
    if (after == After::kNextPart) break;
  }
  const std::string_view nl = crlf ? "\r\n" : "\n";
  const std::string delimiter = std::string(nl) + dash_boundary;
  const std::string blank_line = std::string(nl) + std::string(nl);

  std::vector<Part> parts;
  while (true) {
    if (parts.size() == kMaxParts) {
      return InvalidArgumentError("more than " + std::to_string(kMaxParts) + " multipart parts");
    }
    // Headers, up to a blank line (or none at all when the part starts with one).
    Part part;
    size_t data_start;
    if (body.substr(pos).starts_with(nl)) {
      data_start = pos + nl.size();
    } else {
      const size_t limit = kMaxHeaderBytes + blank_line.size();
      const size_t end = body.substr(pos, limit).find(blank_line);
      if (end == std::string_view::npos) {
        if (body.size() - pos >= limit) {
          return InvalidArgumentError("multipart part headers over " +
                                      std::to_string(kMaxHeaderBytes / 1024) + " KiB");
        }
        return Truncated();
      }
      RETURN_IF_ERROR(ParseHeaders(body.substr(pos, end), nl, &part));
      data_start = pos + end + blank_line.size();
    }
    // Data, up to the next delimiter. The search starts one line end early so that a part
    // whose blank line runs straight into the delimiter reads as empty.
    After after = After::kNotDelimiter;
    size_t found = std::string_view::npos;
    for (size_t from = data_start - nl.size(); after == After::kNotDelimiter;) {
      found = body.find(delimiter, from);
      if (found == std::string_view::npos) return Truncated();
      from = found + 1;
      bool ignored_crlf;
      after = ClassifyDelimiter(body, found + delimiter.size(), &pos, &ignored_crlf);
    }
    if (after == After::kEndOfBody) return Truncated();
    // An empty part still points into the body (at its delimiter), as Part promises.
    part.data = found > data_start ? body.substr(data_start, found - data_start)
                                   : body.substr(found, 0);
    parts.push_back(std::move(part));
    if (after == After::kClose) return parts;  // the epilogue is ignored
  }
}

File ToFile(const Part& part) {
  return File{part.filename, part.content_type, std::string(part.data)};
}

}  // namespace bento::io
