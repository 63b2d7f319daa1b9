// bento::Json: the JSON value type of bento's public API (metadata, custom objects, service
// parameters and results). It is nlohmann::json, chosen for its ergonomics; hot paths that
// decode tensors use simdjson instead (src/tensor/json_codec.h).
#ifndef BENTO_JSON_H_
#define BENTO_JSON_H_

#include <nlohmann/json.hpp>

namespace bento {
using Json = nlohmann::json;
// Keeps keys in insertion order, for output that mirrors how it was built.
using OrderedJson = nlohmann::ordered_json;
}  // namespace bento

#endif  // BENTO_JSON_H_
