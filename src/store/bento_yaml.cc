#include "store/bento_yaml.h"

#include <yaml-cpp/yaml.h>

#include "store/model_yaml.h"

namespace bento::store {
namespace {

StatusOr<Tag> ReadTag(const YAML::Node& node, std::string_view what) {
  if (!node || !node.IsScalar()) {
    return InvalidArgumentError(std::string(what) + " must be a tag, NAME:VERSION");
  }
  ASSIGN_OR_RETURN(Tag tag, Tag::Parse(node.Scalar()));
  if (!tag.has_version()) {
    return InvalidArgumentError(std::string(what) + " '" + node.Scalar() + "' has no version");
  }
  return tag;
}

StatusOr<BentoInfo> Parse(const YAML::Node& doc) {
  if (!doc.IsMap()) return InvalidArgumentError("bento.yaml is not a mapping");
  BentoInfo info;
  for (const char* key : {"name", "version", "creation_time"}) {
    if (!doc[key] || !doc[key].IsScalar()) {
      return InvalidArgumentError(std::string("bento.yaml has no '") + key + "'");
    }
  }
  info.tag = Tag{doc["name"].Scalar(), doc["version"].Scalar()};
  RETURN_IF_ERROR(Tag::ValidateName(info.tag.name));
  RETURN_IF_ERROR(Tag::ValidateName(info.tag.version));
  ASSIGN_OR_RETURN(info.creation_time, ParseCreationTime(doc["creation_time"].Scalar()));
  if (doc["service"] && !doc["service"].IsNull()) info.service = doc["service"].as<std::string>();
  if (info.service.find('/') != std::string::npos || info.service == "." ||
      info.service == "..") {
    return InvalidArgumentError("bento.yaml's service '" + info.service +
                                "' is not a file name under bin/");
  }
  if (doc["bento_version"]) info.bento_version = doc["bento_version"].as<std::string>();
  if (doc["labels"] && doc["labels"].IsMap()) {
    for (const auto& label : doc["labels"]) {
      info.labels[label.first.as<std::string>()] = label.second.as<std::string>();
    }
  }
  for (const auto& model : doc["models"]) {
    BentoModel entry;
    ASSIGN_OR_RETURN(entry.tag, ReadTag(model["tag"], "a model"));
    if (model["creation_time"]) {
      ASSIGN_OR_RETURN(entry.creation_time,
                       ParseCreationTime(model["creation_time"].as<std::string>()));
    }
    info.models.push_back(std::move(entry));
  }
  for (const auto& api : doc["apis"]) {
    info.apis.push_back({api["name"].as<std::string>(), api["route"].as<std::string>("")});
  }
  for (const auto& env : doc["envs"]) {
    info.envs.emplace_back(env["name"].as<std::string>(), env["value"].as<std::string>(""));
  }
  if (const YAML::Node docker = doc["docker"]; docker && docker.IsMap()) {
    info.docker.distro = docker["distro"].as<std::string>("debian");
    info.docker.base_image = docker["base_image"].as<std::string>("");
    for (const auto& package : docker["system_packages"]) {
      info.docker.system_packages.push_back(package.as<std::string>());
    }
  }
  return info;
}

}  // namespace

std::string WriteBentoYaml(const BentoInfo& info) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (!info.service.empty()) out << YAML::Key << "service" << YAML::Value << info.service;
  out << YAML::Key << "name" << YAML::Value << info.tag.name;
  out << YAML::Key << "version" << YAML::Value << info.tag.version;
  out << YAML::Key << "bento_version" << YAML::Value << info.bento_version;
  out << YAML::Key << "creation_time" << YAML::Value << YAML::SingleQuoted
      << FormatCreationTime(info.creation_time);
  out << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
  for (const auto& [key, value] : info.labels) out << YAML::Key << key << YAML::Value << value;
  out << YAML::EndMap;
  out << YAML::Key << "models" << YAML::Value << YAML::BeginSeq;
  for (const BentoModel& model : info.models) {
    out << YAML::BeginMap << YAML::Key << "tag" << YAML::Value << model.tag.ToString()
        << YAML::Key << "module" << YAML::Value << "bentoml.onnx" << YAML::Key << "creation_time"
        << YAML::Value << YAML::SingleQuoted << FormatCreationTime(model.creation_time)
        << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "apis" << YAML::Value << YAML::BeginSeq;
  for (const BentoApi& api : info.apis) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << api.name << YAML::Key
        << "route" << YAML::Value << api.route << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "envs" << YAML::Value << YAML::BeginSeq;
  for (const auto& [name, value] : info.envs) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << name << YAML::Key << "value"
        << YAML::Value << YAML::DoubleQuoted << value << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::Key << "docker" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "distro" << YAML::Value << info.docker.distro;
  if (!info.docker.base_image.empty()) {
    out << YAML::Key << "base_image" << YAML::Value << info.docker.base_image;
  }
  out << YAML::Key << "system_packages" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& package : info.docker.system_packages) out << package;
  out << YAML::EndSeq << YAML::EndMap;
  out << YAML::Key << "spec" << YAML::Value << 1;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

StatusOr<BentoInfo> ParseBentoYaml(std::string_view text) {
  try {
    return Parse(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string("bento.yaml: ") + e.what());
  }
}

}  // namespace bento::store
