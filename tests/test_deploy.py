"""What a cluster hands bento, end to end: `bento serve --model-dir` on what KServe's storage
initializer leaves in /mnt/models (an .onnx, an archive, a model folder, Triton's layout, a
store), served under the InferenceService's name with KServe's own flag spellings and never
written to; and logs as one JSON object per line."""
import hashlib
import json
import pathlib
import shutil

import numpy as np
import pytest
import requests
import tritonclient.http as triton_http

from conftest import ONNX_TESTDATA, Server, eventually

ADD_MODEL = ONNX_TESTDATA / "node" / "test_add" / "model.onnx"  # sum = x + y, float [3, 4, 5]
RNG = np.random.default_rng(11)
X = RNG.standard_normal((3, 4, 5)).astype(np.float32)
Y = RNG.standard_normal((3, 4, 5)).astype(np.float32)


def tree(root):
    """Every file under `root` with the sha256 of its bytes: to prove nothing was written."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(pathlib.Path(root).rglob("*")) if p.is_file()}


def triton_add(port, name):
    client = triton_http.InferenceServerClient(f"127.0.0.1:{port}")
    inputs = [triton_http.InferInput("x", list(X.shape), "FP32"),
              triton_http.InferInput("y", list(Y.shape), "FP32")]
    inputs[0].set_data_from_numpy(X, binary_data=True)
    inputs[1].set_data_from_numpy(Y, binary_data=True)
    return client.infer(name, inputs).as_numpy("sum")


class ModelDirServer(Server):
    """`bento serve ARGS...` with TMPDIR set, so the private store's place is known."""

    def __init__(self, bento, tmpdir, *args):
        self.tmpdir = tmpdir
        tmpdir.mkdir(exist_ok=True)
        bento.env = dict(bento.env, TMPDIR=str(tmpdir))
        super().__init__(bento, *args)


def serve_and_check(bento, tmp_path, mnt, *flags, name="isvc"):
    """Serves `mnt` with `flags`, checks the answer under `name` and that `mnt` is unchanged
    and the private store gone once the server stops."""
    before = tree(mnt)
    server = ModelDirServer(bento, tmp_path / "tmp", *flags)
    try:
        server.wait_ready()
        assert requests.get(f"{server.url}/v2/models/{name}/ready").status_code == 200
        np.testing.assert_array_equal(triton_add(server.port, name), X + Y)
        assert list((tmp_path / "tmp").glob("bento-models-*")), "no private store while serving"
    finally:
        assert server.stop() == 0, "".join(server.log)
    assert tree(mnt) == before, "the model folder was written to"
    assert not list((tmp_path / "tmp").glob("bento-models-*")), "the private store was left"


def test_a_single_onnx_file_under_the_inference_services_name(bento, tmp_path):
    mnt = tmp_path / "mnt" / "models"
    mnt.mkdir(parents=True)
    shutil.copy(ADD_MODEL, mnt / "model.onnx")
    serve_and_check(bento, tmp_path, mnt, "--model-dir", mnt / "model.onnx", "--model-name",
                    "isvc")


def test_kserve_spellings_and_a_folder_holding_one_onnx(bento, tmp_path):
    mnt = tmp_path / "mnt" / "models"
    mnt.mkdir(parents=True)
    shutil.copy(ADD_MODEL, mnt / "model.onnx")
    serve_and_check(bento, tmp_path, mnt, f"--model_dir={mnt}", "--model_name", "isvc")


def test_a_bentomodel_archive_in_the_folder(bento, tmp_path):
    bento.save(ADD_MODEL, "adder")
    mnt = tmp_path / "mnt" / "models"
    mnt.mkdir(parents=True)
    bento.run("models", "export", "adder", mnt / "adder.bentomodel")
    shutil.rmtree(bento.home / "models")  # served from the archive alone
    serve_and_check(bento, tmp_path, mnt, mnt, "--model-name", "isvc")  # positional path


def test_tritons_layout_and_a_bentoml_model_folder(bento, tmp_path):
    triton = tmp_path / "repo"
    (triton / "isvc" / "1").mkdir(parents=True)
    shutil.copy(ADD_MODEL, triton / "isvc" / "1" / "model.onnx")
    serve_and_check(bento, tmp_path, triton / "isvc", "--model-dir", triton / "isvc",
                    "--model-name", "isvc")
    bento.save(ADD_MODEL, "isvc")
    version = pathlib.Path(bento.run("models", "get", "isvc", "-o", "path").stdout.strip())
    copy = tmp_path / "bentoml-folder" / "isvc" / version.name
    shutil.copytree(version, copy)
    shutil.rmtree(bento.home / "models")
    serve_and_check(bento, tmp_path, copy, "--model-dir", copy)  # named by its folder


def test_a_store_root_serves_every_model_in_place(bento, tmp_path):
    bento.save(ADD_MODEL, "isvc")
    bento.save(ADD_MODEL, "other")
    store = tmp_path / "store"
    shutil.copytree(bento.home, store)
    shutil.rmtree(bento.home / "models")
    before = tree(store)
    server = ModelDirServer(bento, tmp_path / "tmp", "--model-dir", store)
    try:
        server.wait_ready()
        for name in ("isvc", "other"):
            np.testing.assert_array_equal(triton_add(server.port, name), X + Y)
    finally:
        assert server.stop() == 0
    assert tree(store) == before


@pytest.mark.parametrize("layout, words", [
    ("two", "must hold one model"),
    ("empty", "it holds none"),
    ("missing", "does not exist"),
])
def test_a_folder_that_holds_no_one_model_is_a_clear_error(bento, tmp_path, layout, words):
    mnt = tmp_path / "mnt"
    if layout != "missing":
        mnt.mkdir()
    if layout == "two":
        shutil.copy(ADD_MODEL, mnt / "a.onnx")
        shutil.copy(ADD_MODEL, mnt / "b.onnx")
    server = ModelDirServer(bento, tmp_path / "tmp", "--model-dir", mnt)
    assert server.proc.wait(timeout=60) != 0
    def logged():
        assert words in "".join(server.log), "".join(server.log)
    eventually(logged)
    assert not list((tmp_path / "tmp").glob("bento-models-*"))


def test_json_logs_are_one_object_per_line(bento, tmp_path):
    bento.save(ADD_MODEL, "adder")
    server = Server(bento, "adder", "--log-format", "json")
    try:
        server.wait_ready()
        requests.post(server.url + "/run", json={"x": X.tolist(), "y": Y.tolist()})
    finally:
        assert server.stop() == 0
    lines = [line for line in "".join(server.log).splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all(set(r) == {"time", "level", "message"} for r in records), records
    assert any('"POST /run" 200' in r["message"] for r in records), records  # quotes escaped
