"""examples/dynamic_shapes end to end: the guide's DynamicONNXService over HTTP with batches of
several sizes, against onnxruntime on the same rows."""
import json

import numpy as np
import requests

from digits import assert_matches, heldout_rows, reference, served


service = served("dynamic_shapes")


def post(service, data):
    return requests.post(service.url + "/process_variable_input", json={"data": data})


def test_any_batch_size_matches_the_reference(service):
    x, _ = heldout_rows(17)
    for n in (1, 3, 17):
        data = x[:n].tolist()
        r = post(service, data)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["input_shape"] == [n, 64]
        assert out["output_shape"] == [n, 10]
        assert_matches(out["results"], reference(data))


def test_held_out_accuracy_is_the_recorded_one(service, bento):
    x, y = heldout_rows()
    r = post(service, x.tolist())
    assert r.status_code == 200, r.text
    accuracy = float((np.array(r.json()["results"]).argmax(axis=1) == y).mean())
    metadata = json.loads(bento.run("models", "get", "dynamic_model", "-o", "json").stdout)
    assert accuracy > 0.9
    assert abs(accuracy - metadata["metadata"]["accuracy"]) < 0.005


def test_bad_rows_are_400(service):
    r = post(service, [[1.0] * 64, [1.0] * 63])
    assert r.status_code == 400 and "rows must have equal lengths" in r.json()["error"]
    r = post(service, [[1.0, 2.0, 3.0]])
    assert r.status_code == 400 and "float32[batch, 64]" in r.json()["error"], r.text
    for bad in ([], "abc", [["x"] * 64]):
        r = post(service, bad)
        assert r.status_code == 400, (bad, r.text)
    # A tensor cannot be an object, so a body object without the parameter's name has a
    # wrong key, and the answer says which parameter the API takes.
    r = requests.post(service.url + "/process_variable_input", json={"inputs": [[1.0] * 64]})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == ("unknown parameter 'inputs'; process_variable_input takes: "
                                 "data"), r.text
