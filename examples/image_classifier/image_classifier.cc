// The guide's ONNXImageClassifier in C++: an ImageNet classifier with Pillow-compatible
// preprocessing, served as classify_image (one image) and classify_batch (several images in
// one batched ONNX Runtime call).
//
// The model, its class names and its preprocessing mean/std come from the store
// ("image_classifier:latest", saved by `make models`), exactly as in the Python original.
#include <algorithm>
#include <optional>

#include "bento/image.h"
#include "bento/onnx.h"
#include "bento/ops.h"
#include "bento/service.h"

class ONNXImageClassifier : public bento::Service {
 public:
  ONNXImageClassifier()
      : Service("ONNXImageClassifier", {.resources = {.gpu = "1", .memory = "4Gi"}}) {
    // Load the ONNX model; CUDA when there is one, else CPU (with a logged warning).
    session_ = bento::onnx::load_model("image_classifier:latest",
                                       {"CUDAExecutionProvider", "CPUExecutionProvider"})
                   .value();
    // Get model input/output info.
    input_name_ = session_->inputs()[0].name;
    const auto& dims = session_->inputs()[0].dims;
    height_ = static_cast<int>(dims[2].value);
    width_ = static_cast<int>(dims[3].value);

    // Load custom objects.
    auto model = bento::onnx::get("image_classifier:latest").value();
    class_names_ = model.custom_objects.value("class_names", std::vector<std::string>{});
    auto params = model.custom_objects.value("preprocessing_params", bento::Json::object());
    mean_ = params.value("mean", std::vector<float>{0, 0, 0});
    std_ = params.value("std", std::vector<float>{1, 1, 1});

    Api("classify_image", &ONNXImageClassifier::ClassifyImage, {"image"},
        "Classify one image: the top class and the top 5");
    Api("classify_batch", &ONNXImageClassifier::ClassifyBatch, {"images"},
        "Classify several images in one batched call");
  }

  bento::StatusOr<bento::Json> ClassifyImage(const bento::Image& image) {
    ASSIGN_OR_RETURN(auto results, ClassifyBatch({image}));
    return results.front();
  }

  // A failed run keeps its status: a model exported with a fixed batch of one, given two
  // images, is a 400 that names the expected shape, not a 500.
  bento::StatusOr<std::vector<bento::Json>> ClassifyBatch(
      const std::vector<bento::Image>& images) {
    // Preprocess: RGB, resize as Pillow does, /255, (x - mean) / std, NCHW; one batch.
    std::vector<bento::Tensor> inputs;
    for (const auto& image : images) {
      inputs.push_back(image.ConvertRGB().Resize(width_, height_).ToTensor(
          bento::Image::Layout::kNCHW, mean_, std_));
    }
    ASSIGN_OR_RETURN(auto batch, bento::Concat(inputs, 0));
    ASSIGN_OR_RETURN(auto outputs, session_->Run({{input_name_, batch}}));

    std::vector<bento::Json> results;
    for (int64_t i = 0; i < static_cast<int64_t>(images.size()); ++i) {
      // The model outputs logits; softmax turns them into the confidences the guide reports.
      auto probabilities = bento::Softmax(bento::Row(outputs[0], i));
      auto top5 = bento::TopK(probabilities, 5);
      bento::Json top5_predictions = bento::Json::array();
      for (size_t idx : top5) {
        top5_predictions.push_back({{"class_id", idx},
                                    {"class_name", ClassName(idx)},
                                    {"confidence", probabilities[idx]}});
      }
      size_t predicted = top5.front();
      results.push_back({{"predicted_class", predicted},
                         {"predicted_class_name", predicted < class_names_.size()
                                                      ? bento::Json(class_names_[predicted])
                                                      : bento::Json(nullptr)},
                         {"confidence", probabilities[predicted]},
                         {"top5_predictions", top5_predictions}});
    }
    return results;
  }

 private:
  std::string ClassName(size_t idx) const {
    return idx < class_names_.size() ? class_names_[idx] : "class_" + std::to_string(idx);
  }

  std::optional<bento::onnx::Session> session_;
  std::string input_name_;
  int height_ = 224, width_ = 224;
  std::vector<std::string> class_names_;
  std::vector<float> mean_, std_;
};

BENTO_SERVICE_MAIN(ONNXImageClassifier)
