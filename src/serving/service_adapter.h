// Turns a bento::Service (include/bento/service.h) into a ServiceDef: one POST route per API,
// with the request parsed into named arguments from a JSON object, multipart/form-data or a
// raw body, and the OpenAPI schema built from the same parameter types.
#ifndef BENTO_SERVING_SERVICE_ADAPTER_H_
#define BENTO_SERVING_SERVICE_ADAPTER_H_

#include <optional>

#include "bento/service.h"
#include "serving/service_def.h"

namespace bento::serving {

// What the command line says of a service's batchable APIs (Service::BatchApi): unset fields
// keep the options the code gave.
struct BatchOverrides {
  bool batching = true;  // false: every request runs on its own (--no-batching)
  std::optional<int> max_batch_size;
  std::optional<double> max_latency_ms;
  int max_inflight_batches = 0;  // 0: batching::InflightBatchesFor(0)
};

// REQUIRES: `service` outlives the returned definition.
ServiceDef ServiceDefinition(Service& service, const BatchOverrides& overrides = {});

}  // namespace bento::serving

#endif  // BENTO_SERVING_SERVICE_ADAPTER_H_
