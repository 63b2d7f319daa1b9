"""KServe's v1 protocol, against its specification (KServe's "V1 Inference Protocol", which is
TF Serving's REST predict API): GET /v1/models/<name> answers {"name", "ready"};
POST /v1/models/<name>:predict takes {"instances": [rows]} (row format) or {"inputs": ...}
(columnar format) and answers {"predictions": [...]}: the output's rows for one output, an
object by output name per row for several; errors are {"error": "..."} with a 4xx code."""
import numpy as np
import onnxruntime as ort
import pytest
import requests

from conftest import ONNX_TESTDATA, ROOT, Server

DIGITS = ROOT / ".deps" / "models" / "digits_mlp" / "digits_mlp.onnx"  # input [batch, 64]
ADD = ONNX_TESTDATA / "node" / "test_add" / "model.onnx"  # x, y [3, 4, 5] -> sum
DROPOUT = ONNX_TESTDATA / "node" / "test_dropout_default_mask" / "model.onnx"  # x -> y, z
RNG = np.random.default_rng(5)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from conftest import Bento
    home = tmp_path_factory.mktemp("v1") / "bentoml"
    home.mkdir()
    bento = Bento(home)
    bento.save(DIGITS, "digits")
    bento.save(ADD, "adder")
    bento.save(DROPOUT, "dropout")
    server = Server(bento, "digits", "adder", "dropout")
    server.wait_ready()
    yield server
    assert server.stop() == 0


def predict(served, name, body):
    return requests.post(f"{served.url}/v1/models/{name}:predict", json=body)


def test_model_status_and_list(served):
    r = requests.get(served.url + "/v1/models/digits")
    assert r.status_code == 200 and r.json() == {"name": "digits", "ready": True}
    assert requests.get(served.url + "/v1/models").json() == {
        "models": ["digits", "adder", "dropout"]}
    r = requests.get(served.url + "/v1/models/nope")
    assert r.status_code == 404 and "unknown model" in r.json()["error"]


def test_row_format_one_input_is_a_batch_of_rows(served):
    rows = RNG.random((3, 64)).astype(np.float32)
    r = predict(served, "digits", {"instances": rows.tolist()})
    assert r.status_code == 200, r.text
    want = ort.InferenceSession(str(DIGITS)).run(None, {"input": rows})[0]
    got = np.array(r.json()["predictions"], dtype=np.float32)
    assert got.shape == (3, 10)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_row_format_several_inputs_are_objects_by_name(served):
    x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    y = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    instances = [{"x": x[i].tolist(), "y": y[i].tolist()} for i in range(3)]
    r = predict(served, "adder", {"instances": instances})
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    assert len(predictions) == 3  # one row per instance
    np.testing.assert_array_equal(np.array(predictions, dtype=np.float32), x + y)


def test_columnar_format(served):
    x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    y = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    r = predict(served, "adder", {"inputs": {"x": x.tolist(), "y": y.tolist()}})
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(np.array(r.json()["predictions"], dtype=np.float32), x + y)
    rows = RNG.random((2, 64)).astype(np.float32)
    r = predict(served, "digits", {"inputs": rows.tolist()})  # the one input's whole value
    assert r.status_code == 200 and len(r.json()["predictions"]) == 2


def test_several_outputs_are_objects_by_name_per_row(served):
    x = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    r = predict(served, "dropout", {"instances": x.tolist()})
    assert r.status_code == 200, r.text
    predictions = r.json()["predictions"]
    assert len(predictions) == 3 and all(set(p) == {"y", "z"} for p in predictions)
    want_y, want_z = ort.InferenceSession(str(DROPOUT)).run(None, {"x": x})
    for i, p in enumerate(predictions):
        np.testing.assert_array_equal(np.array(p["y"], dtype=np.float32), want_y[i])
        assert np.array(p["z"]).tolist() == want_z[i].tolist()


@pytest.mark.parametrize("name, body, words", [
    ("adder", {}, "\"instances\""),
    ("adder", {"instances": [], "inputs": {}}, "\"instances\""),
    ("adder", {"instances": []}, "non-empty"),
    ("adder", {"instances": [{"x": [[0.0] * 5] * 4}]}, "no input 'y'"),
    ("adder", {"inputs": [[1.0]]}, "object by input name"),
    ("digits", {"instances": [[1.0, 2.0]]}, "64"),
    ("nope", {"instances": [[1.0]]}, "unknown model"),
])
def test_bad_requests_are_4xx_with_an_error(served, name, body, words):
    r = predict(served, name, body)
    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()) == {"error"} and words in r.json()["error"], r.text
    r = requests.post(f"{served.url}/v1/models/adder:predict", data=b"{not json",
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "not valid JSON" in r.json()["error"]


def test_the_api_key_and_request_metrics_cover_v1_too(bento):
    """v1's routes are ordinary routes of the one road: the same Admission applies."""
    bento.save(ADD, "adder")
    server = Server(bento, "adder", "--api-key", "k3y")
    try:
        server.wait_ready()
        x = np.ones((3, 4, 5), dtype=np.float32)
        body = {"inputs": {"x": x.tolist(), "y": x.tolist()}}
        url = f"{server.url}/v1/models/adder:predict"
        r = requests.post(url, json=body)
        assert r.status_code == 401 and "WWW-Authenticate" in r.headers
        assert requests.get(f"{server.url}/v1/models/adder").status_code == 401
        r = requests.post(url, json=body, headers={"Authorization": "Bearer k3y"})
        assert r.status_code == 200, r.text
        np.testing.assert_array_equal(np.array(r.json()["predictions"]), x + x)
        metrics = requests.get(server.url + "/metrics",
                               headers={"Authorization": "Bearer k3y"}).text
        assert 'endpoint="/v1/models/{model}:predict"' in metrics
    finally:
        assert server.stop() == 0
