"""bento.onnx: BentoML's bentoml.onnx (save_model, load_model, get) on bento's C++ engine.

load_model returns a session with onnxruntime.InferenceSession's Python surface (run,
get_inputs, get_outputs, get_providers). Its run borrows C-contiguous numpy inputs without a
copy, releases the GIL while ONNX Runtime runs, and returns numpy arrays that own the output
tensors (no copy either)."""
import json
import os
import pickle
import typing as t

import numpy as np

from . import _core
from ._types import Model, ModelSignature, Tag
from .exceptions import InvalidArgument

# ONNX's element type names, as onnxruntime's NodeArg.type says them.
_ORT_TYPES = {"float32": "float", "float64": "double"}
_SESSION_OPTIONS = ("graph_optimization_level", "intra_op_num_threads", "inter_op_num_threads",
                    "execution_mode", "optimized_model_filepath")


def save_model(name: str, model: t.Any, *, signatures: t.Optional[dict] = None,
               labels: t.Optional[t.Dict[str, str]] = None,
               custom_objects: t.Optional[dict] = None, external_modules: t.Any = None,
               metadata: t.Optional[dict] = None) -> Model:
    """Saves an ONNX model (a path, an onnx.ModelProto or its bytes) as a new version of
    `name`; the model is checked by ONNX Runtime first. Returns the stored Model."""
    del external_modules  # BentoML's, for Python code a model needs; an ONNX model needs none
    path = data = None
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
    elif isinstance(model, (bytes, bytearray)):
        data = bytes(model)
    elif hasattr(model, "SerializeToString"):
        data = model.SerializeToString()
    else:
        raise InvalidArgument(f"model must be a path, an onnx.ModelProto or bytes, not "
                              f"{type(model).__name__}")
    sigs = {}
    for method, sig in (signatures or {"run": {"batchable": False}}).items():
        if isinstance(sig, ModelSignature):
            sig = sig._asdict()
        batch_dim = sig.get("batch_dim", 0)
        if isinstance(batch_dim, int):
            batch_dim = (batch_dim, batch_dim)
        sigs[method] = (bool(sig.get("batchable", False)), int(batch_dim[0]), int(batch_dim[1]))
    custom = pickled = None
    if custom_objects is not None:
        if not isinstance(custom_objects, dict):
            raise InvalidArgument("custom_objects must be a dict of names to objects")
        try:
            custom = json.dumps(custom_objects, allow_nan=False)
        except (TypeError, ValueError):
            # Not JSON's values (arrays, classes): pickled as BentoML pickles them, which
            # bento's C++ code does not read and BentoML (and get, here) do.
            try:
                pickled = pickle.dumps(custom_objects)
            except Exception as e:  # noqa: BLE001: pickle raises several kinds
                raise InvalidArgument(f"custom_objects can be neither JSON nor pickled: "
                                      f"{e}") from None
    tag = _core.save_model(name, path, data, sigs, {str(k): str(v) for k, v in
                                                     (labels or {}).items()},
                           json.dumps(metadata or {}), custom, pickled)
    return get(tag)


def get(tag: t.Union[str, Tag]) -> Model:
    """The stored ONNX model a tag names, with no session: tag, path, info, custom objects."""
    return Model(_core.get(str(tag), True))


class NodeArg:
    """onnxruntime.NodeArg's fields: name, shape (ints, names of symbolic dims, or None) and
    type ("tensor(float)")."""

    def __init__(self, spec):
        name, dtype, dims = spec
        self.name = name
        self.shape = dims
        self.type = f"tensor({_ORT_TYPES.get(dtype, dtype)})"

    def __repr__(self):
        return f"NodeArg(name={self.name!r}, type={self.type!r}, shape={self.shape!r})"


class InferenceSession:
    """A loaded model with onnxruntime.InferenceSession's Python surface."""

    def __init__(self, core_session):
        self._session = core_session
        self._inputs = [NodeArg(s) for s in core_session.inputs()]
        self._outputs = [NodeArg(s) for s in core_session.outputs()]

    def get_inputs(self) -> t.List[NodeArg]:
        return list(self._inputs)

    def get_outputs(self) -> t.List[NodeArg]:
        return list(self._outputs)

    def get_providers(self) -> t.List[str]:
        return self._session.providers()

    def run(self, output_names: t.Optional[t.Sequence[str]], input_feed: t.Mapping[str, t.Any],
            run_options: t.Any = None) -> t.List[np.ndarray]:
        del run_options  # onnxruntime's RunOptions (tags, termination): nothing to carry
        arrays, strings = {}, {}
        for name, value in input_feed.items():
            array = np.asarray(value)
            if array.dtype.kind in "UOS":
                strings[name] = (list(array.shape),
                                 [v.decode() if isinstance(v, bytes) else str(v)
                                  for v in array.reshape(-1).tolist()])
            else:
                arrays[name] = array
        outputs = self._session.run(list(output_names or []), arrays, strings)
        return [np.array(o[1], dtype=object).reshape(o[0]) if isinstance(o, tuple) else o
                for o in outputs]


def _session_options(options: t.Any) -> dict:
    if options is None:
        return {}
    if isinstance(options, dict):
        return dict(options)
    # An onnxruntime.SessionOptions (or anything with its attributes); its enums are ints.
    out = {}
    for key in _SESSION_OPTIONS:
        value = getattr(options, key, None)
        if value is None or value == "":
            continue
        out[key] = value if isinstance(value, str) else int(value)
    return out


def load_model(tag: t.Union[str, Tag, Model], providers: t.Optional[t.Sequence] = None,
               session_options: t.Any = None) -> InferenceSession:
    """Loads a stored ONNX model. `providers` are names or (name, options) pairs, in
    priority order (default CPU); one this build lacks is skipped with a warning."""
    if isinstance(tag, Model):
        tag = tag.tag
    chosen = []
    for provider in providers or ["CPUExecutionProvider"]:
        if isinstance(provider, str):
            chosen.append((provider, "{}"))
        else:
            name, options = provider
            chosen.append((name, json.dumps(options or {})))
    return InferenceSession(_core.load_model(str(tag), chosen, _session_options(session_options)))
