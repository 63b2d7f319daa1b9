// The shared libraries that a set of binaries loads, as this machine's dynamic loader
// resolves them (ldd), and the Debian packages that hold them (dpkg -S). `bento containerize`
// copies the first into an image; the Dockerfile of `bento build` installs the second.
//
// Thread-safe (no shared state); both run a program and wait for it.
#ifndef BENTO_SHIP_RUNTIME_CLOSURE_H_
#define BENTO_SHIP_RUNTIME_CLOSURE_H_

#include <filesystem>
#include <string>
#include <vector>

#include "bento/status.h"

namespace bento::ship {

// Every library the binaries load, and the dynamic loader itself, by the path the loader
// found (e.g. /lib/x86_64-linux-gnu/libz.so.1); sorted, without duplicates. A library that
// the loader cannot find is FAILED_PRECONDITION naming it and the binary.
StatusOr<std::vector<std::filesystem::path>> SharedLibraries(
    const std::vector<std::filesystem::path>& binaries);

// The Debian packages holding `libraries`, sorted, without duplicates; libraries that no
// package holds (ONNX Runtime, bento's own) are left out.
StatusOr<std::vector<std::string>> DebianPackages(
    const std::vector<std::filesystem::path>& libraries);

}  // namespace bento::ship

#endif  // BENTO_SHIP_RUNTIME_CLOSURE_H_
