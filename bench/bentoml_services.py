"""BentoML 1.4's side of the serving benchmark: the same models behind the same HTTP API as bento.

    BENTOML_HOME=... bentoml serve bentoml_services:OcrClsRun --working-dir bench --port 3000

- `OcrClsRun`, `MobileNetRun`: POST /run with a JSON object keyed by the model's input name
  (`{"x": [[...]]}`, `{"input": [[...]]}`), as `bento serve` takes it, adaptively batched
  along dim 0. A batchable BentoML API returns one batchable value, so the answer is the
  output array itself where bento wraps it as `{"<output name>": [...]}`; the numbers are
  the same.
- `ONNXImageClassifier`: the guide's Python service (POST /classify_image, a multipart image),
  from tests/python_services/image_classifier.py, with the changes marked there.

Batching matches bento's flags: BENCH_MAX_BATCH_SIZE (default 32) and BENCH_MAX_LATENCY_MS
(default 60000, both servers' own default) are read when this module is imported. Each service runs one worker process
(`workers=1`); ONNX Runtime keeps its default intra-op thread pool (one thread per physical
core), as bento does, so both servers have the whole machine.
"""
import os
import pathlib
from typing import Annotated

import bentoml
import numpy as np
from bentoml.validators import DType

MAX_BATCH_SIZE = int(os.environ.get("BENCH_MAX_BATCH_SIZE", "32"))
MAX_LATENCY_MS = int(float(os.environ.get("BENCH_MAX_LATENCY_MS", "60000")))
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
class DigitsRun(_RunModel):
    tag = "digits:latest"

    @bentoml.api(batchable=True, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS)
    def run(self, input: Float32Array) -> np.ndarray:  # noqa: A002 (the model's input name)
        return self.infer(input)


@bentoml.service(workers=1)
class MobileNetRun(_RunModel):
    tag = "image_classifier:latest"

    @bentoml.api(batchable=True, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS)
    def run(self, input: Float32Array) -> np.ndarray:  # noqa: A002 (the model's input name)
        return self.infer(input)


# The guide's ONNXImageClassifier: the one copy in tests/python_services/image_classifier.py,
# which bento serves as written (`import bento as bentoml`); BentoML gets the same source
# with `import bentoml`. Its changes to the guide are marked there.
_GUIDE = pathlib.Path(__file__).resolve().parent.parent / "tests/python_services/image_classifier.py"
exec(compile(_GUIDE.read_text().replace("\nimport bento as bentoml\n", "\nimport bentoml\n"),
             str(_GUIDE), "exec"))  # noqa: S102
