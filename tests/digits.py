"""Shared by the end-to-end tests of the guide's [batch, features] services (dynamic_shapes,
provider_config, batch_processing, validated, robust, monitored): the handwritten-digit MLP
they serve (scripts/models/build-digits-mlp), real rows of its dataset, the reference run
(Python onnxruntime on the same inputs, as the guide's Python code runs it) and a running
example."""
import gzip
import json
import subprocess
import time

import numpy as np
import onnxruntime as ort
import pytest
import requests

from conftest import BENTO, ROOT, ExampleServer

DIGITS = ROOT / ".deps" / "models" / "digits_mlp"
# scikit-learn's digits, as Debian's python3-sklearn ships them: 64 pixel values, then the label.
DATASET = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz"

_session = None


def dataset():
    """(rows [1797, 64] float32, labels [1797] int)."""
    with gzip.open(DATASET, "rt") as f:
        data = np.loadtxt(f, delimiter=",")
    return data[:, :64].astype(np.float32), data[:, 64].astype(int)


def heldout_rows(n=None):
    """Rows the model never saw in training (and their labels), the first n of them."""
    x, y = dataset()
    idx = json.loads((DIGITS / "heldout.json").read_text())[:n]
    return x[idx], y[idx]


def reference(data):
    """The guide's code path: np.array(data, dtype=np.float32), then session.run."""
    global _session
    if _session is None:
        _session = ort.InferenceSession(str(DIGITS / "digits_mlp.onnx"),
                                        providers=["CPUExecutionProvider"])
    input_name = _session.get_inputs()[0].name
    output_name = _session.get_outputs()[0].name
    return _session.run([output_name], {input_name: np.array(data, dtype=np.float32)})[0]


def assert_matches(got, want):
    """Same shape, the same class per row, and probabilities equal to float rounding."""
    got = np.array(got, dtype=np.float32)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert (got.argmax(axis=1) == want.argmax(axis=1)).all()


def save_model(bento, example):
    """Runs examples/<example>/save-model into the test's store; returns its output."""
    env = dict(bento.env, BENTO=str(BENTO))
    proc = subprocess.run([str(ROOT / "examples" / example / "save-model")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def start(bento, example, ready=True):
    """Starts build/bin/<example>; waits until /readyz is 200 (ready) or /livez is (not)."""
    server = ExampleServer(bento, example)
    if ready:
        server.wait_ready()
        return server
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.proc.poll() is None, "".join(server.log)
        try:
            if requests.get(server.url + "/livez", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise AssertionError("not live: " + "".join(server.log))


def served(example):
    """A pytest fixture: examples/<example>'s model saved and its server ready; stopped after."""
    @pytest.fixture
    def fixture(bento):
        save_model(bento, example)
        server = start(bento, example)
        yield server
        assert server.stop() == 0
    return fixture
