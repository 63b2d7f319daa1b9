#include "ship/build.h"

#include <fnmatch.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/fs.h"
#include "bento/json.h"
#include "ship/containerize.h"
#include "store/pyyaml_emitter.h"

namespace bento::ship {
namespace {

namespace stdfs = std::filesystem;

bool Matches(const std::vector<std::string>& patterns, const std::string& relative) {
  for (const std::string& pattern : patterns) {
    std::string p = pattern.starts_with("/") ? pattern.substr(1) : pattern;
    if (p.ends_with("/")) p += "*";  // a folder: everything under it
    if (::fnmatch(p.c_str(), relative.c_str(), 0) == 0) return true;
    if (relative.starts_with(p + "/")) return true;  // a folder named without the slash
  }
  return false;
}

// The files of `context` that `include` picks and `exclude` does not, relative to it. Only
// the folders before each pattern's first wildcard are walked.
StatusOr<std::vector<stdfs::path>> IncludedFiles(const stdfs::path& context,
                                                 const BentoFile& file) {
  std::set<stdfs::path> roots, out;
  for (const std::string& pattern : file.include) {
    std::string p = pattern.starts_with("/") ? pattern.substr(1) : pattern;
    if (p.find("..") != std::string::npos) {
      return InvalidArgumentError("bentofile include '" + pattern +
                                  "' leaves the build context");
    }
    const size_t wildcard = p.find_first_of("*?[");
    std::error_code ec;
    if (wildcard == std::string::npos && stdfs::is_regular_file(context / p, ec)) {
      if (!Matches(file.exclude, p)) out.insert(stdfs::path(p).lexically_normal());
      continue;  // a file named outright: no walk
    }
    roots.insert(wildcard == std::string::npos ? stdfs::path(p)
                                               : stdfs::path(p.substr(0, wildcard)).parent_path());
  }
  for (const stdfs::path& root : roots) {
    std::error_code ec;
    stdfs::path start = context / root;
    if (!stdfs::is_directory(start, ec)) continue;
    for (auto it = stdfs::recursive_directory_iterator(start, ec);
         !ec && it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string relative = it->path().lexically_relative(context).string();
      if (Matches(file.include, relative) && !Matches(file.exclude, relative)) {
        out.insert(relative);
      }
    }
  }
  return std::vector<stdfs::path>(out.begin(), out.end());
}

StatusOr<std::string> OpenApiYaml(const std::string& json_text, store::BentoInfo& info) {
  OrderedJson doc = OrderedJson::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InternalError("the service's --print-openapi gave no JSON document");
  }
  if (doc.contains("paths") && doc["paths"].is_object()) {
    for (auto it = doc["paths"].begin(); it != doc["paths"].end(); ++it) {
      if (!it->contains("post")) continue;
      info.apis.push_back({(*it)["post"].value("operationId", it.key()), it.key()});
    }
  }
  return store::DumpPyYaml(doc);
}

}  // namespace

StatusOr<store::StoredBento> BuildBento(const BentoFile& file, const BuildOptions& options,
                                        const store::ModelStore& models,
                                        const store::BentoStore& bentos) {
  if (file.service.empty() && file.models.empty()) {
    return InvalidArgumentError("the bentofile names no service and no models: nothing to serve");
  }
  stdfs::path service;
  std::error_code ec;
  if (!file.service.empty()) {
    service = options.context / file.service;
    if (!stdfs::is_regular_file(service, ec)) {
      return NotFoundError("bentofile service '" + file.service + "': there is no file at " +
                           service.string());
    }
    if (::access(service.c_str(), X_OK) != 0) {
      return FailedPreconditionError("bentofile service '" + file.service +
                                     "' is not an executable");
    }
  }
  std::map<std::string, store::StoredModel> stored;  // by tag
  for (const std::string& tag : file.models) {
    auto model = models.Get(tag);
    if (!model.ok()) return model.status().WithContext("bentofile model '" + tag + "'");
    stored.emplace(model->info.tag.ToString(), std::move(*model));
  }

  store::BentoInfo info;
  std::string name = file.name;
  if (name.empty()) {
    name = !service.empty() ? service.filename().string() : stored.begin()->second.info.tag.name;
  }
  ASSIGN_OR_RETURN(store::PendingVersion pending, bentos.BeginBuild(name));
  const stdfs::path dir = pending.dir();
  info.tag = pending.tag();
  info.creation_time =
      std::chrono::floor<std::chrono::microseconds>(std::chrono::system_clock::now());
  info.service = service.empty() ? "" : service.filename().string();
  info.bento_version = options.bento_version;
  info.labels = file.labels;
  info.envs = file.envs;
  info.docker = file.docker;

  // Models, as a model store: each version, and `latest` naming the newest of each name.
  std::map<std::string, const store::StoredModel*> newest;
  for (const auto& [tag, model] : stored) {
    const Tag& t = model.info.tag;
    RETURN_IF_ERROR(fs::CopyTree(model.path, dir / "models" / t.name / t.version));
    info.models.push_back({t, model.info.creation_time});
    auto& current = newest[t.name];
    if (current == nullptr || current->info.creation_time < model.info.creation_time) {
      current = &model;
    }
  }
  for (const auto& [model_name, model] : newest) {
    RETURN_IF_ERROR(
        fs::WriteFile(dir / "models" / model_name / "latest", model->info.tag.version));
  }
  if (!service.empty()) {
    RETURN_IF_ERROR(fs::MakeDirs(dir / "bin"));
    RETURN_IF_ERROR(fs::CopyFile(service, dir / "bin" / info.service));
    stdfs::permissions(dir / "bin" / info.service, static_cast<stdfs::perms>(0755), ec);
  }
  ASSIGN_OR_RETURN(std::vector<stdfs::path> included, IncludedFiles(options.context, file));
  for (const stdfs::path& relative : included) {
    RETURN_IF_ERROR(fs::MakeDirs((dir / "src" / relative).parent_path()));
    RETURN_IF_ERROR(fs::CopyFile(options.context / relative, dir / "src" / relative));
  }
  std::string readme = "# " + name + "\n\n" +
                       (file.description.empty() ? "A bento built by `bento build`."
                                                 : file.description) +
                       "\n";
  RETURN_IF_ERROR(fs::WriteFile(dir / "README.md", readme));

  ASSIGN_OR_RETURN(std::string openapi, options.describe(dir, info));
  ASSIGN_OR_RETURN(std::string openapi_yaml, OpenApiYaml(openapi, info));
  RETURN_IF_ERROR(fs::MakeDirs(dir / "apis"));
  RETURN_IF_ERROR(fs::WriteFile(dir / "apis" / "openapi.yaml", openapi_yaml));
  ASSIGN_OR_RETURN(std::vector<std::string> packages, options.packages(dir, info));
  RETURN_IF_ERROR(fs::MakeDirs(dir / "env" / "docker"));
  RETURN_IF_ERROR(fs::WriteFile(dir / "env" / "docker" / "Dockerfile", Dockerfile(info, packages)));
  return bentos.Commit(std::move(pending), std::move(info));
}

StatusOr<std::string> BentoServiceName(const store::StoredBento& bento) {
  const stdfs::path file = bento.path / "apis" / "openapi.yaml";
  ASSIGN_OR_RETURN(std::string text, fs::ReadFile(file));
  try {
    YAML::Node title = YAML::Load(text)["info"]["title"];
    if (title && title.IsScalar() && !title.Scalar().empty()) return title.Scalar();
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(file.string() + ": " + e.what());
  }
  return InvalidArgumentError(file.string() + " has no info.title");
}

}  // namespace bento::ship
