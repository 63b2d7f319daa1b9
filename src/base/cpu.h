// How many CPUs this process may use. In a Kubernetes pod, std::thread::hardware_concurrency()
// counts the node's cores, while the pod's `resources.limits.cpu` becomes a cgroup CPU quota;
// sizing thread pools by the node starves every pool of its share (onnxruntime_backend#245).
//
// Thread-safe; AvailableCpus() reads the cgroup files once per process.
#ifndef BENTO_BASE_CPU_H_
#define BENTO_BASE_CPU_H_

#include <filesystem>
#include <optional>

namespace bento {

// The cgroup CPU limit of the process described by `proc_cgroup` (the format of
// /proc/self/cgroup), in CPUs, read under `cgroup_root`: cgroup v2's cpu.max ("QUOTA PERIOD",
// or "max") and cgroup v1's cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us, the smallest
// along the path from the process's cgroup to the root. nullopt when nothing limits it or
// the files are not there.
std::optional<double> CgroupCpuLimit(const std::filesystem::path& proc_cgroup,
                                     const std::filesystem::path& cgroup_root);

// The cgroup limit of this process (/proc/self/cgroup, /sys/fs/cgroup), rounded up and at
// most the machine's cores; nullopt when there is none.
std::optional<int> CgroupCpus();

// CgroupCpus() when set, else the machine's cores; at least 1. The default size of bento's
// thread pools (HTTP I/O, API workers, ONNX Runtime's intra-op threads).
int AvailableCpus();

}  // namespace bento

#endif  // BENTO_BASE_CPU_H_
