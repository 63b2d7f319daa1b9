// The guide's BatchONNXService in C++: a request carries any number of rows, and the service
// runs them through the model in chunks of at most max_batch_size (32) rows, answering one
// {input_index, prediction} per row, in order.
//
// The model is "batch_model:latest": a handwritten-digit classifier, [batch, 64] pixel values
// in, [batch, 10] probabilities out (saved by examples/batch_processing/save-model).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

#include "bento/lists.h"
#include "bento/onnx.h"
#include "bento/ops.h"
#include "bento/service.h"

class BatchONNXService : public bento::Service {
 public:
  BatchONNXService() : Service("BatchONNXService") {
    session_ = bento::onnx::load_model("batch_model:latest").value();

    // Get dynamic batch info: without a symbolic first dim, every chunk must be that size.
    const bento::Dim& first = session_->inputs()[0].dims.at(0);
    if (first.fixed()) {
      max_batch_size_ = first.value;
      spdlog::warn("{}: no dynamic batch dim; chunks of {}", session_->inputs()[0].ToString(),
                   max_batch_size_);
    }

    Api("batch_inference", &BatchONNXService::BatchInference, {"inputs"},
        "Run many rows in chunks of max_batch_size; one prediction per row");
  }

  bento::StatusOr<std::vector<bento::Json>> BatchInference(
      const std::vector<std::vector<float>>& inputs) {
    std::vector<bento::Json> results;
    ASSIGN_OR_RETURN(bento::Tensor input_array, bento::FromRows(inputs));
    const int64_t n = input_array.shape()[0];
    const std::string& input_name = session_->inputs()[0].name;
    const std::string& output_name = session_->outputs()[0].name;

    // Process in batches.
    for (int64_t i = 0; i < n; i += max_batch_size_) {
      ASSIGN_OR_RETURN(bento::Tensor batch_array,
                       bento::Slice(input_array, 0, i, std::min(i + max_batch_size_, n)));

      // Run inference.
      ASSIGN_OR_RETURN(auto batch_outputs,
                       session_->Run({{input_name, batch_array}}, {output_name}));

      // Process batch results.
      ASSIGN_OR_RETURN(bento::Json predictions, bento::ToList(batch_outputs[0]));
      for (size_t j = 0; j < predictions.size(); ++j) {
        results.push_back({{"input_index", i + static_cast<int64_t>(j)},
                           {"prediction", predictions[j]}});
      }
    }
    return results;
  }

 private:
  std::optional<bento::onnx::Session> session_;
  int64_t max_batch_size_ = 32;
};

BENTO_SERVICE_MAIN(BatchONNXService)
