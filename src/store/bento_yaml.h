// A bento's description, bento.yaml, in BentoML's bento layout:
//
//   <bento>/bento.yaml        this file
//   <bento>/README.md         the bentofile's description
//   <bento>/apis/openapi.yaml the service's OpenAPI document
//   <bento>/models/<name>/<version>/...   the models it serves, as in a model store
//   <bento>/bin/<service>     a C++ service's executable (absent for no-code serving)
//   <bento>/src/...           the files the bentofile's `include` picked
//   <bento>/env/docker/Dockerfile
//
// bento.yaml uses BentoML's keys where they mean the same (service, name, version,
// creation_time, labels, models, apis, envs, docker); `service` is the executable's name
// under bin/, or empty when the bento serves its models with no code.
#ifndef BENTO_STORE_BENTO_YAML_H_
#define BENTO_STORE_BENTO_YAML_H_

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bento/model.h"
#include "bento/status.h"

namespace bento::store {

struct BentoModel {
  Tag tag;
  std::chrono::system_clock::time_point creation_time;
};

struct BentoApi {
  std::string name;
  std::string route;
};

struct DockerOptions {
  std::string distro = "debian";
  std::string base_image;                    // for --format dockerfile only
  std::vector<std::string> system_packages;  // for --format dockerfile only
};

struct BentoInfo {
  Tag tag;
  std::string service;        // executable under bin/; empty: no-code serving of `models`
  std::string bento_version;  // the bento that built it
  std::chrono::system_clock::time_point creation_time;
  std::map<std::string, std::string> labels;
  std::vector<BentoModel> models;
  std::vector<BentoApi> apis;
  std::vector<std::pair<std::string, std::string>> envs;  // name, value
  DockerOptions docker;
};

std::string WriteBentoYaml(const BentoInfo& info);
// INVALID_ARGUMENT naming the problem for a malformed file; never throws.
StatusOr<BentoInfo> ParseBentoYaml(std::string_view text);

}  // namespace bento::store

#endif  // BENTO_STORE_BENTO_YAML_H_
