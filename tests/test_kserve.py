"""The Open Inference Protocol (KServe v2) over HTTP, with the real tritonclient: health,
metadata, and inference with JSON and binary tensors for several dtypes, compared with
in-process onnxruntime."""
import numpy as np
import onnxruntime as ort
import pytest
import requests
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from conftest import ONNX_TESTDATA, Server

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
    s = Server(bento, *MODELS)
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
        assert "error" in r.json()
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
