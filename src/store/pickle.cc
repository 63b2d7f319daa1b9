#include "store/pickle.h"

#include <bit>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "base/strings.h"

namespace bento::store {
namespace {

// The opcodes of Python's pickle (Lib/pickletools.py documents each) that JSON-like values use.
enum Op : uint8_t {
  kMark = '(', kStop = '.', kNone = 'N', kBinInt = 'J', kBinInt1 = 'K', kBinInt2 = 'M',
  kInt = 'I', kLong = 'L', kBinFloat = 'G', kFloat = 'F', kBinUnicode = 'X',
  kEmptyList = ']', kAppend = 'a', kAppends = 'e', kList = 'l', kEmptyTuple = ')',
  kTuple = 't', kEmptyDict = '}', kDict = 'd', kSetItem = 's', kSetItems = 'u',
  kBinGet = 'h', kLongBinGet = 'j', kBinPut = 'q', kLongBinPut = 'r', kGet = 'g', kPut = 'p',
  kProto = 0x80, kTuple1 = 0x85, kTuple2 = 0x86, kTuple3 = 0x87, kNewTrue = 0x88,
  kNewFalse = 0x89, kLong1 = 0x8a, kLong4 = 0x8b, kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d, kStackGlobal = 0x93, kMemoize = 0x94, kFrame = 0x95,
};

void PutLe(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

void Write(const Json& v, std::string* out) {
  switch (v.type()) {
    case Json::value_t::null: out->push_back(kNone); break;
    case Json::value_t::boolean: out->push_back(v.get<bool>() ? kNewTrue : kNewFalse); break;
    case Json::value_t::number_integer: {
      int64_t i = v.get<int64_t>();
      if (i >= INT32_MIN && i <= INT32_MAX) {
        out->push_back(kBinInt);
        PutLe(static_cast<uint32_t>(static_cast<int32_t>(i)), 4, out);
      } else {
        out->push_back(static_cast<char>(kLong1));
        out->push_back(8);  // two's complement, little-endian
        PutLe(static_cast<uint64_t>(i), 8, out);
      }
      break;
    }
    case Json::value_t::number_unsigned: {
      uint64_t u = v.get<uint64_t>();
      if (u <= INT32_MAX) {
        out->push_back(kBinInt);
        PutLe(u, 4, out);
      } else {
        out->push_back(static_cast<char>(kLong1));
        out->push_back(9);  // a ninth byte keeps the sign bit clear
        PutLe(u, 8, out);
        out->push_back(0);
      }
      break;
    }
    case Json::value_t::number_float: {
      out->push_back(kBinFloat);
      uint64_t bits = std::bit_cast<uint64_t>(v.get<double>());
      for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(bits >> shift));
      break;
    }
    case Json::value_t::string: {
      const std::string& s = v.get_ref<const std::string&>();
      out->push_back(kBinUnicode);
      PutLe(s.size(), 4, out);
      out->append(s);
      break;
    }
    case Json::value_t::array:
      out->push_back(kEmptyList);
      for (const Json& item : v) {
        Write(item, out);
        out->push_back(kAppend);
      }
      break;
    case Json::value_t::object:
      out->push_back(kEmptyDict);
      for (const auto& [key, item] : v.items()) {
        Write(Json(key), out);
        Write(item, out);
        out->push_back(kSetItem);
      }
      break;
    default:  // binary, discarded: not made by bento's JSON
      out->push_back(kNone);
  }
}

// The reader's stack: values (shared, so that the memo sees a container as it fills) and marks.
using Node = std::shared_ptr<Json>;

class Reader {
 public:
  explicit Reader(std::string_view bytes) : in_(bytes) {}

  StatusOr<Json> Run() {
    while (true) {
      if (pos_ >= in_.size()) return Error("ends before its STOP opcode");
      uint8_t op = static_cast<uint8_t>(in_[pos_++]);
      if (op == kStop) {
        if (stack_.size() != 1 || !stack_[0]) return Error("ends with a malformed stack");
        return *stack_[0];
      }
      RETURN_IF_ERROR(Step(op));
    }
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgumentError("pickle: " + what + " (at byte " + std::to_string(pos_) + ")");
  }

  // The top-level key whose value the reader is in, when the pickle is a dict being filled.
  // `operands`: how many values on top of the stack belong to the opcode being read.
  std::string Where(size_t operands = 0) const {
    if (stack_.empty() || !stack_[0] || !stack_[0]->is_object()) return "";
    std::vector<Json*> level;  // the values between the top-level dict's mark and the next
    size_t i = 1;
    const size_t end = stack_.size() - std::min(operands, stack_.size() - 1);
    if (i < end && !stack_[i]) ++i;  // the mark of a SETITEMS batch
    for (; i < end && stack_[i]; ++i) level.push_back(stack_[i].get());
    if (level.empty()) return "";
    const Json* key = level[(level.size() - 1) & ~size_t{1}];
    return key->is_string() ? " in custom object '" + key->get<std::string>() + "'" : "";
  }

  Status Refuse(uint8_t op) const {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02x", op);
    return InvalidArgumentError(
        "pickle: opcode " + std::string(hex) + Where(op == kStackGlobal ? 2 : 0) +
        " builds a Python object, not a JSON-like value (dict, list, str, int, float, bool, "
        "None); bento reads no other kind, and runs no pickled code");
  }

  StatusOr<std::string_view> Take(uint64_t n) {
    if (n > in_.size() - pos_) return Error("is truncated");
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  StatusOr<uint64_t> Le(int bytes) {
    ASSIGN_OR_RETURN(std::string_view s, Take(bytes));
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<uint8_t>(s[i]);
    return v;
  }
  StatusOr<std::string_view> Line() {
    size_t end = in_.find('\n', pos_);
    if (end == std::string_view::npos) return Error("is truncated in a text argument");
    std::string_view s = in_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }

  Status PushText(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
      size_t n = Utf8SequenceLength(s.substr(i));
      if (n == 0) return Error("has a string that is not UTF-8" + Where());
      i += n;
    }
    return Push(std::string(s));
  }
  Status Push(Json v) {
    stack_.push_back(std::make_shared<Json>(std::move(v)));
    return OkStatus();
  }
  // A node's value: moved out, unless the memo shares it and may recall it later.
  static Json ValueOf(Node& node) { return node.use_count() > 1 ? *node : std::move(*node); }
  StatusOr<Json> Pop() {
    if (stack_.empty() || !stack_.back()) return Error("pops past a mark or an empty stack");
    Json v = ValueOf(stack_.back());
    stack_.pop_back();
    return v;
  }
  // The values since the last mark, which is removed.
  StatusOr<std::vector<Json>> PopMark() {
    size_t mark = stack_.size();
    while (mark > 0 && stack_[mark - 1]) --mark;
    if (mark == 0) return Error("has no mark to pop to");
    std::vector<Json> items;
    for (size_t i = mark; i < stack_.size(); ++i) items.push_back(ValueOf(stack_[i]));
    stack_.resize(mark - 1);
    return items;
  }
  StatusOr<Json*> Top() {
    if (stack_.empty() || !stack_.back()) return Error("has no value where one is needed");
    return stack_.back().get();
  }
  Status SetItems(std::vector<Json> items) {
    if (items.size() % 2 != 0) return Error("sets a key with no value");
    ASSIGN_OR_RETURN(Json * dict, Top());
    if (!dict->is_object()) return Error("sets items on something that is not a dict");
    for (size_t i = 0; i < items.size(); i += 2) {
      if (!items[i].is_string()) return Error("has a dict key that is not a string" + Where());
      (*dict)[items[i].get<std::string>()] = std::move(items[i + 1]);
    }
    return OkStatus();
  }
  Status Appends(std::vector<Json> items) {
    ASSIGN_OR_RETURN(Json * list, Top());
    if (!list->is_array()) return Error("appends to something that is not a list");
    for (auto& item : items) list->push_back(std::move(item));
    return OkStatus();
  }
  Status Long(std::string_view le) {
    if (le.empty()) return Push(0);
    if (le.size() > 9 || (le.size() == 9 && static_cast<uint8_t>(le[8]) != 0)) {
      return Error("has an integer too large for JSON" + Where());
    }
    bool negative = static_cast<uint8_t>(le.back()) & 0x80;
    uint64_t v = 0;
    size_t n = std::min<size_t>(le.size(), 8);
    for (size_t i = n; i-- > 0;) v = v << 8 | static_cast<uint8_t>(le[i]);
    if (le.size() < 8 && negative) v |= ~uint64_t{0} << (8 * le.size());  // sign-extend
    if (negative) {
      if (le.size() == 9) return Error("has an integer too large for JSON" + Where());
      return Push(static_cast<int64_t>(v));
    }
    if (le.size() == 8 && (v >> 63)) return Error("has an integer too large for JSON" + Where());
    return Push(v);
  }
  Status Memo(uint64_t key) {
    if (stack_.empty() || !stack_.back()) return Error("memoizes a mark");
    memo_[key] = stack_.back();
    return OkStatus();
  }
  Status Recall(uint64_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) return Error("recalls memo entry " + std::to_string(key) + ", never set");
    return Push(*it->second);
  }
  StatusOr<uint64_t> TextNumber() {
    ASSIGN_OR_RETURN(std::string_view s, Line());
    uint64_t v = 0;
    if (s.empty() || s.size() > 18) return Error("has a bad memo key");
    for (char c : s) {
      if (c < '0' || c > '9') return Error("has a bad memo key");
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
  }

  Status Step(uint8_t op) {
    switch (op) {
      case kProto: return Take(1).status();
      case kFrame: return Take(8).status();
      case kMark: stack_.push_back(nullptr); return OkStatus();
      case kNone: return Push(nullptr);
      case kNewTrue: return Push(true);
      case kNewFalse: return Push(false);
      case kBinInt: {
        ASSIGN_OR_RETURN(uint64_t v, Le(4));
        return Push(static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(v))));
      }
      case kBinInt1: {
        ASSIGN_OR_RETURN(uint64_t v, Le(1));
        return Push(v);
      }
      case kBinInt2: {
        ASSIGN_OR_RETURN(uint64_t v, Le(2));
        return Push(v);
      }
      case kLong1: {
        ASSIGN_OR_RETURN(uint64_t n, Le(1));
        ASSIGN_OR_RETURN(std::string_view le, Take(n));
        return Long(le);
      }
      case kLong4: {
        ASSIGN_OR_RETURN(uint64_t n, Le(4));
        ASSIGN_OR_RETURN(std::string_view le, Take(n));
        return Long(le);
      }
      case kInt: {  // protocol 0, which writes booleans as I01 / I00
        ASSIGN_OR_RETURN(std::string_view s, Line());
        if (s == "01") return Push(true);
        if (s == "00") return Push(false);
        Json v = Json::parse(s, nullptr, false);
        if (!v.is_number_integer()) return Error("has a bad INT argument");
        return Push(std::move(v));
      }
      case kLong: {
        ASSIGN_OR_RETURN(std::string_view s, Line());
        if (s.ends_with('L')) s.remove_suffix(1);
        Json v = Json::parse(s, nullptr, false);
        if (!v.is_number_integer()) return Error("has an integer too large for JSON" + Where());
        return Push(std::move(v));
      }
      case kBinFloat: {
        ASSIGN_OR_RETURN(std::string_view s, Take(8));
        uint64_t bits = 0;
        for (char c : s) bits = bits << 8 | static_cast<uint8_t>(c);  // big-endian
        return Push(std::bit_cast<double>(bits));
      }
      case kFloat: {
        ASSIGN_OR_RETURN(std::string_view s, Line());
        Json v = Json::parse(s, nullptr, false);
        if (!v.is_number()) return Error("has a FLOAT that JSON cannot hold" + Where());
        return Push(v.get<double>());
      }
      case kShortBinUnicode: {
        ASSIGN_OR_RETURN(uint64_t n, Le(1));
        ASSIGN_OR_RETURN(std::string_view s, Take(n));
        return PushText(s);
      }
      case kBinUnicode: {
        ASSIGN_OR_RETURN(uint64_t n, Le(4));
        ASSIGN_OR_RETURN(std::string_view s, Take(n));
        return PushText(s);
      }
      case kBinUnicode8: {
        ASSIGN_OR_RETURN(uint64_t n, Le(8));
        ASSIGN_OR_RETURN(std::string_view s, Take(n));
        return PushText(s);
      }
      case kEmptyList: return Push(Json::array());
      case kEmptyTuple: return Push(Json::array());
      case kEmptyDict: return Push(Json::object());
      case kAppend: {
        ASSIGN_OR_RETURN(Json v, Pop());
        std::vector<Json> one;
        one.push_back(std::move(v));
        return Appends(std::move(one));
      }
      case kAppends: {
        ASSIGN_OR_RETURN(std::vector<Json> items, PopMark());
        return Appends(std::move(items));
      }
      case kList:
      case kTuple: {
        ASSIGN_OR_RETURN(std::vector<Json> items, PopMark());
        return Push(Json(std::move(items)));
      }
      case kTuple1:
      case kTuple2:
      case kTuple3: {
        size_t n = op - kTuple1 + 1;
        std::vector<Json> items(n);
        for (size_t i = n; i-- > 0;) {
          ASSIGN_OR_RETURN(items[i], Pop());
        }
        return Push(Json(std::move(items)));
      }
      case kDict: {
        ASSIGN_OR_RETURN(std::vector<Json> items, PopMark());
        RETURN_IF_ERROR(Push(Json::object()));
        return SetItems(std::move(items));
      }
      case kSetItem: {
        ASSIGN_OR_RETURN(Json value, Pop());
        ASSIGN_OR_RETURN(Json key, Pop());
        std::vector<Json> items;
        items.push_back(std::move(key));
        items.push_back(std::move(value));
        return SetItems(std::move(items));
      }
      case kSetItems: {
        ASSIGN_OR_RETURN(std::vector<Json> items, PopMark());
        return SetItems(std::move(items));
      }
      case kMemoize: return Memo(memo_.size());
      case kBinPut: {
        ASSIGN_OR_RETURN(uint64_t k, Le(1));
        return Memo(k);
      }
      case kLongBinPut: {
        ASSIGN_OR_RETURN(uint64_t k, Le(4));
        return Memo(k);
      }
      case kPut: {
        ASSIGN_OR_RETURN(uint64_t k, TextNumber());
        return Memo(k);
      }
      case kBinGet: {
        ASSIGN_OR_RETURN(uint64_t k, Le(1));
        return Recall(k);
      }
      case kLongBinGet: {
        ASSIGN_OR_RETURN(uint64_t k, Le(4));
        return Recall(k);
      }
      case kGet: {
        ASSIGN_OR_RETURN(uint64_t k, TextNumber());
        return Recall(k);
      }
      default: return Refuse(op);
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::vector<Node> stack_;  // nullptr: a mark
  std::map<uint64_t, Node> memo_;
};

}  // namespace

std::string WritePickle(const Json& value) {
  std::string out = {static_cast<char>(kProto), 2};
  Write(value, &out);
  out.push_back(kStop);
  return out;
}

StatusOr<Json> ReadPickle(std::string_view bytes) { return Reader(bytes).Run(); }

}  // namespace bento::store
