// Filesystem helpers that return Status instead of throwing, plus the pieces the model store
// needs for crash safety: fsync of files and folders, atomic file replacement, and an
// advisory inter-process lock.
//
// All functions are thread-safe (they share no state). FileLock is owned by one thread.
#ifndef BENTO_BASE_FS_H_
#define BENTO_BASE_FS_H_

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bento/status.h"

namespace bento::fs {

namespace stdfs = std::filesystem;

// "<what> <path>: <strerror>", with the StatusCode that errno means (ENOENT: NOT_FOUND,
// EEXIST and ENOTEMPTY: ALREADY_EXISTS, EACCES and EPERM: PERMISSION_DENIED, ENOSPC and
// EDQUOT: RESOURCE_EXHAUSTED, others INTERNAL).
Status ErrnoStatus(std::string_view what, const stdfs::path& path, int err);

StatusOr<std::string> ReadFile(const stdfs::path& path);

// Writes `data` to `path` and fsyncs it. Replaces any existing file in place (not atomic).
Status WriteFile(const stdfs::path& path, std::string_view data);

// Writes to a temporary file beside `path`, fsyncs it, renames it over `path` and fsyncs
// the folder: readers see the old content or the new one, never a mix.
Status WriteFileAtomic(const stdfs::path& path, std::string_view data);

// fsync on a file or a folder.
Status Fsync(const stdfs::path& path);

// Fsyncs every file and folder under `root`, and `root` itself.
Status FsyncTree(const stdfs::path& root);

// Copies a regular file, fsyncing the copy.
Status CopyFile(const stdfs::path& from, const stdfs::path& to);

// Copies the folder `from` into `to` (created with any missing parents): its folders and
// regular files; a link to a file is copied as the file it points to, and links to folders
// and special files are left out. So is a file or folder whose path relative to `from` is
// in `skip`.
Status CopyTree(const stdfs::path& from, const stdfs::path& to,
                const std::vector<stdfs::path>& skip = {});

// Makes the folder `out`, which must not exist, as a whole or not at all: `fill` writes into
// a new folder beside it, which is synced and renamed to `out`, or removed when `fill` or
// the rename fails.
Status WriteNewFolder(const stdfs::path& out,
                      const std::function<Status(const stdfs::path& staging)>& fill);

// Creates `path` and any missing parents.
Status MakeDirs(const stdfs::path& path);

// Creates a new, uniquely named folder `parent/<prefix>XXXXXX`.
StatusOr<stdfs::path> MakeTempDir(const stdfs::path& parent, std::string_view prefix);

// Removes `path` and everything under it; a missing path is OK.
Status RemoveAll(const stdfs::path& path);

// Removes a folder when it goes out of scope (a missing one is fine; a failure is logged).
class RemoveOnExit {
 public:
  explicit RemoveOnExit(stdfs::path dir) : dir_(std::move(dir)) {}
  RemoveOnExit(const RemoveOnExit&) = delete;
  RemoveOnExit& operator=(const RemoveOnExit&) = delete;
  ~RemoveOnExit();

 private:
  stdfs::path dir_;
};

// True if `path` stays inside `root` once both are made lexically normal: refuses "..".
// Neither has to exist.
bool IsWithin(const stdfs::path& root, const stdfs::path& path);

// The root of the tree bento runs from: the parent of the folder holding the binary that
// holds bento's code, which is lib/libbento.so or an executable in bin/. Assets live under
// InstallRoot()/share/bento, in an installed tree and in the build tree alike.
stdfs::path InstallRoot();

// An exclusive advisory lock (flock) on a lock file, held until destruction. Blocks until
// the lock is free. Guards writers in different processes as well as threads.
class FileLock {
 public:
  static StatusOr<FileLock> Acquire(const stdfs::path& lock_file);
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace bento::fs

#endif  // BENTO_BASE_FS_H_
