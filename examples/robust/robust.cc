// The guide's RobustONNXService in C++: the model is loaded and warmed up with a dummy input
// at start-up. When that fails (no such model, a corrupt file), the service still starts:
// /readyz answers 503, and predict answers HTTP 503 {"error": "Model not available", ...},
// so an orchestrator keeps traffic away while the process stays up to report why.
//
// The model is "robust_model:latest": a handwritten-digit classifier, [batch, 64] pixel values
// in, [batch, 10] probabilities out (saved by examples/robust/save-model).
#include <spdlog/spdlog.h>

#include <optional>

#include "bento/lists.h"
#include "bento/onnx.h"
#include "bento/service.h"
#include "bento/validation.h"

class RobustONNXService : public bento::Service {
 public:
  RobustONNXService() : Service("RobustONNXService") {
    bento::Status initialized = LoadAndWarmUp();
    model_loaded_ = initialized.ok();
    if (!model_loaded_) {
      spdlog::error("Model initialization failed: {}", initialized.message());
      SetReady(false);  // /readyz answers 503
    }

    Api("predict", &RobustONNXService::Predict, {"input_data"},
        "Run the model; 503 when it failed to load");
  }

  bento::StatusOr<bento::Json> Predict(const std::vector<std::vector<float>>& input_data) {
    if (!model_loaded_) return bento::UnavailableError("Model not available");

    ASSIGN_OR_RETURN(bento::Tensor input_array, bento::FromRows(input_data));
    const std::string& input_name = session_->inputs()[0].name;
    const std::string& output_name = session_->outputs()[0].name;

    auto outputs = session_->Run({{input_name, input_array}}, {output_name});
    if (!outputs.ok()) {
      spdlog::error("ONNX inference error: {}", outputs.status().message());
      return outputs.status().WithContext("Prediction failed");
    }

    ASSIGN_OR_RETURN(bento::Json predictions, bento::ToList((*outputs)[0]));
    return bento::Json{{"success", true}, {"predictions", predictions}};
  }

 private:
  bento::Status LoadAndWarmUp() {
    ASSIGN_OR_RETURN(session_, bento::onnx::load_model("robust_model:latest"));

    // Test model with dummy input: random values shaped as the input, a batch of one.
    const bento::TensorSpec& input = session_->inputs()[0];
    ASSIGN_OR_RETURN(bento::Tensor dummy_input, bento::DummyInput(input));
    return session_->Run({{input.name, dummy_input}}).status();
  }

  std::optional<bento::onnx::Session> session_;
  bool model_loaded_ = false;  // set once, in the constructor
};

BENTO_SERVICE_MAIN(RobustONNXService)
