"""bento: BentoML's ONNX API on bento's C++ engine.

    import bento as bentoml

    bentoml.onnx.save_model("clf", "model.onnx", custom_objects={"classes": [...]})
    session = bentoml.onnx.load_model("clf:latest", providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"input": array})

The store is $BENTOML_HOME (default ~/bentoml), shared with BentoML itself.
"""
from . import exceptions, models, onnx
from ._types import Model, ModelInfo, Tag

__all__ = ["exceptions", "models", "onnx", "Model", "ModelInfo", "Tag"]
__version__ = "0.1.0"
