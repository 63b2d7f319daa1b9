// bento/lists.h: tensors to and from nested lists (np.array(rows) and tolist()).
#include "bento/lists.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>

#include "tensor/half.h"

namespace bento {
namespace {

// A float32 value as the double that prints as its shortest decimal ("0.1", not
// "0.10000000149011612"). Non-finite values stay as they are (nlohmann writes them as null).
double ShortestDouble(float value) {
  if (!std::isfinite(value)) return value;
  char buf[32];
  char* end = std::to_chars(buf, buf + sizeof(buf), value).ptr;
  double out = 0;
  std::from_chars(buf, end, out);
  return out;
}

// Element i of the tensor as a JSON value, or nullptr for a dtype JSON cannot hold.
std::function<Json(int64_t)> ElementReader(const Tensor& t) {
  auto number = [&t]<typename T>(T) -> std::function<Json(int64_t)> {
    return [v = t.values<T>()](int64_t i) { return Json(v[i]); };
  };
  switch (t.dtype()) {
    case DType::kFloat32:
      return [v = t.values<float>()](int64_t i) { return Json(ShortestDouble(v[i])); };
    case DType::kFloat16:
      return [v = t.values<uint16_t>()](int64_t i) {
        return Json(ShortestDouble(HalfToFloat(v[i])));
      };
    case DType::kBFloat16:
      return [v = t.values<uint16_t>()](int64_t i) {
        return Json(ShortestDouble(BFloat16ToFloat(v[i])));
      };
    case DType::kFloat64: return number(double{});
    case DType::kInt8: return number(int8_t{});
    case DType::kInt16: return number(int16_t{});
    case DType::kInt32: return number(int32_t{});
    case DType::kInt64: return number(int64_t{});
    case DType::kUInt8: return number(uint8_t{});
    case DType::kUInt16: return number(uint16_t{});
    case DType::kUInt32: return number(uint32_t{});
    case DType::kUInt64: return number(uint64_t{});
    case DType::kBool:
      return [v = t.values<uint8_t>()](int64_t i) { return Json(v[i] != 0); };
    case DType::kString:
      return [&t](int64_t i) { return Json(t.strings()[i]); };
    default: return nullptr;
  }
}

// The nested lists of dimensions [dim, rank) starting at element *next.
Json Nest(const std::vector<int64_t>& shape, size_t dim, const std::function<Json(int64_t)>& at,
          int64_t* next) {
  if (dim == shape.size()) return at((*next)++);
  Json list = Json::array();
  for (int64_t i = 0; i < shape[dim]; ++i) list.push_back(Nest(shape, dim + 1, at, next));
  return list;
}

}  // namespace

StatusOr<Tensor> FromRows(const std::vector<std::vector<float>>& rows) {
  size_t columns = rows.empty() ? 0 : rows.front().size();
  std::vector<float> values;
  values.reserve(rows.size() * columns);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != columns) {
      return InvalidArgumentError("row " + std::to_string(i) + " has " +
                                  std::to_string(rows[i].size()) + " values, but row 0 has " +
                                  std::to_string(columns) + ": rows must have equal lengths");
    }
    values.insert(values.end(), rows[i].begin(), rows[i].end());
  }
  return Tensor::Of<float>({static_cast<int64_t>(rows.size()), static_cast<int64_t>(columns)},
                           values);
}

StatusOr<Json> ToList(const Tensor& tensor) {
  auto at = ElementReader(tensor);
  if (!at) {
    return InvalidArgumentError("a " + std::string(DTypeName(tensor.dtype())) +
                                " tensor cannot be written as JSON lists");
  }
  int64_t next = 0;
  return Nest(tensor.shape(), 0, at, &next);
}

}  // namespace bento
