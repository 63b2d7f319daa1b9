"""Scale-out: three bento processes behind Debian's HAProxy, health-checked on /readyz, are
replaced one at a time while a load generator posts KServe v2 inference requests through
HAProxy: SIGTERM; bento stops accepting, answers the requests in flight (one of them, half sent
when the signal comes, is checked directly) and exits 0; HAProxy sees it down; a new process
starts on the same port; HAProxy sees it up and sends it its share. Not one request fails or
gets an answer other than exactly X + Y, and the test reports how many were served."""
import csv
import http.client
import json
import signal
import socket
import subprocess
import threading
import time

import numpy as np
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import Server, _free_port, eventually
from test_deploy import ADD_MODEL, X, Y

REPLICAS = 3
CLIENTS = 4
SHARE = 50  # requests a new process serves before the next one is replaced

HAPROXY_CONFIG = """\
global
    # The runtime API, for `show stat`: whether HAProxy sees each server UP or DOWN.
    stats socket ipv4@127.0.0.1:{stats_port} level admin

defaults
    mode http
    # Loopback: a server that is gone refuses the connection at once; 1s is a generous bound.
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    # A request that fails in one of the ways below is sent again (up to 3 times), each time
    # to another server ("redispatch 1": on every retry, not only the last).
    retries 3
    option redispatch 1
    # conn-failure: the server refuses the connection. bento stops accepting on SIGTERM, up
    # to one health check before HAProxy marks it down.
    # empty-response: HAProxy sent the request on a pooled keep-alive connection that bento
    # had just closed as idle on SIGTERM, and got a reset. No HTTP/1.1 server can avoid this
    # race (closing is its only way to retire an idle connection); in a packet capture of one,
    # bento's FIN came 0.45ms before HAProxy's request, which got RST. The request never
    # reached bento, and inference is a pure function, so sending it again is harmless. (It
    # would also hide a server that drops a request it has begun to read, which is why the
    # test checks bento's drain directly as well.)
    # Not response-timeout nor 5xx: what bento took in, it must answer, and a bad answer is a
    # failure this test must see, not one HAProxy should hide.
    retry-on conn-failure empty-response
    # HAProxy can replay only a request it holds whole: wait for the body before sending.
    option http-buffer-request

frontend inference
    bind 127.0.0.1:{port}
    default_backend bento

backend bento
    balance roundrobin
    # Health: GET /readyz, 200 when the models are loaded; checked every 100ms, down at the
    # first failure (a refused connection, once bento stops accepting), up after two
    # successes in a row (a new process is taken in only once its models have loaded).
    option httpchk GET /readyz
    http-check expect status 200
    default-server check inter 100ms fall 1 rise 2
{servers}
"""


class HAProxy:
    """`haproxy -f CFG -db` (in the foreground, as the test's own process) balancing `ports`
    as servers bento0, bento1, ..."""

    def __init__(self, tmp_path, ports):
        self.port, self.stats_port = _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = tmp_path / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(
            port=self.port, stats_port=self.stats_port,
            servers="\n".join(f"    server bento{i} 127.0.0.1:{p}" for i, p in enumerate(ports))))
        self.log = tmp_path / "haproxy.log"
        with open(self.log, "w") as log:
            self.proc = subprocess.Popen(["haproxy", "-f", config, "-db"], stdout=log,
                                         stderr=subprocess.STDOUT)

    def stat(self):
        """`show stat` on the runtime API: {server name (or BACKEND): its row}."""
        assert self.proc.poll() is None, self.log.read_text()
        try:
            with socket.create_connection(("127.0.0.1", self.stats_port), timeout=5) as s:
                s.sendall(b"show stat\n")
                text = b"".join(iter(lambda: s.recv(65536), b"")).decode()
        except ConnectionRefusedError:
            raise AssertionError("HAProxy's runtime API is not up yet")
        rows = csv.DictReader(text.removeprefix("# ").splitlines())
        return {row["svname"]: row for row in rows if row["pxname"] == "bento"}

    def status(self, i):
        return self.stat()[f"bento{i}"]["status"]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def exact(answer):
    """Whether a KServe v2 inference answer is exactly X + Y."""
    out = answer["outputs"][0]
    return out["name"] == "sum" and np.array_equal(
        np.array(out["data"], dtype=np.float32).reshape(out["shape"]), X + Y)


class Load:
    """`clients` threads, each posting one KServe v2 inference request after another to `url`
    over its own kept-alive connection until stop(); an answer counts as served only when it
    is 200 and exactly X + Y, and anything else is kept in `failures`."""

    BODY = {"inputs": [
        {"name": "x", "shape": list(X.shape), "datatype": "FP32", "data": X.ravel().tolist()},
        {"name": "y", "shape": list(Y.shape), "datatype": "FP32", "data": Y.ravel().tolist()}]}

    def __init__(self, url, clients):
        self.url = url + "/v2/models/adder/infer"
        self.counts = [0] * clients
        self.failures = []
        self.stopping = threading.Event()
        self.start = time.monotonic()
        self.threads = [threading.Thread(target=self._client, args=(k,)) for k in range(clients)]
        for t in self.threads:
            t.start()

    def _client(self, k):
        session = requests.Session()
        while not self.stopping.is_set():
            try:
                r = session.post(self.url, json=self.BODY, timeout=30)
                if r.status_code == 200 and exact(r.json()):
                    self.counts[k] += 1
                else:
                    self.failures.append(f"{r.status_code} {r.text[:200]}")
            except Exception as e:  # a refused, reset or timed-out request is a failure too
                self.failures.append(repr(e))

    def served(self):
        return sum(self.counts)

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(timeout=60)
        self.seconds = time.monotonic() - self.start


def inferences(server):
    """The 200 answers to /v2/models/{model}/infer that `server` counted on /metrics."""
    text = requests.get(server.url + "/metrics", timeout=5).text
    return sum(s.value for f in text_string_to_metric_families(text)
               if f.name == "bentoml_service_request" for s in f.samples
               if s.name == "bentoml_service_request_total"
               and s.labels["endpoint"] == "/v2/models/{model}/infer"
               and s.labels["http_response_code"] == "200")


class InFlight:
    """An inference request in flight at `port`: bento has read its header (it answered
    `Expect: 100-continue`) and half its body; finish() sends the rest and reads the answer."""

    def __init__(self, port):
        body = json.dumps(Load.BODY).encode()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(b"POST /v2/models/adder/infer HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(body))
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += self.sock.recv(1) or b"<closed>\r\n\r\n"  # not a byte of the answer
        assert interim.startswith(b"HTTP/1.1 100 "), interim
        self.sock.sendall(body[:len(body) // 2])
        self.rest = body[len(body) // 2:]

    def finish(self):
        with self.sock:
            self.sock.sendall(self.rest)
            response = http.client.HTTPResponse(self.sock)
            response.begin()
            return response, response.read()


def refuses(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except (ConnectionRefusedError, ConnectionResetError):  # reset: closed mid-handshake
        return
    raise AssertionError(f"port {port} still accepts connections")


def replica(bento, port=None):
    server = Server(bento, "adder", "--no-access-log", port=port)
    server.wait_ready()
    return server


def test_replacing_each_server_under_load_fails_no_request(bento, tmp_path, report):
    bento.save(ADD_MODEL, "adder")
    servers = [replica(bento) for _ in range(REPLICAS)]
    proxy = HAProxy(tmp_path, [s.port for s in servers])
    load = None
    try:
        def all_up():
            assert [proxy.status(i) for i in range(REPLICAS)] == ["UP"] * REPLICAS
        eventually(all_up)
        load = Load(proxy.url, CLIENTS)

        def served_some(server):
            def check():
                assert inferences(server) >= SHARE
            eventually(check, timeout=20)
        for server in servers:
            served_some(server)

        for i in range(REPLICAS):
            # SIGTERM: bento stops accepting, closes idle connections, finishes the requests
            # in flight and exits 0; HAProxy takes it out at its next health check.
            old = servers[i]
            in_flight = InFlight(old.port)
            old.proc.send_signal(signal.SIGTERM)
            eventually(lambda: refuses(old.port))
            response, body = in_flight.finish()  # the rest of the body comes after SIGTERM
            assert response.status == 200 and exact(json.loads(body)), body
            assert response.getheader("Connection") == "close"
            assert old.proc.wait(timeout=30) == 0, "".join(old.log)

            def down():
                assert proxy.status(i).startswith("DOWN")
            eventually(down)
            servers[i] = replica(bento, port=servers[i].port)

            def up():
                assert proxy.status(i) == "UP"
            eventually(up)
            served_some(servers[i])  # it takes its share before the next one goes
        load.stop()
        per_new = [int(inferences(s)) for s in servers]
    finally:
        if load is not None and not load.stopping.is_set():
            load.stop()
        try:
            stat = proxy.stat()["BACKEND"]
        except AssertionError:
            stat = {}
        proxy.stop()
        for server in servers:
            server.stop()

    assert not load.failures, f"{len(load.failures)} failed: {load.failures[:5]}"
    report(f"{load.served()} requests served through HAProxy in {load.seconds:.1f}s "
           f"({load.served() / load.seconds:.0f}/s) by {CLIENTS} clients while {REPLICAS} "
           f"servers were replaced, 0 failed; the new servers served {per_new}; HAProxy sent "
           f"{stat.get('wredis', '?')} again to another server, {stat.get('wretr', '?')} to the "
           f"same one")
