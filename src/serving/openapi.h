// The two documents that describe a service, both generated from the same ApiDef that parses
// requests, so that neither can disagree with the server:
//   - the OpenAPI 3 document (/docs.json): every API with its request and response schemas
//     and error responses, and the infra routes;
//   - BentoML's service schema (/schema.json), which BentoML's SyncHTTPClient and
//     AsyncHTTPClient read to learn each API's route and how to send its parameters (JSON,
//     or multipart for files and images) and decode its answer (JSON, text, numpy arrays).
#ifndef BENTO_SERVING_OPENAPI_H_
#define BENTO_SERVING_OPENAPI_H_

#include "bento/json.h"
#include "serving/service_def.h"

namespace bento::serving {

// `bearer_auth`: every API needs `Authorization: Bearer <key>` (securitySchemes "bearer").
OrderedJson OpenApiDocument(const ServiceDef& service, bool bearer_auth = false);

// BentoML 1.4's `Service.schema()` for the service's own APIs: {name, type, routes, paths}.
// Each route's input and output are what BentoML's pydantic models give for the matching
// Python signature (bento::Image is PIL's Image, std::string is str, bento::Tensor is
// np.ndarray, bento::Json is Any), read from each schema's "x-bentoml" marks and JSON types.
OrderedJson ServiceSchema(const ServiceDef& service);

}  // namespace bento::serving

#endif  // BENTO_SERVING_OPENAPI_H_
