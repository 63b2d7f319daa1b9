// The guide's ValidatedONNXService in C++: every input is checked against the model's input
// spec before it runs (the rank, and each fixed dimension; the symbolic batch dimension takes
// any size). A mismatch answers HTTP 400 whose error names the expected shape, e.g.
//   {"error": "input 'input': wrong shape: expected input: float32[batch, 64], got float32[2, 5]", ...}
//
// The model is "validated_model:latest": a handwritten-digit classifier, [batch, 64] pixel
// values in, [batch, 10] probabilities out (saved by examples/validated/save-model).
#include <optional>

#include "bento/lists.h"
#include "bento/onnx.h"
#include "bento/service.h"
#include "bento/validation.h"

class ValidatedONNXService : public bento::Service {
 public:
  ValidatedONNXService() : Service("ValidatedONNXService") {
    session_ = bento::onnx::load_model("validated_model:latest").value();

    // Validate model inputs/outputs: name, shape and type of each.
    input_spec_ = session_->inputs()[0];
    output_spec_ = session_->outputs()[0];

    Api("predict", &ValidatedONNXService::Predict, {"input_data"},
        "Check the input against the model's spec, then run it");
  }

  bento::StatusOr<bento::Json> Predict(const std::vector<std::vector<float>>& input_data) {
    ASSIGN_OR_RETURN(bento::Tensor input_array, bento::FromRows(input_data));

    // Validate input: a mismatch is a 400 that names the expected shape.
    RETURN_IF_ERROR(bento::ValidateInput(input_array, input_spec_));

    auto outputs = session_->Run({{input_spec_.name, input_array}}, {output_spec_.name});
    if (!outputs.ok()) return outputs.status().WithContext("Inference failed");

    ASSIGN_OR_RETURN(bento::Json predictions, bento::ToList((*outputs)[0]));
    return bento::Json{{"success", true},
                       {"predictions", predictions},
                       {"output_shape", (*outputs)[0].shape()}};
  }

 private:
  std::optional<bento::onnx::Session> session_;
  bento::TensorSpec input_spec_;
  bento::TensorSpec output_spec_;
};

BENTO_SERVICE_MAIN(ValidatedONNXService)
