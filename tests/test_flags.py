"""Serve flags that once accepted nonsense are errors that state their range, on `bento serve`
and on a service executable alike; the server never starts on them. A service executable
takes every flag of `bento serve`, the model flags included, and they act on the models its
code loads."""
import subprocess

import grpc
import numpy as np
import pytest
import requests
import tritonclient.grpc as grpcclient
from PIL import Image

from conftest import BENTO, BIN, ExampleServer, Server, _free_port

CHELSEA = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png"

BAD = [
    (["--port", ""], "--port", "from 0 to 65535"),
    (["--port", "70000"], "--port", "from 0 to 65535"),
    (["--port", "-1"], "--port", "from 0 to 65535"),
    (["--workers", "-1"], "--workers", "from 0 to 1024"),
    (["--io-threads", "-2"], "--io-threads", "from 0 to 1024"),
    (["--inline-below-us", "-1"], "--inline-below-us", "from 0 to 1000000"),
    (["--timeout", "0"], "--timeout", "from 0.001 to 86400"),
    (["--timeout", "-3"], "--timeout", "from 0.001 to 86400"),
    (["--timeout", "1e999"], "--timeout", "from 0.001 to 86400"),
    (["--max-concurrency", "-1"], "--max-concurrency", "from 0 to 1000000"),
    (["--max-body-size", "-5"], "--max-body-size", "64MiB"),
    (["--max-body-size", "0"], "--max-body-size", "more than 0 bytes"),
]
MODEL_FLAGS = [
    (["--grpc-port", "99999"], "--grpc-port", "from 0 to 65535"),
    (["--threads", "-2"], "--threads", "from 0 to 1024"),
    (["--max-batch-size", "0"], "--max-batch-size", "from 1 to 65536"),
    (["--max-inflight-batches", "-1"], "--max-inflight-batches", "from 0 to 256"),
    (["--max-latency-ms", "0"], "--max-latency-ms", "from 0.1 to 86400000"),
]


def _run(command, bento):
    return subprocess.run(command, env=bento.env, capture_output=True, text=True, timeout=30)


ALL = BAD + MODEL_FLAGS


@pytest.mark.parametrize("flags,flag,needle", ALL, ids=[" ".join(f[0]) or "empty" for f in ALL])
def test_bento_serve_refuses_out_of_range_flags(bento, flags, flag, needle):
    proc = _run([str(BENTO), "serve", "anything", *flags], bento)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert flag in out and needle in out, out
    assert "serving" not in out, out


@pytest.mark.parametrize("flags,flag,needle", ALL, ids=[" ".join(f[0]) or "empty" for f in ALL])
def test_a_service_executable_refuses_them_too(bento, flags, flag, needle):
    proc = _run([str(BIN / "validated"), *flags], bento)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert flag in out and needle in out, out


@pytest.mark.parametrize("level,warned,logs_info", [
    ("bogus", True, True),   # not a level: warned about, and the server's default (info) holds
    ("warn", False, False),  # a level: it wins over the server's default
    ("INFO", False, True),   # in any case
])
def test_bento_log_level(bento, ocr_cls_model, level, warned, logs_info):
    bento.save(ocr_cls_model, "ocr-cls")
    bento.env["BENTO_LOG_LEVEL"] = level
    server = Server(bento, "ocr-cls")
    server.wait_ready()
    assert server.stop() == 0
    log = "".join(server.log)
    assert (f"BENTO_LOG_LEVEL={level} is not a level" in log) == warned, log
    assert (" info " in log) == logs_info, log


def test_a_service_takes_the_model_flags_and_serves_its_models_over_kserve(bento):
    """image_classifier's code asks for CUDA, then CPU: --providers replaces that, the
    batching flags reach the model's batcher, and its model answers KServe v2 over HTTP and
    gRPC, under the same API key as its own APIs."""
    bento.save_image_classifier()
    grpc_port = _free_port()
    server = ExampleServer(bento, "image_classifier", "--providers", "CPUExecutionProvider",
                           "--threads", "1", "--max-batch-size", "4", "--grpc-port", grpc_port,
                           "--api-key", "k")
    server.wait_ready()
    try:
        auth = {"Authorization": "Bearer k"}
        log = "".join(server.log)
        assert "with providers [CPUExecutionProvider]" in log and "CUDA" not in log, log
        config = requests.get(server.url + "/v2/models/image_classifier/config",
                              headers=auth).json()
        assert config["max_batch_size"] == 4
        # The service's API and the model behind it, over gRPC, agree on the class.
        with open(CHELSEA, "rb") as f:
            r = requests.post(server.url + "/classify_image", files={"image": f}, headers=auth)
        assert r.status_code == 200, r.text
        want = r.json()["predicted_class"]
        image = Image.open(CHELSEA).convert("RGB").resize((224, 224))
        x = (np.asarray(image, dtype=np.float32) / 255 - [0.485, 0.456, 0.406]) \
            / [0.229, 0.224, 0.225]
        x = x.transpose(2, 0, 1)[None].astype(np.float32)
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{grpc_port}")
        inp = grpcclient.InferInput("input", list(x.shape), "FP32")
        inp.set_data_from_numpy(x)
        out = client.infer("image_classifier", [inp], headers={"authorization": "Bearer k"})
        assert int(np.argmax(out.as_numpy("output")[0])) == want
        with pytest.raises(Exception) as refused:
            client.infer("image_classifier", [inp])
        assert grpc.StatusCode.UNAUTHENTICATED.name in str(refused.value)
        # /schema.json lists the service's own APIs only.
        routes = requests.get(server.url + "/schema.json").json()["routes"]
        assert {route["name"] for route in routes} == {"classify_image", "classify_batch"}
    finally:
        assert server.stop() == 0


def test_a_service_with_an_unknown_provider_says_so_and_exits(bento):
    bento.save_image_classifier()
    proc = _run([str(BIN / "image_classifier"), "--providers", "BogusExecutionProvider"], bento)
    assert proc.returncode == 1
    assert "BogusExecutionProvider" in proc.stdout + proc.stderr
