#include "serving/batch_metrics.h"

#include "serving/metrics.h"

namespace bento::serving {

std::string RenderBatcherMetrics(const std::vector<BatcherSnapshot>& batchers,
                                 const std::string& service_name, const std::string& version) {
  std::string out;
  if (batchers.empty()) return out;
  auto family = [&out](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  const std::vector<std::string> names = {"method_name", "service_name", "service_version",
                                          "worker_index"};
  auto labels = [&](const BatcherSnapshot& b) {
    return std::vector<std::string>{b.method_name, service_name, version, "1"};
  };
  family("bentoml_service_adaptive_batch_size", "histogram", "Service adaptive batch size");
  for (const auto& b : batchers) {
    const auto& h = b.stats.batch_size;
    AppendHistogramSamples("bentoml_service_adaptive_batch_size", names, labels(b), h.bounds,
                           h.Cumulative(), h.sum, &out);
  }
  family("bento_batch_queue_wait_seconds", "histogram",
         "Time a request waited in the batcher before its last item was dispatched");
  for (const auto& b : batchers) {
    const auto& h = b.stats.queue_wait_seconds;
    AppendHistogramSamples("bento_batch_queue_wait_seconds", names, labels(b), h.bounds,
                           h.Cumulative(), h.sum, &out);
  }
  family("bento_batch_shed_total", "counter",
         "Requests shed with 503 because they could not meet max_latency_ms");
  for (const auto& b : batchers) {
    AppendSample("bento_batch_shed_total", names, labels(b),
                 static_cast<double>(b.stats.shed_total), &out);
  }
  family("bento_batch_inflight", "gauge", "Batches running now");
  for (const auto& b : batchers) {
    AppendSample("bento_batch_inflight", names, labels(b), b.stats.inflight_batches, &out);
  }
  return out;
}

}  // namespace bento::serving
