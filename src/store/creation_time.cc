// creation_time as BentoML writes it: Python's datetime.isoformat() of an aware UTC time,
// "2026-11-26T17:46:31.698874+00:00" (no fraction when the microseconds are zero).
#include <cstdio>
#include <string>

#include "store/model_yaml.h"

namespace bento::store {
namespace {

using std::chrono::days;
using std::chrono::microseconds;
using std::chrono::system_clock;

// Reads 1..max_digits digits at `pos`; false if there are none.
bool ReadNumber(std::string_view text, size_t& pos, size_t max_digits, int& out) {
  size_t start = pos;
  out = 0;
  while (pos < text.size() && pos - start < max_digits && text[pos] >= '0' && text[pos] <= '9') {
    out = out * 10 + (text[pos++] - '0');
  }
  return pos > start;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

std::string FormatCreationTime(system_clock::time_point t) {
  auto us = std::chrono::floor<microseconds>(t);
  auto day = std::chrono::floor<days>(us);
  std::chrono::year_month_day ymd{day};
  std::chrono::hh_mm_ss<microseconds> hms{us - day};
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  std::string out = buf;
  if (hms.subseconds().count() != 0) {
    std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(hms.subseconds().count()));
    out += buf;
  }
  return out + "+00:00";
}

StatusOr<system_clock::time_point> ParseCreationTime(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("bad creation_time '" + std::string(text) + "': " +
                                std::string(why) +
                                " (expected ISO 8601 like 2026-11-26T17:46:31.698874+00:00)");
  };
  size_t pos = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadNumber(text, pos, 4, year) || pos != 4 || !Expect(text, pos, '-') ||
      !ReadNumber(text, pos, 2, month) || !Expect(text, pos, '-') ||
      !ReadNumber(text, pos, 2, day)) {
    return bad("no date");
  }
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == 't')) {
    ++pos;
  } else {
    size_t spaces = pos;
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    if (pos == spaces) return bad("no time");
  }
  if (!ReadNumber(text, pos, 2, hour) || !Expect(text, pos, ':') ||
      !ReadNumber(text, pos, 2, minute) || !Expect(text, pos, ':') ||
      !ReadNumber(text, pos, 2, second)) {
    return bad("no time");
  }
  int64_t micros = 0;
  if (Expect(text, pos, '.')) {
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits++ < 6) micros = micros * 10 + (text[pos] - '0');
      ++pos;
    }
    if (digits == 0) return bad("empty fraction");
    for (; digits < 6; ++digits) micros *= 10;
  }
  while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  int offset_minutes = 0;  // a time without an offset is taken as UTC
  if (pos < text.size()) {
    if (text[pos] == 'Z' || text[pos] == 'z') {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      int sign = text[pos++] == '-' ? -1 : 1;
      int oh = 0, om = 0;
      if (!ReadNumber(text, pos, 2, oh)) return bad("bad UTC offset");
      Expect(text, pos, ':');
      if (pos < text.size() && !ReadNumber(text, pos, 2, om)) return bad("bad UTC offset");
      if (oh > 23 || om > 59) return bad("bad UTC offset");
      offset_minutes = sign * (oh * 60 + om);
    }
  }
  if (pos != text.size()) return bad("unexpected text after the time");
  std::chrono::year_month_day ymd{std::chrono::year(year),
                                  std::chrono::month(static_cast<unsigned>(month)),
                                  std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return bad("no such date");
  // system_clock counts nanoseconds in 64 bits: about 1677-09-21 to 2262-04-11.
  if (year < 1678 || year > 2261) return bad("year outside 1678..2261");
  if (hour > 23 || minute > 59 || second > 59) return bad("no such time");
  auto t = std::chrono::sys_days(ymd) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
           std::chrono::seconds(second) + microseconds(micros) -
           std::chrono::minutes(offset_minutes);
  return std::chrono::time_point_cast<system_clock::duration>(t);
}

}  // namespace bento::store
