// Container images written with no container daemon: an Image (layers of files, and the
// runtime config) becomes an OCI image layout, an OCI archive or a docker-archive tar.
//
// The output is reproducible: entries are sorted by path, every mtime is 0, owners are
// numeric, and gzip headers carry no time or name, so the same Image gives the same bytes
// and the same manifest digest (with the same zlib). Layers are gzip-compressed in the OCI
// formats and plain tar in docker-archive (what `docker load` reads everywhere).
//
// Thread-safe: no shared state.
#ifndef BENTO_SHIP_OCI_IMAGE_H_
#define BENTO_SHIP_OCI_IMAGE_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bento/status.h"

namespace bento::ship {

// One entry of a layer. Parent folders that no entry names are added (root, 0755).
struct LayerEntry {
  enum class Kind { kFile, kDirectory, kSymlink };
  Kind kind = Kind::kFile;
  std::string path;                    // in the image, relative: "opt/bento/bin/bento"
  std::filesystem::path source;        // kFile: the file to copy, unless `content` is set
  std::optional<std::string> content;  // kFile: the bytes themselves
  std::string link_target;             // kSymlink
  uint32_t mode = 0644;                // permission bits (symlinks: 0777)
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct Layer {
  std::string created_by;  // the history entry: what the layer holds, in words
  std::vector<LayerEntry> entries;
};

// The runtime config (the OCI image config's `config` object, plus `created`).
struct ImageConfig {
  std::string user;                     // "1000:1000"
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;         // "NAME=value"
  std::string working_dir;
  std::vector<std::string> exposed_ports;  // "3000/tcp"
  std::map<std::string, std::string> labels;
  std::string created;                  // RFC 3339; fixed by the caller, for reproducibility
};

struct Image {
  std::vector<Layer> layers;  // lowest first
  ImageConfig config;
  // The image's name, "name:version": the OCI layout's org.opencontainers.image.ref.name
  // annotation (skopeo reads it as oci:DIR:name:version), and docker-archive's RepoTags.
  std::string ref_name;
};

enum class ImageFormat {
  kOciLayout,      // a folder: oci-layout, index.json, blobs/sha256/...
  kOciArchive,     // that folder as one tar file (podman load, skopeo oci-archive:)
  kDockerArchive,  // docker save's tar: manifest.json, config and plain-tar layers
};

// Writes `image` to `out` in `format`, and returns the manifest digest ("sha256:<hex>"; for
// docker-archive, the config digest, which is docker's image ID). `out` must not exist, or
// be an empty folder for kOciLayout. Everything is written beside `out` and renamed into
// place, so a failure leaves nothing at `out`. A missing source file or an unwritable
// folder gives a Status that names the path.
//
// `layer_cache`, when given, is a folder of gzipped layers named by their diff_id: a layer
// found there (and checked to inflate to its diff_id) is copied instead of compressed again,
// and each new one is added. The output is the same either way. Entries are touched when
// used; the caller prunes old ones.
StatusOr<std::string> WriteImage(const Image& image, ImageFormat format,
                                 const std::filesystem::path& out,
                                 const std::filesystem::path& layer_cache = {});

}  // namespace bento::ship

#endif  // BENTO_SHIP_OCI_IMAGE_H_
