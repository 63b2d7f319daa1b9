"""Hostile clients against a real `bento serve` of a real model: slow and idle connections,
oversized headers and bodies, path traversal in routes and tags, clients that leave in the
middle of a request, and the safe defaults (localhost, API key). The server must answer each
with a clear 4xx or a closed connection, never a crash, a hang, a 500 or a leak."""
import concurrent.futures
import io
import os
import pathlib
import socket
import tarfile
import threading
import time

import numpy as np
import pytest
import requests

from conftest import BIN, ExampleServer, Server, in_progress

HEADER_TIMEOUT_S = 10  # http::ServerOptions::header_timeout


@pytest.fixture
def served(bento, ocr_cls_model):
    bento.save(ocr_cls_model, "ocr-cls")
    server = Server(bento, "ocr-cls", "--max-body-size", "1MiB")
    server.wait_ready()
    yield server
    assert server.stop() == 0


def _body(seed=0):
    x = np.random.default_rng(seed).random((1, 3, 48, 192), dtype=np.float32)
    return ('{"x": %s}' % x.tolist()).encode()


def _raw(port, data, timeout=10):
    """Sends raw bytes, reads until the server closes; returns (status, whole answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, answer


def _open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def _settled_fds(pid):
    """The fewest descriptors over a quarter second: a connection its client just closed may
    still be open in the server for a moment."""
    counts = []
    for _ in range(5):
        time.sleep(0.05)
        counts.append(_open_fds(pid))
    return min(counts)


def _timed_run(url):
    start = time.monotonic()
    r = requests.post(url + "/run", data=_body(), headers={"Content-Type": "application/json"},
                      timeout=10)
    return r.status_code, time.monotonic() - start


def test_slow_and_idle_connections_do_not_starve_other_clients(served):
    port = served.port
    fds = _open_fds(served.proc.pid)
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(400)]
    # Slowloris: a header that never ends, one byte at a time.
    slow_headers = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
    # A body that never comes: Content-Length promises far more than is sent.
    slow_bodies = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
    for s in slow_headers:
        s.sendall(b"POST /run HTTP/1.1\r\nHost: x\r\n")
    for s in slow_bodies:
        s.sendall(b"POST /run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100000\r\n\r\n{\"x\": ")
    stop = threading.Event()

    def dribble():
        while not stop.wait(0.5):
            for s in slow_headers:
                try:
                    s.send(b"X")
                except OSError:
                    pass

    dribbler = threading.Thread(target=dribble)
    dribbler.start()
    try:
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: _timed_run(served.url), range(40)))
        assert all(status == 200 for status, _ in answers), answers
        assert max(t for _, t in answers) < 5, answers
        assert time.monotonic() - start < 10
        assert requests.get(served.url + "/livez", timeout=2).status_code == 200
        # The header timeout reclaims idle and dribbling connections, whatever they send.
        time.sleep(HEADER_TIMEOUT_S + 1 - (time.monotonic() - start))
        for s in idle + slow_headers:
            s.settimeout(5)
            try:
                assert s.recv(4096) == b""  # closed by the server, without an answer
            except ConnectionResetError:
                pass
    finally:
        stop.set()
        dribbler.join()
        for s in idle + slow_headers + slow_bodies:
            s.close()
    assert served.proc.poll() is None
    deadline = time.monotonic() + 5  # every descriptor comes back once the clients are gone
    while _open_fds(served.proc.pid) > fds and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _open_fds(served.proc.pid) <= fds


def test_header_and_body_limits(served):
    status, answer = _raw(served.port, b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: " +
                          b"a" * (20 << 10) + b"\r\n\r\n")
    assert status == 431 and b'"error"' in answer
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 100) for i in range(300))
    status, answer = _raw(served.port, b"GET /livez HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert status == 431
    # A declared length over --max-body-size is refused before the body is read.
    status, answer = _raw(served.port, b"POST /run HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n")
    assert status == 413 and b"limit" in answer
    # So is a chunked body that grows past it.
    chunk = b"%x\r\n%s\r\n" % (1 << 16, b"1" * (1 << 16))
    status, answer = _raw(served.port, b"POST /run HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
                          chunk * 20 + b"0\r\n\r\n")
    assert status == 413
    status, _ = _raw(served.port, b"GET /" + b"a" * (20 << 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 431  # the request line counts in the header limit
    # Malformed requests are 400s, not crashes.
    for bad in [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                b"POST /run HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                b"POST /run HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                # Both lengths at once is how requests are smuggled past proxies.
                b"POST /run HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"0\r\n\r\n",
                b"POST /run HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n",
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                b"GET /livez HTTP/1.1\r\nX: a\x00b\r\n\r\n"]:
        status, _ = _raw(served.port, bad)
        assert status == 400, bad
    assert _timed_run(served.url)[0] == 200


@pytest.mark.parametrize("route, body", [
    ("/run", b'{"x": ' + b"[" * 100000 + b"]" * 100000 + b"}"),
    ("/run", b"[" * 100000),
    ("/v2/models/ocr-cls/infer", b'{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], '
                                 b'"data": ' + b"[" * 100000 + b"]" * 100000 + b"}]}"),
    ("/v2/models/ocr-cls/infer", b'{"inputs": ' + b"{\"a\": " * 50000 + b"1" + b"}" * 50001),
])
def test_deeply_nested_json_is_a_400_not_a_stack_overflow(served, route, body):
    r = requests.post(served.url + route, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "error" in r.json(), r.text[:300]
    assert served.proc.poll() is None


@pytest.mark.parametrize("target", [
    "/static_content/../../../../../../etc/passwd",
    "/static_content/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/static_content/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/static_content/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/static_content/....//....//etc/passwd",
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/v2/models/../../../../etc/passwd",
    "/v2/models/..%2f..%2f..%2fetc%2fpasswd/config",
    "/v2/models/ocr-cls/versions/..%2f..%2f..%2fetc/ready",
    "/ocr-cls/../../../etc/passwd",
    "//etc/passwd",
])
def test_path_traversal_in_routes_is_refused(served, target):
    for method in (b"GET", b"POST"):
        status, answer = _raw(served.port, method + b" " + target.encode() +
                              b" HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                              b"Connection: close\r\n\r\n{}")
        assert status is not None and 400 <= status < 500, (method, target, answer[:200])
        assert b"root:" not in answer
        assert b'"error"' in answer
    # The real assets are still there.
    assert requests.get(served.url + "/static_content/swagger-ui.css").status_code == 200


def test_path_traversal_in_tags_is_refused(bento, ocr_cls_model, tmp_path):
    bento.save(ocr_cls_model, "ocr-cls")
    victim = bento.home.parent / "victim"
    victim.mkdir()
    (victim / "model.yaml").write_text("keep me")
    before = bento.snapshot()
    siblings = sorted(os.listdir(bento.home.parent))
    rel = os.path.relpath(victim, bento.home / "models")
    for args in [("models", "get", rel), ("models", "get", f"ocr-cls:../../{victim.name}"),
                 ("models", "delete", rel, "-y"), ("models", "delete", f"ocr-cls:{rel}", "-y"),
                 ("models", "delete", "ocr-cls:..", "-y"), ("models", "delete", "..:..", "-y"),
                 ("models", "save", ocr_cls_model, "--name", f"../{victim.name}"),
                 ("models", "save", ocr_cls_model, "--name", "a/b"),
                 ("models", "export", f"ocr-cls:../{victim.name}", tmp_path / "x.bentomodel"),
                 ("run", f"../{victim.name}", "--json", "{}"),
                 ("serve", rel, "--port", "0")]:
        proc = bento.run(*args, check=False, timeout=30)
        assert proc.returncode != 0, args
        assert "error" in proc.stderr.lower(), (args, proc.stderr)
    assert bento.snapshot() == before
    assert (victim / "model.yaml").read_text() == "keep me"
    assert sorted(os.listdir(bento.home.parent)) == siblings


def test_an_archive_with_traversal_is_refused_on_import(bento, ocr_cls_model, tmp_path):
    tag = bento.save(ocr_cls_model, "ocr-cls")
    good = tmp_path / "good.bentomodel.tar.gz"
    bento.run("models", "export", tag, good)
    evil = tmp_path / "evil.bentomodel.tar.gz"
    with tarfile.open(good) as src, tarfile.open(evil, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            if member.name.endswith("model.yaml"):
                data = data.replace(b"name: ocr-cls", b"name: ../../escaped")
                member.size = len(data)
            dst.addfile(member, None if data is None else io.BytesIO(data))
        extra = tarfile.TarInfo("../../escaped.txt")
        payload = b"outside"
        extra.size = len(payload)
        dst.addfile(extra, io.BytesIO(payload))
    before = bento.snapshot()
    proc = bento.run("models", "import", evil, check=False)
    assert proc.returncode != 0 and "error" in proc.stderr.lower()
    assert bento.snapshot() == before
    assert not list(tmp_path.parent.rglob("escaped*"))


def test_clients_that_leave_mid_request_cost_nothing(served):
    pid = served.proc.pid
    assert _timed_run(served.url)[0] == 200
    fds = _settled_fds(pid)
    body = _body()
    head = (b"POST /run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))

    def leave(kind):
        s = socket.create_connection(("127.0.0.1", served.port))
        if kind == 0:
            s.sendall(head[:20])  # in the header
        elif kind == 1:
            s.sendall(head + body[:100])  # in the body
        else:
            s.sendall(head + body)  # while the model runs
        if kind == 3:  # reset, not a clean close
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(leave, [i % 4 for i in range(200)]))
    # The descriptors are counted before asking /metrics, whose own connection the server may
    # not have closed yet when the count follows it at once (a sanitized server, seen once).
    deadline = time.monotonic() + 10
    while True:
        now_fds, requests_in_progress = _open_fds(pid), in_progress(served.url)
        if (now_fds <= fds and requests_in_progress == 0) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert now_fds <= fds
    assert requests_in_progress == 0
    assert served.proc.poll() is None
    assert _timed_run(served.url)[0] == 200


def _listen_address(pid, port):
    """The local address (hex, as in /proc/net/tcp) the process listens on at `port`."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            inodes.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:  # closed since the listing: not the listening socket
            pass
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in pathlib.Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) == port and fields[3] == "0A" and \
                    f"socket:[{fields[9]}]" in inodes:
                return address
    return None


def test_binds_localhost_by_default(bento, ocr_cls_model):
    bento.save(ocr_cls_model, "ocr-cls")
    server = Server(bento, "ocr-cls")
    server.wait_ready()
    try:
        assert _listen_address(server.proc.pid, server.port) == "0100007F"  # 127.0.0.1
    finally:
        assert server.stop() == 0
    server = Server(bento, "ocr-cls", "--host", "0.0.0.0")
    server.wait_ready()
    try:
        assert _listen_address(server.proc.pid, server.port) == "00000000"
    finally:
        assert server.stop() == 0


def test_api_key_from_the_environment_guards_a_cpp_service(bento):
    if not (BIN / "image_classifier").exists():
        pytest.skip("image_classifier is not built")
    bento.save_image_classifier()
    bento.env["BENTO_API_KEY"] = "k3y"
    server = ExampleServer(bento, "image_classifier")
    server.wait_ready()
    png = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data/chelsea.png").read_bytes()
    try:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "k3y"}):
            r = requests.post(server.url + "/classify_image", headers=headers,
                              files={"image": ("c.png", png, "image/png")})
            assert r.status_code == 401 and "error" in r.json(), headers
        assert requests.get(server.url + "/metrics").status_code == 401
        # The API's description is open (Swagger UI must load before the key is given).
        assert requests.get(server.url + "/docs.json").status_code == 200
        assert requests.get(server.url + "/livez").status_code == 200
        r = requests.post(server.url + "/classify_image",
                          headers={"Authorization": "Bearer k3y"},
                          files={"image": ("c.png", png, "image/png")})
        assert r.status_code == 200 and r.json()["predicted_class"] in range(281, 286), r.text
    finally:
        assert server.stop() == 0
