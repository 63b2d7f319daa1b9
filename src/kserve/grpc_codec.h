// Conversions between the Open Inference Protocol's gRPC messages (inference.proto) and
// bento's protocol-neutral KServe types (kserve/codec.h, kserve/protocol.h).
//
// Requests may carry each input's data either as typed contents (fp32_contents, ...) or as
// raw_input_contents, one entry per input in Triton's raw layout; responses always carry
// raw_output_contents, as Triton does. Every malformed request is INVALID_ARGUMENT with a
// message naming the input.
//
// Thread-safety: plain functions, safe from any thread.
#ifndef BENTO_KSERVE_GRPC_CODEC_H_
#define BENTO_KSERVE_GRPC_CODEC_H_

#include <grpcpp/support/status.h>

#include "bento/status.h"
#include "inference.pb.h"
#include "kserve/protocol.h"
#include "kserve/codec.h"

namespace bento::kserve {

StatusOr<InferRequest> FromProto(const inference::ModelInferRequest& request);
void ToProto(const InferResponse& response, inference::ModelInferResponse* out);

// The request or tensor parameters as a JSON object (null when there are none), and back.
Json ParametersToJson(const google::protobuf::Map<std::string, inference::InferParameter>& params);
void ParametersFromJson(const Json& params,
                        google::protobuf::Map<std::string, inference::InferParameter>* out);

// bento's status codes are gRPC's, so this keeps the code and the message.
grpc::Status ToGrpcStatus(const Status& status);

}  // namespace bento::kserve

#endif  // BENTO_KSERVE_GRPC_CODEC_H_
