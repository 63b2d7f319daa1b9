// `bento build`: packs a bentofile's service, models and files into a new bento in the
// bento store (store/bento_yaml.h has the layout).
//
// The bento is staged in the store's tmp/ and committed whole, so a failed build leaves
// nothing. Before the commit, the bento is asked for its OpenAPI document against its own
// copy of the models: a service that needs a model the bentofile does not list fails the
// build, not the first deployment.
//
// Thread-safe (no shared state).
#ifndef BENTO_SHIP_BUILD_H_
#define BENTO_SHIP_BUILD_H_

#include <filesystem>
#include <functional>
#include <string>

#include "bento/status.h"
#include "ship/bentofile.h"
#include "store/bento_store.h"
#include "store/model_store.h"

namespace bento::ship {

struct BuildOptions {
  std::filesystem::path context;  // the build context: bentofile paths are relative to it
  std::string bento_version;      // written into bento.yaml
  // Returns the OpenAPI document (JSON) of the bento staged at `bento_dir`, serving its own
  // models: the caller runs `--print-openapi` on its service, or on `bento serve`.
  std::function<StatusOr<std::string>(const std::filesystem::path& bento_dir,
                                      const store::BentoInfo& info)>
      describe;
  // The Debian packages that the Dockerfile installs (ship/runtime_closure.h).
  std::function<StatusOr<std::vector<std::string>>(const std::filesystem::path& bento_dir,
                                                   const store::BentoInfo& info)>
      packages;
};

StatusOr<store::StoredBento> BuildBento(const BentoFile& file, const BuildOptions& options,
                                        const store::ModelStore& models,
                                        const store::BentoStore& bentos);

// The name the bento's service serves under (its metrics' service_name label): the title of
// the OpenAPI document the build wrote into apis/openapi.yaml.
StatusOr<std::string> BentoServiceName(const store::StoredBento& bento);

}  // namespace bento::ship

#endif  // BENTO_SHIP_BUILD_H_
