// Reading and writing model.yaml, byte-compatible with BentoML 1.4.
//
// The writer emits BentoML's keys in BentoML's order, with specs in the protobuf-JSON form
// BentoML stores (`type: {tensorType: {elemType: 1, shape: {dim: [{dimValue: '3'},
// {dimParam: batch}]}}}`), `creation_time` as a quoted ISO-8601 string with microseconds and
// +00:00 (as Python's isoformat(): no fraction when it is zero), and `batch_dim` as a two-item
// list. The text is what PyYAML's safe_dump writes, byte for byte (pyyaml_emitter.h), except
// that metadata keys come out sorted (bento::Json keeps no insertion order). The reader
// (yaml-cpp, reading plain scalars as PyYAML does) accepts what BentoML writes, including
// other frameworks' modules and fields it does not use, and rejects malformed files with
// INVALID_ARGUMENT naming the problem; it never throws.
#ifndef BENTO_STORE_MODEL_YAML_H_
#define BENTO_STORE_MODEL_YAML_H_

#include <string>
#include <string_view>

#include "bento/model.h"

namespace bento::store {

std::string WriteModelYaml(const ModelInfo& info);
StatusOr<ModelInfo> ParseModelYaml(std::string_view text);

// "2026-11-26T17:46:31.757731+00:00" and back.
std::string FormatCreationTime(std::chrono::system_clock::time_point t);
StatusOr<std::chrono::system_clock::time_point> ParseCreationTime(std::string_view text);

}  // namespace bento::store

#endif  // BENTO_STORE_MODEL_YAML_H_
