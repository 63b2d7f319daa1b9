// `bento manifests TAG -o DIR`: Kubernetes manifests for a built bento or a stored model
// (ship/manifests.h has what each file holds).
#ifndef BENTO_CLI_MANIFESTS_COMMAND_H_
#define BENTO_CLI_MANIFESTS_COMMAND_H_

#include <CLI/CLI.hpp>

namespace bento::cli {

void AddManifestsCommand(CLI::App& app, int* exit_code);

}  // namespace bento::cli

#endif  // BENTO_CLI_MANIFESTS_COMMAND_H_
