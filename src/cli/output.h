// What the store commands (`bento models ...`, `bento list|get|delete ...`) share: errors,
// sizes, times, tables and the delete prompt, so both stores print alike.
#ifndef BENTO_CLI_OUTPUT_H_
#define BENTO_CLI_OUTPUT_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bento/status.h"

namespace bento::cli {

// Prints "error: <message>" to stderr; returns the exit code: 2 for NOT_FOUND, else 1.
int Fail(const Status& status);

uintmax_t FolderSize(const std::filesystem::path& dir);
std::string HumanSize(uintmax_t bytes);  // "13.32 MiB"
std::string TableTime(std::chrono::system_clock::time_point t);  // "2026-11-28 13:20:28"

// Rows of cells in aligned columns; the first row is the header.
void PrintTable(const std::vector<std::vector<std::string>>& rows);

// Asks "<question> [y/N]" on stderr and reads the answer from stdin.
bool Confirm(const std::string& question);

}  // namespace bento::cli

#endif  // BENTO_CLI_OUTPUT_H_
