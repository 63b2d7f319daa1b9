"""A Python service for bento's tests: each API exercises one part of the handoff between
bento's C++ server and Python (parameter kinds and defaults, results, errors, batching)."""
import threading
import typing as t

import numpy as np
from PIL import Image

import bento


@bento.service(traffic={"timeout": 30})
class Features:
    def __init__(self):
        self.batch_calls = 0
        self.lock = threading.Lock()

    @bento.api
    def describe(self, image: Image.Image, note: str = "none") -> dict:
        """An image and a string with a default."""
        return {"size": list(image.size), "mode": image.mode, "note": note,
                "sum": int(np.asarray(image, dtype=np.int64).sum())}

    @bento.api
    def scale(self, x: np.ndarray, factor: float = 2.0) -> np.ndarray:
        return x * factor

    @bento.api
    def echo(self, data: t.Any) -> t.Any:
        return data

    @bento.api
    def shout(self, text: str) -> str:
        return text.upper() + "!"

    @bento.api
    def fail(self, kind: str) -> dict:
        if kind == "invalid":
            raise bento.exceptions.InvalidArgument("kind must be valid")
        if kind == "missing":
            raise bento.exceptions.NotFound("no such thing")
        raise RuntimeError("a bug in the service")

    @bento.api(batchable=True, max_batch_size=64, max_latency_ms=1000)
    def double(self, x: np.ndarray) -> np.ndarray:
        with self.lock:
            self.batch_calls += 1
        return x * 2

    @bento.api
    def batch_calls_so_far(self) -> int:
        return self.batch_calls

    @bento.api(name="add_one", route="v1/numbers/add-one")
    def plus_one(self, n: int) -> int:
        """An API whose name and route are not its method's."""
        return n + 1
