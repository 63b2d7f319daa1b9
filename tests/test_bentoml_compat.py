"""The store is shared with the real BentoML (PyPI bentoml 1.4): each reads what the other wrote."""
import json
import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest


def _bentoml(bento, code):
    """Runs Python code that uses the real bentoml package against the same store."""
    proc = subprocess.run([sys.executable, "-c", code], env=bento.env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _input(seed=0):
    return np.random.default_rng(seed).standard_normal((1, 3, 48, 192)).astype(np.float32)


def test_bentoml_saved_model_lists_loads_and_runs_in_bento(bento, ocr_cls_model, tmp_path):
    tag = _bentoml(bento, f"""
import bentoml, onnx
tag = bentoml.onnx.save_model("from-bentoml", onnx.load({str(ocr_cls_model)!r}),
    labels={{"owner": "py"}}, metadata={{"threshold": 0.5}},
    custom_objects={{"class_names": ["0", "180"]}},
    signatures={{"run": {{"batchable": True, "batch_dim": 0}}}})
print(tag.tag)
""").strip().splitlines()[-1]
    assert [m["tag"] for m in bento.list()] == [tag]
    info = json.loads(bento.run("models", "get", tag, "-o", "json").stdout)
    assert info["labels"] == {"owner": "py"}
    assert info["metadata"] == {"threshold": 0.5}
    assert info["signatures"]["run"] == {"batchable": True, "batch_dim": [0, 0]}
    assert info["input_specs"]["run"][0].startswith("x: float32[")

    x = _input()
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"x": x.tolist()}))
    out = json.loads(bento.run("run", tag, "--input", request).stdout)
    want = ort.InferenceSession(str(ocr_cls_model)).run(None, {"x": x})[0]
    got = np.array(next(iter(out.values())), dtype=np.float32)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_bento_saved_model_lists_and_runs_in_bentoml(bento, ocr_cls_model):
    tag = bento.save(ocr_cls_model, "from-bento", "--label", "owner=cpp",
                     "--metadata", "threshold=0.5", "--batchable")
    x = _input(1)
    np.save(bento.home / "x.npy", x)
    out = _bentoml(bento, f"""
import bentoml, numpy as np
models = [str(m.tag) for m in bentoml.models.list()]
assert models == [{tag!r}], models
m = bentoml.models.get("from-bento:latest")
assert m.info.labels == {{"owner": "cpp"}}, m.info.labels
assert m.info.metadata == {{"threshold": 0.5}}, m.info.metadata
assert m.info.signatures["run"].batchable
session = bentoml.onnx.load_model({tag!r})
y = session.run(None, {{"x": np.load({str(bento.home / "x.npy")!r})}})[0]
np.save({str(bento.home / "y.npy")!r}, y)
print("ok")
""")
    assert out.strip().endswith("ok")
    cli = subprocess.run([os.path.join(os.path.dirname(sys.executable), "bentoml"), "models",
                          "list"], env=bento.env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert tag in cli.stdout
    want = ort.InferenceSession(str(ocr_cls_model)).run(None, {"x": x})[0]
    np.testing.assert_allclose(np.load(bento.home / "y.npy"), want, rtol=1e-6)
