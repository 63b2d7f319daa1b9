// Turns a bento::Service (include/bento/service.h) into a ServiceDef: one POST route per API,
// with the request parsed into named arguments from a JSON object, multipart/form-data or a
// raw body, and the OpenAPI schema built from the same parameter types.
#ifndef BENTO_SERVING_SERVICE_ADAPTER_H_
#define BENTO_SERVING_SERVICE_ADAPTER_H_

#include "bento/service.h"
#include "serving/service_def.h"

namespace bento::serving {

// REQUIRES: `service` outlives the returned definition.
ServiceDef ServiceDefinition(Service& service);

}  // namespace bento::serving

#endif  // BENTO_SERVING_SERVICE_ADAPTER_H_
