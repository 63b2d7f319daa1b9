#include "ship/runtime_closure.h"

#include <set>
#include <sstream>

#include "base/subprocess.h"

namespace bento::ship {

namespace stdfs = std::filesystem;

StatusOr<std::vector<stdfs::path>> SharedLibraries(const std::vector<stdfs::path>& binaries) {
  std::set<stdfs::path> libraries;
  for (const stdfs::path& binary : binaries) {
    ASSIGN_OR_RETURN(ProcessResult ldd, RunProcess({"ldd", binary.string()}));
    if (ldd.exit_code != 0) {
      return FailedPreconditionError("ldd " + binary.string() + " failed: " + ldd.err + ldd.out);
    }
    // Lines: "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)", "/lib64/ld-linux... (0x...)",
    // "linux-vdso.so.1 (0x...)" (in the kernel, no file) or "libx.so => not found".
    std::istringstream lines(ldd.out);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream words(line);
      std::string first, arrow, path;
      words >> first >> arrow >> path;
      if (arrow == "=>") {
        if (path == "not") {
          return FailedPreconditionError(binary.string() + " needs " + first +
                                         ", which this machine's loader cannot find");
        }
        if (path.starts_with("/")) libraries.insert(path);
      } else if (first.starts_with("/")) {
        libraries.insert(first);  // the dynamic loader
      }
    }
  }
  return std::vector<stdfs::path>(libraries.begin(), libraries.end());
}

StatusOr<std::vector<std::string>> DebianPackages(const std::vector<stdfs::path>& libraries) {
  // dpkg knows each file by the path its package installed, which may be the loader's path
  // or its canonical one (/lib against /usr/lib on a merged-/usr system): ask for both.
  std::vector<std::string> argv = {"dpkg", "-S"};
  for (const stdfs::path& library : libraries) {
    argv.push_back(library.string());
    std::error_code ec;
    stdfs::path canonical = stdfs::canonical(library, ec);
    if (!ec && canonical != library) argv.push_back(canonical.string());
  }
  ASSIGN_OR_RETURN(ProcessResult dpkg, RunProcess(argv));
  // Lines: "zlib1g:amd64: /lib/x86_64-linux-gnu/libz.so.1". dpkg exits 1 when some path
  // belongs to no package; those print to stderr and are bento's own.
  std::set<std::string> packages;
  std::istringstream lines(dpkg.out);
  for (std::string line; std::getline(lines, line);) {
    size_t colon = line.find(": ");
    if (colon == std::string::npos) continue;
    std::string package = line.substr(0, colon);
    package = package.substr(0, package.find(','));  // "a, b: path" when several share it
    package = package.substr(0, package.find(':'));  // drop ":amd64"
    if (!package.empty()) packages.insert(package);
  }
  if (dpkg.exit_code > 1) return FailedPreconditionError("dpkg -S failed: " + dpkg.err);
  return std::vector<std::string>(packages.begin(), packages.end());
}

}  // namespace bento::ship
