"""Python services for bench/python_bench.py, served by bento (`python -m bento serve`).

- `Noop`: one API that returns its text, as bench/noop_service.cc does in C++: the two differ
  only by the call into Python.
- `Batched`: a batchable API (adaptive batching, as BentoML's `batchable=True`) that counts
  its calls, to show that Python is called once per batch, not once per request.
"""
import threading

import numpy as np

import bento


@bento.service
class Noop:
    @bento.api
    def noop(self, text: str) -> dict:
        return {"text": text}


@bento.service
class Batched:
    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()

    @bento.api(batchable=True, max_batch_size=32, max_latency_ms=10000)
    def double(self, x: np.ndarray) -> np.ndarray:
        with self.lock:
            self.calls += 1
        return x * 2

    @bento.api
    def calls_so_far(self) -> int:
        return self.calls
