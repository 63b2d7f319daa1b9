#include "cli/manifests_command.h"

#include <iostream>
#include <memory>

#include "cli/bento_command.h"
#include "cli/output.h"
#include "ship/build.h"
#include "ship/manifests.h"
#include "store/model_store.h"

namespace bento::cli {
namespace {

struct ManifestsArgs {
  std::string tag;
  std::string out;
  ship::ManifestOptions options;
};

// Fills in what the tag decides: names, the image `bento containerize` writes for a bento,
// and the model format. A tag names a bento first, as `bento serve` reads it.
Status Resolve(ManifestsArgs& args) {
  ship::ManifestOptions& o = args.options;
  ASSIGN_OR_RETURN(auto bento, FindBento(args.tag));
  std::string name;
  std::string version;
  if (bento) {
    name = bento->info.tag.name;
    version = bento->info.tag.version;
    o.bento = true;
    ASSIGN_OR_RETURN(o.service_name, ship::BentoServiceName(*bento));
  } else {
    ASSIGN_OR_RETURN(store::ModelStore models, store::ModelStore::Open());
    auto model = models.Get(args.tag);
    if (!model.ok()) {
      return model.status().WithContext("no bento and no model " + args.tag);
    }
    name = model->info.tag.name;
    version = model->info.tag.version;
    o.service_name = name;  // no-code serving of one model serves under its name
  }
  if (o.name.empty()) {
    ASSIGN_OR_RETURN(o.name, ship::KubernetesName(name));
  }
  if (o.image.empty()) {
    if (!bento) {
      return InvalidArgumentError(
          "a model has no image of its own: pass --image, the image of a bento that serves "
          "it (bentofile `models: [" + name + ":" + version + "]`, then `bento build` and "
          "`bento containerize`)");
    }
    o.image = name + ":" + version;  // the name `bento containerize` gives the image
  }
  if (o.storage_uri.empty()) o.storage_uri = "pvc://bento-models/" + name + "/" + version;
  return OkStatus();
}

int Manifests(ManifestsArgs args) {
  Status status = Resolve(args);
  if (!status.ok()) return Fail(status);
  auto manifests = ship::KubernetesManifests(args.options);
  if (!manifests.ok()) return Fail(manifests.status());
  status = ship::WriteManifests(*manifests, args.out);
  if (!status.ok()) return Fail(status);
  for (const auto& m : *manifests) std::cout << (std::filesystem::path(args.out) / m.file).string() << "\n";
  std::cerr << "Wrote " << manifests->size() << " manifests for " << args.options.name
            << " (image " << args.options.image << ") to " << args.out
            << ". Pick one autoscaler: hpa.yaml, hpa-in-progress.yaml or scaledobject.yaml.\n";
  return 0;
}

}  // namespace

void AddManifestsCommand(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ManifestsArgs>();
  ship::ManifestOptions& o = args->options;
  auto* cmd = app.add_subcommand(
      "manifests",
      "Write Kubernetes manifests for a bento or a model: a KServe ClusterServingRuntime and "
      "InferenceService, and a Deployment, Service, autoscalers (HPA, KEDA) and "
      "PodDisruptionBudget");
  cmd->add_option("tag", args->tag, "A bento's or a model's tag, NAME[:VERSION]")->required();
  cmd->add_option("-o,--output", args->out, "The folder to write (must not exist)")->required();
  cmd->add_option("--name", o.name, "Resources' name (default: the tag's name, as a DNS label)");
  cmd->add_option("--namespace", o.namespace_name, "metadata.namespace (default: none)");
  cmd->add_option("--image", o.image,
                  "Container image (default for a bento: NAME:VERSION, as `bento containerize` "
                  "names it)");
  cmd->add_option("--storage-uri", o.storage_uri,
                  "The InferenceService's storageUri (default pvc://bento-models/NAME/VERSION)");
  cmd->add_option("--cpu", o.cpu, "CPU request and limit per pod")->capture_default_str();
  cmd->add_option("--memory", o.memory, "Memory request and limit per pod")->capture_default_str();
  cmd->add_option("--http-port", o.http_port, "The pods' HTTP port")->capture_default_str();
  cmd->add_option("--grpc-port", o.grpc_port, "The pods' gRPC port")->capture_default_str();
  cmd->add_option("--min-replicas", o.min_replicas)->capture_default_str();
  cmd->add_option("--max-replicas", o.max_replicas)->capture_default_str();
  cmd->add_option("--target-cpu", o.target_cpu_percent, "hpa.yaml: CPU utilisation, percent")
      ->capture_default_str();
  cmd->add_option("--target-in-progress", o.target_in_progress,
                  "hpa-in-progress.yaml: requests in progress per pod")
      ->capture_default_str();
  cmd->add_option("--target-rps", o.target_requests_per_second,
                  "scaledobject.yaml: requests per second per pod (docs/deploy.md sizes it)")
      ->capture_default_str();
  cmd->add_option("--target-queued", o.target_queued,
                  "scaledobject.yaml: requests waiting per pod")
      ->capture_default_str();
  cmd->add_option("--prometheus-url", o.prometheus_url, "scaledobject.yaml: the Prometheus server")
      ->capture_default_str();
  cmd->callback([args, exit_code] { *exit_code = Manifests(*args); });
}

}  // namespace bento::cli
