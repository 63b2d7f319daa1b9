// What goes into a bento's container image, and where:
//
//   layer 1  the runtime library closure: every shared library loaded by bento, libbento,
//            ONNX Runtime and, for a bento with a service, the service and the image
//            decoders' plugin, copied from this machine at the paths its loader found them
//            (with the /lib → usr/lib links of a merged-/usr system), plus /etc/passwd and
//            /etc/group for the user `bento` (uid 1000), /tmp and its home;
//   layer 2  bento itself under /opt/bento: bin/bento, lib/ (libbento, ONNX Runtime, and
//            for a service the plugin) and share/bento/swagger-ui, stripped of debug info;
//   layer 3+ one layer per model, /bento/models/<name>/<version>/, so that a new model
//            version ships one layer;
//   last     the rest of the bento under /bento: bento.yaml, apis/, bin/<service>, src/...
//
// The image runs as `bento`, with `bento serve /bento` as its entrypoint; it listens on
// $PORT (3000 unless the runtime sets it). Nothing is pulled: there is no base image.
//
// Thread-safe (no shared state).
#ifndef BENTO_SHIP_CONTAINERIZE_H_
#define BENTO_SHIP_CONTAINERIZE_H_

#include <filesystem>
#include <string>
#include <vector>

#include "bento/status.h"
#include "ship/oci_image.h"
#include "store/bento_store.h"

namespace bento::ship {

// The bento that runs now: its executable, library, ONNX Runtime and assets, found from
// the tree this code runs from (base/fs.h InstallRoot): an install tree or the build tree.
struct BentoInstall {
  std::filesystem::path executable;       // bin/bento
  std::filesystem::path library;          // lib/libbento.so.<major>, the file itself
  std::filesystem::path imgcodecs;        // lib/libbento_imgcodecs.so, loaded on first use
  std::vector<std::filesystem::path> onnxruntime;  // libonnxruntime*.so* beside the one it loads
  std::filesystem::path swagger_ui;       // share/bento/swagger-ui

  // The binaries whose libraries the bento in `bento_dir` needs where it runs: the
  // executable and libbento; for a bento with a service, its executable and the plugin, which
  // ldd cannot see from libbento. No-code serving decodes no image, so its images and
  // Dockerfiles leave out the plugin and OpenCV's libraries.
  std::vector<std::filesystem::path> binaries(const store::BentoInfo& info,
                                              const std::filesystem::path& bento_dir) const;
};
StatusOr<BentoInstall> FindBentoInstall();

// Where the image puts things.
inline constexpr std::string_view kImageBentoDir = "bento";       // the bento, read-only
inline constexpr std::string_view kImageInstallDir = "opt/bento";  // bento itself
inline constexpr std::string_view kImageHome = "home/bento";       // the user's home
inline constexpr int kImagePort = 3000;

// The image of `bento`. Stripped copies of bento's binaries are written into `scratch`,
// which must outlive the Image (its entries point at those files).
StatusOr<Image> BentoImage(const store::StoredBento& bento, const BentoInstall& install,
                           const std::filesystem::path& scratch);

// A Dockerfile that builds the same image with Docker from a context holding opt/bento/ and
// bento/, over Debian (or the bentofile's docker.base_image), installing `packages` and the
// bentofile's docker.system_packages with apt.
std::string Dockerfile(const store::BentoInfo& info, const std::vector<std::string>& packages);

// Writes `image`'s layers 2+ as files into `out` (a new folder) with the bento's
// env/docker/Dockerfile beside them: a context for `docker build`. Written beside `out`
// and renamed, so a failure leaves nothing.
Status WriteDockerContext(const Image& image, const store::StoredBento& bento,
                          const std::filesystem::path& out);

}  // namespace bento::ship

#endif  // BENTO_SHIP_CONTAINERIZE_H_
