"""bento: BentoML's ONNX API on bento's C++ engine.

    import bento as bentoml

    bentoml.onnx.save_model("clf", "model.onnx", custom_objects={"classes": [...]})
    session = bentoml.onnx.load_model("clf:latest", providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"input": array})

    @bentoml.service(resources={"cpu": "2"})
    class Classifier:
        @bentoml.api
        def classify(self, image: PIL.Image.Image) -> dict: ...

`python -m bento serve module:Classifier` serves it on bento's C++ server. The store is
$BENTOML_HOME (default ~/bentoml), shared with BentoML itself.
"""
from . import exceptions, models, onnx
from ._sdk import api, service
from ._types import Model, ModelInfo, Tag

__all__ = ["api", "exceptions", "models", "onnx", "service", "Model", "ModelInfo", "Tag"]
__version__ = "0.1.0"
