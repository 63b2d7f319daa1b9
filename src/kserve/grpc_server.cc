#include "kserve/grpc_server.h"

#include <grpc/support/log.h>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>
#include <openssl/pem.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>

#include "base/fs.h"
#include "base/thread_annotations.h"
#include "kserve/grpc_codec.h"
#include "http/request_id.h"
#include "inference.grpc.pb.h"
#include "policy/http_status.h"

namespace bento::kserve {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

constexpr std::string_view kServicePath = "/inference.GRPCInferenceService/";

// The value of metadata `key` (gRPC lower-cases keys), or nullopt.
std::optional<std::string_view> Metadata(const CallbackServerContext* context,
                                         std::string_view key) {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (it == metadata.end()) return std::nullopt;
  return std::string_view(it->second.data(), it->second.size());
}

// "ipv4:127.0.0.1:5000" -> "127.0.0.1:5000", "ipv6:[::1]:5000" -> "[::1]:5000".
std::string Peer(const CallbackServerContext* context) {
  std::string peer = context->peer();
  for (std::string_view scheme : {"ipv4:", "ipv6:"}) {
    if (peer.starts_with(scheme)) return peer.substr(scheme.size());
  }
  return peer;
}

// A PEM private key with no password, as gRPC takes it, from a PEM file that may be
// encrypted with `password`.
StatusOr<std::string> PlainKeyPem(const std::string& path, const std::string& password) {
  ASSIGN_OR_RETURN(std::string pem, fs::ReadFile(path));
  BIO* in = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(in, nullptr, nullptr,
                                          const_cast<char*>(password.c_str()));
  BIO_free(in);
  if (key == nullptr) {
    return InvalidArgumentError("cannot load TLS key '" + path +
                                "' for gRPC (expected a PEM private key, and the right "
                                "--ssl-keyfile-password if it is encrypted)");
  }
  BIO* out = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long size = BIO_get_mem_data(out, &data);
  std::string plain(data, static_cast<size_t>(size));
  BIO_free(out);
  EVP_PKEY_free(key);
  return plain;
}

StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const GrpcOptions& options) {
  if (options.ssl_certfile.empty() && options.ssl_keyfile.empty()) {
    return grpc::InsecureServerCredentials();
  }
  ASSIGN_OR_RETURN(std::string cert, fs::ReadFile(options.ssl_certfile));
  ASSIGN_OR_RETURN(std::string key,
                   PlainKeyPem(options.ssl_keyfile, options.ssl_keyfile_password));
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
  return grpc::SslServerCredentials(ssl);
}

// One ModelInfer call: its answer comes from a worker (the handler) or from the deadline's
// alarm, whichever is first; `mu` makes sure nothing reads the request or writes the
// response after the call is finished, since gRPC frees both then.
struct InferCall {
  InferCall(ServerUnaryReactor* r, const inference::ModelInferRequest* req,
            inference::ModelInferResponse* resp, std::shared_ptr<policy::Call> c)
      : reactor(r), request(req), response(resp), call(std::move(c)) {}

  // Answers once; later answers are dropped.
  void Complete(StatusOr<InferResponse> result) {
    {
      MutexLock lock(mu);
      if (finished) return;
      finished = true;
      size_t bytes = 0;
      if (result.ok()) {
        ToProto(*result, response);
        bytes = response->ByteSizeLong();
      }
      call->Finish(policy::HttpStatusFor(result.status()), bytes);
      reactor->Finish(ToGrpcStatus(result.status()));
    }
    if (armed) alarm.Cancel();
  }

  Mutex mu;
  bool finished GUARDED_BY(mu) = false;  // request and response are gone once it is true
  ServerUnaryReactor* const reactor;
  const inference::ModelInferRequest* const request PT_GUARDED_BY(mu);
  inference::ModelInferResponse* const response PT_GUARDED_BY(mu);
  const std::shared_ptr<policy::Call> call;  // holds the concurrency slot until dropped
  grpc::Alarm alarm;                         // the deadline, when `armed`
  bool armed = false;                        // set before the call reaches a worker
};

void AddTensors(const std::vector<TensorSpec>& specs,
                google::protobuf::RepeatedPtrField<
                    inference::ModelMetadataResponse::TensorMetadata>* out) {
  for (const auto& spec : specs) {
    auto* t = out->Add();
    t->set_name(spec.name);
    t->set_datatype(std::string(KServeName(spec.dtype)));
    for (int64_t d : KServeShape(spec)) t->add_shape(d);
  }
}

// Triton's config form: dims leave out the batch dimension when the model batches.
template <typename Tensor>
void AddConfigTensors(const std::vector<TensorSpec>& specs, int max_batch_size,
                      google::protobuf::RepeatedPtrField<Tensor>* out) {
  for (const auto& spec : specs) {
    auto* t = out->Add();
    t->set_name(spec.name);
    inference::DataType type = inference::TYPE_INVALID;
    inference::DataType_Parse(ConfigTypeName(spec.dtype), &type);
    t->set_data_type(type);
    for (int64_t d : KServeShape(spec, max_batch_size > 0)) t->add_dims(d);
  }
}

void SetDuration(const ModelStatistics::Duration& d,
                 inference::StatisticDuration* out) {
  out->set_count(d.count);
  out->set_ns(d.ns);
}

// Every call is admitted first (policy::Admission) and answered through Done or, for
// ModelInfer, InferCall::Complete, which count and log it. The metadata methods answer on
// gRPC's thread; ModelInfer runs on the App's workers and may finish on a batcher's thread,
// which the callback API allows.
class InferenceService final : public inference::GRPCInferenceService::CallbackService {
 public:
  InferenceService(const Protocol& protocol, const serving::ServeContext& context)
      : protocol_(protocol), admission_(context.admission), app_(context.app) {}

  ServerUnaryReactor* ServerLive(CallbackServerContext* context,
                                 const inference::ServerLiveRequest*,
                                 inference::ServerLiveResponse* response) override {
    auto call = Admit(context, "ServerLive");
    if (call->status().ok()) response->set_live(true);
    return Done(context, *call, call->status(), response);
  }

  ServerUnaryReactor* ServerReady(CallbackServerContext* context,
                                  const inference::ServerReadyRequest*,
                                  inference::ServerReadyResponse* response) override {
    auto call = Admit(context, "ServerReady");
    if (call->status().ok()) response->set_ready(protocol_.Ready());
    return Done(context, *call, call->status(), response);
  }

  ServerUnaryReactor* ModelReady(CallbackServerContext* context,
                                 const inference::ModelReadyRequest* request,
                                 inference::ModelReadyResponse* response) override {
    auto call = Admit(context, "ModelReady");
    if (!call->status().ok()) return Done(context, *call, call->status(), response);
    Status ready = protocol_.ModelReady(request->name(), request->version());
    if (ready.code() == StatusCode::kNotFound) return Done(context, *call, ready, response);
    response->set_ready(ready.ok());
    return Done(context, *call, OkStatus(), response);
  }

  ServerUnaryReactor* ServerMetadata(CallbackServerContext* context,
                                     const inference::ServerMetadataRequest*,
                                     inference::ServerMetadataResponse* response) override {
    auto call = Admit(context, "ServerMetadata");
    if (!call->status().ok()) return Done(context, *call, call->status(), response);
    kserve::ServerMetadata server = Protocol::Server();
    response->set_name(server.name);
    response->set_version(server.version);
    for (const auto& e : server.extensions) response->add_extensions(e);
    return Done(context, *call, OkStatus(), response);
  }

  ServerUnaryReactor* ModelMetadata(CallbackServerContext* context,
                                    const inference::ModelMetadataRequest* request,
                                    inference::ModelMetadataResponse* response) override {
    auto call = Admit(context, "ModelMetadata");
    if (!call->status().ok()) return Done(context, *call, call->status(), response);
    auto model = protocol_.Metadata(request->name(), request->version());
    if (!model.ok()) return Done(context, *call, model.status(), response);
    response->set_name(model->name);
    for (const auto& version : model->versions) response->add_versions(version);
    response->set_platform(std::string(kPlatform));
    AddTensors(model->inputs, response->mutable_inputs());
    AddTensors(model->outputs, response->mutable_outputs());
    return Done(context, *call, OkStatus(), response);
  }

  ServerUnaryReactor* ModelConfig(CallbackServerContext* context,
                                  const inference::ModelConfigRequest* request,
                                  inference::ModelConfigResponse* response) override {
    auto call = Admit(context, "ModelConfig");
    if (!call->status().ok()) return Done(context, *call, call->status(), response);
    auto model = protocol_.Metadata(request->name(), request->version());
    if (!model.ok()) return Done(context, *call, model.status(), response);
    auto* config = response->mutable_config();
    config->set_name(model->name);
    config->set_platform(std::string(kPlatform));
    config->set_backend("onnxruntime");
    config->set_max_batch_size(model->max_batch_size);
    AddConfigTensors(model->inputs, model->max_batch_size, config->mutable_input());
    for (int i = 0; i < config->input_size(); ++i) {
      inference::ModelInput::Format format = inference::ModelInput::FORMAT_NONE;
      inference::ModelInput::Format_Parse(model->input_formats[i], &format);
      config->mutable_input(i)->set_format(format);
    }
    AddConfigTensors(model->outputs, model->max_batch_size, config->mutable_output());
    return Done(context, *call, OkStatus(), response);
  }

  ServerUnaryReactor* SystemSharedMemoryStatus(
      CallbackServerContext* context, const inference::SystemSharedMemoryStatusRequest* request,
      inference::SystemSharedMemoryStatusResponse* response) override {
    auto call = Admit(context, "SystemSharedMemoryStatus");
    if (!call->status().ok()) return Done(context, *call, call->status(), response);
    auto regions = protocol_.shared_memory().Regions(request->name());
    if (!regions.ok()) return Done(context, *call, regions.status(), response);
    for (const auto& r : *regions) {
      auto& out = (*response->mutable_regions())[r.name];
      out.set_name(r.name);
      out.set_key(r.key);
      out.set_offset(r.offset);
      out.set_byte_size(r.byte_size);
    }
    return Done(context, *call, OkStatus(), response);
  }

  ServerUnaryReactor* SystemSharedMemoryRegister(
      CallbackServerContext* context, const inference::SystemSharedMemoryRegisterRequest* request,
      inference::SystemSharedMemoryRegisterResponse* response) override {
    auto call = Admit(context, "SystemSharedMemoryRegister");
    if (!call->status().ok()) return Done(context, *call, call->status(), response);
    Status status = protocol_.shared_memory().Register(
        {request->name(), request->key(), request->offset(), request->byte_size()});
    return Done(context, *call, status, response);
  }

  ServerUnaryReactor* SystemSharedMemoryUnregister(
      CallbackServerContext* context, const inference::SystemSharedMemoryUnregisterRequest* request,
      inference::SystemSharedMemoryUnregisterResponse* response) override {
    auto call = Admit(context, "SystemSharedMemoryUnregister");
    if (call->status().ok()) protocol_.shared_memory().Unregister(request->name());
    return Done(context, *call, call->status(), response);
  }

  ServerUnaryReactor* CudaSharedMemoryStatus(
      CallbackServerContext* context, const inference::CudaSharedMemoryStatusRequest* request,
      inference::CudaSharedMemoryStatusResponse* response) override {
    auto call = Admit(context, "CudaSharedMemoryStatus");
    Status status = call->status();
    if (status.ok() && !request->name().empty()) {
      status = NotFoundError("Unable to find cuda shared memory region: '" + request->name() + "'");
    }
    return Done(context, *call, status, response);
  }

  ServerUnaryReactor* CudaSharedMemoryRegister(
      CallbackServerContext* context, const inference::CudaSharedMemoryRegisterRequest*,
      inference::CudaSharedMemoryRegisterResponse* response) override {
    auto call = Admit(context, "CudaSharedMemoryRegister");
    Status status = call->status().ok() ? CudaSharedMemoryUnsupported() : call->status();
    return Done(context, *call, status, response);
  }

  ServerUnaryReactor* CudaSharedMemoryUnregister(
      CallbackServerContext* context, const inference::CudaSharedMemoryUnregisterRequest*,
      inference::CudaSharedMemoryUnregisterResponse* response) override {
    auto call = Admit(context, "CudaSharedMemoryUnregister");
    return Done(context, *call, call->status(), response);
  }

  ServerUnaryReactor* ModelStatistics(CallbackServerContext* context,
                                      const inference::ModelStatisticsRequest* request,
                                      inference::ModelStatisticsResponse* response) override {
    auto call = Admit(context, "ModelStatistics");
    if (!call->status().ok()) return Done(context, *call, call->status(), response);
    auto stats = protocol_.Statistics(request->name(), request->version());
    if (!stats.ok()) return Done(context, *call, stats.status(), response);
    for (const auto& st : *stats) {
      auto* out = response->add_model_stats();
      out->set_name(st.name);
      out->set_version(st.version);
      out->set_last_inference(st.last_inference_ms);
      out->set_inference_count(st.inference_count);
      out->set_execution_count(st.execution_count);
      auto* infer = out->mutable_inference_stats();
      SetDuration(st.success, infer->mutable_success());
      SetDuration(st.fail, infer->mutable_fail());
      SetDuration(st.queue, infer->mutable_queue());
      SetDuration(st.compute_input, infer->mutable_compute_input());
      SetDuration(st.compute_infer, infer->mutable_compute_infer());
      SetDuration(st.compute_output, infer->mutable_compute_output());
    }
    return Done(context, *call, OkStatus(), response);
  }

  ServerUnaryReactor* RepositoryIndex(CallbackServerContext* context,
                                      const inference::RepositoryIndexRequest* request,
                                      inference::RepositoryIndexResponse* response) override {
    auto call = Admit(context, "RepositoryIndex");
    if (!call->status().ok()) return Done(context, *call, call->status(), response);
    auto index = protocol_.RepositoryIndex(request->ready());
    if (!index.ok()) return Done(context, *call, index.status(), response);
    for (const auto& row : *index) {
      auto* out = response->add_models();
      out->set_name(row.name);
      out->set_version(row.version);
      out->set_state(row.state);
      out->set_reason(row.reason);
    }
    return Done(context, *call, OkStatus(), response);
  }

  ServerUnaryReactor* RepositoryModelLoad(CallbackServerContext* context,
                                          const inference::RepositoryModelLoadRequest* request,
                                          inference::RepositoryModelLoadResponse* response) override {
    auto call = Admit(context, "RepositoryModelLoad");
    if (!call->status().ok()) return Done(context, *call, call->status(), response);
    std::map<std::string, std::string> parameters;
    for (const auto& [key, value] : request->parameters()) {
      if (value.parameter_choice_case() != inference::ModelRepositoryParameter::kStringParam) {
        return Done(context, *call,
                    InvalidArgumentError("load parameter '" + key + "' must be a string"),
                    response);
      }
      parameters[key] = value.string_param();
    }
    ServerUnaryReactor* reactor = context->DefaultReactor();
    protocol_.RepositoryLoad(request->model_name(), std::move(parameters),
                             [call, reactor](Status status) { Finish(*call, reactor, status); });
    return reactor;
  }

  ServerUnaryReactor* RepositoryModelUnload(
      CallbackServerContext* context, const inference::RepositoryModelUnloadRequest* request,
      inference::RepositoryModelUnloadResponse* response) override {
    auto call = Admit(context, "RepositoryModelUnload");
    if (!call->status().ok()) return Done(context, *call, call->status(), response);
    ServerUnaryReactor* reactor = context->DefaultReactor();
    protocol_.RepositoryUnload(request->model_name(), [call, reactor](Status status) {
      Finish(*call, reactor, status);
    });
    return reactor;
  }

  ServerUnaryReactor* ModelInfer(CallbackServerContext* context,
                                 const inference::ModelInferRequest* request,
                                 inference::ModelInferResponse* response) override {
    auto call = Admit(context, "ModelInfer");
    if (!call->status().ok()) return Done(context, *call, call->status(), response);
    ServerUnaryReactor* reactor = context->DefaultReactor();
    auto state = std::make_shared<InferCall>(reactor, request, response, call);
    if (call->deadline() != policy::Call::TimePoint::max()) {
      auto wall = std::chrono::system_clock::now() +
                  std::chrono::duration_cast<std::chrono::system_clock::duration>(
                      call->deadline() - std::chrono::steady_clock::now());
      int64_t timeout_ms = call->timeout_ms();
      std::weak_ptr<InferCall> weak = state;
      state->armed = true;
      state->alarm.Set(wall, [weak, timeout_ms](bool fired) {
        if (!fired) return;  // cancelled: the call was answered
        if (auto s = weak.lock()) {
          spdlog::warn("gRPC ModelInfer not answered within {} ms", timeout_ms);
          s->Complete(DeadlineExceededError("request not answered within " +
                                            std::to_string(timeout_ms) + " ms"));
        }
      });
    }
    app_.Post(std::string(kServicePath) + "ModelInfer", request->model_name(), [this, state] {
      std::string name, version;
      {
        MutexLock lock(state->mu);
        if (state->finished) return;  // the deadline passed while it waited
        name = state->request->model_name();
        version = state->request->model_version();
      }
      protocol_.Infer(
          name, version,
          [state]() -> StatusOr<InferRequest> {
            MutexLock lock(state->mu);
            if (state->finished) return DeadlineExceededError("the call already timed out");
            return FromProto(*state->request);
          },
          [state](StatusOr<InferResponse> result) {
            state->Complete(std::move(result));
            state->call->Release();  // the handler is done, even if the deadline answered
          });
    });
    return reactor;
  }

 private:
  // Admits a call to `method` (its short name) under the server's policy, echoing its
  // request id; a call that passes is counted under its endpoint.
  std::shared_ptr<policy::Call> Admit(CallbackServerContext* context, std::string_view method) {
    std::string request_id = http::SanitizeOrGenerateRequestId(Metadata(context, "x-request-id"));
    context->AddInitialMetadata("x-request-id", request_id);
    std::string target = std::string(kServicePath) + std::string(method);
    std::string remote = Peer(context);
    policy::CallInfo info{.transport = "gRPC",
                          .method = "POST",
                          .target = target,
                          .remote = remote,
                          .request_id = request_id,
                          .authorization = Metadata(context, "authorization"),
                          .call_class = policy::Admission::GrpcClass(method)};
    auto call = admission_->Admit(info);
    if (call->status().ok() && info.call_class != policy::CallClass::kHealth) {
      call->SetEndpoint(std::move(target));
    }
    return call;
  }

  // Answers a call whose response has no fields, from any thread.
  static void Finish(policy::Call& call, ServerUnaryReactor* reactor, const Status& status) {
    call.Finish(policy::HttpStatusFor(status), 0);
    call.Release();
    reactor->Finish(ToGrpcStatus(status));
  }

  static ServerUnaryReactor* Done(CallbackServerContext* context, policy::Call& call,
                                  const Status& status,
                                  const google::protobuf::Message* response) {
    call.Finish(policy::HttpStatusFor(status), status.ok() ? response->ByteSizeLong() : 0);
    ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }

  const Protocol& protocol_;
  const std::shared_ptr<policy::Admission> admission_;
  serving::App& app_;
};

}  // namespace

struct GrpcServer::Impl {
  Impl(const Protocol& protocol, const serving::ServeContext& context)
      : service(protocol, context) {}
  InferenceService service;
  std::unique_ptr<grpc::Server> server;
  bool stopped = false;
};

namespace {

// gRPC's own log lines go to spdlog at debug level (BENTO_LOG_LEVEL=debug shows them): a
// failed bind, say, prints a dump of gRPC's internal error, and bento says what failed
// itself, in one line.
void ForwardGrpcLog(gpr_log_func_args* args) {
  spdlog::debug("gRPC {}:{}: {}", args->file, args->line, args->message);
}

}  // namespace

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

GrpcServer::~GrpcServer() { Shutdown(); }

StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const Protocol& protocol,
                                                        const GrpcOptions& options,
                                                        const serving::ServeContext& context) {
  static std::once_flag forward_logs;
  std::call_once(forward_logs, [] { gpr_set_log_function(ForwardGrpcLog); });
  ASSIGN_OR_RETURN(auto credentials, Credentials(options));
  auto impl = std::make_unique<Impl>(protocol, context);
  grpc::ServerBuilder builder;
  int port = 0;
  std::string address = options.host.find(':') != std::string::npos
                            ? "[" + options.host + "]:" + std::to_string(options.port)
                            : options.host + ":" + std::to_string(options.port);
  // gRPC shares a port with any other process that asks (SO_REUSEPORT) unless told not to:
  // a second server on the same port would silently take half the calls. Only a service's
  // own worker processes share it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, options.reuse_port ? 1 : 0);
  builder.AddListeningPort(address, credentials, &port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(&impl->service);
  impl->server = builder.BuildAndStart();
  if (!impl->server || port == 0) {
    return UnavailableError("cannot serve gRPC on " + address +
                            ": the port is in use, or the address cannot be bound here");
  }
  spdlog::info("serving the KServe v2 gRPC protocol at {}:{}{}", options.host, port,
               options.ssl_certfile.empty() ? "" : " over TLS");
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl), port));
}

void GrpcServer::Shutdown() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
}

serving::TransportFactory GrpcTransport(const Protocol& protocol, int port) {
  return [&protocol, port](const serving::ServeContext& context)
             -> StatusOr<std::unique_ptr<serving::Transport>> {
    const http::ServerOptions& http = context.options.http;
    GrpcOptions options;
    options.host = http.host;
    options.port = port;
    if (http.max_body_bytes > 0 &&
        http.max_body_bytes < static_cast<size_t>(options.max_message_bytes)) {
      options.max_message_bytes = static_cast<int>(http.max_body_bytes);
    }
    options.ssl_certfile = http.ssl_certfile;
    options.ssl_keyfile = http.ssl_keyfile;
    options.ssl_keyfile_password = http.ssl_keyfile_password;
    options.reuse_port = http.reuse_port;
    ASSIGN_OR_RETURN(auto server, GrpcServer::Start(protocol, options, context));
    return std::unique_ptr<serving::Transport>(std::move(server));
  };
}

}  // namespace bento::kserve
