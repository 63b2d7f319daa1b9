// The guide's OptimizedONNXService in C++: execution providers configured with options, CUDA
// first and CPU as the fallback. On a machine (or an ONNX Runtime build) without CUDA, the
// CUDA provider is skipped with a logged warning, and the answer's "provider" says which one
// really runs the model.
//
// The model is "optimized_model:latest": a handwritten-digit classifier, [batch, 64] pixel
// values in, [batch, 10] probabilities out (saved by examples/provider_config/save-model).
#include <optional>

#include "bento/lists.h"
#include "bento/onnx.h"
#include "bento/service.h"

class OptimizedONNXService : public bento::Service {
 public:
  OptimizedONNXService() : Service("OptimizedONNXService", {.resources = {.gpu = "1"}}) {
    // Configure optimized providers.
    std::vector<bento::onnx::Provider> providers = {
        {"CUDAExecutionProvider",
         {{"device_id", 0},
          {"arena_extend_strategy", "kSameAsRequested"},
          {"gpu_mem_limit", int64_t{4} * 1024 * 1024 * 1024},  // 4GB
          {"cudnn_conv_algo_search", "EXHAUSTIVE"}}},
        {"CPUExecutionProvider", {{"intra_op_num_threads", 4}, {"inter_op_num_threads", 4}}},
    };

    // Create session with optimizations.
    session_ = bento::onnx::load_model("optimized_model:latest", providers).value();

    Api("optimized_inference", &OptimizedONNXService::OptimizedInference, {"input_data"},
        "Run the model; the answer names the execution provider in use");
  }

  bento::StatusOr<bento::Json> OptimizedInference(
      const std::vector<std::vector<float>>& input_data) {
    ASSIGN_OR_RETURN(bento::Tensor input_array, bento::FromRows(input_data));

    // Run with optimized session.
    const std::string& input_name = session_->inputs()[0].name;
    const std::string& output_name = session_->outputs()[0].name;
    ASSIGN_OR_RETURN(auto outputs, session_->Run({{input_name, input_array}}, {output_name}));

    ASSIGN_OR_RETURN(bento::Json results, bento::ToList(outputs[0]));
    return bento::Json{{"results", results}, {"provider", session_->providers()[0]}};
  }

 private:
  std::optional<bento::onnx::Session> session_;
};

BENTO_SERVICE_MAIN(OptimizedONNXService)
