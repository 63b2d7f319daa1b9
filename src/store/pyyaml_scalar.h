// How PyYAML (yaml.safe_load / yaml.safe_dump, YAML 1.1) reads and writes plain scalars.
//
// BentoML reads and writes model.yaml with PyYAML, so a plain scalar means what PyYAML's
// implicit resolver says: `yes` is a bool, `0x1f` an int, `1e5` a string (floats need a dot),
// `2024-01-01` a timestamp. These functions reproduce that, so that values survive a round
// trip through bento and BentoML unchanged.
//
// All functions are pure and thread-safe.
#ifndef BENTO_STORE_PYYAML_SCALAR_H_
#define BENTO_STORE_PYYAML_SCALAR_H_

#include <string>
#include <string_view>

#include "bento/json.h"

namespace bento::store::internal {

// True when PyYAML resolves the plain scalar `text` to a string, i.e. it may be written
// without quotes as far as its type is concerned.
bool PlainResolvesToString(std::string_view text);

// The JSON value PyYAML's safe_load gives a plain (unquoted) scalar: null, bool, int, float,
// or a string (timestamps stay strings, as their text).
Json ResolvePlainScalar(std::string_view text);

// The text PyYAML's safe_dump writes for a float: Python's repr(), lower-cased, with ".0"
// added before an exponent that has no dot ("1.0e+20"), and .inf / -.inf / .nan.
std::string PyYamlFloat(double value);

}  // namespace bento::store::internal

#endif  // BENTO_STORE_PYYAML_SCALAR_H_
