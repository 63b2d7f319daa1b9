// Fuzzes model.yaml parsing (src/store/model_yaml.h), through yaml-cpp. What parses must
// write back as a model.yaml that parses again to the same tag, and whose every field
// survives another read and write.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "store/model_yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto info = bento::store::ParseModelYaml(text);
  if (!info.ok()) return 0;
  std::string written = bento::store::WriteModelYaml(*info);
  auto again = bento::store::ParseModelYaml(written);
  FUZZ_CHECK(again.ok(), "written model.yaml does not parse: %s\n%s",
             again.status().ToString().c_str(), written.c_str());
  FUZZ_CHECK(again->tag.ToString() == info->tag.ToString(), "tag %s became %s",
             info->tag.ToString().c_str(), again->tag.ToString().c_str());
  // Every field survives: what was written reads back to what writes the same text.
  const std::string rewritten = bento::store::WriteModelYaml(*again);
  FUZZ_CHECK(rewritten == written, "model.yaml changed when read and written again:\n%s\n---\n%s",
             written.c_str(), rewritten.c_str());
  return 0;
}
