"""examples/validated end to end: the guide's ValidatedONNXService checks each input against the
model's spec (the symbolic batch dim takes any size) and answers 400 naming the expected shape
on a mismatch; valid inputs match onnxruntime."""
import pytest
import requests

from digits import assert_matches, heldout_rows, reference, served


service = served("validated")


def predict(service, input_data):
    return requests.post(service.url + "/predict", json={"input_data": input_data})


def test_valid_inputs_of_any_batch_size(service):
    x, _ = heldout_rows(9)
    for n in (1, 9):
        r = predict(service, x[:n].tolist())
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["success"] is True
        assert out["output_shape"] == [n, 10]
        assert_matches(out["predictions"], reference(x[:n]))


@pytest.mark.parametrize("rows,got", [
    ([[0.0] * 63], "float32[1, 63]"),
    ([[0.0] * 65] * 2, "float32[2, 65]"),
    ([], "float32[0, 0]"),
])
def test_a_wrong_shape_is_400_naming_the_expected_shape(service, rows, got):
    r = predict(service, rows)
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) == {"error", "detail"}
    assert "expected input: float32[batch, 64]" in body["error"], body
    assert got in body["error"], body


def test_non_numbers_are_400(service):
    r = predict(service, [["a"] * 64])
    assert r.status_code == 400 and "input_data" in r.json()["error"], r.text
    r = requests.post(service.url + "/predict", data="{not json",
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
