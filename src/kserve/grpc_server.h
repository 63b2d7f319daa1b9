// GrpcServer: the Open Inference Protocol over gRPC (inference.GRPCInferenceService) for the
// models of a manager::ModelManager (through kserve::Protocol), beside the HTTP server, as a
// serving::Transport.
//
//   ServerLive, ServerReady, ModelReady, ServerMetadata, ModelMetadata, ModelConfig,
//   ModelStatistics and ModelInfer (typed contents or raw_input_contents in; raw_output_contents
//   out). Inference goes through Protocol::Infer, so batchable models batch gRPC
//   requests together with HTTP ones.
//
// The server's policy is the HTTP server's, from the same policy::Admission:
//   - every call but ServerLive and ServerReady needs metadata `authorization: Bearer KEY`
//     when an API key is set, else UNAUTHENTICATED;
//   - ModelInfer calls share --max-concurrency with HTTP (RESOURCE_EXHAUSTED over it) and
//     are answered DEADLINE_EXCEEDED at the deadline (the handler's late answer is dropped);
//   - every call is counted in /metrics (endpoint "/inference.GRPCInferenceService/<Method>",
//     http_response_code the HTTP equivalent of its status) and access-logged;
//   - with TLS files (the same --ssl-* flags), gRPC is served over TLS only.
// `x-request-id` metadata is echoed back (or generated) as HTTP's X-Request-Id is.
// ModelInfer runs on the serving::App's worker pool, never on gRPC's own threads.
//
// Ownership: the Protocol and the ServeContext's App must outlive the server.
// Thread-safety: Shutdown() may be called from any thread, once; the destructor shuts down if
// needed.
#ifndef BENTO_KSERVE_GRPC_SERVER_H_
#define BENTO_KSERVE_GRPC_SERVER_H_

#include <memory>
#include <string>

#include "bento/status.h"
#include "kserve/protocol.h"
#include "serving/serve.h"

namespace bento::kserve {

struct GrpcOptions {
  std::string host = "127.0.0.1";
  int port = 0;                              // 0 picks a free port
  int max_message_bytes = 64 * 1024 * 1024;  // largest request or response
  bool reuse_port = false;  // SO_REUSEPORT, as http::ServerOptions::reuse_port
  // TLS: a PEM certificate (chain) and its PEM private key (encrypted with the password, or
  // not), both or neither.
  std::string ssl_certfile, ssl_keyfile, ssl_keyfile_password;
};

class GrpcServer final : public serving::Transport {
 public:
  // Listens on host:port; INVALID_ARGUMENT for unreadable TLS files, UNAVAILABLE when it
  // cannot bind.
  static StatusOr<std::unique_ptr<GrpcServer>> Start(const Protocol& protocol,
                                                     const GrpcOptions& options,
                                                     const serving::ServeContext& context);
  ~GrpcServer() override;
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int port() const { return port_; }
  // Stops taking calls and waits (up to a few seconds) for the ones in flight.
  void Shutdown() override;

 private:
  struct Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl, int port);
  std::unique_ptr<Impl> impl_;
  int port_;
};

// The factory `bento serve --grpc-port` hands serving::Serve: serves `models` on `port`, with
// the host, message size limit (--max-body-size) and TLS files of the HTTP server.
serving::TransportFactory GrpcTransport(const Protocol& protocol, int port);

}  // namespace bento::kserve

#endif  // BENTO_KSERVE_GRPC_SERVER_H_
