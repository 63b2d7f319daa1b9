"""The store is shared with the real BentoML (PyPI bentoml 1.4): each reads what the other wrote."""
import json
import random
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


# Strings that YAML would read as something else unless the writer quotes them, and text
# that needs escaping: a writer that gets one wrong changes the value on the other side.
TRICKY = ["yes", "No", "on", "null", "~", "", " ", "1e3", "0x10", "012", ".inf", "-.nan",
          "2024-01-01", "12:30:45", " leading", "trailing ", "a: b", "- x", "#c", "'q'",
          '"dq"', "multi\nline", "tab\there", "caf\u00e9 \u4e2d \U0001f600", "\\", "{a: 1}",
          "[1, 2]", "&anchor", "*alias", "!tag", "%", "@", "`", "|", ">", "true", "False"]


def _random_text(rng):
    if rng.random() < 0.5:
        return rng.choice(TRICKY)
    alphabet = "abcXYZ019 _-:#'\"\\\n\t{}[],&*!|>%@`\u00e9\u4e2d\U0001f600"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))


def _random_value(rng, depth=0):
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return _random_text(rng)
    if kind == 1:
        return rng.choice([0, 1, -1, 2**31, -(2**63), 2**63 - 1, rng.randrange(-10**9, 10**9)])
    if kind == 2:
        return rng.choice([0.5, -0.0, 1e-300, 1.7976931348623157e308, 0.1, 1 / 3,
                           rng.uniform(-1e6, 1e6)])
    if kind == 3:
        return rng.choice([True, False])
    if kind in (4, 5):
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {_random_text(rng) or "k": _random_value(rng, depth + 1)
            for _ in range(rng.randrange(0, 4))}


def _random_case(seed):
    rng = random.Random(seed)
    key_alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_-."
    labels = {"".join(rng.choice(key_alphabet) for _ in range(rng.randrange(1, 10))):
              _random_text(rng) for _ in range(rng.randrange(0, 6))}
    metadata = {_random_text(rng) or "k": _random_value(rng) for _ in range(rng.randrange(0, 6))}
    custom = {_random_text(rng) or "k": _random_value(rng) for _ in range(rng.randrange(1, 6))}
    return labels, metadata, custom


def _exact(value):
    """Equal texts for equal values of equal types: 1, 1.0, True and -0.0 all differ."""
    return json.dumps(value, sort_keys=True)


@pytest.mark.parametrize("seed", range(5))
def test_random_labels_metadata_and_custom_objects_survive_both_ways(bento, ocr_cls_model,
                                                                    tmp_path, seed):
    """Random labels, metadata and custom objects, saved by BentoML and read by bento, and
    saved by bento and read by BentoML, come back equal (the same values and types) on the
    other side. BentoML pickles custom objects (custom_objects.pkl): bento writes that pickle
    too, and reads BentoML's with its restricted reader."""
    labels, metadata, custom = _random_case(seed)
    # BentoML -> bento
    cases = tmp_path / "case.json"
    cases.write_text(json.dumps({"labels": labels, "metadata": metadata, "custom": custom}))
    tag = _bentoml(bento, f"""
import bentoml, json, onnx
case = json.load(open({str(cases)!r}))
tag = bentoml.onnx.save_model("py-random", onnx.load({str(ocr_cls_model)!r}),
                              labels=case["labels"], metadata=case["metadata"],
                              custom_objects=case["custom"])
print(tag.tag)
""").strip().splitlines()[-1]
    info = json.loads(bento.run("models", "get", tag, "-o", "json").stdout)
    assert _exact(info["labels"]) == _exact(labels)
    assert _exact(info["metadata"]) == _exact(metadata)
    assert _exact(info["custom_objects"]) == _exact(custom)
    # bento -> BentoML
    (tmp_path / "metadata.json").write_text(json.dumps(metadata))
    (tmp_path / "custom.json").write_text(json.dumps(custom))
    flags = [arg for k, v in labels.items() for arg in ("--label", f"{k}={v}")]
    tag = bento.save(ocr_cls_model, "cpp-random", *flags, "--metadata-file",
                     tmp_path / "metadata.json", "--custom-objects", tmp_path / "custom.json")
    out = _bentoml(bento, f"""
import bentoml, json
m = bentoml.models.get({tag!r})
print(json.dumps({{"labels": m.info.labels, "metadata": m.info.metadata,
                  "custom": m.custom_objects}}))
""").strip().splitlines()[-1]
    assert _exact(json.loads(out)) == _exact({"labels": labels, "metadata": metadata,
                                               "custom": custom})


def test_a_bentoml_custom_object_that_is_not_json_leaves_the_model_loadable(bento,
                                                                          ocr_cls_model,
                                                                          tmp_path):
    """A numpy array among BentoML's custom objects: bento's reader refuses the pickle (it
    would have to run numpy's code to build it), says which key, and serves the model."""
    tag = _bentoml(bento, f"""
import bentoml, numpy, onnx
tag = bentoml.onnx.save_model("with-array", onnx.load({str(ocr_cls_model)!r}),
                              custom_objects={{"names": ["a"], "mean": numpy.arange(3.0)}})
print(tag.tag)
""").strip().splitlines()[-1]
    proc = bento.run("models", "get", tag, "-o", "json")
    assert json.loads(proc.stdout)["custom_objects"] == {}
    assert "custom object 'mean'" in proc.stderr and "runs no pickled code" in proc.stderr
    (tmp_path / "request.json").write_text(json.dumps({"x": _input().tolist()}))
    out = json.loads(bento.run("run", tag, "--input", tmp_path / "request.json").stdout)
    assert np.array(next(iter(out.values()))).shape == (1, 2)
