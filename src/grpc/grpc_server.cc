#include "grpc/grpc_server.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "grpc/grpc_codec.h"
#include "inference.grpc.pb.h"

namespace bento::grpc_api {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

void AddTensors(const std::vector<TensorSpec>& specs,
                google::protobuf::RepeatedPtrField<
                    inference::ModelMetadataResponse::TensorMetadata>* out) {
  for (const auto& spec : specs) {
    auto* t = out->Add();
    t->set_name(spec.name);
    t->set_datatype(std::string(kserve::KServeName(spec.dtype)));
    for (int64_t d : kserve::KServeShape(spec)) t->add_shape(d);
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
    inference::DataType_Parse(kserve::ConfigTypeName(spec.dtype), &type);
    t->set_data_type(type);
    for (int64_t d : kserve::KServeShape(spec, max_batch_size > 0)) t->add_dims(d);
  }
}

void SetDuration(const serving::KServeStatistics::Duration& d,
                 inference::StatisticDuration* out) {
  out->set_count(d.count);
  out->set_ns(d.ns);
}

// Every method answers from the ModelService; only ModelInfer may finish on another thread
// (a batcher's), which the callback API allows.
class InferenceService final : public inference::GRPCInferenceService::CallbackService {
 public:
  explicit InferenceService(const serving::ModelService& models) : models_(models) {}

  ServerUnaryReactor* ServerLive(CallbackServerContext* context,
                                 const inference::ServerLiveRequest*,
                                 inference::ServerLiveResponse* response) override {
    response->set_live(true);
    return Done(context, OkStatus());
  }

  ServerUnaryReactor* ServerReady(CallbackServerContext* context,
                                  const inference::ServerReadyRequest*,
                                  inference::ServerReadyResponse* response) override {
    response->set_ready(models_.ready());
    return Done(context, OkStatus());
  }

  ServerUnaryReactor* ModelReady(CallbackServerContext* context,
                                 const inference::ModelReadyRequest* request,
                                 inference::ModelReadyResponse* response) override {
    Status ready = models_.KServeReady(request->name(), request->version());
    if (ready.code() == StatusCode::kNotFound) return Done(context, ready);
    response->set_ready(ready.ok());
    return Done(context, OkStatus());
  }

  ServerUnaryReactor* ServerMetadata(CallbackServerContext* context,
                                     const inference::ServerMetadataRequest*,
                                     inference::ServerMetadataResponse* response) override {
    serving::KServeServer server = serving::ModelService::KServeServerMetadata();
    response->set_name(server.name);
    response->set_version(server.version);
    for (const auto& e : server.extensions) response->add_extensions(e);
    return Done(context, OkStatus());
  }

  ServerUnaryReactor* ModelMetadata(CallbackServerContext* context,
                                    const inference::ModelMetadataRequest* request,
                                    inference::ModelMetadataResponse* response) override {
    auto model = models_.KServeMetadata(request->name(), request->version());
    if (!model.ok()) return Done(context, model.status());
    response->set_name(model->name);
    response->add_versions(model->version);
    response->set_platform("onnxruntime_onnx");
    AddTensors(model->inputs, response->mutable_inputs());
    AddTensors(model->outputs, response->mutable_outputs());
    return Done(context, OkStatus());
  }

  ServerUnaryReactor* ModelConfig(CallbackServerContext* context,
                                  const inference::ModelConfigRequest* request,
                                  inference::ModelConfigResponse* response) override {
    auto model = models_.KServeMetadata(request->name(), request->version());
    if (!model.ok()) return Done(context, model.status());
    auto* config = response->mutable_config();
    config->set_name(model->name);
    config->set_platform("onnxruntime_onnx");
    config->set_backend("onnxruntime");
    config->set_max_batch_size(model->max_batch_size);
    AddConfigTensors(model->inputs, model->max_batch_size, config->mutable_input());
    AddConfigTensors(model->outputs, model->max_batch_size, config->mutable_output());
    return Done(context, OkStatus());
  }

  ServerUnaryReactor* ModelStatistics(CallbackServerContext* context,
                                      const inference::ModelStatisticsRequest* request,
                                      inference::ModelStatisticsResponse* response) override {
    auto stats = models_.KServeStats(request->name(), request->version());
    if (!stats.ok()) return Done(context, stats.status());
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
    return Done(context, OkStatus());
  }

  ServerUnaryReactor* ModelInfer(CallbackServerContext* context,
                                 const inference::ModelInferRequest* request,
                                 inference::ModelInferResponse* response) override {
    ServerUnaryReactor* reactor = context->DefaultReactor();
    models_.KServeInfer(
        request->model_name(), request->model_version(),
        [request] { return FromProto(*request); },
        [reactor, response](StatusOr<serving::KServeResponse> result) {
          if (!result.ok()) return reactor->Finish(ToGrpcStatus(result.status()));
          ToProto(*result, response);
          reactor->Finish(grpc::Status::OK);
        });
    return reactor;
  }

 private:
  static ServerUnaryReactor* Done(CallbackServerContext* context, const Status& status) {
    ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }

  const serving::ModelService& models_;
};

}  // namespace

struct GrpcServer::Impl {
  explicit Impl(const serving::ModelService& models) : service(models) {}
  InferenceService service;
  std::unique_ptr<grpc::Server> server;
  bool stopped = false;
};

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

GrpcServer::~GrpcServer() { Shutdown(); }

StatusOr<std::unique_ptr<GrpcServer>> GrpcServer::Start(const serving::ModelService& models,
                                                        const GrpcOptions& options) {
  auto impl = std::make_unique<Impl>(models);
  grpc::ServerBuilder builder;
  int port = 0;
  std::string address = options.host.find(':') != std::string::npos
                            ? "[" + options.host + "]:" + std::to_string(options.port)
                            : options.host + ":" + std::to_string(options.port);
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(&impl->service);
  impl->server = builder.BuildAndStart();
  if (!impl->server || port == 0) {
    return UnavailableError("cannot serve gRPC on " + address);
  }
  spdlog::info("serving the KServe v2 gRPC protocol at {}:{}", options.host, port);
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl), port));
}

void GrpcServer::Shutdown() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  impl_->server->Wait();
}

}  // namespace bento::grpc_api
