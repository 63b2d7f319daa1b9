// The guide's ONNXObjectDetector in C++, on a real detector: PP-OCRv4's text detector, which
// finds the text lines of an image. Served as detect_objects.
//
// The model ("object_detector:latest", saved by `make models`) outputs a per-pixel text
// probability map rather than YOLO-style boxes, so the post-processing turns the map into
// boxes (connected regions above a mask threshold, one box and score per region), then, as in
// the guide, keeps boxes above confidence_threshold, applies non-maximum suppression with
// nms_threshold and scales the boxes to the original image. The thresholds come from the
// model's metadata and the class names and preprocessing from its custom objects.
#include <cmath>
#include <optional>

#include "bento/detection.h"
#include "bento/image.h"
#include "bento/ocr.h"
#include "bento/onnx.h"
#include "bento/service.h"

class ONNXObjectDetector : public bento::Service {
 public:
  ONNXObjectDetector()
      : Service("ONNXObjectDetector", {.resources = {.gpu = "1", .memory = "6Gi"}}) {
    session_ = bento::onnx::load_model("object_detector:latest",
                                       {"CUDAExecutionProvider", "CPUExecutionProvider"})
                   .value();

    // Get model I/O info.
    input_name_ = session_->inputs()[0].name;

    // Load detection parameters.
    auto model = bento::onnx::get("object_detector:latest").value();
    class_names_ = model.custom_objects.value("class_names", std::vector<std::string>{});
    auto params = model.custom_objects.value("preprocessing_params", bento::Json::object());
    limit_side_len_ = params.value("limit_side_len", 960);
    mean_ = params.value("mean", std::vector<double>(std::begin(bento::ocr::kDetectorMean),
                                                     std::end(bento::ocr::kDetectorMean)));
    std_ = params.value("std", std::vector<double>(std::begin(bento::ocr::kDetectorStd),
                                                   std::end(bento::ocr::kDetectorStd)));
    const auto& metadata = model.info.metadata;
    options_.confidence_threshold = metadata.value("confidence_threshold", 0.5);
    options_.nms_threshold = metadata.value("nms_threshold", 0.4);
    options_.map.mask_threshold = metadata.value("mask_threshold", 0.3f);
    options_.map.unclip_ratio = metadata.value("unclip_ratio", 1.5);

    Api("detect_objects", &ONNXObjectDetector::DetectObjects, {"image"},
        "The text lines of an image: a box, class and confidence each");
  }

  bento::StatusOr<bento::Json> DetectObjects(const bento::Image& image) {
    // Preprocess image: resize to multiples of 32, normalize as PP-OCR does.
    auto input = bento::ocr::PrepareDetectorInput(image, limit_side_len_, mean_, std_);

    // Run inference.
    ASSIGN_OR_RETURN(auto outputs, session_->Run({{input_name_, input.tensor}}));

    // Postprocess detections.
    ASSIGN_OR_RETURN(auto detections, PostprocessDetections(outputs[0], input));

    return bento::Json{
        {"detections", detections},
        {"num_detections", detections.size()},
        {"image_size", {image.width(), image.height()}},
        {"confidence_threshold", options_.confidence_threshold},
    };
  }

 private:
  // Probability map → boxes over confidence_threshold → NMS → boxes in the original image.
  bento::StatusOr<std::vector<bento::Json>> PostprocessDetections(
      const bento::Tensor& probability_map, const bento::ocr::DetectorInput& input) const {
    ASSIGN_OR_RETURN(auto boxes, bento::ocr::TextBoxes(probability_map, input, options_));
    std::vector<bento::Json> detections;
    for (const bento::Box& box : boxes) {
      detections.push_back({
          {"bbox", {static_cast<int>(box.x1), static_cast<int>(box.y1),
                    static_cast<int>(box.x2), static_cast<int>(box.y2)}},
          {"class_id", box.class_id},
          {"class_name", ClassName(box.class_id)},
          {"confidence", box.score},
      });
    }
    return detections;
  }

  std::string ClassName(int id) const {
    return id < static_cast<int>(class_names_.size()) ? class_names_[id]
                                                      : "class_" + std::to_string(id);
  }

  std::optional<bento::onnx::Session> session_;
  std::string input_name_;
  std::vector<std::string> class_names_;
  int limit_side_len_ = 960;
  std::vector<double> mean_, std_;
  bento::ocr::TextBoxOptions options_;
};

BENTO_SERVICE_MAIN(ONNXObjectDetector)
