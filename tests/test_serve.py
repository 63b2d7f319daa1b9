"""`bento serve` end to end: the real server as a subprocess, called over real HTTP."""
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import time

import numpy as np
import onnxruntime as ort
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import BENTO, SANITIZER, Server, count_wrong_answers, eventually, in_progress


@pytest.fixture
def served(bento, ocr_cls_model):
    bento.save(ocr_cls_model, "ocr-cls")
    server = Server(bento, "ocr-cls:latest")
    server.wait_ready()
    yield server
    server.stop()


def _x(seed=0, batch=1):
    return np.random.default_rng(seed).random((batch, 3, 48, 192), dtype=np.float32)


@pytest.fixture(scope="module")
def reference(request):
    from conftest import OCR_MODELS
    session = ort.InferenceSession(str(OCR_MODELS / "ch_ppocr_mobile_v2.0_cls_infer.onnx"))
    return lambda x: session.run(None, {"x": x})[0]


def test_run_returns_the_outputs_by_name(served, reference, ocr_cls_model):
    x = _x()
    r = requests.post(served.url + "/run", json={"x": x.tolist()})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers["X-Request-Id"]
    out = r.json()
    assert list(out) == [o.name for o in ort.InferenceSession(str(ocr_cls_model)).get_outputs()]
    np.testing.assert_allclose(np.array(next(iter(out.values()))), reference(x), rtol=1e-5,
                               atol=1e-6)
    # The model's own route answers the same.
    r2 = requests.post(served.url + "/ocr-cls/run", json={"x": x.tolist()},
                       headers={"X-Request-Id": "abc-123"})
    assert r2.status_code == 200 and r2.json() == out
    assert r2.headers["X-Request-Id"] == "abc-123"


def test_infra_routes(served):
    assert requests.get(served.url + "/livez").status_code == 200
    assert requests.get(served.url + "/healthz").status_code == 200
    assert requests.get(served.url + "/readyz").status_code == 200
    doc = requests.get(served.url + "/docs.json").json()
    assert doc["openapi"].startswith("3.")
    schema = doc["paths"]["/run"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["x"]
    assert schema["properties"]["x"]["items"]["minItems"] == 3  # dims: [?, 3, 48, 192]
    assert "/ocr-cls/run" in doc["paths"]
    page = requests.get(served.url + "/")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert requests.get(served.url + "/static_content/swagger-ui-bundle.js").status_code == 200
    assert requests.get(served.url + "/static_content/../../etc/passwd").status_code == 404


@pytest.mark.parametrize("body, content_type, status, needle", [
    ('{"x": [1, 2', "application/json", 400, "JSON"),
    ("[1, 2, 3]", "application/json", 400, "the body must be a JSON object of named inputs"),
    ("{}", "application/json", 400, "missing input 'x'"),
    ('{"x": [[[[1.0]]]], "y": [1]}', "application/json", 400, "unknown input 'y'"),
    ('{"x": [[[["a"]]]]}', "application/json", 400,
     "input 'x': invalid value at [0][0][0][0]: expected a number for float32, got a string"),
    ('{"x": [[1.0, 2.0]]}', "application/json", 400, "expected x: float32["),
    ('{"x": [[[[1.0, 2.0], [3.0]]]]}', "application/json", 400, "ragged"),
    ("x=1", "application/x-www-form-urlencoded", 415, "content type"),
])
def test_bad_input_gets_its_status_and_a_json_error(served, body, content_type, status, needle):
    r = requests.post(served.url + "/run", data=body, headers={"Content-Type": content_type})
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert needle in r.json()["error"], r.json()


def test_unknown_route_method_and_big_body(bento, ocr_cls_model):
    bento.save(ocr_cls_model, "ocr-cls")
    server = Server(bento, "ocr-cls", "--max-body-size", "1MiB")
    server.wait_ready()
    try:
        r = requests.get(server.url + "/nope")
        assert r.status_code == 404 and "error" in r.json()
        r = requests.get(server.url + "/run")
        assert r.status_code == 405 and "error" in r.json()
        r = requests.post(server.url + "/run", data=b"[" + b"0," * (1 << 20) + b"0]",
                          headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "error" in r.json()
    finally:
        assert server.stop() == 0


def test_many_clients_get_exact_answers(served, reference):
    inputs = [_x(seed) for seed in range(16)]
    want = [reference(x) for x in inputs]
    bodies = [json.dumps({"x": x.tolist()}) for x in inputs]

    # 64 concurrent clients show a race at any volume; a sanitizer build, several times
    # slower, runs fewer rounds of them.
    rounds = 10 if SANITIZER else 50
    assert count_wrong_answers(served.url + "/run", bodies, want, clients=64, rounds=rounds,
                               same=np.array_equal) == 0


def test_metrics_parse_and_count_requests(served):
    def total(code):
        text = requests.get(served.url + "/metrics").text
        for family in text_string_to_metric_families(text):
            if family.name == "bentoml_service_request":
                return sum(s.value for s in family.samples if s.name.endswith("_total")
                           and s.labels["endpoint"] == "/run"
                           and s.labels["http_response_code"] == code)
        return 0

    before_ok, before_bad = total("200"), total("400")
    for _ in range(3):
        requests.post(served.url + "/run", json={"x": _x().tolist()})
    requests.post(served.url + "/run", json={})

    def counted():
        assert total("200") == before_ok + 3
        assert total("400") == before_bad + 1

    eventually(counted)
    text = requests.get(served.url + "/metrics").text
    names = {f.name for f in text_string_to_metric_families(text)}
    assert {"bentoml_service_request_duration_seconds", "bentoml_service_request_in_progress",
            "bento_request_queue_seconds"} <= names


def test_sigterm_finishes_requests_in_flight(bento, ocr_cls_model):
    bento.save(ocr_cls_model, "ocr-cls")
    server = Server(bento, "ocr-cls", "--workers", "1")
    server.wait_ready()
    # KServe's binary form: reading the body costs next to nothing, so the requests pile up
    # in the worker's queue whatever the build (JSON parsing under a sanitizer would take
    # longer than the model, and the requests would never overlap).
    x = _x(batch=64)
    header = json.dumps({"inputs": [{"name": "x", "shape": list(x.shape), "datatype": "FP32",
                                     "parameters": {"binary_data_size": x.nbytes}}]}).encode()
    url = server.url + "/v2/models/ocr-cls/infer"

    def call(_):
        reply = requests.post(url, data=header + x.tobytes(), timeout=120,
                              headers={"Inference-Header-Content-Length": str(len(header)),
                                       "Content-Type": "application/octet-stream"})
        return reply.status_code, time.monotonic()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(call, i) for i in range(8)]
        # The signal comes while at least four requests are admitted and unanswered: with
        # one worker, one runs and the others wait in its queue.
        deadline = time.monotonic() + 60
        while in_progress(server.url, "/v2/models/{model}/infer") < 4:
            assert time.monotonic() < deadline, "the requests never got in flight"
            time.sleep(0.005)
        signalled = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        answers = [f.result() for f in futures]
    assert [code for code, _ in answers] == [200] * 8
    # The drain was tested: requests in flight at the signal were answered after it.
    assert sum(at > signalled for _, at in answers) >= 3
    assert server.proc.wait(timeout=30) == 0


def test_sigterm_answers_a_request_whose_first_bytes_have_arrived(bento, ocr_cls_model):
    """A keep-alive connection with half a request in it is a request in flight, not an idle
    connection: shutdown answers it (then closes) instead of dropping it."""
    bento.save(ocr_cls_model, "ocr-cls")
    server = Server(bento, "ocr-cls")
    server.wait_ready()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        conn.sendall(b"GET /livez HTTP/1.1\r\n")  # the next request, begun
        time.sleep(0.2)  # nothing to poll: let the bytes reach the server before the signal
        server.proc.send_signal(signal.SIGTERM)

        def refused():  # the listener is closed: shutdown has begun
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            except OSError:
                return
            raise AssertionError("the server still accepts connections")

        eventually(refused)
        conn.sendall(b"Host: x\r\n\r\n")
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert b"Connection: close" in answer, answer
    assert server.proc.wait(timeout=30) == 0


def test_api_key_guards_apis_but_not_health(bento, ocr_cls_model):
    bento.save(ocr_cls_model, "ocr-cls")
    server = Server(bento, "ocr-cls", "--api-key", "s3cret")
    server.wait_ready()  # /readyz stays open
    try:
        body = {"x": _x().tolist()}
        r = requests.post(server.url + "/run", json=body)
        assert r.status_code == 401 and "API key" in r.json()["error"]
        assert r.headers["WWW-Authenticate"] == "Bearer"
        r = requests.post(server.url + "/run", json=body, headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401
        r = requests.post(server.url + "/run", json=body,
                          headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200, r.text
        assert requests.get(server.url + "/livez").status_code == 200
        assert requests.get(server.url + "/healthz").status_code == 200
        assert requests.get(server.url + "/metrics").status_code == 401
        assert requests.get(server.url + "/v2/models/ocr-cls").status_code == 401
        # Swagger UI loads without the key, and its document says how to give it.
        assert requests.get(server.url + "/").status_code == 200
        doc = requests.get(server.url + "/docs.json").json()
        assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
        assert doc["security"] == [{"bearer": []}]
        assert doc["paths"]["/readyz"]["get"]["security"] == []
    finally:
        assert server.stop() == 0


def test_a_server_with_nothing_to_serve_exits_non_zero(bento, ocr_cls_model):
    """Every model failing to load (an unknown provider) stops bento serve with the reason,
    instead of answering 503 for ever."""
    bento.save(ocr_cls_model, "ocr-cls")
    proc = subprocess.run([str(BENTO), "serve", "ocr-cls", "--port", "0", "--providers",
                           "Bogus"], env=bento.env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert "Bogus" in out and "nothing could be loaded" in out, out



def test_run_with_several_models_names_their_routes(bento, ocr_cls_model, ocr_rec_model):
    bento.save(ocr_cls_model, "cls")
    bento.save(ocr_rec_model, "rec")
    server = Server(bento, "cls", "rec")
    server.wait_ready()
    try:
        r = requests.post(server.url + "/run", json={"x": _x().tolist()})
        assert r.status_code == 404, r.text
        assert r.json()["error"] == ("2 models are served, so /run does not say which to run: "
                                     "use POST /cls/run, POST /rec/run")
        assert "/run" not in requests.get(server.url + "/docs.json").json()["paths"]
        assert requests.post(server.url + "/cls/run", json={"x": _x().tolist()}).status_code == 200
    finally:
        assert server.stop() == 0


def _queued_for_a_worker(families):
    """How many /run requests waited for an API worker, from /metrics' parsed families."""
    return sum(s.value for s in families["bento_request_queue_seconds"].samples
               if s.name.endswith("_count") and s.labels["endpoint"] == "/run")


def test_a_quick_model_runs_on_the_io_threads_under_the_same_policies(bento):
    """A model whose Run takes microseconds (the digits MLP) runs on the I/O thread that read
    its request once its first calls were timed on the worker pool, so fewer requests wait
    for a worker than are answered. Those requests keep every policy: the API key, exact
    answers under concurrent clients, request metrics and the access log."""
    from digits import DIGITS, heldout_rows, reference
    bento.save(DIGITS / "digits_mlp.onnx", "digits")
    # Under this test's load (eight Python clients on the server's cores) the digits handler
    # takes 80-95 us, at the default threshold (100 us), where a few stalled calls can send
    # it to the pool: a threshold ten times as high keeps it on the I/O threads.
    server = Server(bento, "digits", "--api-key", "s3cret", "--inline-below-us", "1000")
    server.wait_ready()
    rows, _ = heldout_rows(16)
    want = [reference(row[None]) for row in rows]
    clients, rounds = 8, 10 if SANITIZER else 40

    def client(k):
        wrong = 0
        with requests.Session() as s:
            for i in range(rounds):
                j = (k + i) % len(rows)
                r = s.post(server.url + "/run", json={"input": rows[j][None].tolist()},
                           headers={"Authorization": "Bearer s3cret",
                                    "X-Request-Id": f"quick-{k}-{i}"})
                ok = r.status_code == 200 and np.allclose(
                    next(iter(r.json().values())), want[j], rtol=1e-5, atol=1e-6)
                wrong += 0 if ok else 1
        return wrong

    try:
        with concurrent.futures.ThreadPoolExecutor(clients) as pool:
            assert sum(pool.map(client, range(clients))) == 0
        answered = clients * rounds
        r = requests.post(server.url + "/run", json={"input": rows[0][None].tolist()},
                          headers={"X-Request-Id": "quick-refused"})
        assert r.status_code == 401, r.text

        families = {f.name: f for f in text_string_to_metric_families(requests.get(
            server.url + "/metrics", headers={"Authorization": "Bearer s3cret"}).text)}
        ok = sum(s.value for s in families["bentoml_service_request"].samples
                 if s.name.endswith("_total") and s.labels["endpoint"] == "/run"
                 and s.labels["http_response_code"] == "200")
        assert ok == answered
        queued = _queued_for_a_worker(families)
        assert queued >= 16  # timed on the pool first
        if not SANITIZER:  # a sanitizer's slowdown can keep the model over the threshold
            assert queued < answered / 2, (queued, answered)
        log = server.wait_log("quick-refused")
        for k in range(clients):
            for i in range(rounds):
                assert f'"POST /run" 200' in log and f"id=quick-{k}-{i}" in log
        assert '"POST /run" 401' in log
    finally:
        assert server.stop() == 0


def test_inline_below_us_0_keeps_every_request_on_the_workers(bento):
    from digits import DIGITS, heldout_rows
    bento.save(DIGITS / "digits_mlp.onnx", "digits")
    server = Server(bento, "digits", "--inline-below-us", "0")
    server.wait_ready()
    try:
        rows, _ = heldout_rows(1)
        with requests.Session() as s:
            for _ in range(40):
                r = s.post(server.url + "/run", json={"input": rows[:1].tolist()})
                assert r.status_code == 200, r.text
        families = {f.name: f for f in text_string_to_metric_families(
            requests.get(server.url + "/metrics").text)}
        queued = _queued_for_a_worker(families)
        assert queued == 40
    finally:
        assert server.stop() == 0
