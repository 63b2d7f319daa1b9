"""Adaptive batching end to end: a batchable real model under concurrent clients."""
import concurrent.futures
import json

import numpy as np
import onnxruntime as ort
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import Server, count_wrong_answers


@pytest.fixture
def batched(bento, ocr_cls_model):
    bento.save(ocr_cls_model, "ocr-cls", "--batchable")
    server = Server(bento, "ocr-cls", "--max-batch-size", "16", "--max-latency-ms", "2000",
                    "--no-access-log")
    server.wait_ready()
    yield server
    assert server.stop() == 0


def _mean_batch_size(url):
    text = requests.get(url + "/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == "bentoml_service_adaptive_batch_size":
            total = sum(s.value for s in family.samples if s.name.endswith("_sum"))
            count = sum(s.value for s in family.samples if s.name.endswith("_count"))
            return total / count if count else 0.0
    return 0.0


def test_concurrent_requests_are_batched_and_answered_exactly(batched, ocr_cls_model):
    rng = np.random.default_rng(3)
    inputs = [rng.random((1, 3, 48, 192), dtype=np.float32) for _ in range(32)]
    session = ort.InferenceSession(str(ocr_cls_model))
    want = [session.run(None, {"x": x})[0] for x in inputs]  # unbatched
    bodies = [json.dumps({"x": x.tolist()}) for x in inputs]

    def close(got, w):
        return np.allclose(got, w, rtol=1e-5, atol=1e-6)

    assert count_wrong_answers(batched.url + "/run", bodies, want, clients=32, rounds=8,
                               same=close) == 0
    assert _mean_batch_size(batched.url) > 1.0
    names = {f.name for f in text_string_to_metric_families(requests.get(batched.url + "/metrics").text)}
    assert {"bento_batch_queue_wait_seconds", "bento_batch_shed", "bento_batch_inflight"} <= names


def test_a_bad_request_fails_alone(batched):
    good = json.dumps({"x": np.zeros((1, 3, 48, 192), dtype=np.float32).tolist()})
    bad = json.dumps({"x": np.zeros((1, 3, 48), dtype=np.float32).tolist()})

    def call(i):
        body = bad if i % 4 == 0 else good
        return i % 4 == 0, requests.post(batched.url + "/run", data=body,
                                         headers={"Content-Type": "application/json"}).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(64)))
    assert all(code == (400 if is_bad else 200) for is_bad, code in results)


def test_a_request_larger_than_max_batch_size_is_split(batched, ocr_cls_model):
    x = np.random.default_rng(5).random((40, 3, 48, 192), dtype=np.float32)
    r = requests.post(batched.url + "/run", json={"x": x.tolist()})
    assert r.status_code == 200, r.text
    got = np.array(next(iter(r.json().values())), dtype=np.float32)
    want = ort.InferenceSession(str(ocr_cls_model)).run(None, {"x": x})[0]
    assert got.shape == want.shape == (40, 2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
