// Tag parsing and validation, and version generation (declared in include/bento/model.h).
#include <array>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>

#include "base/thread_annotations.h"
#include "bento/model.h"

namespace bento {
namespace {

constexpr size_t kMaxTagPartLength = 63;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// `what` is "name" or "version"; the message follows BentoML's wording.
Status ValidatePart(std::string_view value, std::string_view what) {
  if (value.empty()) return InvalidArgumentError("a tag's " + std::string(what) + " is empty");
  std::string problems;
  if (value.size() > kMaxTagPartLength) {
    problems = "must be at most " + std::to_string(kMaxTagPartLength) + " characters long";
  }
  bool chars_ok = IsLowerAlnum(value.front()) && IsLowerAlnum(value.back());
  for (char c : value) {
    if (!IsLowerAlnum(c) && c != '-' && c != '_' && c != '.') chars_ok = false;
  }
  if (!chars_ok) {
    if (!problems.empty()) problems += ", and ";
    problems +=
        "must consist of lowercase alphanumeric characters, '_', '-' or '.', and must start "
        "and end with an alphanumeric character";
  }
  if (problems.empty()) return OkStatus();
  return InvalidArgumentError("'" + std::string(value) + "' is not a valid tag " +
                              std::string(what) + ": it " + problems);
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

Status Tag::ValidateName(std::string_view name) { return ValidatePart(name, "name"); }

StatusOr<Tag> Tag::Parse(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("empty model tag");
  std::string lower = ToLower(text);
  size_t colon = lower.find(':');
  Tag tag;
  tag.name = lower.substr(0, colon);
  if (colon != std::string::npos) {
    tag.version = lower.substr(colon + 1);
    if (tag.version.find(':') != std::string::npos) {
      return InvalidArgumentError("invalid tag '" + std::string(text) +
                                  "': a tag is name or name:version, with at most one ':'");
    }
    if (tag.version.empty()) {
      return InvalidArgumentError("invalid tag '" + std::string(text) +
                                  "': it ends with ':'; did you mean '" + tag.name +
                                  ":latest'?");
    }
  }
  Status status = ValidatePart(tag.name, "name");
  if (status.ok() && !tag.version.empty()) status = ValidatePart(tag.version, "version");
  if (!status.ok()) {
    return InvalidArgumentError("invalid tag '" + std::string(text) + "': " + status.message());
  }
  return tag;
}

std::string Tag::NewVersion() {
  // The previous version as (milliseconds, random) — an 80-bit number — so that versions made
  // within one millisecond (or after the clock steps back) still increase.
  static Mutex mu;
  static uint64_t last_ms GUARDED_BY(mu) = 0;
  static uint32_t last_rand GUARDED_BY(mu) = 0;
  static std::mt19937_64 rng GUARDED_BY(mu){std::random_device{}()};

  uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count()) &
                0xFFFFFFFFFFFFull;
  uint32_t rand = 0;
  {
    MutexLock lock(mu);
    rand = static_cast<uint32_t>(rng());
    if (ms < last_ms || (ms == last_ms && rand <= last_rand)) {
      ms = last_ms;
      rand = last_rand + 1;
      if (rand == 0) ++ms;  // carry
    }
    last_ms = ms;
    last_rand = rand;
  }

  std::array<uint8_t, 10> bytes{};
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  for (int i = 0; i < 4; ++i) bytes[6 + i] = static_cast<uint8_t>(rand >> (8 * (3 - i)));

  // base32hex, 80 bits = 16 characters of 5 bits, most significant first.
  static constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuv";
  std::string out;
  out.reserve(16);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kAlphabet[(buffer >> bits) & 0x1F]);
    }
  }
  return out;
}

const std::vector<TensorSpec>& ModelInfo::inputs(std::string_view signature) const {
  static const std::vector<TensorSpec> kEmpty;
  auto it = input_specs.find(std::string(signature));
  return it == input_specs.end() ? kEmpty : it->second;
}

const std::vector<TensorSpec>& ModelInfo::outputs(std::string_view signature) const {
  static const std::vector<TensorSpec> kEmpty;
  auto it = output_specs.find(std::string(signature));
  return it == output_specs.end() ? kEmpty : it->second;
}

}  // namespace bento
