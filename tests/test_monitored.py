"""examples/monitored end to end: the guide's MonitoredONNXService answers with timing, request
counts and providers, counts correctly under concurrent requests, and exports the same numbers
on /metrics."""
import concurrent.futures

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from digits import assert_matches, heldout_rows, reference, served


service = served("monitored")


def predict(url, input_data, session=requests):
    r = session.post(url + "/predict_with_timing", json={"input_data": input_data})
    assert r.status_code == 200, r.text
    return r.json()


def metrics(service):
    text = requests.get(service.url + "/metrics").text
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
            if s.name.startswith("onnx_inference")}


def test_answers_carry_timing_counts_and_providers(service):
    x, _ = heldout_rows(6)
    times = []
    for i in range(1, 4):
        out = predict(service.url, x.tolist())
        assert_matches(out["predictions"], reference(x))
        assert out["total_requests"] == i
        assert out["providers"] == ["CPUExecutionProvider"]
        assert 0 < out["inference_time"] < 5
        times.append(out["inference_time"])
        assert out["average_time"] == pytest.approx(sum(times) / len(times), rel=1e-9)
    m = metrics(service)
    assert m["onnx_inference_requests_total"] == 3
    assert m["onnx_inference_time_seconds_total"] == pytest.approx(sum(times), rel=1e-6)
    assert m["onnx_inference_average_time_seconds"] == pytest.approx(sum(times) / 3, rel=1e-6)


def test_counts_are_exact_under_concurrent_requests(service):
    x, _ = heldout_rows(2)
    clients, rounds = 8, 25

    def client(_):
        with requests.Session() as session:
            return [predict(service.url, x.tolist(), session)["total_requests"]
                    for _ in range(rounds)]

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        seen = sorted(n for counts in pool.map(client, range(clients)) for n in counts)
    # Every request got its own count: no update was lost or doubled.
    assert seen == list(range(1, clients * rounds + 1))
    assert metrics(service)["onnx_inference_requests_total"] == clients * rounds


def test_bad_input_is_400_and_not_counted(service):
    r = requests.post(service.url + "/predict_with_timing", json={"input_data": [[1.0]]})
    assert r.status_code == 400, r.text
    assert metrics(service)["onnx_inference_requests_total"] == 0
