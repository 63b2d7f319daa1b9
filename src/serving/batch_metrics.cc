#include "serving/batch_metrics.h"

#include "policy/metrics.h"

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
  using Stats = batching::BatcherStats;
  struct HistogramMetric {
    const char* name;
    const char* help;
    batching::Histogram Stats::*field;
  };
  for (const HistogramMetric& m : {
           HistogramMetric{"bentoml_service_adaptive_batch_size", "Service adaptive batch size",
                           &Stats::batch_size},
           HistogramMetric{"bento_batch_queue_wait_seconds",
                           "Time a request waited in the batcher before its last item was "
                           "dispatched",
                           &Stats::queue_wait_seconds}}) {
    family(m.name, "histogram", m.help);
    for (const auto& b : batchers) {
      const batching::Histogram& h = b.stats.*m.field;
      policy::AppendHistogramSamples(m.name, names, labels(b), h.bounds, h.Cumulative(), h.sum, &out);
    }
  }
  family("bento_batch_shed_total", "counter",
         "Requests shed with 503 because they could not meet max_latency_ms");
  for (const auto& b : batchers) {
    policy::AppendSample("bento_batch_shed_total", names, labels(b),
                 static_cast<double>(b.stats.shed_total), &out);
  }
  family("bento_batch_retried_total", "counter",
         "Requests run again alone because the batch they shared failed");
  for (const auto& b : batchers) {
    policy::AppendSample("bento_batch_retried_total", names, labels(b),
                         static_cast<double>(b.stats.retried_total), &out);
  }
  family("bento_batch_inflight", "gauge", "Batches running now");
  for (const auto& b : batchers) {
    policy::AppendSample("bento_batch_inflight", names, labels(b), b.stats.inflight_batches, &out);
  }
  family("bento_batch_queued_requests", "gauge", "Requests waiting for a batch now");
  for (const auto& b : batchers) {
    policy::AppendSample("bento_batch_queued_requests", names, labels(b),
                         static_cast<double>(b.stats.queued_requests), &out);
  }
  return out;
}

std::string RenderModelMetrics(const manager::ModelManager& models) {
  std::string out;
  auto family = [&out](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  family("bento_model_state", "gauge",
         "1 for each model version in its state: READY, LOADING, UNLOADING or UNAVAILABLE");
  for (const auto& row : models.States()) {
    policy::AppendSample("bento_model_state", {"model", "version", "state"},
                         {row.name, row.version, row.state}, 1, &out);
  }
  const manager::LoadStats loads = models.load_stats();
  if (loads.models.empty()) return out;
  family("bento_model_load_duration_seconds", "histogram",
         "Time to load, check and warm up one model version");
  for (const auto& [name, stats] : loads.models) {
    if (stats.buckets.empty()) continue;
    policy::AppendHistogramSamples("bento_model_load_duration_seconds", {"model"}, {name},
                                   manager::LoadStats::Bounds(), stats.buckets, stats.sum, &out);
  }
  family("bento_model_load_failures_total", "counter",
         "Model versions that failed to load; the versions serving before stay");
  for (const auto& [name, stats] : loads.models) {
    policy::AppendSample("bento_model_load_failures_total", {"model"}, {name},
                         static_cast<double>(stats.failures), &out);
  }
  return out;
}

}  // namespace bento::serving
