"""KServe's own storage initializer in front of bento: PyPI's kserve-storage (the code of
KServe's storage-initializer init container) fetches the add model over plain HTTP from a
loopback server into what stands for /mnt/models, as a plain .onnx, as a .tar.gz and a .zip
of a model folder (which it unpacks), and as a .bentomodel exported by `bento models export`
(which it leaves as it is). The folder is then made read-only, as KServe mounts it in the
serving container, and `bento serve --model-dir` with KServe's flag spellings answers
tritonclient over HTTP and gRPC, exactly, under the InferenceService's name, without writing
to the folder and without leaving its private store behind."""
import functools
import http.server
import pathlib
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile

import numpy as np
import pytest
import requests
import tritonclient.grpc as triton_grpc

from conftest import _free_port
from test_deploy import ADD_MODEL, X, Y, ModelDirServer, tree, triton_add

# What KServe's initializer-entrypoint does with its two arguments (src_uri, dest_path), in a
# process of its own as the init container is.
INITIALIZER = ("import sys; from kserve_storage import Storage; "
               "Storage.download_files([sys.argv[1]], [sys.argv[2]])")


class Bucket(http.server.SimpleHTTPRequestHandler):
    """Serves a folder as an object store does. kserve-storage insists on the Content-Type:
    a gzip or tar type for .tar.gz, a zip type for .zip and application/octet-stream for any
    other file, so it is set here rather than left to the machine's /etc/mime.types."""

    def guess_type(self, path):
        return {".gz": "application/gzip", ".zip": "application/zip"}.get(
            pathlib.PurePath(path).suffix, "application/octet-stream")


@pytest.fixture
def bucket(tmp_path):
    """A loopback HTTP server of a fresh folder: (the folder, its base URL)."""
    root = tmp_path / "bucket"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Bucket, directory=str(root)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def read_only():
    """Makes folders read-only (chmod -R a-w) and writable again at teardown, for pytest."""
    made = []

    def make(root):
        made.append(root)
        subprocess.run(["chmod", "-R", "a-w", root], check=True)
    yield make
    for root in made:
        subprocess.run(["chmod", "-R", "u+w", root], check=True)


def model_folder(tmp_path):
    folder = tmp_path / "src" / "adder"
    folder.mkdir(parents=True)
    shutil.copy(ADD_MODEL, folder / "model.onnx")
    return folder


# Each layout puts one file in the bucket and says what kserve-storage leaves in /mnt/models.
def plain_onnx(bento, tmp_path, bucket):
    shutil.copy(ADD_MODEL, bucket / "model.onnx")
    return "model.onnx", {"model.onnx"}


def tar_gz(bento, tmp_path, bucket):
    folder = model_folder(tmp_path)
    with tarfile.open(bucket / "model.tar.gz", "w:gz") as tar:
        tar.add(folder, arcname="adder")  # tar czf model.tar.gz adder
    return "model.tar.gz", {"adder/model.onnx"}


def zip_flat(bento, tmp_path, bucket):
    folder = model_folder(tmp_path)
    with zipfile.ZipFile(bucket / "model.zip", "w") as z:
        z.write(folder / "model.onnx", "model.onnx")  # cd adder && zip model.zip model.onnx
    return "model.zip", {"model.onnx"}


def bentomodel(bento, tmp_path, bucket):
    bento.save(ADD_MODEL, "adder")
    bento.run("models", "export", "adder", bucket / "adder.bentomodel")
    shutil.rmtree(bento.home / "models")  # served from the download alone
    return "adder.bentomodel", {"adder.bentomodel"}


class KServeServer(ModelDirServer):
    """`bento serve` as a KServe ServingRuntime starts it: --model-dir /mnt/models
    --model_name {{.Name}} --http_port 8080 --grpc_port 8081, on free ports."""

    port_flag = "--http_port"

    def __init__(self, bento, tmpdir, mnt, name):
        self.grpc_port = _free_port()
        super().__init__(bento, tmpdir, "--model-dir", mnt, "--model_name", name,
                         "--grpc_port", self.grpc_port)


def triton_grpc_add(port, name):
    client = triton_grpc.InferenceServerClient(f"127.0.0.1:{port}")
    assert client.is_model_ready(name)
    inputs = [triton_grpc.InferInput("x", list(X.shape), "FP32"),
              triton_grpc.InferInput("y", list(Y.shape), "FP32")]
    inputs[0].set_data_from_numpy(X)
    inputs[1].set_data_from_numpy(Y)
    return client.infer(name, inputs).as_numpy("sum")


def snapshot(root):
    """tree() and every folder's mtime: root is not stopped by chmod, but a file made (and
    even removed again) in a folder changes the folder's mtime."""
    return tree(root), {str(p): p.stat().st_mtime_ns
                        for p in [root, *root.rglob("*")] if p.is_dir()}


@pytest.mark.parametrize("layout", [plain_onnx, tar_gz, zip_flat, bentomodel],
                         ids=lambda f: f.__name__)
def test_what_kserves_storage_initializer_downloads_is_served(bento, tmp_path, bucket,
                                                               read_only, layout):
    root, url = bucket
    filename, left = layout(bento, tmp_path, root)
    mnt = tmp_path / "mnt" / "models"
    subprocess.run([sys.executable, "-c", INITIALIZER, f"{url}/{filename}", mnt], check=True,
                   timeout=120)
    assert set(tree(mnt)) == left, "kserve-storage left something else in the folder"
    read_only(mnt)
    before = snapshot(mnt)

    server = KServeServer(bento, tmp_path / "tmp", mnt, "isvc")
    try:
        server.wait_ready()
        assert requests.get(f"{server.url}/v2/models/isvc/ready").status_code == 200
        np.testing.assert_array_equal(triton_add(server.port, "isvc"), X + Y)
        np.testing.assert_array_equal(triton_grpc_add(server.grpc_port, "isvc"), X + Y)
    finally:
        assert server.stop() == 0, "".join(server.log)
    assert snapshot(mnt) == before, "the model folder was written to"
    assert not list((tmp_path / "tmp").glob("bento-models-*")), "the private store was left"
