#include "ship/containerize.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <set>

#include "base/fs.h"
#include "base/subprocess.h"
#include "ship/runtime_closure.h"
#include "store/model_yaml.h"

namespace bento::ship {
namespace {

namespace stdfs = std::filesystem;

constexpr uint32_t kUid = 1000;
constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/usr/sbin/nologin\n"
    "bento:x:1000:1000:bento:/home/bento:/usr/sbin/nologin\n";
constexpr const char* kGroup = "root:x:0:\nbento:x:1000:\n";
constexpr const char* kHosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n";

uint32_t ModeOf(const stdfs::path& file) {
  std::error_code ec;
  auto perms = stdfs::status(file, ec).permissions();
  bool executable = (perms & stdfs::perms::owner_exec) != stdfs::perms::none;
  return executable ? 0755 : 0644;
}

LayerEntry File(std::string path, stdfs::path source, uint32_t mode) {
  LayerEntry entry;
  entry.path = std::move(path);
  entry.source = std::move(source);
  entry.mode = mode;
  return entry;
}

LayerEntry Content(std::string path, std::string content) {
  LayerEntry entry;
  entry.path = std::move(path);
  entry.content = std::move(content);
  return entry;
}

LayerEntry Directory(std::string path, uint32_t mode, uint32_t owner) {
  LayerEntry entry;
  entry.kind = LayerEntry::Kind::kDirectory;
  entry.path = std::move(path);
  entry.mode = mode;
  entry.uid = entry.gid = owner;
  return entry;
}

LayerEntry Symlink(std::string path, std::string target) {
  LayerEntry entry;
  entry.kind = LayerEntry::Kind::kSymlink;
  entry.path = std::move(path);
  entry.link_target = std::move(target);
  entry.mode = 0777;
  return entry;
}

// Adds the host file `path` at the same path in the image, and each symlink met on the way
// as a symlink, so that every name the loader uses (/lib64/ld-linux-x86-64.so.2 through
// /lib64 → usr/lib64 → ...) resolves in the image as it does here.
Status AddHostPath(const stdfs::path& path, std::set<std::string>& added, Layer& layer,
                   int depth = 0) {
  if (depth > 16) return FailedPreconditionError("too many symlinks resolving " + path.string());
  stdfs::path current = "/";
  for (auto it = path.begin(); it != path.end(); ++it) {
    if (*it == "/") continue;
    stdfs::path next = current / *it;
    std::error_code ec;
    if (stdfs::is_symlink(next, ec)) {
      stdfs::path target = stdfs::read_symlink(next, ec);
      if (ec) return InternalError("readlink " + next.string() + ": " + ec.message());
      std::string relative = next.relative_path().string();
      if (added.insert(relative).second) layer.entries.push_back(Symlink(relative, target));
      stdfs::path resolved = target.is_absolute() ? target : current / target;
      for (auto rest = std::next(it); rest != path.end(); ++rest) resolved /= *rest;
      return AddHostPath(resolved.lexically_normal(), added, layer, depth + 1);
    }
    current = next;
  }
  std::error_code ec;
  if (!stdfs::is_regular_file(current, ec)) {
    return FailedPreconditionError(current.string() + " is not a file");
  }
  std::string relative = current.relative_path().string();
  if (added.insert(relative).second) {
    layer.entries.push_back(File(relative, current, ModeOf(current)));
  }
  return OkStatus();
}

// A copy of `binary` without debug info, in `scratch`; the binary itself when objcopy is
// not installed (an installed tree is stripped already).
StatusOr<stdfs::path> Stripped(const stdfs::path& binary, const stdfs::path& scratch,
                               const std::string& name) {
  stdfs::path out = scratch / name;
  auto objcopy = RunProcess({"objcopy", "--strip-debug", "--strip-unneeded", binary.string(),
                             out.string()});
  if (!objcopy.ok()) return binary;
  if (objcopy->exit_code != 0) {
    return InternalError("objcopy " + binary.string() + " failed: " + objcopy->err);
  }
  return out;
}

// Every file under `dir` (recursively, sorted by the writer), at `prefix`/<relative path>;
// `skip` names top-level entries to leave out.
Status AddTree(const stdfs::path& dir, const std::string& prefix, Layer& layer,
               const std::set<std::string>& skip = {}) {
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec);
       !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
    stdfs::path relative = it->path().lexically_relative(dir);
    if (it.depth() == 0 && skip.contains(relative.string())) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    std::string path = prefix + "/" + relative.string();
    if (it->is_symlink()) {
      return FailedPreconditionError(it->path().string() + " is a symlink; a bento holds files");
    }
    if (it->is_directory()) {
      layer.entries.push_back(Directory(path, 0755, 0));
    } else if (it->is_regular_file()) {
      layer.entries.push_back(File(path, it->path(), ModeOf(it->path())));
    }
  }
  if (ec) return InternalError("reading " + dir.string() + ": " + ec.message());
  return OkStatus();
}

}  // namespace

std::vector<stdfs::path> BentoInstall::binaries(const store::BentoInfo& info,
                                                const stdfs::path& bento_dir) const {
  if (info.service.empty()) return {executable, library};
  return {executable, library, imgcodecs, bento_dir / "bin" / info.service};
}

StatusOr<BentoInstall> FindBentoInstall() {
  const stdfs::path root = fs::InstallRoot();
  BentoInstall install;
  install.executable = root / "bin" / "bento";
  std::error_code ec;
  if (!stdfs::is_regular_file(install.executable, ec)) {
    return FailedPreconditionError("bento's executable is not at " + install.executable.string());
  }
  static const std::regex soname(R"(libbento\.so\.\d+)");
  for (const auto& entry : stdfs::directory_iterator(root / "lib", ec)) {
    if (std::regex_match(entry.path().filename().string(), soname)) install.library = entry.path();
  }
  if (install.library.empty()) {
    return FailedPreconditionError("libbento is not in " + (root / "lib").string());
  }
  install.imgcodecs = root / "lib" / "libbento_imgcodecs.so";
  if (!stdfs::is_regular_file(install.imgcodecs, ec)) {
    return FailedPreconditionError("bento's OpenCV plugin is not at " +
                                   install.imgcodecs.string());
  }
  ASSIGN_OR_RETURN(std::vector<stdfs::path> libraries, SharedLibraries({install.library}));
  for (const stdfs::path& library : libraries) {
    if (!library.filename().string().starts_with("libonnxruntime")) continue;
    for (const auto& entry : stdfs::directory_iterator(library.parent_path(), ec)) {
      if (entry.path().filename().string().starts_with("libonnxruntime")) {
        install.onnxruntime.push_back(entry.path());
      }
    }
  }
  std::sort(install.onnxruntime.begin(), install.onnxruntime.end());
  install.swagger_ui = root / "share" / "bento" / "swagger-ui";
  return install;
}

StatusOr<Image> BentoImage(const store::StoredBento& bento, const BentoInstall& install,
                           const stdfs::path& scratch) {
  const store::BentoInfo& info = bento.info;
  const std::string opt(kImageInstallDir), root(kImageBentoDir);
  Image image;
  image.ref_name = info.tag.name + ":" + info.tag.version;

  // Layer 2 first, since layer 1 is the closure of what it holds.
  Layer own{"bento " + info.bento_version + ": the bento executable, libbento, ONNX Runtime and "
            "Swagger UI",
            {}};
  ASSIGN_OR_RETURN(stdfs::path exe, Stripped(install.executable, scratch, "bento"));
  own.entries.push_back(File(opt + "/bin/bento", exe, 0755));
  const std::string soname = install.library.filename().string();
  ASSIGN_OR_RETURN(stdfs::path lib, Stripped(stdfs::canonical(install.library), scratch, soname));
  own.entries.push_back(File(opt + "/lib/" + soname, lib, 0755));
  if (!info.service.empty()) {
    const std::string plugin = install.imgcodecs.filename().string();
    ASSIGN_OR_RETURN(stdfs::path imgcodecs, Stripped(install.imgcodecs, scratch, plugin));
    own.entries.push_back(File(opt + "/lib/" + plugin, imgcodecs, 0755));
  }
  for (const stdfs::path& ort : install.onnxruntime) {
    std::string path = opt + "/lib/" + ort.filename().string();
    if (stdfs::is_symlink(ort)) {
      own.entries.push_back(Symlink(path, stdfs::read_symlink(ort).string()));
    } else {
      own.entries.push_back(File(path, ort, 0755));
    }
  }
  for (const char* asset : {"swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"}) {
    own.entries.push_back(
        File(opt + "/share/bento/swagger-ui/" + asset, install.swagger_ui / asset, 0644));
  }

  ASSIGN_OR_RETURN(std::vector<stdfs::path> libraries,
                   SharedLibraries(install.binaries(info, bento.path)));
  Layer runtime{"the runtime library closure of bento and its service, from this machine", {}};
  std::set<std::string> added;
  for (const stdfs::path& library : libraries) {
    std::string name = library.filename().string();
    if (name.starts_with("libbento.so") || name.starts_with("libonnxruntime")) continue;
    RETURN_IF_ERROR(AddHostPath(library, added, runtime));
  }
  runtime.entries.push_back(Content("etc/passwd", kPasswd));
  runtime.entries.push_back(Content("etc/group", kGroup));
  runtime.entries.push_back(Content("etc/hosts", kHosts));
  runtime.entries.push_back(Directory("tmp", 01777, 0));
  runtime.entries.push_back(Directory(std::string(kImageHome), 0755, kUid));
  image.layers.push_back(std::move(runtime));
  image.layers.push_back(std::move(own));

  for (const store::BentoModel& model : info.models) {
    Layer layer{"model " + model.tag.ToString(), {}};
    const std::string name_dir = root + "/models/" + model.tag.name;
    RETURN_IF_ERROR(AddTree(bento.path / "models" / model.tag.name / model.tag.version,
                            name_dir + "/" + model.tag.version, layer));
    layer.entries.push_back(Content(name_dir + "/latest", model.tag.version));
    image.layers.push_back(std::move(layer));
  }
  Layer rest{"bento " + info.tag.ToString() + ": bento.yaml, its service and files", {}};
  RETURN_IF_ERROR(AddTree(bento.path, root, rest, {"models", "bin"}));
  if (!info.service.empty()) {
    ASSIGN_OR_RETURN(stdfs::path stripped,
                     Stripped(bento.path / "bin" / info.service, scratch, info.service));
    rest.entries.push_back(File(root + "/bin/" + info.service, stripped, 0755));
  }
  image.layers.push_back(std::move(rest));

  ImageConfig& config = image.config;
  config.user = std::to_string(kUid) + ":" + std::to_string(kUid);
  config.entrypoint = {"/" + opt + "/bin/bento", "serve", "/" + root, "--host", "0.0.0.0"};
  config.env = {"PATH=/" + opt + "/bin:/usr/bin:/bin", "LD_LIBRARY_PATH=/" + opt + "/lib",
                "HOME=/" + std::string(kImageHome),
                "BENTOML_HOME=/" + std::string(kImageHome) + "/bentoml",
                "PORT=" + std::to_string(kImagePort)};
  for (const auto& [name, value] : info.envs) config.env.push_back(name + "=" + value);
  config.working_dir = "/" + std::string(kImageHome);
  config.exposed_ports = {std::to_string(kImagePort) + "/tcp"};
  config.labels = info.labels;
  config.labels["org.opencontainers.image.title"] = info.tag.name;
  config.labels["org.opencontainers.image.version"] = info.tag.version;
  config.created = store::FormatCreationTime(info.creation_time);
  return image;
}

std::string Dockerfile(const store::BentoInfo& info, const std::vector<std::string>& packages) {
  std::string apt;
  for (const auto& list : {packages, info.docker.system_packages}) {
    for (const auto& package : list) apt += " \\\n      " + package;
  }
  std::string base = info.docker.base_image.empty() ? "debian:bookworm-slim"
                                                    : info.docker.base_image;
  std::string env;
  for (const auto& [name, value] : info.envs) env += "ENV " + name + "=\"" + value + "\"\n";
  const std::string port = std::to_string(kImagePort);
  return "# The image of bento " + info.tag.ToString() +
         ", for Docker. `bento containerize` writes the same\n"
         "# image with no daemon; `bento containerize --format dockerfile` writes this file\n"
         "# beside the context it copies (opt/bento/ and bento/).\n"
         "FROM " + base + "\n"
         "RUN apt-get update && apt-get install -y --no-install-recommends" + apt +
         " \\\n    && rm -rf /var/lib/apt/lists/*\n"
         "RUN useradd --uid 1000 --user-group --create-home bento\n"
         "COPY opt/bento /opt/bento\n"
         "COPY bento /bento\n"
         "ENV PATH=/opt/bento/bin:$PATH LD_LIBRARY_PATH=/opt/bento/lib "
         "BENTOML_HOME=/home/bento/bentoml PORT=" + port + "\n" + env +
         "USER 1000:1000\n"
         "WORKDIR /home/bento\n"
         "EXPOSE " + port + "\n"
         "ENTRYPOINT [\"/opt/bento/bin/bento\", \"serve\", \"/bento\", \"--host\", \"0.0.0.0\"]\n";
}

Status WriteDockerContext(const Image& image, const store::StoredBento& bento,
                          const stdfs::path& out) {
  return fs::WriteNewFolder(out, [&](const stdfs::path& staging) -> Status {
    std::error_code ec;
    // Layer 1 is the runtime closure, which the Dockerfile installs with apt instead.
    for (size_t i = 1; i < image.layers.size(); ++i) {
      for (const LayerEntry& entry : image.layers[i].entries) {
        stdfs::path target = staging / entry.path;
        RETURN_IF_ERROR(fs::MakeDirs(
            entry.kind == LayerEntry::Kind::kDirectory ? target : target.parent_path()));
        if (entry.kind == LayerEntry::Kind::kSymlink) {
          stdfs::create_symlink(entry.link_target, target, ec);
          if (ec) return InternalError("symlink " + target.string() + ": " + ec.message());
        } else if (entry.kind == LayerEntry::Kind::kFile) {
          RETURN_IF_ERROR(entry.content ? fs::WriteFile(target, *entry.content)
                                        : fs::CopyFile(entry.source, target));
          stdfs::permissions(target, static_cast<stdfs::perms>(entry.mode), ec);
        }
      }
    }
    return fs::CopyFile(bento.path / "env" / "docker" / "Dockerfile", staging / "Dockerfile");
  });
}

}  // namespace bento::ship
