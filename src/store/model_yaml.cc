// model.yaml: ModelInfo to PyYAML-identical text (pyyaml_emitter) and back (yaml-cpp, with
// PyYAML's reading of plain scalars).
#include "store/model_yaml.h"

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "store/pyyaml_emitter.h"
#include "store/pyyaml_scalar.h"

namespace bento::store {
namespace {

using internal::ResolvePlainScalar;

// ---- Writing ----

// A spec as protobuf's MessageToDict writes an ONNX ValueInfoProto: unset fields are left
// out, int64 dims are strings.
OrderedJson SpecToJson(const TensorSpec& spec) {
  OrderedJson tensor = OrderedJson::object();
  if (spec.dtype != DType::kUndefined) tensor["elemType"] = static_cast<int>(spec.dtype);
  if (spec.has_shape) {
    OrderedJson shape = OrderedJson::object();
    if (!spec.dims.empty()) {
      OrderedJson dims = OrderedJson::array();
      for (const Dim& d : spec.dims) {
        OrderedJson dim = OrderedJson::object();
        if (d.fixed()) {
          dim["dimValue"] = std::to_string(d.value);
        } else if (!d.param.empty()) {
          dim["dimParam"] = d.param;
        }
        dims.push_back(std::move(dim));
      }
      shape["dim"] = std::move(dims);
    }
    tensor["shape"] = std::move(shape);
  }
  OrderedJson out = OrderedJson::object();
  if (!spec.name.empty()) out["name"] = spec.name;
  out["type"] = OrderedJson{{"tensorType", std::move(tensor)}};
  return out;
}

OrderedJson SpecsToJson(const std::map<std::string, std::vector<TensorSpec>>& specs) {
  OrderedJson out = OrderedJson::object();
  for (const auto& [signature, list] : specs) {
    OrderedJson items = OrderedJson::array();
    for (const TensorSpec& spec : list) items.push_back(SpecToJson(spec));
    out[signature] = std::move(items);
  }
  return out;
}

// ---- Reading ----

Status Bad(std::string_view field, std::string_view problem) {
  return InvalidArgumentError("model.yaml: " + std::string(field) + ": " + std::string(problem));
}

// A scalar's text. yaml-cpp 0.7 decodes the escapes \N and \_ (which PyYAML writes for
// U+0085 and U+00A0) to the single bytes 0x85 and 0xA0 instead of UTF-8; re-encode such
// stray bytes, which can never occur in valid UTF-8 on their own.
std::string ScalarText(const YAML::Node& node) {
  const std::string& raw = node.Scalar();
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    auto b = static_cast<unsigned char>(raw[i]);
    size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    bool valid = len > 0 && i + len <= raw.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(raw[i + k]) >> 6) == 2;
    }
    if (valid) {
      out.append(raw, i, len);
      i += len;
      continue;
    }
    if (b == 0x85 || b == 0xA0) {
      out.push_back(static_cast<char>(0xC2));
    }
    out.push_back(static_cast<char>(b));
    ++i;
  }
  return out;
}

// The value of the single-quoted scalar starting at source[pos], folded as YAML says: lines
// are trimmed, a line break alone becomes a space, one followed by k empty lines becomes k
// newlines, and '' is a quote. nullopt if it is not a complete multi-line scalar.
std::optional<std::string> FoldSingleQuoted(std::string_view source, size_t pos) {
  std::vector<std::string> lines(1);
  for (size_t i = pos + 1; i < source.size(); ++i) {
    char c = source[i];
    if (c == '\'' && i + 1 < source.size() && source[i + 1] == '\'') {
      lines.back().push_back(c);
      ++i;
    } else if (c == '\'') {
      if (lines.size() == 1) return std::nullopt;  // one line: yaml-cpp gets it right
      auto trim = [](const std::string& l, bool left, bool right) {
        size_t b = left ? l.find_first_not_of(" \t\r") : 0;
        if (b == std::string::npos) return std::string();
        size_t e = right ? l.find_last_not_of(" \t\r") + 1 : l.size();
        return l.substr(b, e - b);
      };
      const size_t last = lines.size() - 1;
      std::string out = trim(lines[0], false, true);
      for (size_t j = 1; j <= last;) {
        size_t empty = 0;
        while (j < last && trim(lines[j], true, true).empty()) ++empty, ++j;
        out += empty == 0 ? std::string(" ") : std::string(empty, '\n');
        out += trim(lines[j], true, j != last);
        ++j;
      }
      return out;
    } else if (c == '\n') {
      lines.emplace_back();
    } else {
      lines.back().push_back(c);
    }
  }
  return std::nullopt;
}

// yaml-cpp 0.7 drops trailing empty lines of multi-line single-quoted scalars, which PyYAML
// writes for strings ending in line breaks ("b\n\n", or "\n" alone, reads back as "b\n" and
// ""). Re-reads every such scalar from the source text.
void RepairSingleQuoted(YAML::Node node, std::string_view source) {
  if (node.IsSequence()) {
    for (YAML::Node item : node) RepairSingleQuoted(item, source);
  } else if (node.IsMap()) {
    for (const auto& kv : node) {
      RepairSingleQuoted(kv.first, source);
      RepairSingleQuoted(kv.second, source);
    }
  }
  if (!node.IsScalar() || node.Tag() != "!") return;
  size_t pos = static_cast<size_t>(node.Mark().pos);
  if (pos >= source.size() || source[pos] != '\'') return;
  if (std::optional<std::string> value = FoldSingleQuoted(source, pos)) {
    node = *value;
    node.SetTag("!");
  }
}

// The JSON value PyYAML's safe_load would give.
StatusOr<Json> NodeToJson(const YAML::Node& node, const std::string& field) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      // "?" is a plain scalar; "!" a quoted or block one; an explicit !!str is a string.
      if (node.Tag() == "!" || node.Tag() == "tag:yaml.org,2002:str") return Json(ScalarText(node));
      return ResolvePlainScalar(ScalarText(node));
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) {
        ASSIGN_OR_RETURN(Json value, NodeToJson(item, field));
        out.push_back(std::move(value));
      }
      return out;
    }
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) return Bad(field, "a mapping key is not a scalar");
        ASSIGN_OR_RETURN(out[ScalarText(kv.first)], NodeToJson(kv.second, field));
      }
      return out;
    }
    default: return Json(nullptr);
  }
}

// Scalars as text (a plain 1.10 stays "1.10"); null as "".
StatusOr<std::string> Text(const YAML::Node& node, std::string_view field) {
  if (node.IsNull()) return std::string();
  if (!node.IsScalar()) return Bad(field, "expected a string");
  return ScalarText(node);
}

StatusOr<int64_t> Int(const YAML::Node& node, std::string_view field) {
  if (node.IsScalar()) {
    Json value = node.Tag() == "?" ? ResolvePlainScalar(node.Scalar()) : Json(ScalarText(node));
    if (value.is_number_integer()) return value.get<int64_t>();
    // protobuf JSON writes int64 as a string: dimValue: '3'.
    if (value.is_string()) {
      const std::string& s = value.get_ref<const std::string&>();
      int64_t out = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) return out;
    }
  }
  return Bad(field, "expected an integer");
}

StatusOr<bool> Bool(const YAML::Node& node, std::string_view field) {
  if (node.IsScalar() && node.Tag() == "?") {
    Json value = ResolvePlainScalar(node.Scalar());
    if (value.is_boolean()) return value.get<bool>();
  }
  return Bad(field, "expected true or false");
}

StatusOr<std::map<std::string, std::string>> StringMap(const YAML::Node& node,
                                                       std::string_view field) {
  std::map<std::string, std::string> out;
  if (node.IsNull()) return out;
  if (!node.IsMap()) return Bad(field, "expected a mapping");
  for (const auto& kv : node) {
    ASSIGN_OR_RETURN(std::string key, Text(kv.first, field));
    ASSIGN_OR_RETURN(out[key], Text(kv.second, std::string(field) + "." + key));
  }
  return out;
}

StatusOr<TensorSpec> ParseSpec(const YAML::Node& node, const std::string& field) {
  if (!node.IsMap()) return Bad(field, "expected a mapping");
  TensorSpec spec;
  spec.has_shape = false;
  if (node["name"]) {
    ASSIGN_OR_RETURN(spec.name, Text(node["name"], field + ".name"));
  }
  const YAML::Node type = node["type"];
  // Specs of sequences, maps or optionals have no tensorType: they stay undefined, unshaped.
  if (!type || !type.IsMap() || !type["tensorType"]) return spec;
  const YAML::Node tensor = type["tensorType"];
  if (tensor.IsNull()) return spec;
  if (!tensor.IsMap()) return Bad(field, "tensorType is not a mapping");
  if (tensor["elemType"]) {
    ASSIGN_OR_RETURN(int64_t elem, Int(tensor["elemType"], field + ".elemType"));
    if (elem < 0 || elem > static_cast<int64_t>(DType::kBFloat16)) {
      spdlog::warn("model.yaml: {}: element type {} is not supported; treated as undefined",
                   field, elem);
      elem = 0;
    }
    spec.dtype = static_cast<DType>(elem);
  }
  const YAML::Node shape = tensor["shape"];
  if (!shape) return spec;
  spec.has_shape = true;
  if (shape.IsNull()) return spec;
  if (!shape.IsMap()) return Bad(field, "shape is not a mapping");
  const YAML::Node dims = shape["dim"];
  if (!dims || dims.IsNull()) return spec;
  if (!dims.IsSequence()) return Bad(field, "shape.dim is not a list");
  for (const auto& d : dims) {
    Dim dim;
    if (d.IsMap()) {
      if (d["dimValue"]) {
        ASSIGN_OR_RETURN(dim.value, Int(d["dimValue"], field + ".dimValue"));
      }
      if (d["dimParam"]) {
        ASSIGN_OR_RETURN(dim.param, Text(d["dimParam"], field + ".dimParam"));
      }
    } else if (!d.IsNull()) {
      return Bad(field, "a dim is not a mapping");
    }
    spec.dims.push_back(std::move(dim));
  }
  return spec;
}

Status ParseSpecs(const YAML::Node& node, const std::string& field,
                  std::map<std::string, std::vector<TensorSpec>>& out) {
  if (!node || node.IsNull()) return OkStatus();
  if (!node.IsMap()) return Bad(field, "expected a mapping of signature to specs");
  for (const auto& kv : node) {
    ASSIGN_OR_RETURN(std::string signature, Text(kv.first, field));
    std::string where = field + "." + signature;
    auto& specs = out[signature];
    if (kv.second.IsNull()) continue;
    if (!kv.second.IsSequence()) return Bad(where, "expected a list");
    for (const auto& item : kv.second) {
      ASSIGN_OR_RETURN(TensorSpec spec, ParseSpec(item, where));
      specs.push_back(std::move(spec));
    }
  }
  return OkStatus();
}

StatusOr<Signature> ParseSignature(const YAML::Node& node, const std::string& field) {
  Signature sig;
  if (node.IsNull()) return sig;
  if (!node.IsMap()) return Bad(field, "expected a mapping");
  if (node["batchable"]) {
    ASSIGN_OR_RETURN(sig.batchable, Bool(node["batchable"], field));
  }
  const YAML::Node dim = node["batch_dim"];
  if (dim && dim.IsSequence() && dim.size() == 2) {
    ASSIGN_OR_RETURN(int64_t in, Int(dim[0], field + ".batch_dim"));
    ASSIGN_OR_RETURN(int64_t out, Int(dim[1], field + ".batch_dim"));
    sig.batch_dim = {static_cast<int>(in), static_cast<int>(out)};
  } else if (dim && !dim.IsNull()) {  // BentoML also takes one int for both
    ASSIGN_OR_RETURN(int64_t both, Int(dim, field + ".batch_dim"));
    sig.batch_dim = {static_cast<int>(both), static_cast<int>(both)};
  }
  return sig;
}

Status ParseContext(const YAML::Node& node, ModelContext& context) {
  if (node.IsNull()) return OkStatus();
  if (!node.IsMap()) return Bad("context", "expected a mapping");
  context.framework_name.clear();
  if (node["framework_name"]) {
    ASSIGN_OR_RETURN(context.framework_name, Text(node["framework_name"], "framework_name"));
  }
  if (node["framework_versions"]) {
    ASSIGN_OR_RETURN(context.framework_versions,
                     StringMap(node["framework_versions"], "context.framework_versions"));
  }
  if (node["bentoml_version"]) {
    ASSIGN_OR_RETURN(context.bentoml_version, Text(node["bentoml_version"], "bentoml_version"));
  }
  if (node["python_version"]) {
    ASSIGN_OR_RETURN(context.python_version, Text(node["python_version"], "python_version"));
  }
  return OkStatus();
}

StatusOr<ModelInfo> ParseDocument(const YAML::Node& doc) {
  if (!doc.IsMap()) return InvalidArgumentError("model.yaml is not a mapping");
  ModelInfo info;
  for (const char* key : {"name", "version", "creation_time"}) {
    if (!doc[key] || !doc[key].IsScalar()) return Bad(key, "missing");
  }
  std::string tag_text = doc["name"].Scalar() + ":" + doc["version"].Scalar();
  if (doc["name"].Scalar().find(':') != std::string::npos) return Bad("name", "contains ':'");
  auto tag = Tag::Parse(tag_text);
  if (!tag.ok()) return Bad("name:version", tag.status().message());
  if (!tag->has_version()) return Bad("version", "'latest' is not a version");
  info.tag = *tag;
  ASSIGN_OR_RETURN(info.creation_time, ParseCreationTime(doc["creation_time"].Scalar()));
  if (doc["module"]) {
    ASSIGN_OR_RETURN(info.module, Text(doc["module"], "module"));
  }
  if (doc["labels"]) {
    ASSIGN_OR_RETURN(info.labels, StringMap(doc["labels"], "labels"));
  }
  if (const YAML::Node options = doc["options"]; options && !options.IsNull()) {
    if (!options.IsMap()) return Bad("options", "expected a mapping");
    RETURN_IF_ERROR(ParseSpecs(options["input_specs"], "options.input_specs", info.input_specs));
    RETURN_IF_ERROR(
        ParseSpecs(options["output_specs"], "options.output_specs", info.output_specs));
    if (options["providers"]) {
      ASSIGN_OR_RETURN(info.providers, NodeToJson(options["providers"], "options.providers"));
    }
    if (options["session_options"]) {
      ASSIGN_OR_RETURN(info.session_options,
                       NodeToJson(options["session_options"], "options.session_options"));
    }
  }
  if (doc["metadata"]) {
    ASSIGN_OR_RETURN(info.metadata, NodeToJson(doc["metadata"], "metadata"));
    if (info.metadata.is_null()) info.metadata = Json::object();
    if (!info.metadata.is_object()) return Bad("metadata", "expected a mapping");
  }
  if (doc["context"]) RETURN_IF_ERROR(ParseContext(doc["context"], info.context));
  info.signatures.clear();  // BentoML reads a missing `signatures` as {}
  if (const YAML::Node sigs = doc["signatures"]; sigs && !sigs.IsNull()) {
    if (!sigs.IsMap()) return Bad("signatures", "expected a mapping");
    for (const auto& kv : sigs) {
      ASSIGN_OR_RETURN(std::string name, Text(kv.first, "signatures"));
      ASSIGN_OR_RETURN(info.signatures[name], ParseSignature(kv.second, "signatures." + name));
    }
  }
  if (doc["api_version"]) {
    ASSIGN_OR_RETURN(info.api_version, Text(doc["api_version"], "api_version"));
  }
  return info;
}

}  // namespace

std::string WriteModelYaml(const ModelInfo& info) {
  OrderedJson doc = OrderedJson::object();
  doc["name"] = info.tag.name;
  doc["version"] = info.tag.version;
  doc["module"] = info.module;
  doc["labels"] = OrderedJson(info.labels);
  doc["options"] = OrderedJson{{"input_specs", SpecsToJson(info.input_specs)},
                               {"output_specs", SpecsToJson(info.output_specs)},
                               {"providers", OrderedJson(info.providers)},
                               {"session_options", OrderedJson(info.session_options)}};
  doc["metadata"] = info.metadata.is_null() ? OrderedJson::object() : OrderedJson(info.metadata);
  OrderedJson context = OrderedJson::object();
  context["framework_name"] = info.context.framework_name;
  context["framework_versions"] = OrderedJson(info.context.framework_versions);
  if (!info.context.bentoml_version.empty()) {
    context["bentoml_version"] = info.context.bentoml_version;
  }
  if (!info.context.python_version.empty()) {
    context["python_version"] = info.context.python_version;
  }
  doc["context"] = std::move(context);
  OrderedJson signatures = OrderedJson::object();
  for (const auto& [name, sig] : info.signatures) {
    OrderedJson s = OrderedJson::object();
    s["batchable"] = sig.batchable;
    if (sig.batchable) {
      s["batch_dim"] = OrderedJson::array({sig.batch_dim.first, sig.batch_dim.second});
    }
    signatures[name] = std::move(s);
  }
  doc["signatures"] = std::move(signatures);
  doc["api_version"] = info.api_version;
  doc["creation_time"] = FormatCreationTime(info.creation_time);
  return DumpPyYaml(doc);
}

StatusOr<ModelInfo> ParseModelYaml(std::string_view text) {
  try {
    std::string source(text);
    YAML::Node doc = YAML::Load(source);
    RepairSingleQuoted(doc, source);
    return ParseDocument(doc);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string("model.yaml is not valid YAML: ") + e.what());
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("model.yaml: ") + e.what());
  }
}

}  // namespace bento::store
