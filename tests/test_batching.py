"""Adaptive batching end to end: a batchable real model under concurrent clients."""
import concurrent.futures
import json
import os
import re
import threading

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import requests
from onnx import TensorProto, helper, numpy_helper
from prometheus_client.parser import text_string_to_metric_families

from conftest import MOBILENET, SANITIZER, Server, count_wrong_answers


@pytest.fixture
def batched(bento, ocr_cls_model):
    bento.save(ocr_cls_model, "ocr-cls", "--batchable")
    server = Server(bento, "ocr-cls", "--max-batch-size", "16", "--max-latency-ms", "2000",
                    "--no-access-log")
    server.wait_ready()
    yield server
    assert server.stop() == 0


def _mean_batch_size(url):
    text = requests.get(url + "/metrics").text
    for family in text_string_to_metric_families(text):
        if family.name == "bentoml_service_adaptive_batch_size":
            total = sum(s.value for s in family.samples if s.name.endswith("_sum"))
            count = sum(s.value for s in family.samples if s.name.endswith("_count"))
            return total / count if count else 0.0
    return 0.0


def test_concurrent_requests_are_batched_and_answered_exactly(batched, ocr_cls_model):
    rng = np.random.default_rng(3)
    inputs = [rng.random((1, 3, 48, 192), dtype=np.float32) for _ in range(32)]
    session = ort.InferenceSession(str(ocr_cls_model))
    want = [session.run(None, {"x": x})[0] for x in inputs]  # unbatched
    bodies = [json.dumps({"x": x.tolist()}) for x in inputs]

    def close(got, w):
        return np.allclose(got, w, rtol=1e-5, atol=1e-6)

    assert count_wrong_answers(batched.url + "/run", bodies, want, clients=32, rounds=8,
                               same=close) == 0
    # Under a sanitizer, JSON decoding (instrumented) outlasts the model (not instrumented), so
    # the requests reach the batcher one at a time: that the batcher combines what queues is
    # then shown by the unit test RequestsQueuedBehindRunningBatchesGoTogether.
    if not SANITIZER:
        assert _mean_batch_size(batched.url) > 1.0
    names = {f.name for f in text_string_to_metric_families(requests.get(batched.url + "/metrics").text)}
    assert {"bento_batch_queue_wait_seconds", "bento_batch_shed", "bento_batch_inflight"} <= names


def test_a_request_refused_before_the_batcher_fails_alone(batched):
    good = json.dumps({"x": np.zeros((1, 3, 48, 192), dtype=np.float32).tolist()})
    bad = json.dumps({"x": np.zeros((1, 3, 48), dtype=np.float32).tolist()})  # wrong rank

    def call(i):
        body = bad if i % 4 == 0 else good
        return i % 4 == 0, requests.post(batched.url + "/run", data=body,
                                         headers={"Content-Type": "application/json"}).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(64)))
    assert all(code == (400 if is_bad else 200) for is_bad, code in results)


def _counter(url, name):
    text = requests.get(url + "/metrics").text
    return sum(s.value for f in text_string_to_metric_families(text) if f.name == name
               for s in f.samples if s.name == name + "_total")


def _lookup_burst(server, table, rng):
    """48 lookups, 24 of them at once; every sixth has an index past the table's end."""
    requests_ = [rng.integers(0, 8, int(rng.integers(1, 4))) for _ in range(48)]
    bad = set(range(0, 48, 6))
    for i in bad:
        requests_[i] = np.array([1, 99])  # 99: past the table's 8 rows
    start = threading.Barrier(24)

    def call(i):
        if i < 24:
            start.wait()  # arrive together, so that they share batches
        return i, requests.post(server.url + "/run", json={"idx": requests_[i].tolist()})

    with concurrent.futures.ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(call, range(48)))
    for i, r in answers:
        if i in bad:
            assert 400 <= r.status_code < 500, (i, r.status_code, r.text)
            assert "idx" in r.text or "indices" in r.text, r.text
        else:
            assert r.status_code == 200, (i, r.text)
            np.testing.assert_array_equal(np.array(r.json()["y"], dtype=np.float32),
                                          table[requests_[i]])


def test_a_request_that_fails_inside_the_model_never_fails_its_batch(bento, tmp_path):
    """A lookup table (Gather): an index past its end passes every check (right dtype, right
    shape) and fails inside ONNX Runtime, taking its whole batch down. The batcher then runs
    each request of that batch alone, so only the bad ones fail."""
    table = np.arange(8 * 3, dtype=np.float32).reshape(8, 3)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "idx"], ["y"], axis=0)], "lookup",
        [helper.make_tensor_value_info("idx", TensorProto.INT64, ["n"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        [numpy_helper.from_array(table, "table")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.save(model, tmp_path / "lookup.onnx")
    bento.save(tmp_path / "lookup.onnx", "lookup", "--batchable")
    server = Server(bento, "lookup", "--max-batch-size", "32", "--max-latency-ms", "5000")
    server.wait_ready()
    try:
        rng = np.random.default_rng(4)
        for _ in range(5):  # until a burst shows a shared batch failing: nearly always the first
            _lookup_burst(server, table, rng)
            if _counter(server.url, "bento_batch_retried") >= 2:
                break
        # The bad requests did share batches, which failed and were run again alone.
        assert _counter(server.url, "bento_batch_retried") >= 2
    finally:
        assert server.stop() == 0


def test_a_request_larger_than_max_batch_size_is_split(batched, ocr_cls_model):
    x = np.random.default_rng(5).random((40, 3, 48, 192), dtype=np.float32)
    r = requests.post(batched.url + "/run", json={"x": x.tolist()})
    assert r.status_code == 200, r.text
    got = np.array(next(iter(r.json().values())), dtype=np.float32)
    want = ort.InferenceSession(str(ocr_cls_model)).run(None, {"x": x})[0]
    assert got.shape == want.shape == (40, 2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def _load_lines(server, model):
    """The startup lines of `model`: its batching line (or None) and its intra-op threads."""
    server.wait_ready()
    log = "".join(server.log)
    assert server.stop() == 0
    batching = re.search(rf"model {model}:\S+: adaptive batching on \((.*)\)", log)
    threads = re.search(rf"model {model}:\S+ loaded in \S+ s \(intra-op threads: ([^)]*)\)", log)
    assert threads, log
    return batching and batching.group(1), threads.group(1)


def test_the_pools_that_run_at_once_fit_the_cpus(bento, ocr_cls_model):
    """With default flags a batched model runs one batch at a time on every core, and an
    unbatched one gets one thread per API worker's share of the CPUs; flags given win. (The
    max batch size is given, so that the batcher starts at load: this model's free width would
    leave the choice to its first request.)"""
    bento.save(ocr_cls_model, "batched", "--batchable")
    bento.save(ocr_cls_model, "single")
    batching, threads = _load_lines(
        Server(bento, "batched", "single", "--max-batch-size", "32"), "batched")
    assert "max_inflight_batches=1" in batching
    assert threads == "ONNX Runtime's default, one per core" or threads.isdigit()  # cgroup limit
    batching, threads = _load_lines(Server(bento, "batched", "single"), "single")
    assert batching is None and threads == "1"
    # One worker: its request may take every CPU (bento's count of them: the cgroup's limit, or
    # the machine's cores, which os.cpu_count() also counts when there is no limit).
    _, threads = _load_lines(Server(bento, "single", "--workers", "1"), "single")
    assert threads.isdigit() and int(threads) <= os.cpu_count()
    # Given flags are kept: two batches at once on one thread each, or three threads.
    batching, threads = _load_lines(
        Server(bento, "batched", "--threads", "1", "--max-inflight-batches", "2",
               "--max-batch-size", "32"), "batched")
    assert "max_inflight_batches=2" in batching and threads == "1"
    batching, threads = _load_lines(Server(bento, "single", "--threads", "3"), "single")
    assert threads == "3"


def _assert_answers_as_onnxruntime(url, model, name, x, rtol=1e-5, atol=1e-6):
    """POSTs `x` as the input `name` to `url`: the answer must be onnxruntime's for `model`."""
    r = requests.post(url, json={name: x.tolist()})
    assert r.status_code == 200, r.text
    want = ort.InferenceSession(str(model)).run(None, {name: x})[0]
    np.testing.assert_allclose(np.array(next(iter(r.json().values()))), want,
                               rtol=rtol, atol=atol)


def _per_item(value, unit):
    return float(value) * {"ms": 1e-3, "us": 1e-6}[unit]


def test_an_unbatched_model_runs_on_the_threads_it_was_timed_faster_on(bento):
    """A model served unbatched on a worker's share of the CPUs (one thread each, by default)
    is timed at load on every CPU's threads too, a lone request on each, and runs on them when
    it ran at least 15% faster there (batching::WideThreadsPay); the log says the timings and
    the choice, which must follow from them, and the model answers on the session chosen.
    --threads, or one worker, leaves nothing to choose."""
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs two CPUs, so that a worker's share is smaller than all of them")
    model = MOBILENET / "mobilenet_v2.onnx"
    # Batchable, so that an input can be made up for the timing (its batch dimension is free);
    # served with --no-batching, as a model without the signature would be.
    bento.save(model, "mnv2", "--batchable")
    server = Server(bento, "mnv2", "--no-batching")
    server.wait_ready()
    try:
        x = np.random.default_rng(7).random((1, 3, 224, 224), dtype=np.float32)
        _assert_answers_as_onnxruntime(server.url + "/run", model, "input", x, 1e-4, 1e-5)
    finally:
        assert server.stop() == 0
    log = "".join(server.log)
    timed = re.search(r"model mnv2:\S+: intra-op threads timed at load: a lone request "
                      r"(\S+) (ms|us)/item on 1 thread\(s\), (\S+) (ms|us)/item on (\d+), "
                      r"so it runs on (\d+)", log)
    assert timed, log
    narrow, wide = _per_item(*timed.group(1, 2)), _per_item(*timed.group(3, 4))
    cpus, chosen = int(timed.group(5)), int(timed.group(6))
    assert cpus >= 2
    assert chosen == (cpus if wide <= narrow * (1 - 0.15) else 1), log
    assert re.search(rf"model mnv2:\S+ loaded in \S+ s \(intra-op threads: {chosen}\)", log), log
    for flags in (["--threads", "1"], ["--workers", "1"]):
        server = Server(bento, "mnv2", "--no-batching", *flags)
        server.wait_ready()
        assert server.stop() == 0
        assert "intra-op threads timed" not in "".join(server.log), flags


def _batch_add_model(path, batch_of_one):
    """y = x + (1, 2, 3, 4) on x float[n, 4]; with `batch_of_one`, x is first reshaped to
    [1, 4], so every batch but one fails inside ONNX Runtime though the shapes allow it."""
    nodes, x = [], "x"
    if batch_of_one:
        nodes.append(helper.make_node("Reshape", ["x", "one_row"], ["x_one"]))
        x = "x_one"
    nodes.append(helper.make_node("Add", [x, "w"], ["y"]))
    graph = helper.make_graph(
        nodes, "batch_add",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
        [numpy_helper.from_array(np.arange(1, 5, dtype=np.float32), "w"),
         numpy_helper.from_array(np.array([1, 4], dtype=np.int64), "one_row")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                                ir_version=8), path)
    return path


def test_batch_sizes_are_timed_at_load_unless_the_max_is_given(bento, tmp_path, ocr_cls_model):
    """By default a batchable model's batch sizes are timed when it loads, its batches grow no
    larger than the size past which an item stops getting cheaper, and it is batched only if
    batches of that size beat requests run at once unbatched; the log says the timings. A model
    whose Run takes microseconds is served unbatched: handing its requests to a batch would
    cost more than it saves. A model that fails at any batch but one is found out there, and
    still serves. A model whose free width leaves nothing to time at load is timed on its first
    request's inputs. --max-batch-size is kept as given, with no timing."""
    bento.save(_batch_add_model(tmp_path / "add.onnx", False), "add", "--batchable")
    bento.save(_batch_add_model(tmp_path / "one.onnx", True), "one", "--batchable")
    bento.save(ocr_cls_model, "wide", "--batchable")
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    server = Server(bento, "add", "one", "wide")
    server.wait_ready()
    try:
        for name in ("add", "one"):
            r = requests.post(f"{server.url}/{name}/run", json={"x": x.tolist()})
            assert r.status_code == 200, r.text
            np.testing.assert_array_equal(np.array(r.json()["y"], dtype=np.float32),
                                          x + [1, 2, 3, 4])
        log = "".join(server.log)
        assert re.search(r"model wide:\S+: batching is chosen on its first request, whose "
                         r"inputs are timed then, since input x has a free dimension", log), log
        assert "timed on a request's inputs" not in log  # not before its first request
        image = np.random.default_rng(6).random((2, 3, 48, 160), dtype=np.float32)
        _assert_answers_as_onnxruntime(f"{server.url}/wide/run", ocr_cls_model, "x", image)
    finally:
        assert server.stop() == 0
    log = "".join(server.log)
    assert re.search(r"model wide:\S+: batch sizes timed on a request's inputs: 1: \S+ .s/item"
                     r".*so batching is (on|off)", log), log
    timed = re.search(r"model add:\S+: batch sizes timed at load: 1: \S+ .s/item, 2: .*"
                      r"\(largest batch: (\d+)\); at once, \d+ batch\(es\) of \1: .*"
                      r"so batching is off \(", log)
    assert timed, log
    assert not re.search(r"model add:\S+: adaptive batching on", log), log
    # Timed, it runs on an unbatched model's threads (one per API worker, one worker per core),
    # as --no-batching would serve it.
    assert re.search(r"model add:\S+ loaded in \S+ s \(intra-op threads: 1\)", log), log
    assert re.search(r"model one:\S+: a batch of 2 fails \(.*\); batches of up to 1", log), log
    assert re.search(r"model one:\S+: adaptive batching on \(max_batch_size=1,", log), log

    server = Server(bento, "one", "--max-batch-size", "4")
    server.wait_ready()
    try:
        r = requests.post(server.url + "/run", json={"x": x.tolist()})
        assert r.status_code != 200  # the whole request reaches the model, which fails
    finally:
        assert server.stop() == 0
    log = "".join(server.log)
    assert "timed at load" not in log and "fails" not in log.split("adaptive batching")[0]
    assert re.search(r"model one:\S+: adaptive batching on \(max_batch_size=4,", log), log
