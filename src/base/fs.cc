#include "base/fs.h"

#include <dlfcn.h>
#include <link.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <system_error>

namespace bento::fs {

Status ErrnoStatus(std::string_view what, const stdfs::path& path, int err) {
  std::string message = std::string(what) + " " + path.string() + ": " + std::strerror(err);
  switch (err) {
    case ENOENT: return NotFoundError(std::move(message));
    case EEXIST:
    case ENOTEMPTY: return AlreadyExistsError(std::move(message));
    case EACCES:
    case EPERM: return PermissionDeniedError(std::move(message));
    case ENOSPC:
    case EDQUOT: return ResourceExhaustedError(std::move(message));
    default: return InternalError(std::move(message));
  }
}

namespace {

Status FromErrorCode(std::string_view what, const stdfs::path& path, const std::error_code& ec) {
  return ErrnoStatus(what, path, ec.value());
}

// Writes all of `data` to `fd`, retrying on EINTR and short writes.
Status WriteAll(int fd, std::string_view data, const stdfs::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::string> ReadFile(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  std::string out;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus("read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status WriteFile(const stdfs::path& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", path, errno);
  Status status = WriteAll(fd, data, path);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus("fsync", path, errno);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus("close", path, errno);
  return status;
}

Status WriteFileAtomic(const stdfs::path& path, std::string_view data) {
  stdfs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
  Status status = WriteFile(tmp, data);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("rename", path, errno);
  }
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  return Fsync(path.parent_path().empty() ? stdfs::path(".") : path.parent_path());
}

Status Fsync(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  Status status;
  if (::fsync(fd) != 0 && errno != EINVAL) status = ErrnoStatus("fsync", path, errno);
  ::close(fd);
  return status;
}

Status FsyncTree(const stdfs::path& root) {
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(root, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_symlink()) continue;
    RETURN_IF_ERROR(Fsync(it->path()));
  }
  if (ec) return FromErrorCode("walk", root, ec);
  return Fsync(root);
}

Status CopyFile(const stdfs::path& from, const stdfs::path& to) {
  std::error_code ec;
  if (!stdfs::copy_file(from, to, stdfs::copy_options::overwrite_existing, ec)) {
    return FromErrorCode("copy to " + to.string() + " from", from, ec);
  }
  return Fsync(to);
}

Status MakeDirs(const stdfs::path& path) {
  std::error_code ec;
  stdfs::create_directories(path, ec);
  if (ec) return FromErrorCode("mkdir", path, ec);
  return OkStatus();
}

StatusOr<stdfs::path> MakeTempDir(const stdfs::path& parent, std::string_view prefix) {
  RETURN_IF_ERROR(MakeDirs(parent));
  std::string tmpl = (parent / (std::string(prefix) + "XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) return ErrnoStatus("mkdtemp", tmpl, errno);
  return stdfs::path(tmpl);
}

Status RemoveAll(const stdfs::path& path) {
  std::error_code ec;
  stdfs::remove_all(path, ec);
  if (ec) return FromErrorCode("remove", path, ec);
  return OkStatus();
}

RemoveOnExit::~RemoveOnExit() {
  Status status = RemoveAll(dir_);
  if (!status.ok()) spdlog::warn("cleaning up: {}", status.ToString());
}

Status CopyTree(const stdfs::path& from, const stdfs::path& to,
                const std::vector<stdfs::path>& skip) {
  RETURN_IF_ERROR(MakeDirs(to));
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(from, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    stdfs::path relative = it->path().lexically_relative(from);
    if (std::find(skip.begin(), skip.end(), relative) != skip.end()) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory()) {
      if (!it->is_symlink()) RETURN_IF_ERROR(MakeDirs(to / relative));
    } else if (it->is_regular_file()) {
      RETURN_IF_ERROR(CopyFile(it->path(), to / relative));
    }
  }
  if (ec) return FromErrorCode("reading", from, ec);
  return OkStatus();
}

Status WriteNewFolder(const stdfs::path& out,
                      const std::function<Status(const stdfs::path& staging)>& fill) {
  std::error_code ec;
  if (stdfs::exists(out, ec)) return AlreadyExistsError(out.string() + " already exists");
  stdfs::path parent = out.parent_path().empty() ? "." : out.parent_path();
  ASSIGN_OR_RETURN(stdfs::path staging, MakeTempDir(parent, out.filename().string() + "."));
  Status status = fill(staging);
  // mkdtemp's folder is the owner's alone; what is made here is for others to read.
  if (status.ok() && ::chmod(staging.c_str(), 0755) != 0) {
    status = ErrnoStatus("chmod", staging, errno);
  }
  if (status.ok()) status = FsyncTree(staging);
  if (status.ok() && ::rename(staging.c_str(), out.c_str()) != 0) {
    status = ErrnoStatus("rename to", out, errno);
  }
  if (status.ok()) status = Fsync(parent);
  if (!status.ok()) (void)RemoveAll(staging);
  return status;
}

bool IsWithin(const stdfs::path& root, const stdfs::path& path) {
  stdfs::path r = root.lexically_normal();
  stdfs::path p = (path.is_absolute() ? path : root / path).lexically_normal();
  auto [root_end, _] = std::mismatch(r.begin(), r.end(), p.begin(), p.end());
  if (root_end != r.end() && !(std::next(root_end) == r.end() && root_end->empty())) {
    return false;
  }
  for (const auto& part : p.lexically_relative(r)) {
    if (part == "..") return false;
  }
  return true;
}

StatusOr<FileLock> FileLock::Acquire(const stdfs::path& lock_file) {
  int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("open lock", lock_file, errno);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    int err = errno;
    ::close(fd);
    return ErrnoStatus("flock", lock_file, err);
  }
  return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

stdfs::path InstallRoot() {
  // The object this function was linked into: libbento.so has its path in its link map;
  // the main executable has an empty name there, and is /proc/self/exe.
  Dl_info info{};
  link_map* map = nullptr;
  std::error_code ec;
  stdfs::path binary;
  if (dladdr1(reinterpret_cast<void*>(&InstallRoot), &info, reinterpret_cast<void**>(&map),
              RTLD_DL_LINKMAP) != 0 &&
      map != nullptr && map->l_name != nullptr && map->l_name[0] != '\0') {
    binary = stdfs::canonical(map->l_name, ec);
  } else {
    binary = stdfs::canonical("/proc/self/exe", ec);
  }
  return binary.parent_path().parent_path();
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace bento::fs
