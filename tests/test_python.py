"""`import bento` (python/, installed into .venv by `make python`): BentoML's bentoml.onnx and
bentoml.models on bento's C++ engine, against onnxruntime and the real bentoml package."""
import json
import subprocess
import sys
import threading

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

import bento
from conftest import MOBILENET, ONNX_TESTDATA, ROOT

TEXT_MODEL = ROOT / ".deps" / "models" / "text_classifier"
WHERE = ONNX_TESTDATA / "node" / "test_where_long_example" / "model.onnx"

# Every ONNX element type numpy has, with a value generator that reaches its extremes.
DTYPES = {
    TensorProto.FLOAT: np.float32, TensorProto.DOUBLE: np.float64,
    TensorProto.FLOAT16: np.float16, TensorProto.INT8: np.int8, TensorProto.INT16: np.int16,
    TensorProto.INT32: np.int32, TensorProto.INT64: np.int64, TensorProto.UINT8: np.uint8,
    TensorProto.UINT16: np.uint16, TensorProto.UINT32: np.uint32,
    TensorProto.UINT64: np.uint64, TensorProto.BOOL: np.bool_, TensorProto.STRING: object,
}


@pytest.fixture
def store(bento, monkeypatch):
    """The test's own store, for both bento and bentoml in this process."""
    monkeypatch.setenv("BENTOML_HOME", str(bento.home))
    return bento


def identity_model(elem_type):
    x = helper.make_tensor_value_info("x", elem_type, None)
    y = helper.make_tensor_value_info("y", elem_type, None)
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def random_tensor(rng, dtype, shape):
    if dtype is object:
        words = ["", "a", "\0nul\0", "ünïcödé", "x" * 1000]
        return np.array([words[i] for i in rng.integers(0, len(words), shape).reshape(-1)],
                        dtype=object).reshape(shape)
    if dtype is np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dtype, np.floating):
        info = np.finfo(dtype)
        values = rng.standard_normal(shape).astype(dtype)
        special = np.array([np.nan, np.inf, -np.inf, info.max, info.min, info.tiny, -0.0], dtype)
        flat = values.reshape(-1)
        flat[: min(flat.size, special.size)] = special[: flat.size]
        return values
    info = np.iinfo(dtype)
    values = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    flat = values.reshape(-1)
    flat[: min(flat.size, 2)] = [info.min, info.max][: flat.size]
    return values


def test_every_dtype_round_trips_exactly_through_run(store):
    """What goes in comes out: random tensors of every dtype (NaN, infinities, extremes, NUL
    bytes, empty strings, empty tensors) through an Identity model, compared bit for bit."""
    rng = np.random.default_rng(11)
    for elem_type, dtype in DTYPES.items():
        name = f"identity-{TensorProto.DataType.Name(elem_type).lower()}"
        bento.onnx.save_model(name, identity_model(elem_type))
        session = bento.onnx.load_model(name)
        assert session.get_inputs()[0].name == "x"
        for shape in [(), (0,), (3, 0, 2), (1,), (4, 5), (2, 3, 7)]:
            x = random_tensor(rng, dtype, shape)
            (y,) = session.run(None, {"x": x})
            assert y.shape == x.shape, (name, shape)
            if dtype is object:
                assert y.dtype == object and y.tolist() == x.tolist(), (name, shape)
            else:
                assert y.dtype == x.dtype, (name, y.dtype)
                assert y.tobytes() == x.tobytes(), (name, shape)


def test_sessions_agree_with_onnxruntime_on_real_models(store):
    rng = np.random.default_rng(5)
    cases = [
        (MOBILENET / "mobilenet_v2.onnx",
         {"input": rng.random((3, 3, 224, 224), dtype=np.float32)}),
        (TEXT_MODEL / "text_classifier.onnx",
         {"input_ids": rng.integers(0, 500, (2, 64), dtype=np.int64)}),
        (WHERE, {"condition": rng.random((2, 2)) < 0.5,
                 "x": rng.integers(-9, 9, (2, 2), dtype=np.int64),
                 "y": rng.integers(-9, 9, (2, 2), dtype=np.int64)}),
    ]
    for i, (path, feed) in enumerate(cases):
        bento.onnx.save_model(f"m{i}", str(path))
        session = bento.onnx.load_model(f"m{i}:latest", providers=["CPUExecutionProvider"])
        reference = ort.InferenceSession(str(path))
        assert [a.name for a in session.get_inputs()] == [a.name for a in reference.get_inputs()]
        assert [a.type for a in session.get_outputs()] == [a.type for a in reference.get_outputs()]
        assert [a.shape for a in session.get_inputs()] == [a.shape for a in reference.get_inputs()]
        got, want = session.run(None, feed), reference.run(None, feed)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
        # By name, and from a non-contiguous view (made contiguous on the way in).
        first = session.get_outputs()[0].name
        np.testing.assert_allclose(session.run([first], feed)[0], want[0], rtol=1e-5, atol=1e-5)
    x = np.asfortranarray(rng.random((2, 2), dtype=np.float32))
    bento.onnx.save_model("id", identity_model(TensorProto.FLOAT))
    np.testing.assert_array_equal(bento.onnx.load_model("id").run(None, {"x": x})[0], x)


def test_outputs_are_numpy_arrays_over_the_tensor_and_run_releases_the_gil(store):
    bento.onnx.save_model("mobilenet", str(MOBILENET / "mobilenet_v2.onnx"))
    session = bento.onnx.load_model("mobilenet", session_options={"intra_op_num_threads": 1})
    x = np.zeros((16, 3, 224, 224), np.float32)
    (y,) = session.run(None, {"input": x})
    assert not y.flags["OWNDATA"] and y.base is not None  # no copy: numpy owns the tensor
    del session
    assert float(y.sum()) == float(y.sum())  # still valid after the session is gone

    session = bento.onnx.load_model("mobilenet")
    count, done = [0], threading.Event()

    def spin():
        while not done.is_set():
            count[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        before = count[0]
        session.run(None, {"input": x})
        during = count[0] - before  # read at once: Python ran during run only if it let go
    finally:
        done.set()
        spinner.join()
    assert during > 0


def test_save_get_and_the_cli_agree(store, tmp_path):
    model = onnx.load(str(MOBILENET / "mobilenet_v2.onnx"))
    saved = bento.onnx.save_model(
        "clf", model, signatures={"run": {"batchable": True, "batch_dim": 0}},
        labels={"stage": "test"}, metadata={"acc": 0.75, "dims": [1, 2]},
        custom_objects={"classes": ["cat", "dog"], "nested": {"k": None, "f": 1.5}})
    assert saved.tag.name == "clf" and len(saved.tag.version) == 16
    got = bento.onnx.get("clf:latest")
    assert got.tag == saved.tag and got.path == saved.path
    assert got.path_of("saved_model.onnx").exists()
    assert got.info.labels == {"stage": "test"}
    assert got.info.metadata == {"acc": 0.75, "dims": [1, 2]}
    assert got.info.signatures["run"].batchable
    assert got.custom_objects == {"classes": ["cat", "dog"], "nested": {"k": None, "f": 1.5}}
    cli = json.loads(store.run("models", "get", "clf", "-o", "json").stdout)
    assert cli["labels"] == {"stage": "test"} and cli["tag"] == str(saved.tag)


def test_models_list_delete_export_import(store, tmp_path):
    first = bento.onnx.save_model("m", str(WHERE), custom_objects={"n": 1})
    second = bento.onnx.save_model("m", str(WHERE))
    bento.onnx.save_model("other", str(WHERE))
    assert [m.tag for m in bento.models.list("m")] == [second.tag, first.tag]
    assert len(bento.models.list()) == 3
    archive = bento.models.export_model(first.tag, tmp_path / "m.bentomodel")
    with pytest.raises(bento.exceptions.AlreadyExists):
        bento.models.import_model(archive)
    bento.models.delete(first.tag)
    with pytest.raises(bento.exceptions.NotFound):
        bento.models.get(first.tag)
    assert bento.models.import_model(archive).custom_objects == {"n": 1}
    assert bento.models.get("m").tag == second.tag  # latest stays the newest


def in_bentoml(store, code):
    """Runs `code` with BentoML in a process of its own (BentoML fixes its store's path at its
    first use in a process), on the test's store; returns what it printed."""
    run = subprocess.run([sys.executable, "-c", "import bentoml, numpy as np, onnx\n" + code],
                         env=store.env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_bentoml_and_bento_load_each_others_models(store):
    # bento saves, BentoML loads and runs it and sees the custom objects.
    bento.onnx.save_model("from_bento", str(WHERE), custom_objects={"names": ["a", "b"]})
    feed = {"condition": np.array([[True, False], [False, True]]),
            "x": np.arange(4, dtype=np.int64).reshape(2, 2),
            "y": -np.arange(4, dtype=np.int64).reshape(2, 2)}
    want = ort.InferenceSession(str(WHERE)).run(None, feed)[0]
    out = in_bentoml(store, f"""
feed = {{"condition": np.array([[True, False], [False, True]]),
        "x": np.arange(4, dtype=np.int64).reshape(2, 2),
        "y": -np.arange(4, dtype=np.int64).reshape(2, 2)}}
print(bentoml.onnx.load_model("from_bento").run(None, feed)[0].tolist())
print(bentoml.models.get("from_bento").custom_objects)
bentoml.onnx.save_model("from_bentoml", onnx.load({str(WHERE)!r}),
                        custom_objects={{"names": ["c"]}}, labels={{"by": "bentoml"}})
""").splitlines()
    assert out == [str(want.tolist()), "{'names': ['a', 'b']}"]
    # BentoML saved, bento loads and runs it and sees the custom objects.
    model = bento.onnx.get("from_bentoml")
    assert model.custom_objects == {"names": ["c"]} and model.info.labels == {"by": "bentoml"}
    np.testing.assert_array_equal(bento.onnx.load_model("from_bentoml").run(None, feed)[0], want)


def test_custom_objects_json_cannot_hold_are_pickled_both_ways(store):
    """Arrays and other Python objects: pickled by bento as BentoML pickles them, so that
    BentoML reads bento's and bento reads BentoML's. bento's C++ side sees none of them."""
    import datetime
    objects = {"weights": np.arange(6, dtype=np.float32).reshape(2, 3),
               "when": datetime.date(2026, 11, 28), "labels": {"a", "b"}, "nan": float("nan")}
    bento.onnx.save_model("pickled", str(WHERE), custom_objects=objects)
    got = bento.onnx.get("pickled").custom_objects
    np.testing.assert_array_equal(got["weights"], objects["weights"])
    assert got["weights"].dtype == np.float32 and got["when"] == objects["when"]
    assert got["labels"] == {"a", "b"} and np.isnan(got["nan"])
    assert not (bento.onnx.get("pickled").path / "custom_objects.json").exists()
    out = in_bentoml(store, """
c = bentoml.models.get("pickled").custom_objects
print(c["weights"].dtype, c["weights"].tolist(), c["when"], sorted(c["labels"]), c["nan"])
bentoml.onnx.save_model("bentoml_pickled", onnx.load(%r),
                        custom_objects={"w": np.ones(3), "s": "text"})
""" % str(WHERE))
    assert out.split() == ["float32", "[[0.0,", "1.0,", "2.0],", "[3.0,", "4.0,", "5.0]]",
                           "2026-11-28", "['a',", "'b']", "nan"]
    cli = json.loads(store.run("models", "get", "pickled", "-o", "json").stdout)
    assert cli.get("custom_objects", {}) == {}  # the C++ side reads JSON's values only
    got = bento.onnx.get("bentoml_pickled").custom_objects
    np.testing.assert_array_equal(got["w"], np.ones(3))
    assert got["s"] == "text"


def test_bad_input_raises_bentos_exceptions(store, tmp_path):
    with pytest.raises(bento.exceptions.InvalidArgument, match="not an ONNX model"):
        bento.onnx.save_model("bad", b"not a model")
    with pytest.raises(bento.exceptions.InvalidArgument, match="neither JSON nor pickled"):
        bento.onnx.save_model("bad", str(WHERE), custom_objects={"f": lambda x: x})
    with pytest.raises(bento.exceptions.InvalidArgument, match="a dict"):
        bento.onnx.save_model("bad", str(WHERE), custom_objects=["not", "a", "dict"])
    with pytest.raises(bento.exceptions.NotFound):
        bento.onnx.load_model("nope")
    bento.onnx.save_model("where", str(WHERE))
    with pytest.raises(bento.exceptions.InvalidArgument, match="BogusExecutionProvider"):
        bento.onnx.load_model("where", providers=["BogusExecutionProvider"])
    session = bento.onnx.load_model("where")
    with pytest.raises(bento.exceptions.InvalidArgument, match="condition"):
        session.run(None, {"condition": np.zeros((2, 2), np.float32),
                           "x": np.zeros((2, 2), np.int64), "y": np.zeros((2, 2), np.int64)})
    assert [m.tag.name for m in bento.models.list()] == ["where"]  # nothing else was written


def test_pip_installs_the_package_into_a_fresh_virtual_environment(tmp_path):
    """`pip install ./python` in a new venv (with bento's install tree on CMAKE_PREFIX_PATH,
    as `make python` gives it), then `import bento` there runs a model. The build tools and
    numpy come from the test venv, through a .pth file, so nothing is downloaded."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    ours = [p for p in sys.path if p.endswith("site-packages")]
    (site / "test-venv.pth").write_text("\n".join(ours) + "\n")
    env = {"CMAKE_PREFIX_PATH": str(ROOT / "build" / "python-prefix"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-deps",
                          "--no-index", "--no-build-isolation", "--target", str(site),
                          str(ROOT / "python")], env=env, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    home = tmp_path / "home"
    save = subprocess.run([str(ROOT / "build/bin/bento"), "models", "save",
                           str(ONNX_TESTDATA / "node/test_abs/model.onnx"), "--name", "abs"],
                          env={"BENTOML_HOME": str(home)}, capture_output=True, text=True)
    assert save.returncode == 0, save.stderr
    code = ("import bento, numpy as np; print(bento.__file__); x = -np.ones((3, 4, 5), "
            "np.float32); print(bento.onnx.load_model('abs').run(None, {'x': x})[0].sum())")
    out = subprocess.run([str(venv / "bin/python"), "-c", code], cwd=tmp_path,
                         env={"BENTOML_HOME": str(home)}, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # Only the program's own prints on stdout: bento logs to stderr.
    assert out.stdout.startswith(str(site)) and out.stdout.split()[-1] == "60.0", out.stdout
    assert "loaded abs" in out.stderr
