// bentofile.yaml: what `bento build` packs into a bento, with BentoML's keys where they mean
// the same thing:
//
//   service: build/bin/image_classifier   # a service executable (bento_add_service), by
//                                         # path from the build context; leave it out to
//                                         # serve `models` with no code
//   name: image_classifier                # default: the service's file name, else the
//                                         # first model's name
//   description: "..."                    # becomes the bento's README.md
//   labels: {owner: vision-team}
//   models: [image_classifier:latest]     # tags, or {tag: ...} entries as BentoML allows
//   include: ["examples/image_classifier/*.md"]   # files copied into the bento's src/
//   exclude: ["*.tmp"]
//   envs: [{name: OMP_NUM_THREADS, value: "2"}]  # set where the bento is served
//   docker: {distro: debian, base_image: ..., system_packages: [...]}
//
// Keys that only mean something to Python (python, conda, docker.python_version, ...) and
// unknown keys are errors that name the key, so a BentoML bentofile fails loudly rather
// than building something else.
#ifndef BENTO_SHIP_BENTOFILE_H_
#define BENTO_SHIP_BENTOFILE_H_

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bento/status.h"
#include "store/bento_yaml.h"

namespace bento::ship {

struct BentoFile {
  std::string service;
  std::string name;
  std::string description;
  std::map<std::string, std::string> labels;
  std::vector<std::string> models;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::vector<std::pair<std::string, std::string>> envs;
  store::DockerOptions docker;
};

// INVALID_ARGUMENT naming the key for anything bento cannot honour; never throws.
StatusOr<BentoFile> ParseBentoFile(std::string_view text);

}  // namespace bento::ship

#endif  // BENTO_SHIP_BENTOFILE_H_
