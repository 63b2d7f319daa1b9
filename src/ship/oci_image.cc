#include "ship/oci_image.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

#include "base/fs.h"
#include "bento/json.h"

namespace bento::ship {
namespace {

namespace stdfs = std::filesystem;
using Kind = LayerEntry::Kind;

constexpr size_t kChunkSize = 1 << 16;
constexpr char kIndexMediaType[] = "application/vnd.oci.image.index.v1+json";
constexpr char kManifestMediaType[] = "application/vnd.oci.image.manifest.v1+json";
constexpr char kConfigMediaType[] = "application/vnd.oci.image.config.v1+json";
constexpr char kLayerMediaType[] = "application/vnd.oci.image.layer.v1.tar+gzip";

struct WriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
struct DigestDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

std::string ErrorOf(struct archive* a) {
  const char* message = archive_error_string(a);
  return message != nullptr ? message : "unknown libarchive error";
}

using fs::ErrnoStatus;

// The sha256 and size of a blob; "sha256:<hex>" is its content address.
struct Digest {
  std::string hex;
  uint64_t size = 0;
  std::string Name() const { return "sha256:" + hex; }
};

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) ctx_.reset();
  }
  void Update(const void* data, size_t size) {
    if (ctx_ && EVP_DigestUpdate(ctx_.get(), data, size) != 1) ctx_.reset();
  }
  // The digest in lower-case hex. Ends the hash.
  StatusOr<std::string> Finish() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!ctx_ || EVP_DigestFinal_ex(ctx_.get(), digest, &length) != 1) {
      return InternalError("OpenSSL failed to compute a sha256");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
      hex += kHex[digest[i] >> 4];
      hex += kHex[digest[i] & 0xf];
    }
    return hex;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx_;
};

StatusOr<Digest> DigestOf(std::string_view data) {
  Sha256 sha;
  sha.Update(data.data(), data.size());
  ASSIGN_OR_RETURN(std::string hex, sha.Finish());
  return Digest{std::move(hex), data.size()};
}

// A new file whose bytes are hashed as they are written, so that a blob's digest comes out
// of the one pass that writes it.
class HashingFile {
 public:
  explicit HashingFile(stdfs::path path) : path_(std::move(path)) {}
  HashingFile(const HashingFile&) = delete;
  HashingFile& operator=(const HashingFile&) = delete;
  ~HashingFile() {
    if (fd_ >= 0) ::close(fd_);
  }

  Status Open() {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    return fd_ >= 0 ? OkStatus() : ErrnoStatus("create", path_, errno);
  }
  Status Write(const void* data, size_t size) {
    sha_.Update(data, size);
    size_ += size;
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd_, p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("write", path_, errno);
      p += n;
      size -= static_cast<size_t>(n);
    }
    return OkStatus();
  }
  StatusOr<Digest> Close() {
    int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) return ErrnoStatus("close", path_, errno);
    ASSIGN_OR_RETURN(std::string hex, sha_.Finish());
    return Digest{std::move(hex), size_};
  }

  // libarchive's write callback. The Status is kept, since libarchive's own message would
  // lose the code (a full disk is ResourceExhausted, not Internal).
  static la_ssize_t ArchiveWrite(struct archive* a, void* self, const void* data, size_t size) {
    auto* file = static_cast<HashingFile*>(self);
    file->error_ = file->Write(data, size);
    if (file->error_.ok()) return static_cast<la_ssize_t>(size);
    archive_set_error(a, EIO, "%s", file->error_.message().c_str());
    return -1;
  }
  const Status& error() const { return error_; }

 private:
  stdfs::path path_;
  int fd_ = -1;
  Sha256 sha_;
  uint64_t size_ = 0;
  Status error_;
};

class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  void reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

StatusOr<size_t> ReadChunk(int fd, void* buffer, const stdfs::path& path) {
  while (true) {
    ssize_t n = ::read(fd, buffer, kChunkSize);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ErrnoStatus("read", path, errno);
  }
}

StatusOr<std::string> Dump(const Json& json) {
  try {
    return json.dump();  // compact; keys come sorted, as Json's objects are std::maps
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string("image metadata is not valid UTF-8: ") + e.what());
  }
}

// "opt//bento/./bin" -> "opt/bento/bin". Refuses absolute paths and "..", which would write
// outside the image's root when the layer is unpacked.
StatusOr<std::string> CleanPath(const std::string& path) {
  if (path.starts_with('/')) return InvalidArgumentError("layer entry '" + path + "' is absolute");
  std::string clean;
  for (const stdfs::path& part : stdfs::path(path)) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return InvalidArgumentError("layer entry '" + path + "' contains '..'");
    if (!clean.empty()) clean += '/';
    clean += part.string();
  }
  if (clean.empty()) return InvalidArgumentError("layer entry '" + path + "' has an empty path");
  return clean;
}

// The entries of one tar by clean path, in sorted order, with the parent folders no entry
// names.
StatusOr<std::map<std::string, const LayerEntry*>> PlanEntries(
    const std::vector<LayerEntry>& entries) {
  static const LayerEntry kParent{.kind = Kind::kDirectory, .mode = 0755};
  std::map<std::string, const LayerEntry*> plan;
  std::vector<std::string> named;
  for (const LayerEntry& entry : entries) {
    ASSIGN_OR_RETURN(std::string path, CleanPath(entry.path));
    if (!plan.emplace(path, &entry).second) {
      return InvalidArgumentError("layer entry '" + path + "' is given twice");
    }
    named.push_back(std::move(path));
  }
  for (const std::string& path : named) {
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      auto [it, added] = plan.emplace(path.substr(0, slash), &kParent);
      if (!added && it->second->kind != Kind::kDirectory) {
        return InvalidArgumentError("layer entry '" + path + "' is inside '" + it->first +
                                    "', which is not a folder");
      }
    }
  }
  return plan;
}

// Streams the file `fd` into the current entry, which was declared `size` bytes long.
Status CopyData(struct archive* a, int fd, const stdfs::path& source, uint64_t size) {
  std::unique_ptr<char[]> buffer(new char[kChunkSize]);
  uint64_t total = 0;
  while (true) {
    ASSIGN_OR_RETURN(size_t n, ReadChunk(fd, buffer.get(), source));
    if (n == 0) break;
    total += n;
    if (total > size) break;
    if (archive_write_data(a, buffer.get(), n) < 0) {
      return InternalError("libarchive: " + ErrorOf(a));
    }
  }
  // libarchive would pad or cut the entry silently; a layer must hold what its file held.
  if (total != size) return FailedPreconditionError(source.string() + " changed while read");
  return OkStatus();
}

Status WriteEntry(struct archive* a, const std::string& path, const LayerEntry& entry) {
  std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
  archive_entry_copy_pathname(e.get(), path.c_str());
  archive_entry_set_perm(e.get(), entry.mode & 07777);
  archive_entry_set_uid(e.get(), entry.uid);
  archive_entry_set_gid(e.get(), entry.gid);
  archive_entry_set_mtime(e.get(), 0, 0);
  // The source is opened before the header is written, so a missing one fails cleanly.
  ScopedFd fd(-1);
  uint64_t size = 0;
  switch (entry.kind) {
    case Kind::kDirectory: archive_entry_set_filetype(e.get(), AE_IFDIR); break;
    case Kind::kSymlink:
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_copy_symlink(e.get(), entry.link_target.c_str());
      break;
    case Kind::kFile:
      archive_entry_set_filetype(e.get(), AE_IFREG);
      if (entry.content.has_value()) {
        size = entry.content->size();
      } else {
        fd.reset(::open(entry.source.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) return ErrnoStatus("open", entry.source, errno);
        struct stat st;
        if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", entry.source, errno);
        if (!S_ISREG(st.st_mode)) {
          return InvalidArgumentError(entry.source.string() + " is not a regular file");
        }
        size = static_cast<uint64_t>(st.st_size);
      }
      archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
      break;
  }
  if (archive_write_header(a, e.get()) < ARCHIVE_WARN) {
    return InternalError("libarchive: " + ErrorOf(a));
  }
  if (entry.kind != Kind::kFile) return OkStatus();
  if (fd.get() >= 0) return CopyData(a, fd.get(), entry.source, size);
  if (archive_write_data(a, entry.content->data(), size) < 0) {
    return InternalError("libarchive: " + ErrorOf(a));
  }
  return OkStatus();
}

// Writes `entries` as a tar at `out`, returning the tar's digest.
StatusOr<Digest> WriteTar(const std::vector<LayerEntry>& entries, const stdfs::path& out) {
  ASSIGN_OR_RETURN(auto plan, PlanEntries(entries));
  HashingFile file(out);
  RETURN_IF_ERROR(file.Open());
  std::unique_ptr<struct archive, WriteDeleter> a(archive_write_new());
  if (!a) return InternalError("archive_write_new failed");
  auto check = [&](int r) -> Status {
    if (r >= ARCHIVE_WARN) return OkStatus();
    if (!file.error().ok()) return file.error();
    return InternalError("writing " + out.string() + ": " + ErrorOf(a.get()));
  };
  RETURN_IF_ERROR(check(archive_write_set_format_pax_restricted(a.get())));
  RETURN_IF_ERROR(check(archive_write_open2(a.get(), &file, nullptr, &HashingFile::ArchiveWrite,
                                            nullptr, nullptr)));
  for (const auto& [path, entry] : plan) {
    Status status = WriteEntry(a.get(), path, *entry);
    if (!file.error().ok()) return file.error();
    RETURN_IF_ERROR(status.WithContext("entry '" + path + "'"));
  }
  RETURN_IF_ERROR(check(archive_write_close(a.get())));
  return file.Close();
}

// Gzips `from` into `to`. zlib's gzip header has no time and no name, so equal input gives
// equal output (with the same zlib).
StatusOr<Digest> GzipFile(const stdfs::path& from, const stdfs::path& to) {
  ScopedFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return ErrnoStatus("open", from, errno);
  HashingFile out(to);
  RETURN_IF_ERROR(out.Open());
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return InternalError("deflateInit2 failed");
  }
  std::unique_ptr<z_stream, int (*)(z_streamp)> end(&z, &deflateEnd);
  std::unique_ptr<unsigned char[]> input(new unsigned char[kChunkSize]);
  std::unique_ptr<unsigned char[]> output(new unsigned char[kChunkSize]);
  int flush = Z_NO_FLUSH;
  while (flush != Z_FINISH) {
    ASSIGN_OR_RETURN(size_t n, ReadChunk(in.get(), input.get(), from));
    flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = input.get();
    z.avail_in = static_cast<uInt>(n);
    do {  // until deflate leaves room in the output: then it has taken all the input
      z.next_out = output.get();
      z.avail_out = kChunkSize;
      if (deflate(&z, flush) == Z_STREAM_ERROR) return InternalError("deflate failed");
      RETURN_IF_ERROR(out.Write(output.get(), kChunkSize - z.avail_out));
    } while (z.avail_out == 0);
  }
  return out.Close();
}

// Copies the gzip file `from` to `to`; returns the copy's digest and the sha256 (hex) of the
// data it inflates to, which says whether a cached layer is the one wanted.
StatusOr<std::pair<Digest, std::string>> CopyGzip(const stdfs::path& from,
                                                  const stdfs::path& to) {
  ScopedFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return ErrnoStatus("open", from, errno);
  HashingFile out(to);
  RETURN_IF_ERROR(out.Open());
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return InternalError("inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_streamp)> end(&z, &inflateEnd);
  std::unique_ptr<unsigned char[]> input(new unsigned char[kChunkSize]);
  std::unique_ptr<unsigned char[]> output(new unsigned char[kChunkSize]);
  Sha256 inflated;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    ASSIGN_OR_RETURN(size_t n, ReadChunk(in.get(), input.get(), from));
    if (n == 0) return DataLossError(from.string() + " is a truncated gzip file");
    RETURN_IF_ERROR(out.Write(input.get(), n));
    z.next_in = input.get();
    z.avail_in = static_cast<uInt>(n);
    while (z.avail_in > 0 && rc != Z_STREAM_END) {
      z.next_out = output.get();
      z.avail_out = kChunkSize;
      rc = inflate(&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) {
        return DataLossError(from.string() + " is not a valid gzip file");
      }
      inflated.Update(output.get(), kChunkSize - z.avail_out);
    }
  }
  ASSIGN_OR_RETURN(Digest copy, out.Close());
  ASSIGN_OR_RETURN(std::string inflated_hex, inflated.Finish());
  return std::make_pair(std::move(copy), std::move(inflated_hex));
}

// The gzipped blob, at `to`, of the layer whose tar is `tar`. With a `cache` folder, a blob
// already there for the same diff_id is reused (after checking that it inflates to that
// diff_id), and a new one is added; equal layers then cost a copy instead of a compression.
// The cache only saves time: a cache that cannot be read or written is passed over.
StatusOr<Digest> CompressLayer(const stdfs::path& tar, const Digest& diff_id,
                               const stdfs::path& to, const stdfs::path& cache) {
  const stdfs::path cached = cache / (diff_id.hex + ".tar.gz");
  std::error_code ec;
  if (!cache.empty() && stdfs::is_regular_file(cached, ec)) {
    auto copy = CopyGzip(cached, to);
    if (copy.ok() && copy->second == diff_id.hex) {
      stdfs::last_write_time(cached, stdfs::file_time_type::clock::now(), ec);  // recently used
      return copy->first;
    }
    (void)fs::RemoveAll(to);
    (void)fs::RemoveAll(cached);
  }
  ASSIGN_OR_RETURN(Digest blob, GzipFile(tar, to));
  if (!cache.empty()) {
    const stdfs::path partial = cached.string() + ".partial-" + std::to_string(::getpid());
    bool added = fs::MakeDirs(cache).ok() && fs::CopyFile(to, partial).ok() &&
                 ::rename(partial.c_str(), cached.c_str()) == 0;
    if (!added) (void)fs::RemoveAll(partial);
  }
  return blob;
}

StatusOr<Digest> WriteLayerTar(const Image& image, size_t i, const stdfs::path& out) {
  StatusOr<Digest> digest = WriteTar(image.layers[i].entries, out);
  if (!digest.ok()) {
    return digest.status().WithContext("layer " + std::to_string(i) + " (" +
                                       image.layers[i].created_by + ")");
  }
  return digest;
}

Json DescriptorJson(std::string_view media_type, const Digest& digest) {
  return {{"mediaType", media_type}, {"digest", digest.Name()}, {"size", digest.size}};
}

StatusOr<std::string> ConfigJson(const Image& image, const std::vector<std::string>& diff_ids) {
  const ImageConfig& c = image.config;
  Json runtime = Json::object();
  if (!c.user.empty()) runtime["User"] = c.user;
  if (!c.entrypoint.empty()) runtime["Entrypoint"] = c.entrypoint;
  if (!c.cmd.empty()) runtime["Cmd"] = c.cmd;
  if (!c.env.empty()) runtime["Env"] = c.env;
  if (!c.working_dir.empty()) runtime["WorkingDir"] = c.working_dir;
  for (const std::string& port : c.exposed_ports) runtime["ExposedPorts"][port] = Json::object();
  if (!c.labels.empty()) runtime["Labels"] = c.labels;
  Json history = Json::array();
  for (const Layer& layer : image.layers) {
    Json step = {{"created_by", layer.created_by}};
    if (!c.created.empty()) step["created"] = c.created;
    history.push_back(std::move(step));
  }
  Json config = {{"architecture", "amd64"},
                 {"os", "linux"},
                 {"config", std::move(runtime)},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
                 {"history", std::move(history)}};
  if (!c.created.empty()) config["created"] = c.created;
  return Dump(config);
}

StatusOr<Digest> WriteBlob(const stdfs::path& blobs, const std::string& data) {
  ASSIGN_OR_RETURN(Digest digest, DigestOf(data));
  RETURN_IF_ERROR(fs::WriteFile(blobs / digest.hex, data));
  return digest;
}

Status Rename(const stdfs::path& from, const stdfs::path& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return ErrnoStatus("rename to", to, errno);
  return OkStatus();
}

// Writes the OCI image layout into `root`, with scratch files in `stage`.
StatusOr<std::string> WriteOciLayout(const Image& image, const stdfs::path& stage,
                                     const stdfs::path& root, const stdfs::path& cache) {
  const stdfs::path blobs = root / "blobs" / "sha256";
  RETURN_IF_ERROR(fs::MakeDirs(blobs));
  std::vector<std::string> diff_ids;
  Json layers = Json::array();
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const stdfs::path tar = stage / ("layer-" + std::to_string(i) + ".tar");
    const stdfs::path gzip = stage / ("layer-" + std::to_string(i) + ".tar.gz");
    ASSIGN_OR_RETURN(Digest diff_id, WriteLayerTar(image, i, tar));
    ASSIGN_OR_RETURN(Digest blob, CompressLayer(tar, diff_id, gzip, cache));
    RETURN_IF_ERROR(fs::RemoveAll(tar));
    RETURN_IF_ERROR(Rename(gzip, blobs / blob.hex));
    diff_ids.push_back(diff_id.Name());
    layers.push_back(DescriptorJson(kLayerMediaType, blob));
  }
  ASSIGN_OR_RETURN(std::string config, ConfigJson(image, diff_ids));
  ASSIGN_OR_RETURN(Digest config_blob, WriteBlob(blobs, config));
  Json manifest = {{"schemaVersion", 2},
                   {"mediaType", kManifestMediaType},
                   {"config", DescriptorJson(kConfigMediaType, config_blob)},
                   {"layers", std::move(layers)}};
  ASSIGN_OR_RETURN(std::string manifest_text, Dump(manifest));
  ASSIGN_OR_RETURN(Digest manifest_blob, WriteBlob(blobs, manifest_text));
  Json descriptor = DescriptorJson(kManifestMediaType, manifest_blob);
  descriptor["annotations"] = {{"org.opencontainers.image.ref.name", image.ref_name}};
  Json index = {{"schemaVersion", 2},
                {"mediaType", kIndexMediaType},
                {"manifests", Json::array({std::move(descriptor)})}};
  ASSIGN_OR_RETURN(std::string index_text, Dump(index));
  RETURN_IF_ERROR(fs::WriteFile(root / "index.json", index_text));
  RETURN_IF_ERROR(fs::WriteFile(root / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  return manifest_blob.Name();
}

// Writes docker save's layout into `root`: manifest.json, <config hex>.json and
// <diff_id hex>/layer.tar.
StatusOr<std::string> WriteDockerTree(const Image& image, const stdfs::path& stage,
                                      const stdfs::path& root) {
  std::vector<std::string> diff_ids;
  Json layer_files = Json::array();
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const stdfs::path tar = stage / ("layer-" + std::to_string(i) + ".tar");
    ASSIGN_OR_RETURN(Digest diff_id, WriteLayerTar(image, i, tar));
    RETURN_IF_ERROR(fs::MakeDirs(root / diff_id.hex));
    RETURN_IF_ERROR(Rename(tar, root / diff_id.hex / "layer.tar"));
    diff_ids.push_back(diff_id.Name());
    layer_files.push_back(diff_id.hex + "/layer.tar");
  }
  ASSIGN_OR_RETURN(std::string config, ConfigJson(image, diff_ids));
  ASSIGN_OR_RETURN(Digest config_digest, DigestOf(config));
  RETURN_IF_ERROR(fs::WriteFile(root / (config_digest.hex + ".json"), config));
  Json entry = {{"Config", config_digest.hex + ".json"},
                {"RepoTags", Json::array({image.ref_name})},
                {"Layers", std::move(layer_files)}};
  ASSIGN_OR_RETURN(std::string manifest, Dump(Json::array({std::move(entry)})));
  RETURN_IF_ERROR(fs::WriteFile(root / "manifest.json", manifest));
  return config_digest.Name();
}

// The files under `root` as tar entries owned by root: how the archive formats pack the
// folder that WriteOciLayout or WriteDockerTree wrote.
StatusOr<std::vector<LayerEntry>> TreeEntries(const stdfs::path& root) {
  std::vector<LayerEntry> entries;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(root, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    LayerEntry entry;
    entry.path = it->path().lexically_relative(root).generic_string();
    if (it->is_directory()) {
      entry.kind = Kind::kDirectory;
      entry.mode = 0755;
    } else {
      entry.source = it->path();
    }
    entries.push_back(std::move(entry));
  }
  if (ec) return ErrnoStatus("list", root, ec.value());
  return entries;
}

// Builds the image in `stage` and moves it onto `out`.
StatusOr<std::string> WriteStaged(const Image& image, ImageFormat format, const stdfs::path& out,
                                  const stdfs::path& parent, const stdfs::path& stage,
                                  bool out_is_empty_dir, const stdfs::path& cache) {
  const stdfs::path root = stage / "image";
  RETURN_IF_ERROR(fs::MakeDirs(root));
  std::string digest;
  if (format == ImageFormat::kDockerArchive) {
    ASSIGN_OR_RETURN(digest, WriteDockerTree(image, stage, root));
  } else {
    ASSIGN_OR_RETURN(digest, WriteOciLayout(image, stage, root, cache));
  }
  stdfs::path result = root;
  if (format == ImageFormat::kOciLayout) {
    RETURN_IF_ERROR(fs::FsyncTree(root));
  } else {
    result = stage / "image.tar";
    ASSIGN_OR_RETURN(std::vector<LayerEntry> entries, TreeEntries(root));
    RETURN_IF_ERROR(WriteTar(entries, result).status());
    RETURN_IF_ERROR(fs::Fsync(result));
  }
  // RENAME_NOREPLACE keeps a file that appeared at `out` since it was checked. The empty
  // folder allowed for kOciLayout needs a plain rename, which fails if it is no longer empty.
  int r = out_is_empty_dir ? ::rename(result.c_str(), out.c_str())
                           : ::renameat2(AT_FDCWD, result.c_str(), AT_FDCWD, out.c_str(),
                                         RENAME_NOREPLACE);
  if (r != 0 && errno == EINVAL && !out_is_empty_dir) {
    r = ::rename(result.c_str(), out.c_str());  // a file system without RENAME_NOREPLACE
  }
  if (r != 0) return ErrnoStatus("rename to", out, errno);
  // Until the folder is synced the rename may not survive a crash; a caller told of a
  // failure must find nothing at `out`, so the image is taken back.
  Status synced = fs::Fsync(parent);
  if (!synced.ok()) {
    (void)fs::RemoveAll(out);
    return synced;
  }
  return digest;
}

}  // namespace

StatusOr<std::string> WriteImage(const Image& image, ImageFormat format,
                                 const std::filesystem::path& out_arg,
                                 const std::filesystem::path& layer_cache) {
  stdfs::path out = out_arg;
  if (!out.has_filename()) out = out.parent_path();  // "dir/" names "dir"
  const stdfs::path parent = out.has_parent_path() ? out.parent_path() : stdfs::path(".");
  std::error_code ec;
  if (!stdfs::is_directory(parent, ec)) {
    return NotFoundError("cannot write " + out.string() + ": " + parent.string() +
                         " is not an existing folder");
  }
  bool out_is_empty_dir = false;
  if (stdfs::exists(stdfs::symlink_status(out, ec))) {
    out_is_empty_dir = format == ImageFormat::kOciLayout && !stdfs::is_symlink(out, ec) &&
                       stdfs::is_directory(out, ec) && stdfs::is_empty(out, ec);
    if (!out_is_empty_dir) return AlreadyExistsError(out.string() + " already exists");
  }
  const std::string prefix =
      out.filename().string() + ".partial-" + std::to_string(::getpid()) + "-";
  StatusOr<stdfs::path> stage = fs::MakeTempDir(parent, prefix);
  if (!stage.ok()) return stage.status().WithContext("cannot write " + out.string());
  StatusOr<std::string> digest = WriteStaged(image, format, out, parent, *stage, out_is_empty_dir,
                                             layer_cache);
  // On success the image was renamed out of the stage; what is left is scratch.
  (void)fs::RemoveAll(*stage);
  return digest;
}

}  // namespace bento::ship
