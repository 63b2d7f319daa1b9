// The guide's ONNXTextProcessor in C++: a text classifier over a word vocabulary, served as
// classify_text. The model ("text_classifier:latest", saved by `make models`) tells the
// language of a sentence (English, German, Spanish or Italian); its vocabulary and class
// names are custom objects and max_length is metadata, exactly as in the Python original.
#include <optional>

#include "bento/onnx.h"
#include "bento/ops.h"
#include "bento/service.h"
#include "bento/text.h"

class ONNXTextProcessor : public bento::Service {
 public:
  ONNXTextProcessor() : Service("ONNXTextProcessor") {
    session_ = bento::onnx::load_model("text_classifier:latest").value();

    // Get input/output specifications.
    input_name_ = session_->inputs()[0].name;
    output_name_ = session_->outputs()[0].name;

    // Load tokenizer and vocabulary.
    auto model = bento::onnx::get("text_classifier:latest").value();
    tokenizer_ = bento::WordTokenizer::FromJson(
                     model.custom_objects.value("vocab", bento::Json::object()))
                     .value();
    max_length_ = model.info.metadata.value("max_length", 128);
    class_names_ = model.custom_objects.value("class_names", std::vector<std::string>{});

    Api("classify_text", &ONNXTextProcessor::ClassifyText, {"text"},
        "The class of a text, with the probability of every class");
  }

  bento::StatusOr<bento::Json> ClassifyText(const std::string& text) {
    // Tokenize input: lowercase, split on whitespace, vocabulary ids, pad or truncate.
    ASSIGN_OR_RETURN(bento::Tensor input_ids, tokenizer_->ToTensor(text, max_length_));

    // Run inference.
    ASSIGN_OR_RETURN(auto outputs, session_->Run({{input_name_, input_ids}}, {output_name_}));
    auto predictions = bento::Row(outputs[0], 0);  // remove batch dimension

    // Apply softmax to get probabilities.
    std::vector<float> probabilities = bento::Softmax(predictions);
    size_t predicted_class = bento::TopK(probabilities, 1).front();

    return bento::Json{
        {"text", text},
        {"predicted_class", predicted_class},
        {"predicted_class_name", predicted_class < class_names_.size()
                                     ? bento::Json(class_names_[predicted_class])
                                     : bento::Json(nullptr)},
        {"confidence", probabilities[predicted_class]},
        {"probabilities", probabilities},
    };
  }

 private:
  std::optional<bento::onnx::Session> session_;
  std::string input_name_, output_name_;
  std::optional<bento::WordTokenizer> tokenizer_;
  int64_t max_length_ = 128;
  std::vector<std::string> class_names_;
};

BENTO_SERVICE_MAIN(ONNXTextProcessor)
