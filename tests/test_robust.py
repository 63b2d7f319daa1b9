"""examples/robust end to end: the guide's RobustONNXService warms its model up at start-up;
without a usable model (none stored, or a corrupt file) it stays up, /readyz answers 503 and
predict answers 503 {"error": "Model not available"} instead of crashing."""
import pathlib

import pytest
import requests

from digits import assert_matches, heldout_rows, reference, save_model, start


def predict(server, input_data):
    return requests.post(server.url + "/predict", json={"input_data": input_data})


def test_predictions_match_the_reference(bento):
    save_model(bento, "robust")
    server = start(bento, "robust")
    x, _ = heldout_rows(4)
    r = predict(server, x.tolist())
    assert r.status_code == 200, r.text
    assert r.json()["success"] is True
    assert_matches(r.json()["predictions"], reference(x))
    r = predict(server, [[1.0] * 8])
    assert r.status_code == 400 and "float32[batch, 64]" in r.json()["error"], r.text
    assert server.stop() == 0


def assert_unavailable(server):
    assert requests.get(server.url + "/readyz").status_code == 503
    assert requests.get(server.url + "/livez").status_code == 200
    for _ in range(3):  # the process keeps answering
        r = predict(server, [[0.0] * 64])
        assert r.status_code == 503, r.text
        assert r.json() == {"error": "Model not available", "detail": None}
        assert r.headers["Retry-After"] == "1"
    log = "".join(server.log)
    assert "Model initialization failed" in log
    assert server.stop() == 0


def test_no_model_in_the_store_is_503(bento):
    server = start(bento, "robust", ready=False)
    assert_unavailable(server)
    assert "robust_model" in "".join(server.log)


@pytest.mark.parametrize("garbage", [b"\x00\x01 this is not an onnx model \xff" * 100, b""])
def test_a_corrupt_model_file_is_503(bento, garbage):
    save_model(bento, "robust")
    path = pathlib.Path(bento.run("models", "get", "robust_model", "-o", "path").stdout.strip())
    (path / "saved_model.onnx").write_bytes(garbage)
    server = start(bento, "robust", ready=False)
    assert_unavailable(server)
