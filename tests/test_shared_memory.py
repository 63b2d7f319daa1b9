"""The system shared-memory extension, driven by tritonclient's own shared-memory API over HTTP
and gRPC: regions registered, inputs read from them and outputs written into them (also
through the batcher), and every way a region could reach outside itself refused. The CUDA
routes answer on a server with no GPU."""
import os
import uuid

import numpy as np
import pytest
import requests
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
import tritonclient.utils.shared_memory as shm
from tritonclient.utils import InferenceServerException

from conftest import ONNX_TESTDATA, Server, _free_port, eventually

ADD_MODEL = ONNX_TESTDATA / "node" / "test_add" / "model.onnx"  # sum = x + y, FP32 [3, 4, 5]
RNG = np.random.default_rng(5)
X = RNG.standard_normal((3, 4, 5)).astype(np.float32)
Y = RNG.standard_normal((3, 4, 5)).astype(np.float32)
NBYTES = X.nbytes


@pytest.fixture
def server(bento, request):
    batchable = getattr(request, "param", [])
    bento.save(ADD_MODEL, "add", *batchable)
    grpc_port = _free_port()
    # Given a max, the add model is batched: timed at load, its Run is too quick to be.
    s = Server(bento, "add", "--grpc-port", str(grpc_port),
               *(["--max-batch-size", "32"] if batchable else []))
    s.grpc_port = grpc_port
    s.wait_ready()
    yield s
    assert s.stop() == 0, "".join(s.log)


@pytest.fixture
def regions():
    """Creates shared-memory objects with unique keys, and destroys them afterwards."""
    made = []

    def make(size):
        key = f"/bento-test-{uuid.uuid4().hex[:12]}"
        handle = shm.create_shared_memory_region(key[1:], key, size)
        made.append(handle)
        return key, handle

    yield make
    for handle in made:
        shm.destroy_shared_memory_region(handle)


def client_for(kind, server):
    if kind == "http":
        return httpclient, httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")
    return grpcclient, grpcclient.InferenceServerClient(f"127.0.0.1:{server.grpc_port}")


def infer_in_regions(module, client, out_name, out_size=NBYTES):
    inputs = [module.InferInput("x", list(X.shape), "FP32"),
              module.InferInput("y", list(Y.shape), "FP32")]
    inputs[0].set_shared_memory("in", NBYTES)                  # x at offset 0
    inputs[1].set_shared_memory("in", NBYTES, offset=NBYTES)   # y right after it
    output = module.InferRequestedOutput("sum")
    output.set_shared_memory(out_name, out_size)
    return client.infer("add", inputs, outputs=[output])


@pytest.mark.parametrize("server", [[], ["--batchable"]], indirect=True,
                         ids=["unbatched", "batched"])
@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_inputs_and_outputs_in_shared_memory(server, regions, kind):
    module, client = client_for(kind, server)
    in_key, in_handle = regions(2 * NBYTES)
    out_key, out_handle = regions(NBYTES)
    shm.set_shared_memory_region(in_handle, [X, Y])
    client.unregister_system_shared_memory()
    client.register_system_shared_memory("in", in_key, 2 * NBYTES)
    client.register_system_shared_memory("out", out_key, NBYTES)
    status = client.get_system_shared_memory_status()
    if kind == "http":
        assert sorted((r["name"], r["key"], r["byte_size"]) for r in status) == \
            sorted([("in", in_key, 2 * NBYTES), ("out", out_key, NBYTES)])
    else:
        assert set(status.regions) == {"in", "out"}
        assert status.regions["in"].key == in_key and status.regions["in"].byte_size == 2 * NBYTES
    for _ in range(3):  # again and again: the regions stay mapped
        result = infer_in_regions(module, client, "out")
        sent = result.get_output("sum")
        params = sent["parameters"] if kind == "http" else \
            {k: v.string_param or v.int64_param or v.uint64_param for k, v in sent.parameters.items()}
        assert params["shared_memory_region"] == "out"
        assert params["shared_memory_byte_size"] == NBYTES
        got = shm.get_contents_as_numpy(out_handle, np.float32, list(X.shape))
        np.testing.assert_array_equal(got, X + Y)
        shm.set_shared_memory_region(out_handle, [np.zeros_like(X)])  # prove the next write
    client.unregister_system_shared_memory("out")
    with pytest.raises(InferenceServerException, match="Unable to find"):
        infer_in_regions(module, client, "out")
    client.unregister_system_shared_memory()
    status = client.get_system_shared_memory_status()
    assert (status == []) if kind == "http" else (len(status.regions) == 0)


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_a_region_too_small_for_the_output_is_refused(server, regions, kind):
    module, client = client_for(kind, server)
    in_key, in_handle = regions(2 * NBYTES)
    out_key, _ = regions(16)
    shm.set_shared_memory_region(in_handle, [X, Y])
    client.register_system_shared_memory("in", in_key, 2 * NBYTES)
    client.register_system_shared_memory("small", out_key, 16)
    with pytest.raises(InferenceServerException, match="should be at least 240 bytes"):
        infer_in_regions(module, client, "small", out_size=16)
    # A request that names more than its region holds is refused before anything runs.
    with pytest.raises(InferenceServerException, match="outside shared memory region 'small'"):
        infer_in_regions(module, client, "small")


def test_regions_cannot_reach_anything_else(server, regions, tmp_path):
    url = f"{server.url}/v2/systemsharedmemory/region"
    key, _ = regions(64)
    link = f"/bento-test-link-{uuid.uuid4().hex[:8]}"
    os.symlink(tmp_path / "secret", f"/dev/shm{link}")
    (tmp_path / "secret").write_bytes(b"x" * 64)
    try:
        for bad_key, words in [("/../etc/passwd", "no other '/'"), ("etc", "no other '/'"),
                               ("/", "no other '/'"), (link, "Unable to open"),
                               ("/bento-test-missing", "Unable to open")]:
            r = requests.post(f"{url}/r/register", json={"key": bad_key, "byte_size": 8})
            assert r.status_code in (400, 404) and words in r.json()["error"], (bad_key, r.text)
    finally:
        os.unlink(f"/dev/shm{link}")
    for body, words in [({"key": key, "byte_size": 65}, "do not fit"),
                        ({"key": key, "byte_size": 8, "offset": 60}, "do not fit"),
                        ({"key": key, "byte_size": 0}, "byte_size 0"),
                        ({"key": key, "byte_size": -1}, "'byte_size'"),
                        ({"byte_size": 8}, "'key'")]:
        r = requests.post(f"{url}/r/register", json=body)
        assert r.status_code == 400 and words in r.json()["error"], (body, r.text)
    assert requests.post(f"{url}/r/register", data=b"{").status_code == 400
    assert requests.post(f"{url}/r/register", json={"key": key, "byte_size": 64}).status_code == 200
    r = requests.post(f"{url}/r/register", json={"key": key, "byte_size": 64})
    assert r.status_code == 409 and "already in manager" in r.json()["error"]
    # Offsets and sizes in a request are checked against the region.
    body = {"inputs": [{"name": n, "datatype": "FP32", "shape": [3, 4, 5],
                        "parameters": {"shared_memory_region": "r", "shared_memory_byte_size": 240,
                                       "shared_memory_offset": off}} for n, off in
                       (("x", 0), ("y", 2**64 - 8))]}
    r = requests.post(f"{server.url}/v2/models/add/infer", json=body)
    assert r.status_code == 400 and "outside shared memory region 'r'" in r.json()["error"]
    body["inputs"][0]["data"] = [0] * 60
    r = requests.post(f"{server.url}/v2/models/add/infer", json=body)
    assert r.status_code == 400 and "both data and a 'shared_memory_region'" in r.json()["error"]
    assert requests.get(f"{url}/nope/status").status_code == 404


def test_the_server_lists_the_extension_and_keeps_it_behind_the_api_key(bento, regions):
    bento.save(ADD_MODEL, "add")
    key, _ = regions(64)
    s = Server(bento, "add", "--api-key", "k")
    try:
        s.wait_ready()
        auth = {"Authorization": "Bearer k"}
        assert "system_shared_memory" in requests.get(f"{s.url}/v2", headers=auth).json()["extensions"]
        url = f"{s.url}/v2/systemsharedmemory/region/r/register"
        assert requests.post(url, json={"key": key, "byte_size": 64}).status_code == 401
        assert requests.get(f"{s.url}/v2/systemsharedmemory/status").status_code == 401
        assert requests.post(url, json={"key": key, "byte_size": 64}, headers=auth).status_code == 200
    finally:
        assert s.stop() == 0


@pytest.mark.parametrize("kind", ["http", "grpc"])
def test_cuda_shared_memory_answers_without_a_gpu(server, kind):
    _, client = client_for(kind, server)
    status = client.get_cuda_shared_memory_status()
    assert (status == []) if kind == "http" else (len(status.regions) == 0)
    client.unregister_cuda_shared_memory()
    client.unregister_cuda_shared_memory("any")
    with pytest.raises(InferenceServerException, match="needs a GPU build"):
        client.register_cuda_shared_memory("r", b"\0" * 64, 0, 64)


def test_grpc_shared_memory_calls_pass_the_same_policy(bento, regions):
    """The seam: the new gRPC calls need the API key, are counted on /metrics and logged, as
    every other call is; and gRPC inference waits in the worker queue under its model's name."""
    bento.save(ADD_MODEL, "add")
    grpc_port = _free_port()
    s = Server(bento, "add", "--api-key", "k", "--grpc-port", str(grpc_port))
    key, _ = regions(64)
    try:
        s.wait_ready()
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{grpc_port}")
        auth = {"authorization": "Bearer k"}
        with pytest.raises(InferenceServerException, match="API key"):
            client.register_system_shared_memory("r", key, 64)
        with pytest.raises(InferenceServerException, match="API key"):
            client.get_system_shared_memory_status()
        client.register_system_shared_memory("r", key, 64, headers=auth)
        assert set(client.get_system_shared_memory_status(headers=auth).regions) == {"r"}
        x = grpcclient.InferInput("x", list(X.shape), "FP32")
        y = grpcclient.InferInput("y", list(Y.shape), "FP32")
        x.set_data_from_numpy(X)
        y.set_data_from_numpy(Y)
        got = client.infer("add", [x, y], headers=auth).as_numpy("sum")
        np.testing.assert_array_equal(got, X + Y)

        def counted():
            metrics = requests.get(f"{s.url}/metrics", headers={"Authorization": "Bearer k"}).text
            register = "/inference.GRPCInferenceService/SystemSharedMemoryRegister"
            # Counted once admitted, as on every transport (a refused call has no endpoint).
            assert any(line.startswith(f'bentoml_service_request_total{{endpoint="{register}"')
                       and 'http_response_code="200"' in line for line in metrics.splitlines())
            infer = "/inference.GRPCInferenceService/ModelInfer"
            assert f'bento_request_queue_seconds_count{{endpoint="{infer}",model="add"' in metrics

        eventually(counted)
    finally:
        assert s.stop() == 0
    log = "".join(s.log)
    register = "POST /inference.GRPCInferenceService/SystemSharedMemoryRegister"
    assert f'"{register}" 401 ' in log and f'"{register}" 200 ' in log, log
