#include "store/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/fs.h"

namespace bento::store::internal {
namespace {

namespace stdfs = std::filesystem;

struct ReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
struct WriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ReadArchive = std::unique_ptr<struct archive, ReadDeleter>;
using WriteArchive = std::unique_ptr<struct archive, WriteDeleter>;

std::string ErrorOf(struct archive* a) {
  const char* message = archive_error_string(a);
  return message != nullptr ? message : "unknown libarchive error";
}

// Copies the file at `path` into the current entry of `a`.
Status WriteFileData(struct archive* a, const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return InternalError("open " + path.string() + ": " + std::strerror(errno));
  std::vector<char> buffer(1 << 16);
  Status status;
  while (status.ok()) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = InternalError("read " + path.string() + ": " + std::strerror(errno));
    if (n <= 0) break;
    if (archive_write_data(a, buffer.data(), static_cast<size_t>(n)) < 0) {
      status = InternalError("writing archive: " + ErrorOf(a));
    }
  }
  ::close(fd);
  return status;
}

// Entry path without leading "./"; "" for the root itself.
std::string CleanEntryPath(std::string path) {
  while (path.starts_with("./")) path.erase(0, 2);
  while (path.size() > 1 && path.ends_with("/")) path.pop_back();
  if (path == ".") path.clear();
  return path;
}

std::string_view TypeName(mode_t type) {
  switch (type) {
    case AE_IFLNK: return "a symlink";
    case AE_IFCHR: return "a character device";
    case AE_IFBLK: return "a block device";
    case AE_IFIFO: return "a FIFO";
    case AE_IFSOCK: return "a socket";
    default: return "not a regular file or folder";
  }
}

}  // namespace

Status WriteTarball(const stdfs::path& dir, const stdfs::path& out, Compression compression) {
  std::vector<stdfs::path> entries;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_symlink() || !(it->is_regular_file() || it->is_directory())) {
      spdlog::warn("export: skipping {}, which is not a regular file or folder",
                   it->path().string());
      continue;
    }
    entries.push_back(it->path().lexically_relative(dir));
  }
  if (ec) return InternalError("listing " + dir.string() + ": " + ec.message());
  std::sort(entries.begin(), entries.end());

  WriteArchive a(archive_write_new());
  if (!a) return InternalError("archive_write_new failed");
  int r = archive_write_set_format_pax_restricted(a.get());
  if (r == ARCHIVE_OK) {
    r = compression == Compression::kXz ? archive_write_add_filter_xz(a.get())
                                        : archive_write_add_filter_gzip(a.get());
  }
  if (r == ARCHIVE_OK) r = archive_write_open_filename(a.get(), out.c_str());
  if (r != ARCHIVE_OK) return InternalError("creating " + out.string() + ": " + ErrorOf(a.get()));

  for (const stdfs::path& relative : entries) {
    stdfs::path full = dir / relative;
    struct stat st;
    if (::stat(full.c_str(), &st) != 0) {
      return InternalError("stat " + full.string() + ": " + std::strerror(errno));
    }
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_copy_pathname(entry.get(), relative.generic_string().c_str());
    bool is_dir = S_ISDIR(st.st_mode);
    archive_entry_set_filetype(entry.get(), is_dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(entry.get(), is_dir ? 0755 : 0644);
    archive_entry_set_size(entry.get(), is_dir ? 0 : st.st_size);
    archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    if (archive_write_header(a.get(), entry.get()) < ARCHIVE_WARN) {
      return InternalError("writing " + out.string() + ": " + ErrorOf(a.get()));
    }
    if (!is_dir) RETURN_IF_ERROR(WriteFileData(a.get(), full));
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    return InternalError("writing " + out.string() + ": " + ErrorOf(a.get()));
  }
  return fs::Fsync(out);
}

Status ExtractTarball(const stdfs::path& archive_path, const stdfs::path& dest) {
  ReadArchive a(archive_read_new());
  WriteArchive disk(archive_write_disk_new());
  if (!a || !disk) return InternalError("libarchive allocation failed");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_all(a.get());
  // Entries are rewritten to absolute paths under `dest` below, so "no absolute paths" is
  // checked on the entry's own path here rather than by ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS.
  archive_write_disk_set_options(disk.get(),
                                 ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  const std::string name = archive_path.string();
  if (archive_read_open_filename(a.get(), name.c_str(), 1 << 16) != ARCHIVE_OK) {
    return InvalidArgumentError("cannot read " + name + " as an archive: " + ErrorOf(a.get()));
  }
  bool first = true;
  while (true) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      if (first) {
        return InvalidArgumentError(name + " is not a .bentomodel archive: " + ErrorOf(a.get()));
      }
      return DataLossError(name + " is corrupt: " + ErrorOf(a.get()));
    }
    if (first && (archive_format(a.get()) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_TAR) {
      return InvalidArgumentError(name +
                                  " is not a .bentomodel archive: expected a tar archive, "
                                  "plain or compressed with gzip or xz, as `models export` writes");
    }
    first = false;
    const char* raw_path = archive_entry_pathname(entry);
    std::string path = CleanEntryPath(raw_path != nullptr ? raw_path : "");
    if (raw_path == nullptr) return InvalidArgumentError(name + ": an entry has no path");
    if (path.starts_with("/")) {
      return InvalidArgumentError(name + ": entry '" + path + "' has an absolute path; refused");
    }
    for (const auto& part : stdfs::path(path)) {
      if (part == "..") {
        return InvalidArgumentError(name + ": entry '" + path + "' escapes the folder; refused");
      }
    }
    mode_t type = archive_entry_filetype(entry);
    if (archive_entry_hardlink(entry) != nullptr) {
      return InvalidArgumentError(name + ": entry '" + path + "' is a hard link; refused");
    }
    if (type != AE_IFREG && type != AE_IFDIR) {
      return InvalidArgumentError(name + ": entry '" + path + "' is " +
                                  std::string(TypeName(type)) + "; refused");
    }
    if (path.empty()) continue;  // the archive's "./"
    if (!fs::IsWithin(dest, path)) {
      return InvalidArgumentError(name + ": entry '" + path + "' escapes the folder; refused");
    }
    archive_entry_copy_pathname(entry, (dest / path).c_str());
    archive_entry_set_perm(entry, type == AE_IFDIR ? 0755 : 0644);
    if (archive_write_header(disk.get(), entry) < ARCHIVE_WARN) {
      return InvalidArgumentError(name + ": cannot extract '" + path + "': " + ErrorOf(disk.get()));
    }
    while (type == AE_IFREG) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      r = archive_read_data_block(a.get(), &block, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) return DataLossError(name + " is corrupt: " + ErrorOf(a.get()));
      if (archive_write_data_block(disk.get(), block, size, offset) < ARCHIVE_WARN) {
        return InternalError("extracting '" + path + "': " + ErrorOf(disk.get()));
      }
    }
    if (archive_write_finish_entry(disk.get()) < ARCHIVE_WARN) {
      return InternalError("extracting '" + path + "': " + ErrorOf(disk.get()));
    }
  }
  if (first) return InvalidArgumentError(name + " is empty or not a .bentomodel archive");
  if (archive_write_close(disk.get()) < ARCHIVE_WARN) {
    return InternalError("extracting " + name + ": " + ErrorOf(disk.get()));
  }
  return OkStatus();
}

}  // namespace bento::store::internal
