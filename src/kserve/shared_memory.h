// The system shared-memory extension of the Open Inference Protocol (Triton's): a client on
// the same machine registers a POSIX shared-memory object (shm_open's name, under /dev/shm)
// as a named region, then names the region in an input's or output's parameters instead of
// sending the tensor's bytes:
//
//   "parameters": {"shared_memory_region": "in0", "shared_memory_byte_size": 64,
//                  "shared_memory_offset": 0}
//
// Inputs are read from the region and outputs written into it, in the raw layout of the binary
// extension (codec.h). Every access is checked against the region's registered size and the
// object's size at that moment, so a request never reads or writes outside its region.
//
// Who may do what: any client that passes the server's admission (the API key, when one is
// set) may register any object the server's user can open read-write in /dev/shm, and have
// the server read and write it. Names with another '/' are refused, and so are links and
// anything but a regular file, so no other file is reachable.
//
// Thread-safety: every method may be called from any thread. A region unregistered while a
// request reads or writes it stays mapped until that request is done.
#ifndef BENTO_KSERVE_SHARED_MEMORY_H_
#define BENTO_KSERVE_SHARED_MEMORY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/thread_annotations.h"
#include "bento/json.h"
#include "bento/status.h"
#include "bento/tensor.h"

namespace bento::kserve {

// Where a tensor lives in a registered region: the parameters above.
struct RegionRef {
  std::string region;
  uint64_t offset = 0;  // from the start of the region
  uint64_t byte_size = 0;
};

// The region named by a tensor's "parameters" (nullopt when none is); INVALID_ARGUMENT,
// prefixed with `label`, when the parameters are malformed.
StatusOr<std::optional<RegionRef>> RegionParameters(const std::string& label,
                                                    const Json& parameters);

// What registering a CUDA shared-memory region answers: bento is built without CUDA's IPC.
Status CudaSharedMemoryUnsupported();

class SharedMemory {
 public:
  struct Region {
    std::string name;  // the client's name for it
    std::string key;   // shm_open's name: "/something"
    uint64_t offset = 0;  // into the object
    uint64_t byte_size = 0;
  };

  SharedMemory();
  ~SharedMemory();
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;

  // Opens and maps the object. ALREADY_EXISTS for a name in use; INVALID_ARGUMENT for a bad
  // key or a range beyond the object; NOT_FOUND when there is no such object.
  Status Register(const Region& region);
  // Forgets one region, or every region when `name` is empty; an unknown name is no error.
  void Unregister(std::string_view name);
  // One region, or all of them when `name` is empty; NOT_FOUND for an unknown name.
  StatusOr<std::vector<Region>> Regions(std::string_view name) const;

  // The tensor that `ref` holds, in the raw layout (DecodeRawTensor).
  StatusOr<Tensor> Read(const std::string& label, const RegionRef& ref, DType dtype,
                        std::vector<int64_t> shape) const;
  // OK when `ref` names a registered region and lies inside it.
  Status Check(const std::string& label, const RegionRef& ref) const;
  // Writes `bytes` at `ref`; INVALID_ARGUMENT when they do not fit in ref.byte_size.
  Status Write(const std::string& label, const RegionRef& ref, std::string_view bytes) const;

 private:
  class Mapping;
  StatusOr<std::shared_ptr<Mapping>> Find(const std::string& label, const RegionRef& ref) const;

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<Mapping>, std::less<>> regions_ GUARDED_BY(mu_);
};

}  // namespace bento::kserve

#endif  // BENTO_KSERVE_SHARED_MEMORY_H_
