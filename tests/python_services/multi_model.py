# The guide's MultiONNXService (BentoML's ONNX guide) on the project's three real models, whose
# answers equal the C++ example's (examples/multi_model/multi_model.cc; the models are saved
# by examples/multi_model/save-model). The guide's code, with `import bento as bentoml` and
# the imports it leaves out, and these changes, each marked in the code:
# - The models' tags are the C++ example's: "image_classifier:latest" (MobileNetV2, for the
#   guide's "classifier:latest"), "object_detector:latest" (PP-OCRv4's text detector, for
#   "detector:latest") and "text_recognizer:latest" (PP-OCRv4's text recognizer, in place of
#   the guide's "segmentor:latest", as in the C++ example: no segmentation model is stored).
#   The recognizer's section is "recognition", for "segmentation", and its attribute and
#   model_specs key are "recognizer", for "segmentor".
# - The guide calls helpers it never defines (preprocess_for_classification,
#   preprocess_for_detection, postprocess_detection, preprocess_for_segmentation,
#   postprocess_segmentation); they are defined here as the C++ example does each step:
#   the classifier's input as the guide's ONNXImageClassifier makes it (RGB, the model's
#   size, Pillow's default bicubic filter, the mean and std of its custom objects); the
#   detector's as examples/object_detector's (object_detector.py here, whose text_boxes does
#   the detector's post-processing); the recognizer's as PaddleOCR's resize_norm_img, one
#   line at a time, decoded by CTC greedy decoding over its custom objects' character_dict.
# - __init__ also reads what those helpers need from the models' custom objects and metadata.
# - classification: softmax of the classifier's logits, whose maximum is the confidence (the
#   guide reports the largest logit), and predicted_class_name (as the C++ example answers).
# - detection: the recognizer reads the lines the detector found, so the detector's boxes are
#   kept (lines) for the recognition section, and postprocess_detection takes them.
# - recognition runs the recognizer once per detected line (the guide's segmentor runs once):
#   {"lines": [{"bbox", "text", "confidence"}], "text": the lines' texts, one a line}; when
#   detection failed it answers {"error": "no text lines to read: ..."}, as the C++ example.
# As in the guide (and unlike the C++ example), a model missing from the store stops the
# service from starting.
import bento as bentoml
import math
import numpy as np
from PIL import Image

from object_detector import DETECTOR_MEAN, DETECTOR_STD, detector_size, text_boxes

@bentoml.service(
    resources={"gpu": "1", "memory": "8Gi"}
)
class MultiONNXService:
    def __init__(self):
        # Load multiple ONNX models
        self.classifier = bentoml.onnx.load_model("image_classifier:latest")  # changed: tag
        self.detector = bentoml.onnx.load_model("object_detector:latest")  # changed: tag
        self.recognizer = bentoml.onnx.load_model("text_recognizer:latest")  # changed
        
        # Store input/output names for each model
        self.model_specs = {
            "classifier": {
                "input": self.classifier.get_inputs()[0].name,
                "output": self.classifier.get_outputs()[0].name
            },
            "detector": {
                "input": self.detector.get_inputs()[0].name,
                "outputs": [out.name for out in self.detector.get_outputs()]
            },
            "recognizer": {  # changed: for "segmentor"
                "input": self.recognizer.get_inputs()[0].name,
                "output": self.recognizer.get_outputs()[0].name
            }
        }

        # added: what the helpers need from the store, as the C++ example reads it
        classifier_ref = bentoml.onnx.get("image_classifier:latest")
        self.classifier_shape = self.classifier.get_inputs()[0].shape
        self.class_names = classifier_ref.custom_objects.get("class_names", [])
        params = classifier_ref.custom_objects.get("preprocessing_params", {})
        self.classifier_mean = np.array(params.get("mean", [0, 0, 0]))
        self.classifier_std = np.array(params.get("std", [1, 1, 1]))
        detector_ref = bentoml.onnx.get("object_detector:latest")
        self.detection_params = {
            "confidence_threshold": detector_ref.metadata.get("confidence_threshold", 0.5),
            "nms_threshold": detector_ref.metadata.get("nms_threshold", 0.4),
            "mask_threshold": detector_ref.metadata.get("mask_threshold", 0.3),
            "unclip_ratio": detector_ref.metadata.get("unclip_ratio", 1.5),
        }
        self.limit_side_len = detector_ref.custom_objects.get(
            "preprocessing_params", {}).get("limit_side_len", 960)
        recognizer_ref = bentoml.onnx.get("text_recognizer:latest")
        self.characters = recognizer_ref.custom_objects.get("character_dict", [])
        params = recognizer_ref.custom_objects.get("preprocessing_params", {})
        self.line_height = params.get("height", 48)
        self.line_min_width = params.get("min_width", 320)
        self.line_max_width = 4096  # bento/ocr.h: a sliver of a box cannot ask for gigabytes

    # added: the helpers the guide calls without defining them

    def preprocess_for_classification(self, image: Image.Image) -> np.ndarray:
        # The guide's ONNXImageClassifier.preprocess_image: RGB, the model's size, normalized
        target_size = (self.classifier_shape[3], self.classifier_shape[2])  # W, H
        image_array = np.array(image.convert("RGB").resize(target_size), dtype=np.float32) / 255.0
        image_array = ((image_array - self.classifier_mean) / self.classifier_std)
        return np.expand_dims(np.transpose(image_array.astype(np.float32), (2, 0, 1)), axis=0)

    def postprocess_classification(self, logits: np.ndarray) -> np.ndarray:
        # Softmax, as the guide's ONNXTextProcessor computes it
        exp_preds = np.exp(logits - np.max(logits))
        return exp_preds / np.sum(exp_preds)

    def preprocess_for_detection(self, image: Image.Image) -> np.ndarray:
        # PaddleOCR's DetResizeForTest and NormalizeImage, on BGR planes (object_detector.py)
        size = detector_size(image.width, image.height, self.limit_side_len)
        image_array = np.array(image.convert("RGB").resize(size, Image.BILINEAR),
                               dtype=np.float32) / 255.0
        image_array = (image_array[:, :, ::-1] - np.array(DETECTOR_MEAN)) / np.array(DETECTOR_STD)
        return np.expand_dims(np.transpose(image_array.astype(np.float32), (2, 0, 1)), axis=0)

    def postprocess_detection(self, lines: list) -> dict:
        detections = [{"bbox": [int(v) for v in box[:4]], "class_id": 0, "class_name": "text",
                       "confidence": float(box[4])} for box in lines]
        return {"detections": detections, "num_detections": len(detections)}

    def preprocess_for_recognition(self, image: Image.Image, box: list):
        # PaddleOCR's resize_norm_img of the box's pixels (edges rounded outwards): the line's
        # height resized to line_height, BGR, (x - 0.5) / 0.5, zeros on the right up to
        # line_min_width columns. None for an empty box.
        x1, y1 = min(max(math.floor(box[0]), 0), image.width), \
            min(max(math.floor(box[1]), 0), image.height)
        x2, y2 = min(max(math.ceil(box[2]), x1), image.width), \
            min(max(math.ceil(box[3]), y1), image.height)
        if x2 == x1 or y2 == y1:
            return None
        line = image.crop((x1, y1, x2, y2)).convert("RGB")
        width = math.ceil(self.line_height * line.width / line.height)
        width = int(min(max(width, 1), self.line_max_width))
        line_array = np.array(line.resize((width, self.line_height), Image.BILINEAR),
                              dtype=np.float32) / 255.0
        line_array = (line_array[:, :, ::-1] - np.array([0.5])) / np.array([0.5])
        padded = np.zeros((1, 3, self.line_height, max(self.line_min_width, width)),
                          dtype=np.float32)
        padded[0, :, :, :width] = np.transpose(line_array, (2, 0, 1))
        return padded

    def postprocess_recognition(self, probabilities: np.ndarray, box: list) -> dict:
        # CTC greedy decoding: the best class per step, repeats merged, blanks (0) dropped;
        # class i > 0 is characters[i - 1]. The confidence: the read classes' mean probability.
        if probabilities.shape[2] != len(self.characters) + 1:
            raise ValueError(f"CTC decoding needs {len(self.characters) + 1} classes, not "
                             f"{probabilities.shape[2]}")
        best = probabilities[0].argmax(axis=1)
        read = (best != 0) & np.r_[True, best[1:] != best[:-1]]
        scores = probabilities[0].max(axis=1)[read].astype(np.float64)
        return {"bbox": [int(v) for v in box[:4]],
                "text": "".join(self.characters[i - 1] for i in best[read]),
                "confidence": float(scores.mean()) if read.any() else 0.0}
    
    @bentoml.api
    def comprehensive_analysis(self, image: Image.Image) -> dict:
        # Preprocess image for all models
        image_array = self.preprocess_for_classification(image)
        
        results = {}
        
        # Classification
        try:
            cls_output = self.classifier.run(
                [self.model_specs["classifier"]["output"]], 
                {self.model_specs["classifier"]["input"]: image_array}
            )
            cls_probabilities = self.postprocess_classification(cls_output[0][0])  # added
            predicted_class = int(np.argmax(cls_probabilities))  # added
            results["classification"] = {
                "predicted_class": predicted_class,  # changed: of the probabilities
                "predicted_class_name": (self.class_names[predicted_class]  # added
                                         if predicted_class < len(self.class_names) else None),
                "confidence": float(np.max(cls_probabilities))  # changed: a probability
            }
        except Exception as e:
            results["classification"] = {"error": str(e)}
        
        # Object Detection
        lines = None  # added: the detected text lines, which the recognizer reads
        try:
            det_image_array = self.preprocess_for_detection(image)
            det_outputs = self.detector.run(
                self.model_specs["detector"]["outputs"],
                {self.model_specs["detector"]["input"]: det_image_array}
            )
            lines = text_boxes(det_outputs[0], image.size, **self.detection_params)  # added
            results["detection"] = self.postprocess_detection(lines)  # changed: the lines
        except Exception as e:
            results["detection"] = {"error": str(e)}
        
        # Text recognition (changed: for the guide's segmentation), one run per line
        try:
            if lines is None:
                raise RuntimeError("no text lines to read: " + results["detection"]["error"])
            read = []
            for box in lines:
                rec_image_array = self.preprocess_for_recognition(image, box)
                if rec_image_array is None:
                    continue
                rec_output = self.recognizer.run(
                    [self.model_specs["recognizer"]["output"]],
                    {self.model_specs["recognizer"]["input"]: rec_image_array}
                )
                read.append(self.postprocess_recognition(rec_output[0], box))
            results["recognition"] = {"lines": read,
                                      "text": "\n".join(line["text"] for line in read)}
        except Exception as e:
            results["recognition"] = {"error": str(e)}
        
        return results
