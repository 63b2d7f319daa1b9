#include "store/pyyaml_scalar.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace bento::store::internal {
namespace {

// PyYAML's implicit resolvers (yaml/resolver.py) as hand-written matchers: std::regex
// recurses once per character and overflows the stack on long scalars.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : s_(text) {}
  bool done() const { return i_ == s_.size(); }
  bool Peek(std::string_view set) const {
    return i_ < s_.size() && set.find(s_[i_]) != std::string_view::npos;
  }
  bool Take(std::string_view set) {
    if (!Peek(set)) return false;
    ++i_;
    return true;
  }
  bool TakeLiteral(std::string_view lit) {
    if (s_.substr(i_, lit.size()) != lit) return false;
    i_ += lit.size();
    return true;
  }
  // Takes as many characters of `set` as there are (up to `max`); returns how many.
  size_t TakeAll(std::string_view set, size_t max = std::string_view::npos) {
    size_t n = 0;
    while (n < max && Take(set)) ++n;
    return n;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

constexpr std::string_view kDigits = "0123456789";
constexpr std::string_view kDigitsUnderscore = "0123456789_";

// (?::[0-5]?[0-9])+ : one or more ":" followed by 0..59 written in one or two digits.
bool TakeSexagesimal(Cursor& c) {
  int groups = 0;
  while (c.Take(":")) {
    Cursor before = c;
    size_t n = c.TakeAll(kDigits, 2);
    if (n == 0) return false;
    if (n == 2 && !before.Peek("012345")) return false;
    ++groups;
  }
  return groups > 0;
}

// ([eE][-+][0-9]+)?
bool TakeOptionalExponent(Cursor& c) {
  if (!c.Take("eE")) return true;
  return c.Take("-+") && c.TakeAll(kDigits) > 0;
}

bool MatchesBool(std::string_view t) {
  for (std::string_view word : {"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE",
                                "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF"}) {
    if (t == word) return true;
  }
  return false;
}

bool MatchesNull(std::string_view t) {
  return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL";
}

bool MatchesInt(std::string_view t) {
  Cursor start(t);
  start.Take("-+");
  {  // 0b[0-1_]+
    Cursor c = start;
    if (c.TakeLiteral("0b") && c.TakeAll("01_") > 0 && c.done()) return true;
  }
  {  // 0x[0-9a-fA-F_]+
    Cursor c = start;
    if (c.TakeLiteral("0x") && c.TakeAll("0123456789abcdefABCDEF_") > 0 && c.done()) return true;
  }
  {  // 0[0-7_]+ or 0
    Cursor c = start;
    if (c.Take("0") && (c.done() || (c.TakeAll("01234567_") > 0 && c.done()))) return true;
  }
  // [1-9][0-9_]* optionally followed by sexagesimal groups
  Cursor c = start;
  if (!c.Take("123456789")) return false;
  c.TakeAll(kDigitsUnderscore);
  return c.done() || (TakeSexagesimal(c) && c.done());
}

bool MatchesFloat(std::string_view t) {
  {  // [-+]?\.(inf|Inf|INF) and \.(nan|NaN|NAN)
    std::string_view u = t;
    if (!u.empty() && (u[0] == '-' || u[0] == '+')) u.remove_prefix(1);
    if (u == ".inf" || u == ".Inf" || u == ".INF") return true;
    if (t == ".nan" || t == ".NaN" || t == ".NAN") return true;
  }
  {  // \.[0-9][0-9_]*([eE][-+][0-9]+)?  (no sign)
    Cursor c(t);
    if (c.Take(".") && c.Take(kDigits)) {
      c.TakeAll(kDigitsUnderscore);
      if (TakeOptionalExponent(c) && c.done()) return true;
    }
  }
  Cursor c(t);
  c.Take("-+");
  if (!c.Take(kDigits)) return false;
  c.TakeAll(kDigitsUnderscore);
  // [0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* has no exponent.
  bool sexagesimal = c.Peek(":");
  if (sexagesimal && !TakeSexagesimal(c)) return false;
  if (!c.Take(".")) return false;
  c.TakeAll(kDigitsUnderscore);
  return (sexagesimal || TakeOptionalExponent(c)) && c.done();
}

bool MatchesTimestamp(std::string_view t) {
  Cursor c(t);
  if (c.TakeAll(kDigits, 4) != 4 || !c.Take("-")) return false;
  size_t month = c.TakeAll(kDigits, 2);
  if (month == 0 || !c.Take("-")) return false;
  size_t day = c.TakeAll(kDigits, 2);
  if (day == 0) return false;
  if (c.done()) return month == 2 && day == 2;  // the date-only form needs two digits each
  if (!c.Take("Tt") && c.TakeAll(" \t") == 0) return false;
  if (c.TakeAll(kDigits, 2) == 0 || !c.Take(":") || c.TakeAll(kDigits, 2) != 2 || !c.Take(":") ||
      c.TakeAll(kDigits, 2) != 2) {
    return false;
  }
  if (c.Take(".")) c.TakeAll(kDigits);
  if (c.done()) return true;
  c.TakeAll(" \t");
  if (c.Take("Z")) return c.done();
  if (!c.Take("-+") || c.TakeAll(kDigits, 2) == 0) return false;
  if (c.Take(":") && c.TakeAll(kDigits, 2) != 2) return false;
  return c.done();
}

// merge ("<<"), value ("=") and the documentation-only yaml resolver ("!", "&", "*").
bool IsOtherSpecial(std::string_view t) {
  return t == "<<" || t == "=" || t == "!" || t == "&" || t == "*";
}

std::string WithoutUnderscores(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != '_') out.push_back(c);
  }
  return out;
}

// Python's int() of a digit string in `base`, as a JSON number (a double past 64 bits).
Json ParseUnsigned(std::string_view digits, int base, bool negative) {
  uint64_t value = 0;
  double approx = 0;
  bool overflow = false;
  for (char c : digits) {
    int d = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    approx = approx * base + d;
    if (value > (std::numeric_limits<uint64_t>::max() - d) / base) overflow = true;
    value = value * base + d;
  }
  if (overflow) return negative ? -approx : approx;
  if (!negative) {
    if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(value);
    }
    return value;
  }
  if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
    return static_cast<int64_t>(0 - value);
  }
  return -approx;
}

// PyYAML's construct_yaml_int.
Json ConstructInt(std::string_view text) {
  std::string value = WithoutUnderscores(text);
  bool negative = value[0] == '-';
  if (value[0] == '-' || value[0] == '+') value.erase(0, 1);
  if (value == "0") return 0;
  if (value.starts_with("0b")) return ParseUnsigned(value.substr(2), 2, negative);
  if (value.starts_with("0x")) return ParseUnsigned(value.substr(2), 16, negative);
  if (value[0] == '0') return ParseUnsigned(value, 8, negative);
  if (value.find(':') != std::string::npos) {  // base 60: 1:30 is 90
    int64_t total = 0;
    size_t start = 0;
    while (start <= value.size()) {
      size_t end = value.find(':', start);
      if (end == std::string::npos) end = value.size();
      int64_t part = 0;
      std::from_chars(value.data() + start, value.data() + end, part);
      total = total * 60 + part;
      start = end + 1;
    }
    return negative ? -total : total;
  }
  return ParseUnsigned(value, 10, negative);
}

double ParseDouble(std::string_view text) {
  double value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// PyYAML's construct_yaml_float.
Json ConstructFloat(std::string_view text) {
  std::string value = WithoutUnderscores(text);
  for (char& c : value) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  double sign = value[0] == '-' ? -1.0 : 1.0;
  if (value[0] == '-' || value[0] == '+') value.erase(0, 1);
  if (value == ".inf") return sign * std::numeric_limits<double>::infinity();
  if (value == ".nan") return std::numeric_limits<double>::quiet_NaN();
  if (value.find(':') != std::string::npos) {
    double total = 0;
    size_t start = 0;
    while (start <= value.size()) {
      size_t end = value.find(':', start);
      if (end == std::string::npos) end = value.size();
      total = total * 60 + ParseDouble(std::string_view(value).substr(start, end - start));
      start = end + 1;
    }
    return sign * total;
  }
  return sign * ParseDouble(value);
}

}  // namespace

bool PlainResolvesToString(std::string_view text) {
  return !(MatchesNull(text) || MatchesBool(text) || MatchesInt(text) || MatchesFloat(text) ||
           MatchesTimestamp(text) || IsOtherSpecial(text));
}

Json ResolvePlainScalar(std::string_view text) {
  if (MatchesNull(text)) return nullptr;
  if (MatchesBool(text)) {
    char c = text[0];
    return c == 'y' || c == 'Y' || c == 't' || c == 'T' || text == "on" || text == "On" ||
           text == "ON";
  }
  if (MatchesFloat(text)) return ConstructFloat(text);
  if (MatchesInt(text)) return ConstructInt(text);
  return std::string(text);  // strings, timestamps (kept as text), "<<", "="
}

std::string PyYamlFloat(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  // The shortest digits that round-trip, as Python's repr() picks them.
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string sci(buf, result.ptr);  // "-1.2345e+20"
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e_pos = sci.find('e');
  int exponent = std::stoi(sci.substr(e_pos + 1));
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits.push_back(c);
  }
  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {  // repr() uses fixed notation here
    if (exponent < 0) {
      out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    } else {
      size_t int_digits = static_cast<size_t>(exponent) + 1;
      if (digits.size() <= int_digits) {
        out += digits + std::string(int_digits - digits.size(), '0') + ".0";
      } else {
        out += digits.substr(0, int_digits) + "." + digits.substr(int_digits);
      }
    }
    return out;
  }
  out += digits.substr(0, 1);
  // PyYAML adds ".0" where repr() has no dot ("1e+20" -> "1.0e+20").
  out += digits.size() > 1 ? "." + digits.substr(1) : ".0";
  std::string exp = std::to_string(exponent < 0 ? -exponent : exponent);
  if (exp.size() < 2) exp = "0" + exp;
  out += std::string("e") + (exponent < 0 ? "-" : "+") + exp;
  return out;
}

}  // namespace bento::store::internal
