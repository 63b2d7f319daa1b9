"""Serve flags that once accepted nonsense are errors that state their range, on `bento serve`
and on a service executable alike; the server never starts on them."""
import subprocess

import pytest

from conftest import BENTO, BIN, Server

BAD = [
    (["--port", ""], "--port", "from 0 to 65535"),
    (["--port", "70000"], "--port", "from 0 to 65535"),
    (["--port", "-1"], "--port", "from 0 to 65535"),
    (["--workers", "-1"], "--workers", "from 0 to 1024"),
    (["--io-threads", "-2"], "--io-threads", "from 0 to 1024"),
    (["--timeout", "0"], "--timeout", "from 0.001 to 86400"),
    (["--timeout", "-3"], "--timeout", "from 0.001 to 86400"),
    (["--timeout", "1e999"], "--timeout", "from 0.001 to 86400"),
    (["--max-concurrency", "-1"], "--max-concurrency", "from 0 to 1000000"),
    (["--max-body-size", "-5"], "--max-body-size", "64MiB"),
    (["--max-body-size", "0"], "--max-body-size", "more than 0 bytes"),
]
SERVE_ONLY = [
    (["--grpc-port", "99999"], "--grpc-port", "from 0 to 65535"),
    (["--threads", "-2"], "--threads", "from 0 to 1024"),
    (["--max-batch-size", "0"], "--max-batch-size", "from 1 to 65536"),
    (["--max-inflight-batches", "0"], "--max-inflight-batches", "from 1 to 256"),
    (["--max-latency-ms", "0"], "--max-latency-ms", "from 0.1 to 86400000"),
]


def _run(command, bento):
    return subprocess.run(command, env=bento.env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("flags,flag,needle", BAD + SERVE_ONLY,
                         ids=[" ".join(f[0]) or "empty" for f in BAD + SERVE_ONLY])
def test_bento_serve_refuses_out_of_range_flags(bento, flags, flag, needle):
    proc = _run([str(BENTO), "serve", "anything", *flags], bento)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert flag in out and needle in out, out
    assert "serving" not in out, out


@pytest.mark.parametrize("flags,flag,needle", BAD, ids=[" ".join(f[0]) or "empty" for f in BAD])
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
