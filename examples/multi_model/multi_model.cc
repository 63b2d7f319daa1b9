// The guide's MultiONNXService in C++: three models behind one API, comprehensive_analysis,
// each section computed on its own so that one failing model does not take the others down.
//   classification  the ImageNet classifier of examples/image_classifier ("image_classifier")
//   detection       the PP-OCRv4 text detector of examples/object_detector ("object_detector")
//   recognition     the PP-OCRv4 text recognizer ("text_recognizer") reading each line that
//                   the detector found; it stands in for the guide's segmentor, and was chosen
//                   over PP-OCR's text-direction classifier because it answers the question
//                   a user has about a page (what does it say?) and shows one model feeding
//                   another.
//
// As in the guide, each section runs in its own try: a model that failed to load, or a run
// that fails, gives {"error": "..."} in that section while the other sections still answer.
// Unlike the guide, a model missing from the store does not stop the service from starting.
#include <cmath>
#include <optional>

#include "bento/detection.h"
#include "bento/image.h"
#include "bento/ocr.h"
#include "bento/onnx.h"
#include "bento/ops.h"
#include "bento/service.h"

namespace {

// A loaded model with what its section needs from the store, or why it could not load.
struct LoadedModel {
  bento::StatusOr<bento::onnx::Session> session = bento::UnavailableError("not loaded");
  bento::Json custom_objects = bento::Json::object();
  bento::Json metadata = bento::Json::object();
};

LoadedModel Load(const std::string& tag) {
  LoadedModel loaded;
  auto model = bento::onnx::get(tag);
  if (!model.ok()) {
    loaded.session = bento::UnavailableError("model " + tag + " is not available: " +
                                             model.status().message());
    return loaded;
  }
  loaded.session =
      bento::onnx::load_model(*model, {"CUDAExecutionProvider", "CPUExecutionProvider"});
  if (!loaded.session.ok()) {
    loaded.session = bento::UnavailableError("model " + tag + " could not be loaded: " +
                                             loaded.session.status().message());
  }
  loaded.custom_objects = model->custom_objects;
  loaded.metadata = model->info.metadata;
  return loaded;
}

// A section's answer: its JSON, or {"error": "..."} when it failed.
bento::Json Section(const bento::StatusOr<bento::Json>& result) {
  return result.ok() ? *result : bento::Json{{"error", result.status().message()}};
}

}  // namespace

class MultiONNXService : public bento::Service {
 public:
  MultiONNXService()
      : Service("MultiONNXService", {.resources = {.gpu = "1", .memory = "8Gi"}}) {
    // Load multiple ONNX models; each may be missing without stopping the others.
    classifier_ = Load("image_classifier:latest");
    detector_ = Load("object_detector:latest");
    recognizer_ = Load("text_recognizer:latest");

    auto params = classifier_.custom_objects.value("preprocessing_params", bento::Json::object());
    classifier_mean_ = params.value("mean", std::vector<double>{0, 0, 0});
    classifier_std_ = params.value("std", std::vector<double>{1, 1, 1});
    class_names_ = classifier_.custom_objects.value("class_names", std::vector<std::string>{});

    const auto& metadata = detector_.metadata;
    detection_options_.confidence_threshold = metadata.value("confidence_threshold", 0.5);
    detection_options_.nms_threshold = metadata.value("nms_threshold", 0.4);
    detection_options_.map.mask_threshold = metadata.value("mask_threshold", 0.3f);
    detection_options_.map.unclip_ratio = metadata.value("unclip_ratio", 1.5);
    limit_side_len_ = detector_.custom_objects.value("preprocessing_params", bento::Json::object())
                          .value("limit_side_len", 960);

    characters_ = recognizer_.custom_objects.value("character_dict", std::vector<std::string>{});
    auto rec_params =
        recognizer_.custom_objects.value("preprocessing_params", bento::Json::object());
    line_height_ = rec_params.value("height", 48);
    line_min_width_ = rec_params.value("min_width", 320);

    Api("comprehensive_analysis", &MultiONNXService::ComprehensiveAnalysis, {"image"},
        "Classification, text detection and text recognition of one image");
  }

  bento::Json ComprehensiveAnalysis(const bento::Image& image) {
    bento::Json results;
    // Classification.
    results["classification"] = Section(Classify(image));
    // Text detection; the recognizer reads the lines it finds.
    auto lines = DetectLines(image);
    results["detection"] = Section(DetectionJson(lines));
    // Text recognition.
    results["recognition"] = Section(Recognize(image, lines));
    return results;
  }

 private:
  bento::StatusOr<bento::Json> Classify(const bento::Image& image) const {
    RETURN_IF_ERROR(classifier_.session.status());
    const bento::onnx::Session& session = *classifier_.session;
    const auto& dims = session.inputs()[0].dims;
    auto input = image.ConvertRGB()
                     .Resize(static_cast<int>(dims[3].value), static_cast<int>(dims[2].value))
                     .ToTensor(bento::Image::Layout::kNCHW, classifier_mean_, classifier_std_);
    ASSIGN_OR_RETURN(auto outputs, session.Run({{session.inputs()[0].name, input}}));
    auto probabilities = bento::Softmax(bento::Row(outputs[0], 0));
    size_t predicted = bento::TopK(probabilities, 1).front();
    return bento::Json{{"predicted_class", predicted},
                       {"predicted_class_name", predicted < class_names_.size()
                                                    ? bento::Json(class_names_[predicted])
                                                    : bento::Json(nullptr)},
                       {"confidence", probabilities[predicted]}};
  }

  bento::StatusOr<std::vector<bento::Box>> DetectLines(const bento::Image& image) const {
    RETURN_IF_ERROR(detector_.session.status());
    const bento::onnx::Session& session = *detector_.session;
    auto input = bento::ocr::PrepareDetectorInput(image, limit_side_len_);
    ASSIGN_OR_RETURN(auto outputs, session.Run({{session.inputs()[0].name, input.tensor}}));
    return bento::ocr::TextBoxes(outputs[0], input, detection_options_);
  }

  static bento::StatusOr<bento::Json> DetectionJson(
      const bento::StatusOr<std::vector<bento::Box>>& lines) {
    RETURN_IF_ERROR(lines.status());
    bento::Json detections = bento::Json::array();
    for (const bento::Box& box : *lines) {
      detections.push_back({{"bbox", Bbox(box)},
                            {"class_id", box.class_id},
                            {"class_name", "text"},
                            {"confidence", box.score}});
    }
    return bento::Json{{"detections", detections}, {"num_detections", lines->size()}};
  }

  bento::StatusOr<bento::Json> Recognize(
      const bento::Image& image, const bento::StatusOr<std::vector<bento::Box>>& lines) const {
    RETURN_IF_ERROR(recognizer_.session.status());
    const bento::onnx::Session& session = *recognizer_.session;
    if (!lines.ok()) {
      return bento::UnavailableError("no text lines to read: " + lines.status().message());
    }
    bento::Json read = bento::Json::array();
    std::string text;
    for (const bento::Box& box : *lines) {
      bento::Image line = bento::ocr::Crop(image, box);
      if (line.empty()) continue;
      auto input = bento::ocr::PrepareRecognizerInput(line, line_height_, line_min_width_);
      ASSIGN_OR_RETURN(auto outputs, session.Run({{session.inputs()[0].name, input}}));
      ASSIGN_OR_RETURN(auto recognition, bento::ocr::CtcGreedyDecode(outputs[0], characters_));
      read.push_back({{"bbox", Bbox(box)},
                      {"text", recognition.text},
                      {"confidence", recognition.confidence}});
      text += (text.empty() ? "" : "\n") + recognition.text;
    }
    return bento::Json{{"lines", read}, {"text", text}};
  }

  static std::vector<int> Bbox(const bento::Box& box) {
    return {static_cast<int>(box.x1), static_cast<int>(box.y1), static_cast<int>(box.x2),
            static_cast<int>(box.y2)};
  }

  LoadedModel classifier_, detector_, recognizer_;
  std::vector<double> classifier_mean_, classifier_std_;
  std::vector<std::string> class_names_;
  bento::ocr::TextBoxOptions detection_options_;
  int limit_side_len_ = 960;
  std::vector<std::string> characters_;
  int line_height_ = 48, line_min_width_ = 320;
};

BENTO_SERVICE_MAIN(MultiONNXService)
