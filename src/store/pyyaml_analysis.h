// The scalar analysis of PyYAML's emitter (emitter.py: analyze_scalar), which decides
// whether a string may be written plain, 'single-quoted' or must be "double-quoted", and
// the escapes of the double-quoted style. Internal to pyyaml_emitter.cc; split out to keep
// files short. Options are safe_dump's defaults (allow_unicode=False).
//
// Pure functions; thread-safe.
#ifndef BENTO_STORE_PYYAML_ANALYSIS_H_
#define BENTO_STORE_PYYAML_ANALYSIS_H_

#include <string>
#include <string_view>

namespace bento::store::internal {

// UTF-8 to code points; an invalid byte becomes U+FFFD.
std::u32string DecodeUtf8(std::string_view s);

// Line breaks as PyYAML knows them: \n, NEL, LS and PS.
bool IsBreak(char32_t c);
bool IsSpaceOrBreak(char32_t c);

// PyYAML's ScalarAnalysis, the fields the block emitter uses.
struct Analysis {
  bool empty = false;
  bool multiline = false;
  bool allow_flow_plain = true;
  bool allow_block_plain = true;
  bool allow_single_quoted = true;
};
Analysis AnalyzeScalar(const std::u32string& s);

// The double-quoted escape of `ch`: \n, \x85 as \N, \xE9, \u4E2D, \U0001F600, ...
std::string Escape(char32_t ch);

}  // namespace bento::store::internal

#endif  // BENTO_STORE_PYYAML_ANALYSIS_H_
