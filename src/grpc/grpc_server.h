// GrpcServer: the Open Inference Protocol over gRPC (inference.GRPCInferenceService) for the
// models of a serving::ModelService, beside its HTTP server.
//
//   ServerLive, ServerReady, ModelReady, ServerMetadata, ModelMetadata, ModelConfig,
//   ModelStatistics and ModelInfer (typed contents or raw_input_contents in; raw_output_contents
//   out). Inference goes through ModelService::KServeInfer, so batchable models batch gRPC
//   requests together with HTTP ones.
//
// Ownership: the ModelService must outlive the server. Thread-safety: Shutdown() may be
// called from any thread, once; the destructor shuts down if needed.
#ifndef BENTO_GRPC_GRPC_SERVER_H_
#define BENTO_GRPC_GRPC_SERVER_H_

#include <memory>
#include <string>

#include "bento/status.h"
#include "serving/model_service.h"

namespace bento::grpc_api {

struct GrpcOptions {
  std::string host = "127.0.0.1";
  int port = 0;                              // 0 picks a free port
  int max_message_bytes = 64 * 1024 * 1024;  // largest request or response
};

class GrpcServer {
 public:
  // Listens on host:port; UNAVAILABLE when it cannot bind.
  static StatusOr<std::unique_ptr<GrpcServer>> Start(const serving::ModelService& models,
                                                     const GrpcOptions& options);
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int port() const { return port_; }
  // Stops taking calls and waits (up to a few seconds) for the ones in flight.
  void Shutdown();

 private:
  struct Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

}  // namespace bento::grpc_api

#endif  // BENTO_GRPC_GRPC_SERVER_H_
