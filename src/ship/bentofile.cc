#include "ship/bentofile.h"

#include <yaml-cpp/yaml.h>

#include <set>

namespace bento::ship {
namespace {

// What bentofile keys bento does not take, and why.
const std::map<std::string, std::string>& PythonOnlyKeys() {
  static const auto* keys = new std::map<std::string, std::string>{
      {"python", "Python packages; a bento service is an executable, with no Python"},
      {"conda", "Conda environments; a bento service is an executable, with no Python"},
      {"docker.python_version", "the Python version; bento images hold no Python"},
      {"docker.cuda_version",
       "CUDA; bento images carry the ONNX Runtime that bento was built with (build bento "
       "against a GPU ONNX Runtime for CUDA)"},
      {"docker.setup_script", "a setup script; bento images are built with no shell"},
      {"docker.dockerfile_template", "Dockerfile templates; use --format dockerfile and edit it"},
      {"args", "service arguments, which BentoML passes to Python"},
  };
  return *keys;
}

Status CheckKeys(const YAML::Node& map, const std::string& prefix,
                 const std::set<std::string>& known) {
  for (const auto& item : map) {
    std::string key = prefix + item.first.as<std::string>();
    if (auto it = PythonOnlyKeys().find(key); it != PythonOnlyKeys().end()) {
      return InvalidArgumentError("bentofile key '" + key + "' is not supported: it is for " +
                                  it->second);
    }
    if (!known.contains(key)) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return InvalidArgumentError("unknown bentofile key '" + key + "' (bento reads " + list +
                                  ")");
    }
  }
  return OkStatus();
}

StatusOr<std::vector<std::string>> Strings(const YAML::Node& node, const std::string& key) {
  std::vector<std::string> out;
  if (!node || node.IsNull()) return out;
  if (node.IsScalar()) return std::vector<std::string>{node.Scalar()};
  if (!node.IsSequence()) return InvalidArgumentError("bentofile '" + key + "' must be a list");
  for (const auto& item : node) {
    if (!item.IsScalar()) {
      return InvalidArgumentError("bentofile '" + key + "' must be a list of strings");
    }
    out.push_back(item.Scalar());
  }
  return out;
}

StatusOr<BentoFile> Parse(const YAML::Node& doc) {
  BentoFile file;
  if (!doc || doc.IsNull()) return InvalidArgumentError("bentofile is empty");
  if (!doc.IsMap()) return InvalidArgumentError("bentofile must be a mapping of keys");
  RETURN_IF_ERROR(CheckKeys(doc, "", {"service", "name", "description", "labels", "models",
                                       "include", "exclude", "envs", "docker"}));
  file.service = doc["service"].as<std::string>("");
  if (file.service.find(':') != std::string::npos) {
    return InvalidArgumentError(
        "bentofile service '" + file.service +
        "' is a Python import path; a bento service is the path of an executable built with "
        "bento_add_service(), or leave service out to serve the models with no code");
  }
  file.name = doc["name"].as<std::string>("");
  file.description = doc["description"].as<std::string>("");
  if (const YAML::Node labels = doc["labels"]; labels && !labels.IsNull()) {
    if (!labels.IsMap()) return InvalidArgumentError("bentofile 'labels' must be a mapping");
    for (const auto& label : labels) {
      file.labels[label.first.as<std::string>()] = label.second.as<std::string>();
    }
  }
  if (const YAML::Node models = doc["models"]; models && !models.IsNull()) {
    if (!models.IsSequence()) return InvalidArgumentError("bentofile 'models' must be a list");
    for (const auto& model : models) {
      if (model.IsMap()) {
        RETURN_IF_ERROR(CheckKeys(model, "models.", {"models.tag"}));
        if (!model["tag"].IsScalar()) {
          return InvalidArgumentError("a bentofile model entry needs a 'tag'");
        }
        file.models.push_back(model["tag"].Scalar());
      } else if (model.IsScalar()) {
        file.models.push_back(model.Scalar());
      } else {
        return InvalidArgumentError("bentofile 'models' entries must be tags");
      }
    }
  }
  ASSIGN_OR_RETURN(file.include, Strings(doc["include"], "include"));
  ASSIGN_OR_RETURN(file.exclude, Strings(doc["exclude"], "exclude"));
  if (const YAML::Node envs = doc["envs"]; envs && !envs.IsNull()) {
    if (!envs.IsSequence()) return InvalidArgumentError("bentofile 'envs' must be a list");
    for (const auto& env : envs) {
      if (!env.IsMap() || !env["name"].IsScalar()) {
        return InvalidArgumentError("bentofile 'envs' entries are {name: ..., value: ...}");
      }
      RETURN_IF_ERROR(CheckKeys(env, "envs.", {"envs.name", "envs.value"}));
      file.envs.emplace_back(env["name"].Scalar(), env["value"].as<std::string>(""));
    }
  }
  if (const YAML::Node docker = doc["docker"]; docker && !docker.IsNull()) {
    if (!docker.IsMap()) return InvalidArgumentError("bentofile 'docker' must be a mapping");
    RETURN_IF_ERROR(CheckKeys(docker, "docker.",
                              {"docker.distro", "docker.base_image", "docker.system_packages"}));
    file.docker.distro = docker["distro"].as<std::string>("debian");
    if (file.docker.distro != "debian") {
      return InvalidArgumentError("bentofile docker.distro '" + file.docker.distro +
                                  "' is not supported: bento images are Debian's");
    }
    file.docker.base_image = docker["base_image"].as<std::string>("");
    ASSIGN_OR_RETURN(file.docker.system_packages,
                     Strings(docker["system_packages"], "docker.system_packages"));
  }
  return file;
}

}  // namespace

StatusOr<BentoFile> ParseBentoFile(std::string_view text) {
  try {
    return Parse(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string("bentofile: ") + e.what());
  }
}

}  // namespace bento::ship
