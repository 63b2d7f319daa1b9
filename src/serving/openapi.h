// The OpenAPI 3 document of a service (/docs.json): every API with its request and response
// schemas and error responses, and the infra routes. Generated from the same ApiDef that
// parses requests, so the two cannot disagree.
#ifndef BENTO_SERVING_OPENAPI_H_
#define BENTO_SERVING_OPENAPI_H_

#include "bento/json.h"
#include "serving/service_def.h"

namespace bento::serving {

// `bearer_auth`: every API needs `Authorization: Bearer <key>` (securitySchemes "bearer").
OrderedJson OpenApiDocument(const ServiceDef& service, bool bearer_auth = false);

}  // namespace bento::serving

#endif  // BENTO_SERVING_OPENAPI_H_
