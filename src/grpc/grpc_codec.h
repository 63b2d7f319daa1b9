// Conversions between the Open Inference Protocol's gRPC messages (inference.proto) and
// bento's protocol-neutral KServe types (tensor/kserve_codec.h, serving/model_service.h).
//
// Requests may carry each input's data either as typed contents (fp32_contents, ...) or as
// raw_input_contents, one entry per input in Triton's raw layout; responses always carry
// raw_output_contents, as Triton does. Every malformed request is INVALID_ARGUMENT with a
// message naming the input.
//
// Thread-safety: plain functions, safe from any thread.
#ifndef BENTO_GRPC_GRPC_CODEC_H_
#define BENTO_GRPC_GRPC_CODEC_H_

#include <grpcpp/support/status.h>

#include "bento/status.h"
#include "inference.pb.h"
#include "serving/model_service.h"
#include "tensor/kserve_codec.h"

namespace bento::grpc_api {

StatusOr<kserve::InferRequest> FromProto(const inference::ModelInferRequest& request);
void ToProto(const serving::KServeResponse& response, inference::ModelInferResponse* out);

// The request or tensor parameters as a JSON object (null when there are none), and back.
Json ParametersToJson(const google::protobuf::Map<std::string, inference::InferParameter>& params);
void ParametersFromJson(const Json& params,
                        google::protobuf::Map<std::string, inference::InferParameter>* out);

// bento's status codes are gRPC's, so this keeps the code and the message.
grpc::Status ToGrpcStatus(const Status& status);

}  // namespace bento::grpc_api

#endif  // BENTO_GRPC_GRPC_CODEC_H_
