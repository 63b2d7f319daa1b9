"""BentoML 1.4's side of the serving benchmark: the same models behind the same HTTP API as bento.

    BENTOML_HOME=... bentoml serve bentoml_services:OcrClsRun --working-dir bench --port 3000

- `OcrClsRun`, `MobileNetRun`: POST /run with a JSON object keyed by the model's input name
  (`{"x": [[...]]}`, `{"input": [[...]]}`), as `bento serve` takes it, adaptively batched
  along dim 0. A batchable BentoML API returns one batchable value, so the answer is the
  output array itself where bento wraps it as `{"<output name>": [...]}`; the numbers are
  the same.
- `ONNXImageClassifier`: the guide's Python service (POST /classify_image, a multipart image),
  with the three changes marked below.

Batching matches bento's flags: BENCH_MAX_BATCH_SIZE (default 32) and BENCH_MAX_LATENCY_MS
(default 10000) are read when this module is imported. Each service runs one worker process
(`workers=1`); ONNX Runtime keeps its default intra-op thread pool (one thread per physical
core), as bento does, so both servers have the whole machine.
"""
import os
from typing import Annotated, List

import bentoml
import numpy as np
from bentoml.validators import DType
from PIL import Image

MAX_BATCH_SIZE = int(os.environ.get("BENCH_MAX_BATCH_SIZE", "32"))
MAX_LATENCY_MS = int(float(os.environ.get("BENCH_MAX_LATENCY_MS", "10000")))
Float32Array = Annotated[np.ndarray, DType("float32")]


class _RunModel:
    """Loads `tag` the way the guide's services do and runs it on one batched input."""

    tag = ""

    def __init__(self):
        self.session = bentoml.onnx.load_model(self.tag, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name

    def infer(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run([self.output_name], {self.input_name: batch})[0]


@bentoml.service(workers=1)
class OcrClsRun(_RunModel):
    tag = "ocr_cls:latest"

    @bentoml.api(batchable=True, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS)
    def run(self, x: Float32Array) -> np.ndarray:
        return self.infer(x)


@bentoml.service(workers=1)
class MobileNetRun(_RunModel):
    tag = "image_classifier:latest"

    @bentoml.api(batchable=True, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS)
    def run(self, input: Float32Array) -> np.ndarray:  # noqa: A002 (the model's input name)
        return self.infer(input)


# The guide's ONNXImageClassifier (BentoML's ONNX guide), verbatim but for three changes, each
# marked: workers=1 (the thread budget); gpu=1 where the guide wrote "1", which BentoML 1.4
# rejects at startup; and a cast to float32 after normalisation, without which ONNX Runtime
# refuses the float64 array the guide builds. With no GPU, ONNX Runtime falls back to the CPU.
@bentoml.service(
    resources={"gpu": 1, "memory": "4Gi"}, workers=1  # changed: gpu "1" -> 1, workers=1
)
class ONNXImageClassifier:
    def __init__(self):
        # Load ONNX model
        self.session = bentoml.onnx.load_model(
            "image_classifier:latest",
            providers=["CUDAExecutionProvider", "CPUExecutionProvider"]
        )

        # Get model input/output info
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name
        self.input_shape = self.session.get_inputs()[0].shape

        # Load custom objects
        model_ref = bentoml.onnx.get("image_classifier:latest")
        self.class_names = model_ref.custom_objects.get("class_names", [])
        self.preprocessing_params = model_ref.custom_objects.get("preprocessing_params", {})

    def preprocess_image(self, image: Image.Image) -> np.ndarray:
        # Resize image
        target_size = (self.input_shape[2], self.input_shape[3])  # H, W
        image = image.convert('RGB').resize(target_size)

        # Convert to numpy array and normalize
        image_array = np.array(image, dtype=np.float32) / 255.0

        # Apply normalization if available
        if self.preprocessing_params:
            mean = np.array(self.preprocessing_params.get("mean", [0, 0, 0]))
            std = np.array(self.preprocessing_params.get("std", [1, 1, 1]))
            image_array = (image_array - mean) / std

        # Add batch dimension and transpose to NCHW
        image_array = np.transpose(image_array, (2, 0, 1))
        image_array = np.expand_dims(image_array, axis=0)

        return image_array.astype(np.float32)  # fix: the float64 mean/std made it float64

    @bentoml.api
    def classify_image(self, image: Image.Image) -> dict:
        # Preprocess image
        input_data = self.preprocess_image(image)

        # Run inference
        outputs = self.session.run([self.output_name], {self.input_name: input_data})
        predictions = outputs[0][0]  # Remove batch dimension

        # Get top prediction
        predicted_class = np.argmax(predictions)
        confidence = float(np.max(predictions))

        # Get top 5 predictions
        top5_indices = np.argsort(predictions)[::-1][:5]
        top5_predictions = [
            {
                "class_id": int(idx),
                "class_name": self.class_names[idx] if idx < len(self.class_names) else f"class_{idx}",
                "confidence": float(predictions[idx])
            }
            for idx in top5_indices
        ]

        return {
            "predicted_class": int(predicted_class),
            "predicted_class_name": self.class_names[predicted_class] if predicted_class < len(self.class_names) else None,
            "confidence": confidence,
            "top5_predictions": top5_predictions
        }

    @bentoml.api
    def classify_batch(self, images: List[Image.Image]) -> List[dict]:
        # Batch processing
        results = []

        for image in images:
            try:
                result = self.classify_image(image)
                results.append(result)
            except Exception as e:
                results.append({"error": str(e)})

        return results
