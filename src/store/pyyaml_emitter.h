// A YAML writer that reproduces PyYAML's `yaml.safe_dump(data, sort_keys=False)` byte for
// byte, for JSON-like data. BentoML writes model.yaml that way.
//
// Why not YAML::Emitter: yaml-cpp 0.7 indents block sequences under their key, writes `{}` on
// its own line, `~` for null, and quotes by its own rules; PyYAML's layout cannot be had from
// it. This is a port of the parts of PyYAML's Emitter that block-style safe_dump uses: block
// mappings and sequences (sequences not indented under a mapping key), `{}` / `[]` for empty
// collections, the plain / 'single' / "double" choice made by PyYAML's scalar analysis and
// resolver (so '3', 'yes' and '' are quoted), ASCII-only output with \x / \u escapes, and the
// folding of long scalars at 80 columns.
//
// Reading is left to yaml-cpp (see model_yaml.cc), which reads all of this.
//
// Thread-safe: pure function.
#ifndef BENTO_STORE_PYYAML_EMITTER_H_
#define BENTO_STORE_PYYAML_EMITTER_H_

#include <string>

#include "bento/json.h"

namespace bento::store {

// The YAML text for `document`, keys in the order they appear. Strings are UTF-8; invalid
// bytes are written as U+FFFD. Numbers follow PyYAML (Python's int and float repr).
std::string DumpPyYaml(const OrderedJson& document);

}  // namespace bento::store

#endif  // BENTO_STORE_PYYAML_EMITTER_H_
