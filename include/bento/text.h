// WordTokenizer: the guide's ONNXTextProcessor.tokenize_text, a word-level vocabulary lookup
// that turns text into the int64 token-id tensor a text model takes.
//
//   auto model = bento::onnx::get("text_classifier:latest").value();
//   auto tokenizer = bento::WordTokenizer::FromJson(model.custom_objects["vocab"]).value();
//   bento::Tensor ids = tokenizer.ToTensor(text, /*max_length=*/128).value();  // [1, 128]
//
// It does what the Python does, step by step:
//   tokens = text.lower().split()                     # Lower() and Split()
//   ids = [vocab.get(token, 0) for token in tokens]   # Encode()
//   pad with 0 or truncate to max_length              # PadOrTruncate()
//   np.array([ids], dtype=np.int64)                   # ToTensor()
//
// Text is UTF-8. Lowercasing is Unicode's, as Python's str.lower(): every cased letter of
// every script (Ä → ä, Σ → σ, Д → д), including İ → i̇ (two code points); the one difference is
// Greek final sigma, which Python writes ς at the end of a word and this writes σ. Splitting
// is Python's str.split() with no arguments: on runs of Unicode whitespace (ASCII space, tab,
// newlines, \x1c-\x1f, NBSP, the U+2000 spaces, U+3000, ...), dropping empty pieces.
// Invalid UTF-8 is an INVALID_ARGUMENT error (Python would never see such a str).
//
// Thread-safety: a WordTokenizer is immutable after construction; any number of threads may
// use one at once.
#ifndef BENTO_TEXT_H_
#define BENTO_TEXT_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bento/json.h"
#include "bento/status.h"
#include "bento/tensor.h"

namespace bento {

// Python's text.lower() for UTF-8 text. INVALID_ARGUMENT when `text` is not valid UTF-8.
StatusOr<std::string> Lower(std::string_view text);

// Python's text.split() (no arguments) for UTF-8 text: the pieces between runs of Unicode
// whitespace. INVALID_ARGUMENT when `text` is not valid UTF-8.
StatusOr<std::vector<std::string>> Split(std::string_view text);

// `ids` padded with `pad_id` up to `max_length`, or cut to its first `max_length` ids.
// REQUIRES: max_length >= 0.
std::vector<int64_t> PadOrTruncate(std::vector<int64_t> ids, int64_t max_length,
                                   int64_t pad_id = 0);

class WordTokenizer {
 public:
  // `vocab` maps a token to its id; a token not in it gets `unknown_id`.
  explicit WordTokenizer(std::unordered_map<std::string, int64_t> vocab, int64_t unknown_id = 0);

  // From a JSON object {token: id} such as the guide's custom_objects["vocab"]. Ids must be
  // integers; anything else is INVALID_ARGUMENT naming the offending token.
  static StatusOr<WordTokenizer> FromJson(const Json& vocab, int64_t unknown_id = 0);

  // Number of tokens in the vocabulary.
  size_t size() const { return vocab_.size(); }

  // The id of one token (already lowercased), or unknown_id.
  int64_t Id(std::string_view token) const;

  // The ids of text.lower().split(), one per word, unpadded.
  StatusOr<std::vector<int64_t>> Encode(std::string_view text) const;

  // An int64 tensor of shape [1, max_length]: Encode(text), padded with 0 or truncated.
  // REQUIRES: max_length > 0.
  StatusOr<Tensor> ToTensor(std::string_view text, int64_t max_length) const;
  // A batch: [texts.size(), max_length], one row per text.
  StatusOr<Tensor> ToTensor(std::span<const std::string> texts, int64_t max_length) const;

 private:
  // Heterogeneous lookup, so Id() takes a string_view without a copy.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> vocab_;
  int64_t unknown_id_;
};

}  // namespace bento

#endif  // BENTO_TEXT_H_
