"""examples/batch_processing end to end: the guide's BatchONNXService runs many rows in chunks
of 32; each row's prediction must equal onnxruntime's on the same row, in order."""
import numpy as np
import pytest
import requests

from digits import assert_matches, heldout_rows, reference, served


service = served("batch_processing")


def batch_inference(service, inputs):
    return requests.post(service.url + "/batch_inference", json={"inputs": inputs})


@pytest.mark.parametrize("n", [70, 32, 1])
def test_chunks_match_the_reference_row_by_row(service, n):
    x, y = heldout_rows(n)  # 70 rows: chunks of 32, 32 and 6
    r = batch_inference(service, x.tolist())
    assert r.status_code == 200, r.text
    results = r.json()
    assert [item["input_index"] for item in results] == list(range(n))
    got = np.array([item["prediction"] for item in results])
    assert_matches(got, reference(x))
    assert (got.argmax(axis=1) == y).mean() > 0.9


def test_no_inputs_no_results(service):
    r = batch_inference(service, [])
    assert r.status_code == 200 and r.json() == []


def test_a_ragged_row_is_400(service):
    x, _ = heldout_rows(40)
    rows = x.tolist()
    rows[35] = rows[35][:10]
    r = batch_inference(service, rows)
    assert r.status_code == 400 and "row 35 has 10 values" in r.json()["error"], r.text
