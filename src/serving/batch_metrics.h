// Prometheus text for adaptive batchers, shared by no-code serving and C++ services:
// bentoml_service_adaptive_batch_size (BentoML's name and labels), plus the batcher's queue
// wait, shed count and batches in flight.
#ifndef BENTO_SERVING_BATCH_METRICS_H_
#define BENTO_SERVING_BATCH_METRICS_H_

#include <string>
#include <vector>

#include "batching/stats.h"

namespace bento::serving {

struct BatcherSnapshot {
  std::string method_name;  // "<model>.run" or the API's name
  batching::BatcherStats stats;
};

// "" when `batchers` is empty.
std::string RenderBatcherMetrics(const std::vector<BatcherSnapshot>& batchers,
                                 const std::string& service_name, const std::string& version);

}  // namespace bento::serving

#endif  // BENTO_SERVING_BATCH_METRICS_H_
