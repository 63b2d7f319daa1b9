"""Worker processes (BentoML's `workers`): a Python service's @bento.service(workers=N) and a
service executable's --processes N serve on one port, each process with its own instance;
the first process supervises them (src/cli/processes.h): a stop signal reaches every worker,
and a worker that dies stops the server with a non-zero exit."""
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import requests
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

from conftest import BIN, ExampleServer, _free_port, python_env
from digits import heldout_rows, save_model
from test_python_service import SERVICES_PATH, PythonServer


def children(pid):
    """The pids whose parent is `pid`, from /proc/PID/task/*/children."""
    found = set()
    for task in pathlib.Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found.update(int(p) for p in task.read_text().split())
        except OSError:
            pass  # the task ended meanwhile
    return found


def answering_pids(server, route, body, pid_of, tries=60, headers=None):
    """The pids that answered `tries` requests, each on a new connection (the kernel spreads
    connections, not requests, among the processes sharing the port)."""
    pids = set()
    for _ in range(tries):
        r = requests.post(server.url + route, json=body,
                          headers=headers or {"Connection": "close"})
        assert r.status_code == 200, r.text
        pids.add(pid_of(r))
    return pids


def test_a_python_services_workers_share_its_port(bento):
    server = PythonServer(bento, "workers:TwoWorkers")
    server.wait_ready()
    try:
        answers = []
        pids = answering_pids(server, "/whoami", {"note": "hi"},
                              lambda r: answers.append(r.json()) or r.json()["pid"])
        workers = children(server.proc.pid)
        assert pids == workers and len(workers) == 2, (pids, workers, "".join(server.log))
        assert {a["parent"] for a in answers} == {server.proc.pid}
        assert {a["note"] for a in answers} == {"hi"}
        # Each worker has its own metrics, health and API key policy: one worker's view.
        assert requests.get(server.url + "/metrics").status_code == 200
    finally:
        assert server.stop() == 0
    # SIGTERM to the supervisor drained and stopped both workers.
    for pid in workers:
        assert not os.path.exists(f"/proc/{pid}"), pid
    assert "2 worker processes serve on one port" in "".join(server.log)


def test_a_worker_that_dies_stops_the_server_with_an_error(bento):
    server = PythonServer(bento, "workers:TwoWorkers")
    server.wait_ready()
    deadline = time.monotonic() + 30
    while len(children(server.proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    first, second = sorted(children(server.proc.pid))
    os.kill(first, signal.SIGKILL)
    assert server.proc.wait(timeout=30) == 128 + signal.SIGKILL
    assert not os.path.exists(f"/proc/{second}")
    assert f"(pid {first}) exited with code {128 + signal.SIGKILL} while serving" in \
        "".join(server.log)


def test_a_service_executables_processes_flag(bento):
    """--processes on a C++ service: each process loads its own copy of the model and
    answers as one server would."""
    save_model(bento, "validated")
    server = ExampleServer(bento, "validated", "--processes", "2")
    server.wait_ready()
    try:
        assert len(children(server.proc.pid)) == 2
        rows, _ = heldout_rows(2)
        body = {"input_data": rows.tolist()}
        want = requests.post(server.url + "/predict", json=body).json()
        for _ in range(40):  # new connections, spread over both processes
            r = requests.post(server.url + "/predict", json=body, headers={"Connection": "close"})
            assert r.status_code == 200 and r.json() == want
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("args,message", [
    (["--processes", "2", "--port", "0"], "--processes 2 needs a fixed --port"),
    (["--processes", "-1"], "--processes: must be a whole number from 0 to 1024"),
])
def test_processes_flag_errors(bento, args, message):
    env = python_env(dict(bento.env, PYTHONPATH=SERVICES_PATH))
    r = subprocess.run([sys.executable, "-m", "bento", "serve", "features:Features", *args],
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and message in r.stdout + r.stderr, (r.stdout, r.stderr)


def test_a_port_is_not_shared_with_a_server_that_did_not_ask(bento):
    """Without --processes no SO_REUSEPORT: a second server on a taken port fails to bind."""
    save_model(bento, "validated")
    first = ExampleServer(bento, "validated")
    first.wait_ready()
    try:
        second = subprocess.run([str(BIN / "validated"), "--port", str(first.port)],
                                env=bento.env, capture_output=True, text=True, timeout=60)
        assert second.returncode != 0
        assert f"is another server running on port {first.port}" in second.stderr + \
            second.stdout, (second.stdout, second.stderr)
    finally:
        assert first.stop() == 0


def test_every_worker_applies_the_servers_policies_on_both_transports(bento):
    """The API key on HTTP and gRPC, and the gRPC port shared like the HTTP one: each worker
    process serves with the flags the server was given."""
    grpc_port = _free_port()
    server = PythonServer(bento, "workers:TwoWorkers", "--api-key", "k", "--grpc-port",
                          grpc_port)
    server.wait_ready()
    try:
        auth = {"Authorization": "Bearer k", "Connection": "close"}
        for _ in range(20):  # new connections, spread over both workers
            r = requests.post(server.url + "/whoami", json={}, headers={"Connection": "close"})
            assert r.status_code == 401
        assert len(answering_pids(server, "/whoami", {}, lambda r: r.json()["pid"],
                                  headers=auth)) == 2
        for _ in range(10):  # a new channel each time, to either worker
            client = grpcclient.InferenceServerClient(f"127.0.0.1:{grpc_port}")
            assert client.is_server_live()
            with pytest.raises(InferenceServerException, match="UNAUTHENTICATED|API key"):
                client.get_server_metadata()
            assert client.get_server_metadata(headers={"authorization": "Bearer k"}).name
            client.close()
    finally:
        assert server.stop() == 0
