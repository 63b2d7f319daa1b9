// `bento build`, `bento list|get|delete|export|import` (the bento store, as `bento models`
// is the model store's) and `bento containerize`.
#ifndef BENTO_CLI_BENTO_COMMAND_H_
#define BENTO_CLI_BENTO_COMMAND_H_

#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>

#include "store/bento_store.h"

namespace bento::cli {

void AddBentoCommands(CLI::App& app, int* exit_code);

// The bento that `bento serve ARG` means: ARG is a bento's folder (holding bento.yaml), or
// the tag of a bento in the store. Nothing when it names no bento (it is then model tags);
// an error when ARG's bento.yaml is unreadable.
StatusOr<std::optional<store::StoredBento>> FindBento(const std::string& arg);

}  // namespace bento::cli

#endif  // BENTO_CLI_BENTO_COMMAND_H_
