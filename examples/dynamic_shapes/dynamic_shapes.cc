// The guide's DynamicONNXService in C++: the model's batch dimension is symbolic ("batch"),
// so each request may carry any number of rows; the answer reports the shapes that went in
// and came out, and the results.
//
// The model is "dynamic_model:latest": a handwritten-digit classifier, [batch, 64] pixel
// values in, [batch, 10] probabilities out (saved by examples/dynamic_shapes/save-model).
#include <spdlog/spdlog.h>

#include <optional>

#include "bento/lists.h"
#include "bento/onnx.h"
#include "bento/service.h"

class DynamicONNXService : public bento::Service {
 public:
  DynamicONNXService() : Service("DynamicONNXService") {
    session_ = bento::onnx::load_model("dynamic_model:latest").value();

    // Check if model supports dynamic shapes.
    const auto& dims = session_->inputs()[0].dims;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (!dims[i].fixed()) dynamic_dims_.push_back(i);
    }
    spdlog::info("{}: dynamic dims {}", session_->inputs()[0].ToString(),
                 fmt::join(dynamic_dims_, ", "));

    Api("process_variable_input", &DynamicONNXService::ProcessVariableInput, {"data"},
        "Run a batch of any size; the answer reports the input and output shapes");
  }

  bento::StatusOr<bento::Json> ProcessVariableInput(const std::vector<std::vector<float>>& data) {
    // Handle variable batch size.
    ASSIGN_OR_RETURN(bento::Tensor input_array, bento::FromRows(data));

    // Run inference.
    const std::string& input_name = session_->inputs()[0].name;
    const std::string& output_name = session_->outputs()[0].name;
    ASSIGN_OR_RETURN(auto outputs, session_->Run({{input_name, input_array}}, {output_name}));

    ASSIGN_OR_RETURN(bento::Json results, bento::ToList(outputs[0]));
    return bento::Json{{"input_shape", input_array.shape()},
                       {"output_shape", outputs[0].shape()},
                       {"results", results}};
  }

 private:
  std::optional<bento::onnx::Session> session_;
  std::vector<size_t> dynamic_dims_;
};

BENTO_SERVICE_MAIN(DynamicONNXService)
