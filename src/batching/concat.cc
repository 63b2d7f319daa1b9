#include "batching/concat.h"

#include <utility>

namespace bento::batching {

StatusOr<TensorMap> SliceMap(const TensorMap& tensors, int dim, int64_t begin, int64_t end) {
  TensorMap out;
  for (const auto& [name, tensor] : tensors) {
    auto piece = Slice(tensor, dim, begin, end);
    if (!piece.ok()) return piece.status().WithContext("'" + name + "'");
    out.emplace(name, *std::move(piece));
  }
  return out;
}

StatusOr<TensorMap> ConcatMaps(std::span<const TensorMap> parts, int dim) {
  if (parts.empty()) return InvalidArgumentError("ConcatMaps: no parts");
  if (parts.size() == 1) return parts[0];
  TensorMap out;
  std::vector<Tensor> column(parts.size());
  for (const auto& [name, unused] : parts[0]) {
    for (size_t i = 0; i < parts.size(); ++i) {
      auto it = parts[i].find(name);
      if (it == parts[i].end() || parts[i].size() != parts[0].size()) {
        return InvalidArgumentError("cannot concatenate: part " + std::to_string(i) +
                                    " has different tensor names ('" + name + "')");
      }
      column[i] = it->second;
    }
    auto joined = Concat(column, dim);
    if (!joined.ok()) return joined.status().WithContext("'" + name + "'");
    out.emplace(name, *std::move(joined));
  }
  return out;
}

StatusOr<int64_t> BatchSize(const TensorMap& inputs, int batch_dim) {
  if (inputs.empty()) return InvalidArgumentError("a batched request needs at least one input");
  int64_t items = -1;
  std::string first_name;
  for (const auto& [name, t] : inputs) {
    auto context = "input '" + name + "'";
    Status splittable = CheckSplittable(t, batch_dim);
    if (!splittable.ok()) return splittable.WithContext(context);
    for (int64_t d : t.shape()) {
      if (d < 0) {
        return InvalidArgumentError(context + ": negative dim in " + ShapeToString(t.shape()));
      }
    }
    const size_t want = static_cast<size_t>(t.num_elements());
    const bool consistent = t.dtype() == DType::kString
                                ? t.strings().size() == want
                                : t.byte_size() == want * DTypeSize(t.dtype());
    if (!consistent) {
      return InvalidArgumentError(context + ": data does not match shape " +
                                  ShapeToString(t.shape()));
    }
    if (items < 0) {
      items = t.shape()[batch_dim];
      first_name = name;
    } else if (t.shape()[batch_dim] != items) {
      return InvalidArgumentError(context + " has " + std::to_string(t.shape()[batch_dim]) +
                                  " items along dim " + std::to_string(batch_dim) + ", but '" +
                                  first_name + "' has " + std::to_string(items));
    }
  }
  return items;
}

std::string ShapeKey(const TensorMap& inputs, int batch_dim) {
  std::string key;
  for (const auto& [name, t] : inputs) {
    // Length-prefixed, so that no input name can forge another key.
    key += std::to_string(name.size()) + ":" + name + ":" + std::string(DTypeName(t.dtype())) + "[";
    for (size_t i = 0; i < t.shape().size(); ++i) {
      if (i) key += ",";
      key += static_cast<int>(i) == batch_dim ? "*" : std::to_string(t.shape()[i]);
    }
    key += "];";
  }
  return key;
}

}  // namespace bento::batching
