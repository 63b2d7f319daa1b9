// Tensor operations shared by the batcher, services and examples: concatenating, slicing and
// splitting along a dimension, and softmax / top-k over scores.
#include "bento/ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <utility>

namespace bento {
namespace {

// A tensor seen as [outer, items, inner] around `dim` (row-major).
struct Geometry {
  int64_t outer = 1;
  int64_t items = 0;
  int64_t inner = 1;
};

Geometry GeometryOf(const std::vector<int64_t>& shape, int dim) {
  Geometry g;
  for (int i = 0; i < dim; ++i) g.outer *= shape[i];
  g.items = shape[dim];
  for (size_t i = static_cast<size_t>(dim) + 1; i < shape.size(); ++i) g.inner *= shape[i];
  return g;
}

}  // namespace

Status CheckSplittable(const Tensor& t, int dim) {
  if (t.dtype() != DType::kString && DTypeSize(t.dtype()) == 0) {
    return InvalidArgumentError("cannot batch a tensor of dtype " +
                                std::string(DTypeName(t.dtype())));
  }
  if (dim < 0 || static_cast<size_t>(dim) >= t.shape().size()) {
    return InvalidArgumentError("batch dim " + std::to_string(dim) + " is out of range for shape " +
                                ShapeToString(t.shape()));
  }
  return OkStatus();
}

StatusOr<Tensor> Concat(std::span<const Tensor> parts, int dim) {
  if (parts.empty()) return InvalidArgumentError("Concat: no tensors");
  const Tensor& first = parts[0];
  RETURN_IF_ERROR(CheckSplittable(first, dim));
  std::vector<int64_t> shape = first.shape();
  int64_t total = 0;
  for (const Tensor& part : parts) {
    bool same = part.dtype() == first.dtype() && part.shape().size() == shape.size();
    for (size_t i = 0; same && i < shape.size(); ++i) {
      same = static_cast<int>(i) == dim || part.shape()[i] == shape[i];
    }
    if (!same) {
      return InvalidArgumentError(
          "cannot concatenate " + std::string(DTypeName(part.dtype())) +
          ShapeToString(part.shape()) + " with " + std::string(DTypeName(first.dtype())) +
          ShapeToString(shape) + " along dim " + std::to_string(dim));
    }
    total += part.shape()[dim];
  }
  if (parts.size() == 1) return first;
  shape[dim] = total;
  const Geometry out = GeometryOf(shape, dim);

  if (first.dtype() == DType::kString) {
    std::vector<std::string> values;
    values.reserve(static_cast<size_t>(NumElements(shape)));
    for (int64_t o = 0; o < out.outer; ++o) {
      for (const Tensor& part : parts) {
        const int64_t block = part.shape()[dim] * out.inner;
        auto begin = part.strings().begin() + o * block;
        values.insert(values.end(), begin, begin + block);
      }
    }
    return Tensor::Strings(std::move(shape), std::move(values));
  }

  const size_t esize = DTypeSize(first.dtype());
  Tensor result = Tensor::Zeros(first.dtype(), shape);
  char* dst = static_cast<char*>(result.mutable_data());
  for (int64_t o = 0; o < out.outer; ++o) {
    for (const Tensor& part : parts) {
      const size_t block = static_cast<size_t>(part.shape()[dim] * out.inner) * esize;
      if (block == 0) continue;
      std::memcpy(dst, static_cast<const char*>(part.data()) + o * block, block);
      dst += block;
    }
  }
  return result;
}

StatusOr<Tensor> Slice(const Tensor& tensor, int dim, int64_t begin, int64_t end) {
  RETURN_IF_ERROR(CheckSplittable(tensor, dim));
  const Geometry g = GeometryOf(tensor.shape(), dim);
  if (begin < 0 || begin > end || end > g.items) {
    return InvalidArgumentError("slice [" + std::to_string(begin) + ", " + std::to_string(end) +
                                ") is out of range for dim " + std::to_string(dim) + " of " +
                                ShapeToString(tensor.shape()));
  }
  if (begin == 0 && end == g.items) return tensor;
  std::vector<int64_t> shape = tensor.shape();
  shape[dim] = end - begin;
  const int64_t count = end - begin;

  if (tensor.dtype() == DType::kString) {
    std::vector<std::string> values;
    values.reserve(static_cast<size_t>(g.outer * count * g.inner));
    for (int64_t o = 0; o < g.outer; ++o) {
      auto from = tensor.strings().begin() + (o * g.items + begin) * g.inner;
      values.insert(values.end(), from, from + count * g.inner);
    }
    return Tensor::Strings(std::move(shape), std::move(values));
  }

  const size_t esize = DTypeSize(tensor.dtype());
  const char* src = static_cast<const char*>(tensor.data());
  if (g.outer == 1) {
    // One contiguous run: borrow it, keeping the source's buffer alive.
    return Tensor::Borrow(tensor.dtype(), std::move(shape),
                          src + static_cast<size_t>(begin * g.inner) * esize,
                          std::make_shared<const Tensor>(tensor));
  }
  Tensor result = Tensor::Zeros(tensor.dtype(), std::move(shape));
  char* dst = static_cast<char*>(result.mutable_data());
  const size_t block = static_cast<size_t>(count * g.inner) * esize;
  for (int64_t o = 0; o < g.outer && block > 0; ++o) {
    std::memcpy(dst, src + static_cast<size_t>((o * g.items + begin) * g.inner) * esize, block);
    dst += block;
  }
  return result;
}

StatusOr<std::vector<Tensor>> Split(const Tensor& tensor, int dim,
                                    std::span<const int64_t> sizes) {
  RETURN_IF_ERROR(CheckSplittable(tensor, dim));
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  if (total != tensor.shape()[dim]) {
    return InvalidArgumentError("split sizes add up to " + std::to_string(total) + ", but dim " +
                                std::to_string(dim) + " of " + ShapeToString(tensor.shape()) +
                                " has " + std::to_string(tensor.shape()[dim]));
  }
  std::vector<Tensor> pieces;
  pieces.reserve(sizes.size());
  int64_t begin = 0;
  for (int64_t s : sizes) {
    ASSIGN_OR_RETURN(Tensor piece, Slice(tensor, dim, begin, begin + s));
    pieces.push_back(std::move(piece));
    begin += s;
  }
  return pieces;
}

std::span<const float> Row(const Tensor& tensor, int64_t i) {
  if (tensor.dtype() != DType::kFloat32 || tensor.shape().empty() || i < 0 ||
      i >= tensor.shape()[0]) {
    return {};
  }
  size_t row = static_cast<size_t>(NumElements(tensor.shape()) / tensor.shape()[0]);
  return tensor.values<float>().subspan(static_cast<size_t>(i) * row, row);
}

std::vector<float> Softmax(std::span<const float> scores) {
  std::vector<float> out(scores.size());
  if (scores.empty()) return out;
  float max = *std::max_element(scores.begin(), scores.end());
  double sum = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    out[i] = std::exp(scores[i] - max);
    sum += out[i];
  }
  for (auto& v : out) v = static_cast<float>(v / sum);
  return out;
}

std::vector<size_t> TopK(std::span<const float> scores, size_t k) {
  std::vector<size_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), size_t{0});
  k = std::min(k, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                    [&](size_t a, size_t b) {
                      return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
                    });
  idx.resize(k);
  return idx;
}

}  // namespace bento
