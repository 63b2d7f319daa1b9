"""Shared fixtures for bento's end-to-end tests.

The tests drive the real `build/bin/bento` binary (and, for compatibility, the real BentoML
package from PyPI) against a fresh $BENTOML_HOME per test. Nothing is mocked.
"""
import concurrent.futures
import json
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time

import numpy as np
import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parent.parent
# BENTO_BUILD_DIR points the tests at another build (a sanitizer build, say); default build/.
BIN = pathlib.Path(os.environ.get("BENTO_BUILD_DIR", ROOT / "build")).resolve() / "bin"
BENTO = BIN / "bento"
# Set by scripts/test-sanitized to "address" or "thread": the servers under test run several
# times slower there, so tests that only need volume to show a bug run fewer rounds.
SANITIZER = os.environ.get("BENTO_SANITIZER", "")
# The sanitizer runs of the Python package (scripts/test-sanitized) preload the sanitizer's
# runtime into this uninstrumented CPython, so that it can import their build of bento._core.
# The programs the tests start do not inherit it (ONNX Runtime's Python wheel and the scripts
# that make models are not what is under test, and under a preloaded ThreadSanitizer they
# fail); only the Python processes that run bento get it back: python_env().
PYTHON_PRELOAD = os.environ.pop("LD_PRELOAD", "") if SANITIZER else ""


def python_env(env):
    """`env` for a Python process that imports bento: with the sanitizer's runtime preloaded
    when this run has one."""
    return dict(env, LD_PRELOAD=PYTHON_PRELOAD) if PYTHON_PRELOAD else dict(env)
OCR_MODELS = ROOT / ".deps" / "npm" / "node_modules" / "@gutenye" / "ocr-models" / "assets"
ONNX_TESTDATA = pathlib.Path("/usr/share/libonnx-testdata/data")
MOBILENET = ROOT / ".deps" / "models" / "mobilenet_v2"  # made by scripts/make-models


class Bento:
    """Runs the bento CLI against one store."""

    def __init__(self, home: pathlib.Path):
        self.home = home
        self.env = dict(os.environ, BENTOML_HOME=str(home), BENTOML_DO_NOT_TRACK="True")

    def run(self, *args, check=True, input=None, timeout=120):
        proc = subprocess.run([str(BENTO), *map(str, args)], env=self.env, input=input,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"bento {' '.join(map(str, args))} failed "
                                 f"({proc.returncode}): {proc.stderr}")
        return proc

    def save(self, path, name, *flags):
        return self.run("models", "save", path, "--name", name, *flags).stdout.strip()

    def save_image_classifier(self):
        """Saves MobileNetV2 as examples/image_classifier expects it (build/bin/image_classifier)."""
        return self.save(MOBILENET / "mobilenet_v2.onnx", "image_classifier", "--custom-objects",
                         MOBILENET / "custom_objects.json", "--batchable")

    def save_text_classifier(self):
        """Saves the language identifier as examples/text_classifier expects it."""
        model = ROOT / ".deps" / "models" / "text_classifier"
        return self.save(model / "text_classifier.onnx", "text_classifier",
                         "--custom-objects", model / "custom_objects.json",
                         "--metadata-file", model / "metadata.json", "--batchable")

    def list(self):
        return json.loads(self.run("models", "list", "-o", "json").stdout)

    def snapshot(self):
        """Every file under the store's models/ folder with its size: to prove nothing moved."""
        models = self.home / "models"
        if not models.exists():
            return {}
        return {str(p.relative_to(models)): p.stat().st_size
                for p in sorted(models.rglob("*")) if p.is_file()}


_ports_given = set()


def _free_port():
    """A port free now, and never one this run has given before: a server's HTTP and gRPC
    ports are asked for one after the other, and the kernel may offer a port again as soon as
    the probe socket closes (a server once found its gRPC port already taken at start)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


class Server:
    """A server process on a free port (or `port`): `bento serve ARGS...` by default."""

    port_flag = "--port"  # how the port is passed; KServe's runtimes say --http_port
    cwd = None  # the folder the server runs in; None: the test's

    def __init__(self, bento, *args, port=None):
        self.args = [str(a) for a in args]
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.verify = True  # for https: the CA bundle or certificate that requests checks
        self._start(self.command() + [self.port_flag, str(self.port)], self.environment(bento),
                    cwd=self.cwd)

    def _start(self, argv, env, **popen):
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, **popen)
        self._lines = []
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def command(self):
        return [str(BENTO), "serve", *self.args]

    def environment(self, bento):
        return bento.env

    def _drain(self):
        for line in self.proc.stdout:
            self._lines.append(line)

    @property
    def log(self):
        """The lines the server has printed so far: all of them once it has exited. A thread
        reads them, a moment after the server writes them, so a line that follows an answer
        may not be here when the answer is: wait for it with wait_log."""
        if self.proc.poll() is not None:
            self._drainer.join(timeout=10)
        return self._lines

    def wait_log(self, *texts, timeout=10):
        """The whole log, once it holds every one of `texts`."""
        def holds():
            log = "".join(self.log)
            assert all(t in log for t in texts), log
            return log
        return eventually(holds, timeout)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "".join(self.log)
            try:
                r = requests.get(self.url + "/readyz", timeout=1, verify=self.verify)
                if r.status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise AssertionError("not ready: " + "".join(self.log))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        return self.proc.returncode


class ExampleServer(Server):
    """One of the examples' executables (build/bin/<name>), which take bento serve's flags."""

    def __init__(self, bento, name, *args):
        self.binary = BIN / name
        super().__init__(bento, *args)

    def command(self):
        return [str(self.binary), *self.args]


def count_wrong_answers(url, bodies, want, clients, rounds, same):
    """`clients` threads each POST `rounds` of `bodies` (JSON) to `url`, in turn; returns how
    many answers were not 200 or whose only output does not satisfy same(got, want[j])."""
    def client(k):
        session = requests.Session()
        wrong = 0
        for i in range(rounds):
            j = (k + i) % len(bodies)
            r = session.post(url, data=bodies[j], headers={"Content-Type": "application/json"})
            ok = r.status_code == 200 and same(
                np.array(next(iter(r.json().values())), dtype=np.float32), want[j])
            wrong += 0 if ok else 1
        return wrong

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        return sum(pool.map(client, range(clients)))


@pytest.fixture
def bento(tmp_path):
    home = tmp_path / "bentoml"
    home.mkdir()
    return Bento(home)


@pytest.fixture
def ocr_cls_model():
    return OCR_MODELS / "ch_ppocr_mobile_v2.0_cls_infer.onnx"


@pytest.fixture
def ocr_rec_model():
    return OCR_MODELS / "ch_PP-OCRv4_rec_infer.onnx"


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and its key (also encrypted with the password
    "pw"), and a second, unrelated key."""
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", d / "key.pem", "-out", d / "cert.pem"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-out", d / "other.pem"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", d / "key.pem", "-aes256", "-passout", "pass:pw",
                    "-out", d / "encrypted.pem"], check=True, capture_output=True)
    return d


def in_progress(url, endpoint=None):
    """bentoml_service_request_in_progress on /metrics: for one endpoint, or all of them."""
    from prometheus_client.parser import text_string_to_metric_families
    text = requests.get(url + "/metrics").text
    return sum(s.value for f in text_string_to_metric_families(text)
               if f.name == "bentoml_service_request_in_progress" for s in f.samples
               if endpoint is None or s.labels["endpoint"] == endpoint)


def eventually(check, timeout=10):
    """Calls `check` until it stops raising AssertionError (or `timeout` seconds pass) and
    returns what it returns. For what a server records just after it answers: a request is
    counted on /metrics and logged once its answer has been written, so a scrape sent the
    moment the answer arrives may come before that."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def https(server, cert):
    """Points a Server started with TLS flags at https, trusting the test's certificate."""
    server.url = server.url.replace("http:", "https:")
    server.verify = str(cert / "cert.pem")
    return server


def tls_flags(cert, key="key.pem"):
    return ["--ssl-certfile", cert / "cert.pem", "--ssl-keyfile", cert / key]


# --- No silent skips ----------------------------------------------------------------------
# pytest runs with -rs, so every skip prints its reason. With BENTO_FAIL_ON_SKIP=1 (set by
# .ci/run) a skip fails the run unless its reason starts with KNOWN_PROBLEM: a skip on CI is
# either a known, named problem or a machine that is missing something it should have.
KNOWN_PROBLEM = "known open problem"
_unexpected_skips = []


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if not reason.removeprefix("Skipped: ").startswith(KNOWN_PROBLEM):
            _unexpected_skips.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("BENTO_FAIL_ON_SKIP") == "1" and _unexpected_skips and exitstatus == 0:
        session.exitstatus = 1


# --- What tests measured ------------------------------------------------------------------
# A test that measures something worth reading on a passing run (requests served, say) hands
# it to the `report` fixture; the lines are printed in a section at the end of the run.
_reports = []


@pytest.fixture
def report(request):
    def add(line):
        print(line)
        _reports.append(f"{request.node.nodeid}: {line}")
    return add


def pytest_terminal_summary(terminalreporter):
    if _reports:
        terminalreporter.section("reported by the tests")
        for line in _reports:
            terminalreporter.write_line(line)
    if os.environ.get("BENTO_FAIL_ON_SKIP") == "1" and _unexpected_skips:
        terminalreporter.section("unexpected skips (BENTO_FAIL_ON_SKIP=1)")
        for line in _unexpected_skips:
            terminalreporter.write_line(line)
