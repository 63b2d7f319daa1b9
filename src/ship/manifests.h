// Kubernetes manifests for a model or a built bento (`bento manifests`): bento as a KServe
// serving runtime, and as a plain Deployment with its Service, autoscalers and disruption
// budget. One file per object, each a YAML document:
//
//   clusterservingruntime.yaml  ClusterServingRuntime "bento": model formats onnx and bentoml,
//                               protocols v1, v2 and grpc-v2; `bento serve --model-dir
//                               /mnt/models --model-name {{.Name}}` in kserve-container
//   inferenceservice.yaml       an InferenceService of the model on that runtime
//   deployment.yaml             the image's own `bento serve /bento`, probes on /readyz and
//                               /livez, a preStop pause and a grace period that cover the drain
//   service.yaml                ClusterIP: HTTP, and gRPC when the server speaks it
//   hpa.yaml                    HorizontalPodAutoscaler on CPU
//   hpa-in-progress.yaml        the same on bento's requests-in-progress gauge (a metrics
//                               adapter such as prometheus-adapter serves it as a Pods metric)
//   pdb.yaml                    PodDisruptionBudget: one pod down at a time
//   scaledobject.yaml           KEDA ScaledObject on Prometheus: request rate and queue depth
//
// Use one autoscaler per Deployment: hpa.yaml, hpa-in-progress.yaml or scaledobject.yaml.
// Every pod runs as a non-root user on a read-only root filesystem, with an emptyDir for
// /tmp (where --model-dir imports go), and is scraped by Prometheus on /metrics.
//
// Thread-safe: pure functions (WriteManifests writes only its own new folder).
#ifndef BENTO_SHIP_MANIFESTS_H_
#define BENTO_SHIP_MANIFESTS_H_

#include <filesystem>
#include <string>
#include <vector>

#include "bento/json.h"
#include "bento/status.h"

namespace bento::ship {

struct ManifestOptions {
  // Resources' name: a DNS-1123 label (lowercase letters, digits, '-'). On KServe it is also
  // the InferenceService's, so the name the model is served under.
  std::string name;
  std::string namespace_name;  // metadata.namespace; empty: the one kubectl applies to
  std::string image;           // an image from `bento containerize`
  bool bento = false;          // a built bento (model format bentoml) rather than a model (onnx)
  // Labels bento's metrics carry (the service's name): the autoscalers' queries select on it.
  std::string service_name;
  std::string storage_uri;     // the InferenceService's storageUri
  int http_port = 8080;
  int grpc_port = 8081;
  std::string cpu = "1";        // requests = limits: bento sizes its threads from the limit
  std::string memory = "1Gi";
  int min_replicas = 1;
  int max_replicas = 10;
  int target_cpu_percent = 70;      // hpa.yaml
  int target_in_progress = 8;       // hpa-in-progress.yaml: requests in progress per pod
  double target_requests_per_second = 100;  // scaledobject.yaml: requests/s per pod
  int target_queued = 4;            // scaledobject.yaml: requests queued per pod
  std::string prometheus_url = "http://prometheus-operated.monitoring.svc:9090";
  int drain_seconds = 30;     // bento's own wait for requests in flight after SIGTERM
  int pre_stop_seconds = 5;   // time for endpoints to drop the pod before SIGTERM
};

// "adder_bento" → "adder-bento": a tag name as a DNS-1123 label, or an error naming the
// rule it breaks when no such label can be made from it.
StatusOr<std::string> KubernetesName(const std::string& name);

// PromQL over bento's metrics for one service (the service_name label): requests answered
// per second, and requests waiting now (for a worker, and for a batch).
std::string RequestRateQuery(const std::string& service_name);
std::string QueueDepthQuery(const std::string& service_name);

struct Manifest {
  std::string file;  // "deployment.yaml"
  OrderedJson object;
};

// Every manifest above, for `options`. Fails when an option is out of range.
StatusOr<std::vector<Manifest>> KubernetesManifests(const ManifestOptions& options);

// The YAML text of one manifest (PyYAML's block style, as kubectl users read it).
std::string ManifestYaml(const Manifest& manifest);

// Writes each manifest into `dir`, which must not exist yet; written beside it and renamed,
// so that a failure leaves nothing.
Status WriteManifests(const std::vector<Manifest>& manifests, const std::filesystem::path& dir);

}  // namespace bento::ship

#endif  // BENTO_SHIP_MANIFESTS_H_
