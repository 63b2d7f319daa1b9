#include "store/pyyaml_scalar.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <regex>
#include <string>

namespace bento::store::internal {
namespace {

// PyYAML's implicit resolvers (yaml/resolver.py), in the order it tries them.
const std::regex& BoolRe() {
  static const std::regex re(
      "(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)");
  return re;
}
const std::regex& FloatRe() {
  static const std::regex re(
      "(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?"
      "|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
      "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*"
      "|[-+]?\\.(?:inf|Inf|INF)"
      "|\\.(?:nan|NaN|NAN))");
  return re;
}
const std::regex& IntRe() {
  static const std::regex re(
      "(?:[-+]?0b[0-1_]+"
      "|[-+]?0[0-7_]+"
      "|[-+]?(?:0|[1-9][0-9_]*)"
      "|[-+]?0x[0-9a-fA-F_]+"
      "|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)");
  return re;
}
const std::regex& NullRe() {
  static const std::regex re("(?:~|null|Null|NULL|)");
  return re;
}
const std::regex& TimestampRe() {
  static const std::regex re(
      "(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
      "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?"
      "(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?"
      "(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)");
  return re;
}
// merge ("<<"), value ("=") and the documentation-only yaml resolver ("!", "&", "*").
bool IsOtherSpecial(std::string_view t) {
  return t == "<<" || t == "=" || t == "!" || t == "&" || t == "*";
}

bool Matches(std::string_view text, const std::regex& re) {
  return std::regex_match(text.begin(), text.end(), re);
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
  return !(Matches(text, NullRe()) || Matches(text, BoolRe()) || Matches(text, IntRe()) ||
           Matches(text, FloatRe()) || Matches(text, TimestampRe()) || IsOtherSpecial(text));
}

Json ResolvePlainScalar(std::string_view text) {
  if (Matches(text, NullRe())) return nullptr;
  if (Matches(text, BoolRe())) {
    char c = text[0];
    return c == 'y' || c == 'Y' || c == 't' || c == 'T' || text == "on" || text == "On" ||
           text == "ON";
  }
  if (Matches(text, FloatRe())) return ConstructFloat(text);
  if (Matches(text, IntRe())) return ConstructInt(text);
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
