"""Models that change while serving: reloads with no dropped request, over the repository
API (HTTP and gRPC, tritonclient unchanged) and by polling the store; a failed load that
keeps the old version; the resource policy's gap; labels; memory after reloads."""
import threading
import time

import numpy as np
import onnx
import pytest
import requests
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from onnx import TensorProto, helper

from conftest import MOBILENET, SANITIZER, Server, _free_port, eventually


def plus_model(path, k):
    """y = x + k, x and y float32[batch, 4]: each version's answers tell which it is."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "k"], ["y"])], "plus",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor("k", TensorProto.FLOAT, [1], [float(k)])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


class Plus:
    """Saves versions of "plus" into a store, remembering each version's k."""

    def __init__(self, bento, tmp_path):
        self.bento, self.tmp_path = bento, tmp_path
        self.k = {}  # version -> k

    def save(self, k):
        tag = self.bento.save(plus_model(self.tmp_path / f"plus{k}.onnx", k), "plus",
                              "--batchable")
        version = tag.split(":")[1]
        self.k[version] = k
        return version


X = [[1.0, 2.0, 3.0, 4.0]]


def infer_body():
    return {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4],
                        "data": sum(X, [])}]}


class Hammer:
    """Closed-loop clients over HTTP (KServe v2 and /run) and gRPC. Each answer is checked
    against the version it names, and kept with its send and receive times."""

    def __init__(self, server, grpc_port, plus, http_clients=3, grpc_clients=2):
        self.server, self.grpc_port, self.plus = server, grpc_port, plus
        self.stop_flag = threading.Event()
        self.answers = []  # (sent, received, version)
        self.errors = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._http, args=(i,)) for i in range(http_clients)]
        self.threads += [threading.Thread(target=self._grpc) for _ in range(grpc_clients)]
        for t in self.threads:
            t.start()

    def _record(self, sent, version, y):
        with self.lock:
            self.answers.append((sent, time.monotonic(), version, y))

    def _http(self, i):
        session = requests.Session()
        while not self.stop_flag.is_set():
            sent = time.monotonic()
            try:
                r = session.post(self.server.url + "/v2/models/plus/infer", json=infer_body(),
                                 timeout=30)
            except requests.RequestException as e:
                with self.lock:
                    self.errors.append(repr(e))
                continue
            if r.status_code != 200:
                with self.lock:
                    self.errors.append(f"HTTP {r.status_code}: {r.text}")
                continue
            body = r.json()
            self._record(sent, body["model_version"], body["outputs"][0]["data"])

    def _grpc(self):
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{self.grpc_port}")
        x = grpcclient.InferInput("x", [1, 4], "FP32")
        x.set_data_from_numpy(np.asarray(X, np.float32))
        while not self.stop_flag.is_set():
            sent = time.monotonic()
            try:
                result = client.infer("plus", [x])
            except Exception as e:  # noqa: BLE001: every failure is a finding
                with self.lock:
                    self.errors.append(repr(e))
                continue
            response = result.get_response()
            self._record(sent, response.model_version, result.as_numpy("y"))
        client.close()

    def finish(self):
        """Stops the clients; returns the answers as (sent, received, version), and the
        errors, among them every answer whose outputs are not its version's (a version may
        answer before the test has noted its k, so they are checked here)."""
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=60)
        x = np.asarray(X, np.float32)
        for _, _, version, y in self.answers:
            k = self.plus.k.get(version)
            if k is None or not np.array_equal(np.asarray(y, np.float32).reshape(1, 4), x + k):
                self.errors.append(f"version {version} (k={k}) answered {y}")
        return [a[:3] for a in self.answers], self.errors


def check_timeline(answers, served):
    """Every answer came from a version that was served at some moment between its send and
    its receipt: `served` maps each version to (first time it may serve, time it surely no
    longer serves)."""
    wrong = [(sent, received, v) for sent, received, v in answers
             if not (served[v][0] <= received and sent <= served[v][1])]
    assert not wrong, f"{len(wrong)} answers from versions not served then: {wrong[:5]}"


def reload_rounds():
    """50 reloads in all: half through the API, half by polling (fewer under a sanitizer)."""
    return 25 if not SANITIZER else 6


def test_reloading_through_the_api_drops_no_request(bento, tmp_path, report):
    plus = Plus(bento, tmp_path)
    first = plus.save(0)
    grpc_port = _free_port()
    server = Server(bento, "plus", "--model-control-mode", "explicit", "--grpc-port", grpc_port)
    try:
        server.wait_ready()
        http = httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")
        grpc = grpcclient.InferenceServerClient(f"127.0.0.1:{grpc_port}")
        served = {first: [0.0, float("inf")]}
        hammer = Hammer(server, grpc_port, plus)
        rounds = reload_rounds()
        for i in range(1, rounds + 1):
            version = plus.save(i)
            previous = [v for v, (_, end) in served.items() if end == float("inf")]
            served[version] = [time.monotonic(), float("inf")]
            (http if i % 2 else grpc).load_model("plus")  # tritonclient, unchanged
            for v in previous:
                served[v][1] = time.monotonic()
            assert http.get_model_metadata("plus")["versions"] == [version]
            time.sleep(0.02)
        answers, errors = hammer.finish()
        assert not errors, errors[:5]
        assert len({v for _, _, v in answers}) > rounds // 2, "too few versions answered"
        check_timeline(answers, served)
        report(f"reloads through the repository API: {rounds} reloads, {len(answers)} answers "
               f"over HTTP and gRPC, none failed")
        # Every old version was drained and unloaded; the log says so for each.
        def drained():
            index = http.get_model_repository_index()
            assert index == [{"name": "plus", "version": version, "state": "READY"}], index
        eventually(drained)
        def all_logged():
            assert "".join(server.log).count("drained and unloaded") == rounds
        eventually(all_logged)
        grpc.close()
    finally:
        server.stop()


def test_polling_the_store_picks_up_new_versions_and_drops_no_request(bento, tmp_path, report):
    plus = Plus(bento, tmp_path)
    first = plus.save(0)
    grpc_port = _free_port()
    server = Server(bento, "plus", "--model-control-mode", "poll", "--repository-poll-secs",
                    "0.05", "--grpc-port", grpc_port)
    try:
        server.wait_ready()
        served = {first: [0.0, float("inf")]}
        hammer = Hammer(server, grpc_port, plus)
        rounds = reload_rounds()
        for i in range(1, rounds + 1):
            previous = [v for v, (_, end) in served.items() if end == float("inf")]
            started = time.monotonic()
            version = plus.save(i)
            served[version] = [started, float("inf")]

            def swapped():
                meta = requests.get(server.url + "/v2/models/plus").json()
                assert meta["versions"] == [version], meta
            eventually(swapped)
            for v in previous:
                served[v][1] = time.monotonic()
        answers, errors = hammer.finish()
        assert not errors, errors[:5]
        check_timeline(answers, served)
        report(f"reloads by polling: {rounds} reloads, {len(answers)} answers, none failed")
        # Explicit calls are refused in poll mode, as Triton refuses them.
        r = requests.post(server.url + "/v2/repository/models/plus/load")
        assert r.status_code == 400 and "not allowed" in r.json()["error"], r.text
    finally:
        server.stop()


def corrupt(bento, version):
    (bento.home / "models" / "plus" / version / "saved_model.onnx").write_bytes(b"garbage")


def test_a_failed_load_keeps_the_old_version_and_the_index_says_why(bento, tmp_path):
    plus = Plus(bento, tmp_path)
    first = plus.save(0)
    server = Server(bento, "plus", "--model-control-mode", "explicit")
    try:
        server.wait_ready()
        bad = plus.save(1)
        corrupt(bento, bad)
        r = requests.post(server.url + "/v2/repository/models/plus/load", json={})
        assert r.status_code == 400, r.text
        assert "failed to load" in r.json()["error"], r.text
        r = requests.post(server.url + "/v2/models/plus/infer", json=infer_body())
        assert r.status_code == 200 and r.json()["model_version"] == first, r.text
        assert requests.get(server.url + "/readyz").status_code == 200
        index = httpclient.InferenceServerClient(
            f"127.0.0.1:{server.port}").get_model_repository_index()
        rows = {row.get("version"): row for row in index}
        assert rows[first]["state"] == "READY"
        assert rows[bad]["state"] == "UNAVAILABLE"
        assert "failed to load" in rows[bad]["reason"] and "Protobuf" in rows[bad]["reason"]
        metrics = requests.get(server.url + "/metrics").text
        assert 'bento_model_load_failures_total{model="plus"} 1' in metrics, metrics
        assert f'bento_model_state{{model="plus",version="{bad}",state="UNAVAILABLE"}} 1' \
            in metrics
        assert 'bento_model_load_duration_seconds_count{model="plus"} 1' in metrics
        # A version whose inputs differ is refused too, with both shapes named.
        wide = tmp_path / "wide.onnx"
        graph = helper.make_graph(
            [helper.make_node("Identity", ["x"], ["y"])], "wide",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 5])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 5])])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        onnx.save(model, wide)
        bento.save(wide, "plus")
        r = requests.post(server.url + "/v2/repository/models/plus/load")
        assert r.status_code == 400 and "differ from those of served version" in r.text, r.text
        r = requests.post(server.url + "/run", json={"x": X})
        assert r.status_code == 200 and r.json()["y"] == [[1, 2, 3, 4]], r.text
    finally:
        server.stop()


def test_the_resource_policy_is_not_ready_while_between_versions(bento, tmp_path):
    model = MOBILENET / "mobilenet_v2.onnx"
    first = bento.save(model, "mnet").split(":")[1]
    server = Server(bento, "mnet", "--model-control-mode", "explicit", "--reload-policy",
                    "resource")
    try:
        server.wait_ready()
        second = bento.save(model, "mnet").split(":")[1]
        codes, stop = [], threading.Event()

        def watch():
            while not stop.is_set():
                codes.append(requests.get(server.url + "/readyz").status_code)

        watcher = threading.Thread(target=watch)
        watcher.start()
        time.sleep(0.05)
        r = requests.post(server.url + "/v2/repository/models/mnet/load")
        time.sleep(0.05)
        stop.set()
        watcher.join()
        assert r.status_code == 200, r.text
        assert 503 in codes, f"/readyz never said 503 during the gap: {set(codes)}"
        assert codes[0] == 200 and codes[-1] == 200
        meta = requests.get(server.url + "/v2/models/mnet").json()
        assert meta["versions"] == [second] and first != second
        assert requests.get(server.url + "/v2/health/ready").status_code == 200
    finally:
        server.stop()


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_memory_returns_close_to_its_start_after_reloads(bento, report):
    model = MOBILENET / "mobilenet_v2.onnx"
    bento.save(model, "mnet")
    server = Server(bento, "mnet", "--model-control-mode", "explicit")
    image = {"input": np.zeros((1, 3, 224, 224), np.float32).tolist()}
    try:
        server.wait_ready()
        for _ in range(3):
            assert requests.post(server.url + "/run", json=image).status_code == 200
        start = rss_mib(server.proc.pid)
        peak = start
        reloads = 20 if not SANITIZER else 3  # under a sanitizer: reloads work, no figures
        for _ in range(reloads):
            bento.save(model, "mnet")
            r = requests.post(server.url + "/v2/repository/models/mnet/load")
            assert r.status_code == 200, r.text
            assert requests.post(server.url + "/run", json=image).status_code == 200
            peak = max(peak, rss_mib(server.proc.pid))
        def drained():
            assert len(requests.post(server.url + "/v2/repository/index").json()) == 1
        eventually(drained)
        end = rss_mib(server.proc.pid)
        report(f"resident memory over {reloads} MobileNetV2 reloads: {start:.0f} MiB at the start, "
               f"{peak:.0f} MiB at the peak, {end:.0f} MiB at the end")
        if not SANITIZER:  # the sanitizers keep freed memory in quarantine on purpose
            assert end < start + 40, (start, peak, end)
    finally:
        server.stop()


def test_labels_and_tritonclient_repository_calls_under_the_api_key(bento, tmp_path):
    plus = Plus(bento, tmp_path)
    v1 = plus.save(1)
    v2 = plus.save(2)
    grpc_port = _free_port()
    server = Server(bento, "plus", "--model-control-mode", "explicit", "--version-policy",
                    "latest:2", "--version-label", f"plus:stable={v1}", "--grpc-port",
                    grpc_port, "--api-key", "k")
    headers = {"Authorization": "Bearer k"}
    metadata = {"authorization": "Bearer k"}  # gRPC's keys are lower case
    try:
        server.wait_ready()

        def version_of(path):
            r = requests.post(server.url + path, json=infer_body(), headers=headers)
            assert r.status_code == 200, r.text
            return r.json()["model_version"]
        assert version_of("/v2/models/plus/infer") == v2  # `latest`
        assert version_of("/v2/models/plus/versions/stable/infer") == v1
        assert version_of(f"/v2/models/plus/versions/{v1}/infer") == v1
        r = requests.post(server.url + "/v2/models/plus/versions/beta/infer", json=infer_body(),
                          headers=headers)
        assert r.status_code == 404, r.text

        # The admin routes are behind the key, on both transports.
        assert requests.post(server.url + "/v2/repository/index").status_code == 401
        assert requests.post(server.url + "/v2/repository/models/plus/unload").status_code == 401
        grpc = grpcclient.InferenceServerClient(f"127.0.0.1:{grpc_port}")
        with pytest.raises(Exception, match="UNAUTHENTICATED|nauthenticated"):
            grpc.unload_model("plus")
        http = httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")
        with pytest.raises(Exception, match="401|nauthori"):
            http.load_model("plus")

        # tritonclient's calls, unchanged but for the key.
        index = http.get_model_repository_index(headers=headers)
        assert sorted(row["version"] for row in index) == sorted([v1, v2])
        grpc.unload_model("plus", headers=metadata)
        assert not http.is_model_ready("plus", headers=headers)
        def unloaded():  # once its versions have drained (UNLOADING until then)
            assert grpc.get_model_repository_index(headers=metadata, as_json=True)["models"] == [
                {"name": "plus", "state": "UNAVAILABLE", "reason": "model plus is unloaded"}]
        eventually(unloaded)
        assert requests.get(server.url + "/readyz").status_code == 200
        r = requests.post(server.url + "/v2/models/plus/infer", json=infer_body(), headers=headers)
        assert r.status_code == 503, r.text
        grpc.load_model("plus", headers=metadata)
        assert grpc.is_model_ready("plus", headers=metadata)
        assert grpc.is_model_ready("plus", v1, headers=metadata)
        http.unload_model("plus", headers=headers)
        http.load_model("plus", headers=headers)
        assert http.is_model_ready("plus", v2, headers=headers)
        with pytest.raises(Exception, match="not supported"):
            http.load_model("plus", headers=headers, config='{"max_batch_size": 8}')
        with pytest.raises(Exception, match="nothing"):
            grpc.load_model("nothing", headers=metadata)
        grpc.close()
    finally:
        server.stop()


def test_control_mode_none_refuses_repository_changes_and_bad_flags_are_named(bento, tmp_path):
    plus = Plus(bento, tmp_path)
    plus.save(0)
    server = Server(bento, "plus")
    try:
        server.wait_ready()
        r = requests.post(server.url + "/v2/repository/models/plus/load")
        assert r.status_code == 400 and "--model-control-mode none" in r.text, r.text
        r = requests.post(server.url + "/v2/repository/index", data="{")
        assert r.status_code == 400, r.text
        index = requests.post(server.url + "/v2/repository/index", json={"ready": True}).json()
        assert [row["state"] for row in index] == ["READY"]
    finally:
        server.stop()
    for flags, message in [(["--version-policy", "newest"], "unknown version policy"),
                           (["--version-label", "stable=v1"], "MODEL:LABEL=VERSION"),
                           (["--model-control-mode", "auto"], "auto")]:
        proc = bento.run("serve", "plus", *flags, check=False, timeout=30)
        assert proc.returncode != 0 and message in proc.stderr + proc.stdout, proc
