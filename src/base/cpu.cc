#include "base/cpu.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace bento {
namespace {

namespace stdfs = std::filesystem;

std::optional<std::string> FirstLineOf(const stdfs::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

std::optional<double> Number(const std::string& text) {
  try {
    size_t used = 0;
    double value = std::stod(text, &used);
    return used == text.size() ? std::optional<double>(value) : std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// cgroup v2: "max 100000" (none) or "150000 100000" (1.5 CPUs).
std::optional<double> V2Limit(const stdfs::path& dir) {
  auto line = FirstLineOf(dir / "cpu.max");
  if (!line) return std::nullopt;
  std::istringstream words(*line);
  std::string quota, period;
  words >> quota >> period;
  auto q = Number(quota), p = Number(period.empty() ? "100000" : period);
  if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;
  return *q / *p;
}

// cgroup v1: cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us.
std::optional<double> V1Limit(const stdfs::path& dir) {
  auto quota = FirstLineOf(dir / "cpu.cfs_quota_us");
  auto period = FirstLineOf(dir / "cpu.cfs_period_us");
  if (!quota || !period) return std::nullopt;
  auto q = Number(*quota), p = Number(*period);
  if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;
  return *q / *p;
}

// The smallest limit in root/relative and each of its parents up to `root`: a parent's
// limit bounds its children.
template <typename Read>
std::optional<double> SmallestUpTo(const stdfs::path& root, const std::string& relative,
                                   Read read) {
  std::optional<double> smallest;
  stdfs::path path = stdfs::path(relative).relative_path().lexically_normal();
  if (path == ".") path.clear();
  while (true) {
    if (auto limit = read(root / path); limit && (!smallest || *limit < *smallest)) {
      smallest = limit;
    }
    if (path.empty()) break;
    path = path.parent_path();  // "a/b" → "a" → ""
  }
  return smallest;
}

}  // namespace

std::optional<double> CgroupCpuLimit(const stdfs::path& proc_cgroup,
                                     const stdfs::path& cgroup_root) {
  std::ifstream in(proc_cgroup);
  std::optional<double> smallest;
  auto keep = [&](std::optional<double> limit) {
    if (limit && (!smallest || *limit < *smallest)) smallest = limit;
  };
  for (std::string line; std::getline(in, line);) {
    // "ID:controllers:path"; cgroup v2 is "0::path".
    size_t first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      keep(SmallestUpTo(cgroup_root, path, V2Limit));
      continue;
    }
    std::vector<std::string> names;
    std::istringstream list(controllers);
    for (std::string name; std::getline(list, name, ',');) names.push_back(name);
    if (std::find(names.begin(), names.end(), "cpu") == names.end()) continue;
    for (const std::string& mount : {controllers, std::string("cpu")}) {
      std::error_code ec;
      if (stdfs::is_directory(cgroup_root / mount, ec)) {
        keep(SmallestUpTo(cgroup_root / mount, path, V1Limit));
        break;
      }
    }
  }
  return smallest;
}

std::optional<int> CgroupCpus() {
  static const std::optional<int> cpus = []() -> std::optional<int> {
    auto limit = CgroupCpuLimit("/proc/self/cgroup", "/sys/fs/cgroup");
    if (!limit) return std::nullopt;
    int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return std::clamp(static_cast<int>(std::ceil(*limit)), 1, cores);
  }();
  return cpus;
}

int AvailableCpus() {
  if (auto cpus = CgroupCpus()) return *cpus;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace bento
