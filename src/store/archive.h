// .bentomodel archives with libarchive: a tar (xz or gzip) of one model version folder, with
// model.yaml at the root.
//
// These functions know nothing of the store's layout or locking; ModelStore::Export and
// ModelStore::Import call them on folders they own. Thread-safe (no shared state).
#ifndef BENTO_STORE_ARCHIVE_H_
#define BENTO_STORE_ARCHIVE_H_

#include <filesystem>

#include "bento/status.h"

namespace bento::store::internal {

enum class Compression { kXz, kGzip };

// Writes the regular files and folders under `dir` to a new tar file `out`, with paths
// relative to `dir`, sorted, so that the same folder gives the same entries. Symlinks and
// other special files are skipped with a warning. `out` is fsynced before returning.
Status WriteTarball(const std::filesystem::path& dir, const std::filesystem::path& out,
                    Compression compression);

// Extracts the tar `archive` (any compression libarchive detects from content; only tar
// formats are accepted) into the existing folder `dest`.
// Refuses, with INVALID_ARGUMENT, entries that are not regular files or folders (symlinks,
// hard links, devices) and paths that are absolute or contain "..". A file that is not a
// tar archive gives INVALID_ARGUMENT; a corrupt or truncated one DATA_LOSS. On error, what
// was extracted so far is left in `dest` for the caller to remove.
Status ExtractTarball(const std::filesystem::path& archive, const std::filesystem::path& dest);

}  // namespace bento::store::internal

#endif  // BENTO_STORE_ARCHIVE_H_
