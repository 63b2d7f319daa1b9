"""The Open Inference Protocol (KServe v2) over HTTP and gRPC, with the real tritonclient:
health, metadata, and inference with JSON and binary tensors (HTTP) and raw contents (gRPC)
for several dtypes, compared with in-process onnxruntime."""
import numpy as np
import onnxruntime as ort
import pytest
import requests
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from conftest import ONNX_TESTDATA, Server, _free_port

MODELS = {  # name: ONNX backend test whose inputs/outputs cover a datatype
    "absf": "test_abs",                                   # FP32
    "argmax": "test_argmax_default_axis_example",          # FP32 in, INT64 out
    "and2d": "test_and2d",                                 # BOOL
    "tofp16": "test_cast_FLOAT_to_FLOAT16",                # FP16 out
    "strnorm": "test_strnormalizer_nostopwords_nochangecase",  # BYTES
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from conftest import Bento
    home = tmp_path_factory.mktemp("kserve") / "bentoml"
    home.mkdir()
    bento = Bento(home)
    for name, test in MODELS.items():
        bento.save(ONNX_TESTDATA / "node" / test / "model.onnx", name)
    s = Server(bento, *MODELS, "--grpc-port", _free_port())
    s.grpc = f"127.0.0.1:{s.args[-1]}"
    s.wait_ready()
    yield s
    s.stop()


def _inputs(name):
    session = ort.InferenceSession(str(ONNX_TESTDATA / "node" / MODELS[name] / "model.onnx"))
    rng = np.random.default_rng(1)
    feeds = {}
    for i in session.get_inputs():
        shape = [d if isinstance(d, int) else 2 for d in i.shape]
        if i.type == "tensor(bool)":
            feeds[i.name] = rng.random(shape) > 0.5
        elif i.type == "tensor(string)":
            feeds[i.name] = np.array(["monday", "Tuesday", "wednesday"][: shape[0]],
                                     dtype=object).reshape(shape)
        else:
            feeds[i.name] = rng.standard_normal(shape).astype(np.float32)
    return session, feeds


def _datatype(array):
    return {np.dtype(np.float32): "FP32", np.dtype(np.bool_): "BOOL",
            np.dtype(object): "BYTES"}[array.dtype]


@pytest.mark.parametrize("binary", [False, True])
@pytest.mark.parametrize("name", list(MODELS))
def test_infer_matches_onnxruntime(server, name, binary):
    client = httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")
    session, feeds = _inputs(name)
    inputs = []
    for input_name, array in feeds.items():
        x = httpclient.InferInput(input_name, list(array.shape), _datatype(array))
        x.set_data_from_numpy(array, binary_data=binary)
        inputs.append(x)
    outputs = [httpclient.InferRequestedOutput(o.name, binary_data=binary)
               for o in session.get_outputs()]
    result = client.infer(name, inputs, outputs=outputs, request_id="req-7")
    assert result.get_response()["id"] == "req-7"
    want = session.run(None, feeds)
    for o, w in zip(session.get_outputs(), want):
        got = result.as_numpy(o.name)
        if w.dtype == object:
            assert [g.decode() if isinstance(g, bytes) else g for g in got.ravel()] == \
                list(w.ravel())
        else:
            assert got.dtype == w.dtype, (got.dtype, w.dtype)
            np.testing.assert_array_equal(got, w)


def test_health_and_metadata(server):
    client = httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("argmax")
    meta = client.get_server_metadata()
    assert "binary_tensor_data" in meta["extensions"]
    model = client.get_model_metadata("argmax")
    assert model["inputs"][0]["datatype"] == "FP32"
    assert model["outputs"][0]["datatype"] == "INT64"
    assert model["platform"] == "onnxruntime_onnx"
    version = model["versions"][0]
    assert client.is_model_ready("argmax", model_version=version)
    assert client.get_model_config("argmax")["name"] == "argmax"


def test_statistics_count_inferences(server):
    client = httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")
    before = client.get_inference_statistics("absf")["model_stats"][0]
    session, feeds = _inputs("absf")
    x = httpclient.InferInput("x", list(feeds["x"].shape), "FP32")
    x.set_data_from_numpy(feeds["x"])
    for _ in range(3):
        client.infer("absf", [x])
    after = client.get_inference_statistics("absf")["model_stats"][0]
    assert after["inference_count"] == before["inference_count"] + 3
    stats = after["inference_stats"]
    assert stats["success"]["count"] == after["inference_count"]
    assert stats["compute_infer"]["ns"] > 0 and stats["compute_input"]["count"] >= 3
    assert after["last_inference"] > 0


def test_bad_requests_get_4xx_with_a_json_error(server):
    url = server.url + "/v2/models/absf/infer"
    cases = [
        ({"inputs": [{"name": "x", "shape": [3, 4, 5], "datatype": "INT64",
                      "data": [1] * 60}]}, 400),                      # wrong datatype
        ({"inputs": [{"name": "x", "shape": [3, 4, 5], "datatype": "FP32",
                      "data": [1.0] * 59}]}, 400),                    # shape vs data length
        ({"inputs": [{"name": "x", "shape": [3, 4, 5], "datatype": "FP32", "data": [1.0] * 60}],
          "outputs": [{"name": "nope"}]}, 400),                       # unknown output
    ]
    for body, code in cases:
        r = requests.post(url, json=body)
        assert r.status_code == code, r.text
        assert list(r.json()) == ["error"], r.text
    r = requests.post(server.url + "/v2/models/nope/infer", json=cases[0][0])
    assert r.status_code == 404 and "error" in r.json()
    header = b'{"inputs": [{"name": "x", "shape": [3, 4, 5], "datatype": "FP32", ' \
             b'"parameters": {"binary_data_size": 240}}]}'
    r = requests.post(url, data=header + b"\0" * 100,
                      headers={"Inference-Header-Content-Length": str(len(header)),
                               "Content-Type": "application/octet-stream"})
    assert r.status_code == 400 and "error" in r.json()
    with pytest.raises(InferenceServerException):
        httpclient.InferenceServerClient(f"127.0.0.1:{server.port}").get_model_metadata("nope")


def _same(got, want):
    if want.dtype == object:
        assert [g.decode() if isinstance(g, bytes) else g for g in got.ravel()] == list(want.ravel())
    else:
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", list(MODELS))
def test_grpc_infer_matches_onnxruntime(server, name):
    client = grpcclient.InferenceServerClient(server.grpc)
    session, feeds = _inputs(name)
    inputs = []
    for input_name, array in feeds.items():
        x = grpcclient.InferInput(input_name, list(array.shape), _datatype(array))
        x.set_data_from_numpy(array)
        inputs.append(x)
    outputs = [grpcclient.InferRequestedOutput(o.name) for o in session.get_outputs()]
    result = client.infer(name, inputs, outputs=outputs, request_id="req-9")
    assert result.get_response().id == "req-9"
    for o, w in zip(session.get_outputs(), session.run(None, feeds)):
        _same(result.as_numpy(o.name), w)


def test_grpc_health_metadata_config_and_statistics(server):
    client = grpcclient.InferenceServerClient(server.grpc)
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("argmax")
    assert "binary_tensor_data" in client.get_server_metadata().extensions
    model = client.get_model_metadata("argmax", as_json=True)
    assert model["inputs"][0]["datatype"] == "FP32"
    assert model["outputs"][0]["datatype"] == "INT64"
    assert model["platform"] == "onnxruntime_onnx"
    assert client.is_model_ready("argmax", model_version=model["versions"][0])
    config = client.get_model_config("tofp16", as_json=True)["config"]
    assert config["name"] == "tofp16"
    assert config["output"][0]["data_type"] == "TYPE_FP16"
    before = client.get_inference_statistics("absf", as_json=True)["model_stats"][0]
    session, feeds = _inputs("absf")
    x = grpcclient.InferInput("x", list(feeds["x"].shape), "FP32")
    x.set_data_from_numpy(feeds["x"])
    client.infer("absf", [x])
    after = client.get_inference_statistics("absf", as_json=True)["model_stats"][0]
    assert int(after["inference_count"]) == int(before.get("inference_count", 0)) + 1


def test_grpc_and_http_share_the_batcher(tmp_path, ocr_cls_model):
    """A batchable model's gRPC and HTTP requests meet in one batcher; both are right. (The
    max batch size is given: unbatched by its first request's timing, the model would have no
    batcher to meet in.)"""
    from conftest import Bento
    home = tmp_path / "bentoml"
    home.mkdir()
    bento = Bento(home)
    bento.save(ocr_cls_model, "cls", "--batchable")
    s = Server(bento, "cls", "--max-batch-size", "32", "--grpc-port", _free_port(),
               "--max-latency-ms", "2000")
    try:
        s.wait_ready()
        grpc = f"127.0.0.1:{s.args[-3]}"
        session = ort.InferenceSession(str(ocr_cls_model))
        rng = np.random.default_rng(3)
        images = [rng.standard_normal((1, 3, 48, 192)).astype(np.float32) for _ in range(8)]
        want = [session.run(None, {"x": im})[0] for im in images]

        def grpc_call(i):
            client = grpcclient.InferenceServerClient(grpc)
            x = grpcclient.InferInput("x", [1, 3, 48, 192], "FP32")
            x.set_data_from_numpy(images[i])
            return client.infer("cls", [x]).as_numpy(session.get_outputs()[0].name)

        def http_call(i):
            r = requests.post(s.url + "/run", json={"x": images[i].tolist()})
            assert r.status_code == 200, r.text
            return np.array(next(iter(r.json().values())), dtype=np.float32)

        import concurrent.futures
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda i: (grpc_call if i % 2 else http_call)(i), range(8)))
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
        # Every item of both transports went through the one batcher: its batch sizes add up
        # to the 8 requests (a gRPC call that bypassed it would leave the sum at 4).
        metrics = requests.get(s.url + "/metrics").text
        sums = [line for line in metrics.splitlines()
                if line.startswith('bentoml_service_adaptive_batch_size_sum{method_name="cls.run"')]
        assert len(sums) == 1 and float(sums[0].split()[-1]) == 8, sums
        count = [line for line in metrics.splitlines() if line.startswith(
            'bentoml_service_adaptive_batch_size_count{method_name="cls.run"')]
        batches = int(float(count[0].split()[-1]))
        # Statistics in Triton's meaning: items inferred, and model runs (batches).
        stats = httpclient.InferenceServerClient(f"127.0.0.1:{s.port}") \
            .get_inference_statistics("cls")["model_stats"][0]
        assert stats["inference_count"] == 8 and stats["execution_count"] == batches, stats
        assert stats["inference_stats"]["fail"].get("count", 0) == 0, stats
    finally:
        assert s.stop() == 0


def test_grpc_bad_requests_get_clear_status_codes(server):
    import grpc
    client = grpcclient.InferenceServerClient(server.grpc)

    def code_of(call):
        with pytest.raises(InferenceServerException) as e:
            call()
        return e.value.status()

    def infer(datatype, shape, array, outputs=None, model="absf"):
        x = grpcclient.InferInput("x", shape, datatype)
        x.set_data_from_numpy(array)
        return lambda: client.infer(model, [x], outputs=outputs)

    good = np.ones((3, 4, 5), dtype=np.float32)
    invalid = "StatusCode." + grpc.StatusCode.INVALID_ARGUMENT.name
    assert code_of(infer("INT64", [3, 4, 5], good.astype(np.int64))) == invalid  # wrong dtype
    assert code_of(infer("FP32", [3, 4, 5], good,
                         [grpcclient.InferRequestedOutput("nope")])) == invalid  # unknown output
    assert code_of(infer("FP32", [3, 4, 5], good, model="nope")) == \
        "StatusCode." + grpc.StatusCode.NOT_FOUND.name
    assert code_of(lambda: client.get_model_metadata("nope")) == \
        "StatusCode." + grpc.StatusCode.NOT_FOUND.name
    # A shape that does not match the data length: raw bytes for 59 elements, shape of 60.
    x = grpcclient.InferInput("x", [59], "FP32")
    x.set_data_from_numpy(np.ones((59,), dtype=np.float32))
    x.set_shape([3, 4, 5])
    assert code_of(lambda: client.infer("absf", [x])) == invalid


def test_unknown_models_use_tritons_wording(server):
    """Triton's clients check these texts (its own examples do, with startswith)."""
    http = httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")
    grpc_client = grpcclient.InferenceServerClient(server.grpc)
    for client in (http, grpc_client):
        with pytest.raises(InferenceServerException) as e:
            client.get_model_metadata("foo")
        assert e.value.message().startswith("Request for unknown model: 'foo' is not found")
        with pytest.raises(InferenceServerException) as e:
            client.get_model_metadata("absf", model_version="99")
        assert e.value.message().startswith(
            "Request for unknown model: 'absf' version 99 is not found")
    r = requests.post(f"http://127.0.0.1:{server.port}/v2/models/foo/infer", json={"inputs": []})
    assert r.status_code == 404 and r.json() == {
        "error": "Request for unknown model: 'foo' is not found"}


def test_openapi_lists_the_protocol_routes(server):
    """/docs.json (and so Swagger UI) lists KServe's routes under their own tag, with the
    messages' schemas, the binary form of inference, and 404 for an unknown model."""
    doc = requests.get(f"http://127.0.0.1:{server.port}/docs.json").json()
    tag = "Open Inference Protocol (KServe v2)"
    assert tag in [t["name"] for t in doc["tags"]]
    for path in ["/v2", "/v2/health/live", "/v2/health/ready", "/v2/models/{model}",
                 "/v2/models/{model}/ready", "/v2/models/{model}/config",
                 "/v2/models/{model}/stats", "/v2/models/{model}/versions/{version}/infer"]:
        operation = next(iter(doc["paths"][path].values()))
        assert operation["tags"] == [tag], path
    infer = doc["paths"]["/v2/models/{model}/infer"]["post"]
    assert set(infer["requestBody"]["content"]) == {"application/json",
                                                    "application/octet-stream"}
    schema = infer["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["inputs"]
    assert set(infer["responses"]["200"]["content"]) == {"application/json",
                                                         "application/octet-stream"}
    assert "404" in infer["responses"]
    metadata = doc["paths"]["/v2/models/{model}"]["get"]["responses"]["200"]
    assert metadata["content"]["application/json"]["schema"]["required"] == [
        "name", "platform", "inputs", "outputs"]


def test_the_input_format_comes_from_the_models_metadata(bento):
    """Triton's image clients read an image input's layout from the model's configuration;
    bento takes it from the metadata the model was saved with."""
    model = ONNX_TESTDATA / "node" / "test_abs" / "model.onnx"
    bento.save(model, "nchw", "--metadata", "input_format=NCHW")
    bento.save(model, "plain")
    s = Server(bento, "nchw", "plain", "--grpc-port", _free_port())
    try:
        s.wait_ready()
        http = httpclient.InferenceServerClient(f"127.0.0.1:{s.port}")
        grpc = grpcclient.InferenceServerClient(f"127.0.0.1:{s.args[-1]}")
        for name, want in (("nchw", "FORMAT_NCHW"), ("plain", "FORMAT_NONE")):
            assert http.get_model_config(name)["input"][0]["format"] == want
            config = grpc.get_model_config(name, as_json=True)["config"]
            # protobuf's JSON form leaves out a field at its default (FORMAT_NONE).
            assert config["input"][0].get("format", "FORMAT_NONE") == want
    finally:
        assert s.stop() == 0
