"""Serving a Python service on bento's C++ server (bento._core.serve): the service's
description from its decorators and type hints, and the conversions the C++ side calls with
the GIL held (images to PIL, results to bytes, exceptions to status codes)."""
import inspect
import json
import logging
import pathlib
import sys
import traceback
import typing as t

import numpy as np

from . import _core, exceptions

logger = logging.getLogger("bento")

_OBJECT = {"type": "object", "additionalProperties": True}
_TENSOR = json.loads(_core.tensor_schema())  # the C++ API's, as for a bento::Tensor


def _is_image(hint) -> bool:
    return getattr(hint, "__module__", "").startswith("PIL.") and hint.__name__ == "Image"


def _schema(hint) -> dict:
    """The JSON Schema pydantic gives a JSON-valued type hint."""
    origin, args = t.get_origin(hint), t.get_args(hint)
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is str:
        return {"type": "string"}
    if hint is dict or origin is dict:
        return dict(_OBJECT)
    if hint is list or origin is list:
        return {"type": "array", "items": _schema(args[0]) if args else {}}
    if hint is np.ndarray:
        return dict(_TENSOR)
    return {}


def _param(name: str, hint, default) -> tuple:
    """(name, kind, schema, default as JSON or None, required) for bento._core.serve."""
    required = default is inspect.Parameter.empty
    default_json = None
    if not required:
        try:
            default_json = json.dumps(default)
        except TypeError:
            pass  # no JSON form to show; the default still applies
    args = t.get_args(hint)
    if _is_image(hint):
        kind = "image"
    elif t.get_origin(hint) is list and args and _is_image(args[0]):
        kind = "images"
    elif hint is np.ndarray:
        kind = "tensor"
    elif hint is str:
        kind = "text"
    else:
        kind = "json"
    return name, kind, json.dumps(_schema(hint)), default_json, required


def _result(hint) -> tuple:
    """(schema, content type) of a return type hint."""
    if hint is str:
        return json.dumps({"type": "string"}), "text/plain"
    return json.dumps(_schema(hint) if hint is not inspect.Signature.empty else {}), \
        "application/json"


def describe(cls) -> dict:
    """The service a @bento.service class declares: its name, resources, traffic and APIs."""
    config = getattr(cls, "__bento_service__", None)
    if config is None:
        raise TypeError(f"{cls.__qualname__} is not a @bento.service class")
    apis = []
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        options = getattr(member, "__bento_api__", None)
        if options is None:
            continue
        hints = t.get_type_hints(member)
        signature = inspect.signature(member)
        params = [_param(p.name, hints.get(p.name, t.Any), p.default)
                  for p in list(signature.parameters.values())[1:]]
        schema, content_type = _result(hints.get("return", inspect.Signature.empty))
        batch = None
        if options["batchable"]:
            if len(params) != 1 or params[0][1] != "tensor":
                raise TypeError(f"{cls.__qualname__}.{name}: a batchable API takes one "
                                "np.ndarray and returns one")
            dims = options["batch_dim"]
            dims = (dims, dims) if isinstance(dims, int) else tuple(dims)
            batch = (int(options["max_batch_size"]), float(options["max_latency_ms"]),
                     int(dims[0]), int(dims[1]))
        doc = inspect.getdoc(member) or ""
        apis.append((options["name"] or name, name, options["route"] or "",
                     doc.splitlines()[0] if doc else "", params, schema, content_type, batch))
    resources = {k: str(v) for k, v in (config["resources"] or {}).items()}
    traffic = config["traffic"] or {}
    workers = config["workers"] if config["workers"] is not None else 1
    if workers == "cpu_count":
        workers = 0  # bento's --processes 0: one per core, within the cgroup's limit
    elif isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise TypeError(f"{cls.__qualname__}: workers={workers!r}; give a number of processes "
                        "from 1, or \"cpu_count\"")
    return {"name": config["name"] or cls.__name__,
            "resources": (resources.get("cpu", ""), resources.get("gpu", ""),
                          resources.get("memory", "")),
            "traffic": (float(traffic.get("timeout", 60)),
                        int(traffic.get("max_concurrency", 0) or 0)),
            "workers": workers,
            "apis": apis}


def serve(cls, argv: t.List[str]) -> int:
    """Serves `cls` with bento's serve flags in `argv` (argv[0] is the program's name)."""
    spec = describe(cls)
    return _core.serve(spec["name"], spec["resources"], spec["traffic"], spec["workers"], cls,
                       spec["apis"], sys.modules[__name__], list(argv))


# ---- called from C++, with the GIL ---------------------------------------------------------

def make_image(width: int, height: int, channels: int, pixels: bytes):
    from PIL import Image
    return Image.frombytes({1: "L", 3: "RGB", 4: "RGBA"}[channels], (width, height), pixels)


def loads(text: str):
    return json.loads(text)


def from_tensor(value):
    if isinstance(value, tuple):  # a string tensor: (shape, values)
        return np.array(value[1], dtype=object).reshape(value[0])
    return value


def _json_default(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pathlib.PurePath):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# One encoder for every answer: json.dumps with `default=` would make a new one per call.
_ENCODER = json.JSONEncoder(default=_json_default)


def encode(value) -> t.Tuple[str, bytes]:
    """An API's return value as (content type, body)."""
    if isinstance(value, str):
        return "text/plain; charset=utf-8", value.encode()
    if isinstance(value, (bytes, bytearray)):
        return "application/octet-stream", bytes(value)
    if type(value).__module__.startswith("PIL."):
        import io
        buffer = io.BytesIO()
        value.save(buffer, format="PNG")
        return "image/png", buffer.getvalue()
    return "application/json", _ENCODER.encode(value).encode()


def batch_result(value):
    return np.ascontiguousarray(value)


def error_status(error: BaseException, tb) -> t.Tuple[int, str]:
    """The status an exception from an API answers with. bento.exceptions' classes keep their
    code (400, 404, 503) and message; anything else is a 500, its traceback logged."""
    code = getattr(error, "error_code", 500) if isinstance(error, exceptions.BentoException) \
        else 500
    if code in (400, 404, 503):
        return code, str(error)
    print("".join(traceback.format_exception(type(error), error, tb)), file=sys.stderr,
          end="", flush=True)
    return 500, f"internal error: {type(error).__name__}"
