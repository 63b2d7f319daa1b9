#include "kserve/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "kserve/codec.h"

namespace bento::kserve {
namespace {

constexpr std::string_view kRegion = "shared_memory_region";
constexpr std::string_view kByteSize = "shared_memory_byte_size";
constexpr std::string_view kOffset = "shared_memory_offset";

// A non-negative integer parameter, as JSON or gRPC's int64/uint64 parameters carry it.
StatusOr<std::optional<uint64_t>> Unsigned(const std::string& label, const Json& params,
                                           std::string_view key) {
  auto it = params.find(key);
  if (it == params.end()) return std::optional<uint64_t>();
  if (it->is_number_unsigned()) return std::optional<uint64_t>(it->get<uint64_t>());
  if (it->is_number_integer() && it->get<int64_t>() >= 0) {
    return std::optional<uint64_t>(static_cast<uint64_t>(it->get<int64_t>()));
  }
  return InvalidArgumentError(label + ": '" + std::string(key) + "' must be an integer >= 0");
}

// a + b <= limit, without overflow.
bool FitsIn(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

}  // namespace

StatusOr<std::optional<RegionRef>> RegionParameters(const std::string& label,
                                                    const Json& parameters) {
  if (!parameters.is_object()) return std::optional<RegionRef>();
  auto region = parameters.find(kRegion);
  ASSIGN_OR_RETURN(std::optional<uint64_t> size, Unsigned(label, parameters, kByteSize));
  ASSIGN_OR_RETURN(std::optional<uint64_t> offset, Unsigned(label, parameters, kOffset));
  if (region == parameters.end()) {
    if (size || offset) {
      return InvalidArgumentError(label + ": '" + std::string(size ? kByteSize : kOffset) +
                                  "' without '" + std::string(kRegion) + "'");
    }
    return std::optional<RegionRef>();
  }
  if (!region->is_string() || region->get_ref<const std::string&>().empty()) {
    return InvalidArgumentError(label + ": '" + std::string(kRegion) +
                                "' must be a region's name");
  }
  if (!size) {
    return InvalidArgumentError(label + ": '" + std::string(kRegion) + "' needs '" +
                                std::string(kByteSize) + "'");
  }
  return std::optional<RegionRef>(RegionRef{region->get<std::string>(), offset.value_or(0), *size});
}

Status CudaSharedMemoryUnsupported() {
  return FailedPreconditionError(
      "CUDA shared memory needs a GPU build of bento, and this one has none; register the "
      "tensors' memory as system shared memory instead");
}

// One registered region: the object's descriptor (kept to check its size at each access)
// and its mapping from byte 0 to the region's end.
class SharedMemory::Mapping {
 public:
  Mapping(Region region, int fd, char* base, size_t length)
      : region_(std::move(region)), fd_(fd), base_(base), length_(length) {}
  ~Mapping() {
    ::munmap(base_, length_);
    ::close(fd_);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  const Region& region() const { return region_; }

  // The bytes of `ref` in this region, once the object is known to still hold them: a
  // client that shrinks its object gets an error, not the server a SIGBUS.
  StatusOr<char*> Locate(const std::string& label, const RegionRef& ref) const {
    if (!FitsIn(ref.offset, ref.byte_size, region_.byte_size)) {
      return InvalidArgumentError(label + ": " + std::to_string(ref.byte_size) +
                                  " bytes at offset " + std::to_string(ref.offset) +
                                  " lie outside shared memory region '" + region_.name +
                                  "' of " + std::to_string(region_.byte_size) + " bytes");
    }
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || static_cast<uint64_t>(st.st_size) < length_) {
      return FailedPreconditionError("shared memory region '" + region_.name + "': its object " +
                                     region_.key + " is now smaller than the region");
    }
    return base_ + region_.offset + ref.offset;
  }

 private:
  const Region region_;
  const int fd_;
  char* const base_;
  const size_t length_;
};

SharedMemory::SharedMemory() = default;
SharedMemory::~SharedMemory() = default;

Status SharedMemory::Register(const Region& region) {
  const std::string& key = region.key;
  if (key.size() < 2 || key[0] != '/' || key.find('/', 1) != std::string::npos ||
      key == "/." || key == "/.." || key.size() > NAME_MAX) {
    return InvalidArgumentError("shared memory key '" + key +
                                "' must be '/' and a name with no other '/', as shm_open takes");
  }
  if (region.name.empty()) return InvalidArgumentError("a shared memory region needs a name");
  if (region.byte_size == 0) {
    return InvalidArgumentError("shared memory region '" + region.name + "' has byte_size 0");
  }
  {
    MutexLock lock(mu_);
    if (regions_.contains(region.name)) {
      return AlreadyExistsError("shared memory region '" + region.name + "' already in manager");
    }
  }
  // shm_open opens /dev/shm/<name> with O_NOFOLLOW: a link there leads nowhere.
  int fd = ::shm_open(key.c_str(), O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    std::string message = "Unable to open shared memory region: '" + key + "': " + std::strerror(err);
    if (err == ENOENT) return NotFoundError(message);
    if (err == EACCES) return PermissionDeniedError(message);
    return InvalidArgumentError(message);
  }
  auto fail = [fd](Status status) {
    ::close(fd);
    return status;
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return fail(InvalidArgumentError("shared memory key '" + key + "' is not a regular object"));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (!FitsIn(region.offset, region.byte_size, size)) {
    return fail(InvalidArgumentError(
        "shared memory region '" + region.name + "': " + std::to_string(region.byte_size) +
        " bytes at offset " + std::to_string(region.offset) + " do not fit in " + key + " of " +
        std::to_string(size) + " bytes"));
  }
  const size_t length = region.offset + region.byte_size;
  void* base = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    return fail(InternalError("failed to mmap shared memory region '" + region.name +
                              "': " + std::strerror(errno)));
  }
  auto mapping = std::make_shared<Mapping>(region, fd, static_cast<char*>(base), length);
  MutexLock lock(mu_);
  if (!regions_.emplace(region.name, std::move(mapping)).second) {  // registered meanwhile
    return AlreadyExistsError("shared memory region '" + region.name + "' already in manager");
  }
  return OkStatus();
}

void SharedMemory::Unregister(std::string_view name) {
  MutexLock lock(mu_);
  if (name.empty()) {
    regions_.clear();
  } else if (auto it = regions_.find(name); it != regions_.end()) {
    regions_.erase(it);
  }
}

StatusOr<std::vector<SharedMemory::Region>> SharedMemory::Regions(std::string_view name) const {
  MutexLock lock(mu_);
  std::vector<Region> out;
  for (const auto& [region_name, mapping] : regions_) {
    if (name.empty() || region_name == name) out.push_back(mapping->region());
  }
  if (!name.empty() && out.empty()) {
    return NotFoundError("Unable to find system shared memory region: '" + std::string(name) + "'");
  }
  return out;
}

StatusOr<std::shared_ptr<SharedMemory::Mapping>> SharedMemory::Find(const std::string& label,
                                                                    const RegionRef& ref) const {
  MutexLock lock(mu_);
  auto it = regions_.find(ref.region);
  if (it == regions_.end()) {
    return InvalidArgumentError(label + ": Unable to find shared memory region: '" + ref.region +
                                "'");
  }
  return it->second;
}

Status SharedMemory::Check(const std::string& label, const RegionRef& ref) const {
  ASSIGN_OR_RETURN(std::shared_ptr<Mapping> mapping, Find(label, ref));
  return mapping->Locate(label, ref).status();
}

StatusOr<Tensor> SharedMemory::Read(const std::string& label, const RegionRef& ref, DType dtype,
                                    std::vector<int64_t> shape) const {
  ASSIGN_OR_RETURN(std::shared_ptr<Mapping> mapping, Find(label, ref));
  ASSIGN_OR_RETURN(char* data, mapping->Locate(label, ref));
  return DecodeRawTensor(label, dtype, std::move(shape), std::string_view(data, ref.byte_size));
}

Status SharedMemory::Write(const std::string& label, const RegionRef& ref,
                           std::string_view bytes) const {
  if (bytes.size() > ref.byte_size) {
    return InvalidArgumentError("shared memory size specified with the request for " + label +
                                " (" + std::to_string(ref.byte_size) + " bytes) should be at least " +
                                std::to_string(bytes.size()) + " bytes to hold the results");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Mapping> mapping, Find(label, ref));
  ASSIGN_OR_RETURN(char* data, mapping->Locate(label, ref));
  std::memcpy(data, bytes.data(), bytes.size());
  return OkStatus();
}

}  // namespace bento::kserve
