#include "bento/text.h"

#include <locale.h>
#include <wctype.h>

#include <string>
#include <utility>

namespace bento {
namespace {

// Decodes one UTF-8 code point at text[i] and advances i; -1 for an invalid sequence
// (truncated, overlong, a surrogate or past U+10FFFF).
int32_t NextCodePoint(std::string_view text, size_t& i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  uint8_t lead = byte(i);
  int length;
  int32_t cp;
  int32_t min;
  if (lead < 0x80) {
    ++i;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2, cp = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, cp = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, cp = lead & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + length > text.size()) return -1;
  for (int k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += length;
  return cp;
}

void AppendUtf8(int32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Python's str.isspace() for the characters str.split() splits on.
bool IsPythonSpace(int32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 ||
         cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// glibc's C.UTF-8 locale carries Unicode's simple case mapping for every script; it is
// built into glibc (2.35 and later), so it is there even where no locale is installed.
locale_t UnicodeLocale() {
  static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
  return locale;
}

int32_t ToLower(int32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
  locale_t locale = UnicodeLocale();
  if (locale == locale_t{}) return cp;
  return static_cast<int32_t>(towlower_l(static_cast<wint_t>(cp), locale));
}

Status NotUtf8(size_t offset) {
  return InvalidArgumentError("text is not valid UTF-8 (at byte " + std::to_string(offset) + ")");
}

}  // namespace

StatusOr<std::string> Lower(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t start = i;
    int32_t cp = NextCodePoint(text, i);
    if (cp < 0) return NotUtf8(start);
    if (cp == 0x130) {  // İ: Unicode's full lowercase mapping is i + combining dot above
      out += "i\xCC\x87";
      continue;
    }
    AppendUtf8(ToLower(cp), out);
  }
  return out;
}

StatusOr<std::vector<std::string>> Split(std::string_view text) {
  std::vector<std::string> pieces;
  size_t piece_start = std::string_view::npos;
  for (size_t i = 0; i < text.size();) {
    size_t start = i;
    int32_t cp = NextCodePoint(text, i);
    if (cp < 0) return NotUtf8(start);
    if (IsPythonSpace(cp)) {
      if (piece_start != std::string_view::npos) {
        pieces.emplace_back(text.substr(piece_start, start - piece_start));
        piece_start = std::string_view::npos;
      }
    } else if (piece_start == std::string_view::npos) {
      piece_start = start;
    }
  }
  if (piece_start != std::string_view::npos) pieces.emplace_back(text.substr(piece_start));
  return pieces;
}

std::vector<int64_t> PadOrTruncate(std::vector<int64_t> ids, int64_t max_length,
                                   int64_t pad_id) {
  ids.resize(static_cast<size_t>(max_length), pad_id);
  return ids;
}

WordTokenizer::WordTokenizer(std::unordered_map<std::string, int64_t> vocab, int64_t unknown_id)
    : vocab_(std::make_move_iterator(vocab.begin()), std::make_move_iterator(vocab.end())),
      unknown_id_(unknown_id) {}

StatusOr<WordTokenizer> WordTokenizer::FromJson(const Json& vocab, int64_t unknown_id) {
  if (!vocab.is_object()) {
    return InvalidArgumentError("vocab must be a JSON object of token: id, not " +
                                std::string(vocab.type_name()));
  }
  std::unordered_map<std::string, int64_t> map;
  map.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    if (!id.is_number_integer()) {
      return InvalidArgumentError("vocab['" + token + "'] must be an integer id, not " +
                                  id.dump());
    }
    map.emplace(token, id.get<int64_t>());
  }
  return WordTokenizer(std::move(map), unknown_id);
}

int64_t WordTokenizer::Id(std::string_view token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? unknown_id_ : it->second;
}

StatusOr<std::vector<int64_t>> WordTokenizer::Encode(std::string_view text) const {
  ASSIGN_OR_RETURN(std::string lower, Lower(text));
  ASSIGN_OR_RETURN(std::vector<std::string> tokens, Split(lower));
  std::vector<int64_t> ids;
  ids.reserve(tokens.size());
  for (const std::string& token : tokens) ids.push_back(Id(token));
  return ids;
}

StatusOr<Tensor> WordTokenizer::ToTensor(std::string_view text, int64_t max_length) const {
  std::string copy(text);
  return ToTensor(std::span<const std::string>(&copy, 1), max_length);
}

StatusOr<Tensor> WordTokenizer::ToTensor(std::span<const std::string> texts,
                                         int64_t max_length) const {
  if (max_length <= 0) {
    return InvalidArgumentError("max_length must be positive, not " + std::to_string(max_length));
  }
  std::vector<int64_t> all;
  all.reserve(texts.size() * static_cast<size_t>(max_length));
  for (const std::string& text : texts) {
    ASSIGN_OR_RETURN(std::vector<int64_t> ids, Encode(text));
    ids = PadOrTruncate(std::move(ids), max_length);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  return Tensor::Of<int64_t>({static_cast<int64_t>(texts.size()), max_length}, all);
}

}  // namespace bento
