#include "ship/manifests.h"

#include <cctype>

#include "base/fs.h"
#include "store/pyyaml_emitter.h"

namespace bento::ship {
namespace {

namespace stdfs = std::filesystem;

constexpr std::string_view kRuntimeName = "bento";
constexpr std::string_view kNameLabel = "app.kubernetes.io/name";
// Where the image installs bento (containerize.h): the runtime runs it with its own flags.
constexpr std::string_view kBentoBinary = "/opt/bento/bin/bento";

OrderedJson Metadata(const ManifestOptions& o, std::string_view name) {
  OrderedJson meta = {{"name", name}};
  if (!o.namespace_name.empty()) meta["namespace"] = o.namespace_name;
  meta["labels"] = {{kNameLabel, o.name}, {"app.kubernetes.io/managed-by", "bento"}};
  return meta;
}

OrderedJson Resources(const ManifestOptions& o) {
  // Requests equal to limits: the pod is Guaranteed, and bento sizes its thread pools from
  // the CPU limit (base/cpu.h), so what it plans for is what it gets.
  OrderedJson amounts = {{"cpu", o.cpu}, {"memory", o.memory}};
  return {{"requests", amounts}, {"limits", amounts}};
}

OrderedJson ContainerSecurity() {
  return {{"runAsNonRoot", true},
          {"runAsUser", 1000},  // the image's user `bento`
          {"runAsGroup", 1000},
          {"allowPrivilegeEscalation", false},
          {"readOnlyRootFilesystem", true},
          {"capabilities", {{"drop", {"ALL"}}}},
          {"seccompProfile", {{"type", "RuntimeDefault"}}}};
}

OrderedJson Ports(const ManifestOptions& o) {
  return {{{"name", "http"}, {"containerPort", o.http_port}, {"protocol", "TCP"}},
          {{"name", "grpc"}, {"containerPort", o.grpc_port}, {"protocol", "TCP"}}};
}

OrderedJson HttpProbe(std::string_view path, const ManifestOptions& o, int period,
                      int failures) {
  return {{"httpGet", {{"path", path}, {"port", o.http_port}}},
          {"periodSeconds", period},
          {"failureThreshold", failures}};
}

// /tmp is the one place bento writes (--model-dir's private store, staging), on an emptyDir
// since the root filesystem is read-only.
OrderedJson TmpMount() { return {{{"name", "tmp"}, {"mountPath", "/tmp"}}}; }
OrderedJson TmpVolume() { return {{{"name", "tmp"}, {"emptyDir", OrderedJson::object()}}}; }

// The KServe runtime: `bento serve --model-dir` on what the storage initializer fetched,
// under the InferenceService's name.
OrderedJson ServingRuntime(const ManifestOptions& o) {
  OrderedJson args = {"serve",
                      "--model-dir=/mnt/models",
                      "--model-name={{.Name}}",
                      "--host=0.0.0.0",
                      "--port=" + std::to_string(o.http_port),
                      "--grpc-port=" + std::to_string(o.grpc_port),
                      "--log-format=json"};
  OrderedJson container = {
      {"name", "kserve-container"},
      {"image", o.image},
      {"command", {kBentoBinary}},
      {"args", args},
      {"ports", Ports(o)},
      {"resources", Resources(o)},
      // Ready only once the model is loaded and warmed: no traffic before that.
      {"startupProbe", HttpProbe("/v2/health/ready", o, 2, 150)},
      {"readinessProbe", HttpProbe("/v2/health/ready", o, 5, 1)},
      {"livenessProbe", HttpProbe("/v2/health/live", o, 10, 3)},
      {"securityContext", ContainerSecurity()},
      {"volumeMounts", TmpMount()}};
  std::string port = std::to_string(o.http_port);
  return {{"apiVersion", "serving.kserve.io/v1alpha1"},
          {"kind", "ClusterServingRuntime"},
          {"metadata", {{"name", kRuntimeName}, {"labels", {{"app.kubernetes.io/managed-by", "bento"}}}}},
          {"spec",
           {{"annotations",
             {{"prometheus.kserve.io/port", port}, {"prometheus.kserve.io/path", "/metrics"}}},
            {"supportedModelFormats",
             {{{"name", "onnx"}, {"version", "1"}, {"autoSelect", true}},
              {{"name", "bentoml"}, {"autoSelect", true}}}},
            {"protocolVersions", {"v1", "v2", "grpc-v2"}},
            {"containers", {container}},
            {"volumes", TmpVolume()}}}};
}

OrderedJson InferenceService(const ManifestOptions& o) {
  OrderedJson model = {{"modelFormat", {{"name", o.bento ? "bentoml" : "onnx"}}},
                       {"runtime", kRuntimeName},
                       {"protocolVersion", "v2"},
                       {"storageUri", o.storage_uri},
                       {"resources", Resources(o)}};
  return {{"apiVersion", "serving.kserve.io/v1beta1"},
          {"kind", "InferenceService"},
          {"metadata", Metadata(o, o.name)},
          {"spec",
           {{"predictor",
             {{"minReplicas", o.min_replicas},
              {"maxReplicas", o.max_replicas},
              {"model", model}}}}}};
}

OrderedJson Selector(const ManifestOptions& o) { return {{"matchLabels", {{kNameLabel, o.name}}}}; }

// The image's own entrypoint, `bento serve /bento`, on the pod's port. SIGTERM comes after
// the preStop pause, once endpoints have dropped the pod; bento then drains its requests in
// flight for up to drain_seconds, all within the grace period.
OrderedJson Deployment(const ManifestOptions& o) {
  OrderedJson args = {"--log-format=json", "--grpc-port=" + std::to_string(o.grpc_port)};
  OrderedJson container = {
      {"name", "bento"},
      {"image", o.image},
      {"args", args},
      {"env", {{{"name", "PORT"}, {"value", std::to_string(o.http_port)}}}},
      {"ports", Ports(o)},
      {"resources", Resources(o)},
      {"startupProbe", HttpProbe("/readyz", o, 2, 150)},
      {"readinessProbe", HttpProbe("/readyz", o, 5, 1)},
      {"livenessProbe", HttpProbe("/livez", o, 10, 3)},
      {"lifecycle", {{"preStop", {{"sleep", {{"seconds", o.pre_stop_seconds}}}}}}},
      {"securityContext", ContainerSecurity()},
      {"volumeMounts", TmpMount()}};
  OrderedJson pod_meta = {
      {"labels", {{kNameLabel, o.name}, {"app.kubernetes.io/managed-by", "bento"}}},
      {"annotations",
       {{"prometheus.io/scrape", "true"},
        {"prometheus.io/port", std::to_string(o.http_port)},
        {"prometheus.io/path", "/metrics"}}}};
  OrderedJson pod = {
      {"terminationGracePeriodSeconds", o.pre_stop_seconds + o.drain_seconds + 5},
      {"automountServiceAccountToken", false},
      {"securityContext",
       {{"runAsNonRoot", true}, {"fsGroup", 1000}, {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"containers", {container}},
      {"volumes", TmpVolume()}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", Metadata(o, o.name)},
          {"spec",
           {{"replicas", o.min_replicas},
            {"selector", Selector(o)},
            // A new pod is ready before an old one goes: capacity never drops in a rollout.
            {"strategy",
             {{"type", "RollingUpdate"},
              {"rollingUpdate", {{"maxSurge", 1}, {"maxUnavailable", 0}}}}},
            {"template", {{"metadata", pod_meta}, {"spec", pod}}}}}};
}

OrderedJson Service(const ManifestOptions& o) {
  OrderedJson ports = {{{"name", "http"}, {"port", 80}, {"targetPort", "http"}},
                       {{"name", "grpc"},
                        {"port", o.grpc_port},
                        {"targetPort", "grpc"},
                        {"appProtocol", "kubernetes.io/h2c"}}};
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", Metadata(o, o.name)},
          {"spec", {{"selector", {{kNameLabel, o.name}}}, {"ports", ports}}}};
}

OrderedJson Autoscaler(const ManifestOptions& o, std::string_view name, OrderedJson metric) {
  return {{"apiVersion", "autoscaling/v2"},
          {"kind", "HorizontalPodAutoscaler"},
          {"metadata", Metadata(o, name)},
          {"spec",
           {{"scaleTargetRef",
             {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"name", o.name}}},
            {"minReplicas", o.min_replicas},
            {"maxReplicas", o.max_replicas},
            {"metrics", {metric}},
            // Up at once, down after five quiet minutes: a burst does not flap the pods.
            {"behavior", {{"scaleDown", {{"stabilizationWindowSeconds", 300}}}}}}}};
}

OrderedJson CpuMetric(const ManifestOptions& o) {
  return {{"type", "Resource"},
          {"resource",
           {{"name", "cpu"},
            {"target", {{"type", "Utilization"}, {"averageUtilization", o.target_cpu_percent}}}}}};
}

OrderedJson InProgressMetric(const ManifestOptions& o) {
  return {{"type", "Pods"},
          {"pods",
           {{"metric", {{"name", "bentoml_service_request_in_progress"}}},
            {"target",
             {{"type", "AverageValue"}, {"averageValue", std::to_string(o.target_in_progress)}}}}}};
}

OrderedJson DisruptionBudget(const ManifestOptions& o) {
  return {{"apiVersion", "policy/v1"},
          {"kind", "PodDisruptionBudget"},
          {"metadata", Metadata(o, o.name)},
          {"spec", {{"maxUnavailable", 1}, {"selector", Selector(o)}}}};
}

// A number as Prometheus and KEDA read it: no trailing zeros.
std::string Decimal(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

OrderedJson ScaledObject(const ManifestOptions& o) {
  auto trigger = [&](std::string_view name, const std::string& query, const std::string& threshold) {
    return OrderedJson{{"type", "prometheus"},
                       {"name", name},
                       {"metadata",
                        {{"serverAddress", o.prometheus_url},
                         {"query", query},
                         {"threshold", threshold}}}};
  };
  return {{"apiVersion", "keda.sh/v1alpha1"},
          {"kind", "ScaledObject"},
          {"metadata", Metadata(o, o.name)},
          {"spec",
           {{"scaleTargetRef", {{"name", o.name}}},
            {"minReplicaCount", o.min_replicas},
            {"maxReplicaCount", o.max_replicas},
            {"pollingInterval", 15},
            {"cooldownPeriod", 300},
            // KEDA takes the most pods any trigger asks for: the rate sizes the fleet for the
            // load, and the queue adds pods as soon as requests wait.
            {"triggers",
             {trigger("requests-per-second", RequestRateQuery(o.service_name),
                      Decimal(o.target_requests_per_second)),
              trigger("queued-requests", QueueDepthQuery(o.service_name),
                      std::to_string(o.target_queued))}}}}};
}

bool IsLabel(const std::string& s) {
  if (s.empty() || s.size() > 63 || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)) &&
        c != '-') {
      return false;
    }
  }
  return s.back() != '-';
}

}  // namespace

std::string RequestRateQuery(const std::string& service_name) {
  return "sum(rate(bentoml_service_request_total{service_name=\"" + service_name +
         "\"}[1m])) or vector(0)";
}

std::string QueueDepthQuery(const std::string& service_name) {
  std::string selector = "{service_name=\"" + service_name + "\"}";
  return "(sum(bento_request_queued" + selector + ") or vector(0)) + (sum(bento_batch_queued_requests" +
         selector + ") or vector(0))";
}

StatusOr<std::string> KubernetesName(const std::string& name) {
  std::string out;
  for (char c : name) {
    out += c == '_' || c == '.' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!IsLabel(out)) {
    return InvalidArgumentError(
        "'" + name + "' does not make a Kubernetes name (at most 63 lowercase letters, digits " +
        "and '-', starting with a letter and ending with a letter or digit); pass --name");
  }
  return out;
}

StatusOr<std::vector<Manifest>> KubernetesManifests(const ManifestOptions& o) {
  if (!IsLabel(o.name)) {
    return InvalidArgumentError("--name '" + o.name + "' is not a Kubernetes name (at most 63 " +
                                "lowercase letters, digits and '-', starting with a letter)");
  }
  if (o.image.empty()) return InvalidArgumentError("no image: pass --image");
  if (o.storage_uri.empty()) return InvalidArgumentError("no storage URI: pass --storage-uri");
  auto port_ok = [](int p) { return p > 0 && p < 65536; };
  if (!port_ok(o.http_port) || !port_ok(o.grpc_port) || o.http_port == o.grpc_port) {
    return InvalidArgumentError("the HTTP and gRPC ports must be two ports from 1 to 65535");
  }
  if (o.min_replicas < 1 || o.max_replicas < o.min_replicas) {
    return InvalidArgumentError("replicas: need 1 <= --min-replicas <= --max-replicas");
  }
  if (o.target_cpu_percent < 1 || o.target_in_progress < 1 || o.target_queued < 1 ||
      !(o.target_requests_per_second > 0)) {
    return InvalidArgumentError("autoscaling targets must be positive");
  }
  return std::vector<Manifest>{
      {"clusterservingruntime.yaml", ServingRuntime(o)},
      {"inferenceservice.yaml", InferenceService(o)},
      {"deployment.yaml", Deployment(o)},
      {"service.yaml", Service(o)},
      {"hpa.yaml", Autoscaler(o, o.name, CpuMetric(o))},
      {"hpa-in-progress.yaml", Autoscaler(o, o.name, InProgressMetric(o))},
      {"pdb.yaml", DisruptionBudget(o)},
      {"scaledobject.yaml", ScaledObject(o)},
  };
}

std::string ManifestYaml(const Manifest& manifest) { return store::DumpPyYaml(manifest.object); }

Status WriteManifests(const std::vector<Manifest>& manifests, const stdfs::path& dir) {
  return fs::WriteNewFolder(dir, [&](const stdfs::path& staging) -> Status {
    for (const Manifest& m : manifests) {
      RETURN_IF_ERROR(fs::WriteFile(staging / m.file, ManifestYaml(m)));
    }
    return OkStatus();
  });
}

}  // namespace bento::ship
