// Prometheus text for what /metrics collects from elsewhere: adaptive batchers, shared by
// no-code serving and C++ services (bentoml_service_adaptive_batch_size, BentoML's name and
// labels, plus the batcher's queue wait, shed count and batches in flight), and the served
// models' versions and loads.
#ifndef BENTO_SERVING_BATCH_METRICS_H_
#define BENTO_SERVING_BATCH_METRICS_H_

#include <string>
#include <vector>

#include "batching/stats.h"
#include "manager/model_manager.h"

namespace bento::serving {

struct BatcherSnapshot {
  std::string method_name;  // "<model>.run" or the API's name
  batching::BatcherStats stats;
};

// "" when `batchers` is empty.
std::string RenderBatcherMetrics(const std::vector<BatcherSnapshot>& batchers,
                                 const std::string& service_name, const std::string& version);

// bento_model_state (1 per model version and its state), bento_model_load_duration_seconds
// and bento_model_load_failures_total.
std::string RenderModelMetrics(const manager::ModelManager& models);

}  // namespace bento::serving

#endif  // BENTO_SERVING_BATCH_METRICS_H_
