"""Faults around a real store and a real server: a full disk during a save, a corrupt model
in the store, and the server killed with SIGKILL under load. Each leaves a clear error and an
intact store, and the other models keep serving."""
import concurrent.futures
import json
import os
import signal
import subprocess
import tempfile
import threading
import time

import numpy as np
import onnxruntime as ort
import pytest
import requests

from conftest import Bento, Server


def _x(seed=0):
    return np.random.default_rng(seed).random((1, 3, 48, 192), dtype=np.float32)


def _reference(model, x):
    return ort.InferenceSession(str(model)).run(None, {"x": x})[0]


def _run_ok(bento, tag, model):
    """`bento run TAG` answers the model's exact outputs."""
    x = _x(1)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump({"x": x.tolist()}, f)
        f.flush()
        proc = bento.run("run", tag, "--input", f.name)
    got = np.array(next(iter(json.loads(proc.stdout).values())), dtype=np.float32)
    np.testing.assert_allclose(got, _reference(model, x), rtol=1e-4, atol=1e-5)


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB tmpfs as $BENTOML_HOME: room for a small model, not for a big one."""
    home = tmp_path / "bentoml"
    home.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0755", "tmpfs", str(home)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): " +
                    proc.stderr.strip())
    try:
        yield Bento(home)
    finally:
        subprocess.run(["umount", "-l", str(home)], check=True)


def test_full_disk_during_save_is_a_clear_error_and_the_store_stays_intact(
        small_disk, ocr_cls_model, ocr_rec_model):
    bento = small_disk
    tag = bento.save(ocr_cls_model, "ocr-cls")  # 0.6 MB: fits
    before = bento.snapshot()
    for _ in range(2):  # 10.8 MB: cannot fit; twice, so that a failure leaves room behind
        proc = bento.run("models", "save", ocr_rec_model, "--name", "ocr-rec", check=False)
        assert proc.returncode != 0
        assert "No space left on device" in proc.stderr, proc.stderr
        assert "ocr-rec" not in proc.stdout
    assert bento.snapshot() == before  # no partial model
    assert [m["tag"] for m in bento.list()] == [tag]
    assert not (bento.home / "models" / "ocr-rec").exists()
    leftovers = list((bento.home / "tmp").iterdir()) if (bento.home / "tmp").exists() else []
    assert leftovers == []
    _run_ok(bento, tag, ocr_cls_model)  # the model saved before still loads and runs
    # The space of the failed saves was given back: another small model fits.
    tag2 = bento.save(ocr_cls_model, "ocr-cls2")
    _run_ok(bento, tag2, ocr_cls_model)


def _fill(home, leave_pages):
    """Fills the tmpfs at `home` with a file until it is full, then frees `leave_pages`."""
    fd = os.open(home / "filler", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    os.ftruncate(fd, os.fstat(fd).st_size - leave_pages * 4096)
    os.close(fd)


@pytest.mark.parametrize("extra_pages, failing_file", [(0, "model.yaml"),
                                                        (1, "custom_objects.json")])
def test_a_disk_that_fills_mid_save_leaves_no_partial_model(
        small_disk, ocr_cls_model, tmp_path, extra_pages, failing_file):
    """Room for the .onnx file but not for what is written after it."""
    bento = small_disk
    tag = bento.save(ocr_cls_model, "ocr-cls")
    custom = tmp_path / "custom.json"
    custom.write_text('{"labels": ["0", "180"]}')
    before = bento.snapshot()
    _fill(bento.home, -(-os.path.getsize(ocr_cls_model) // 4096) + extra_pages)
    proc = bento.run("models", "save", ocr_cls_model, "--name", "late",
                     "--custom-objects", custom, check=False)
    assert proc.returncode != 0
    assert f"{failing_file}: No space left on device" in proc.stderr, proc.stderr
    assert bento.snapshot() == before
    assert not (bento.home / "models" / "late").exists()
    assert list((bento.home / "tmp").iterdir()) == []
    (bento.home / "filler").unlink()
    assert [m["tag"] for m in bento.list()] == [tag]
    _run_ok(bento, tag, ocr_cls_model)


def test_a_full_disk_does_not_stop_serving(small_disk, ocr_cls_model):
    """A server whose store sits on a full disk keeps serving: serving writes nothing there."""
    bento = small_disk
    bento.save(ocr_cls_model, "ocr-cls")
    _fill(bento.home, 0)
    server = Server(bento, "ocr-cls")
    try:
        server.wait_ready()
        r = requests.post(server.url + "/run", json={"x": _x().tolist()})
        assert r.status_code == 200, r.text
    finally:
        assert server.stop() == 0
        (bento.home / "filler").unlink()


@pytest.fixture
def two_models(bento, ocr_cls_model):
    good = bento.save(ocr_cls_model, "good")
    bad = bento.save(ocr_cls_model, "bad")
    return good, bad, bento.run("models", "get", bad, "-o", "path").stdout.strip()


def test_a_corrupt_model_file_is_refused_and_the_others_serve(bento, ocr_cls_model, two_models):
    good, bad, bad_path = two_models
    with open(os.path.join(bad_path, "saved_model.onnx"), "r+b") as f:
        f.seek(100)
        f.write(os.urandom(4096))  # garbage in the middle of the protobuf
    assert {m["tag"] for m in bento.list()} == {good, bad}  # listing reads only model.yaml
    server = Server(bento, "good", "bad")
    try:
        server.wait_log(f"model {bad} failed to load", timeout=30)
        x = _x()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the good model finishes loading
            r = requests.post(server.url + "/good/run", json={"x": x.tolist()})
            if r.status_code != 503:
                break
            time.sleep(0.05)
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(np.array(next(iter(r.json().values())), dtype=np.float32),
                                   _reference(ocr_cls_model, x), rtol=1e-4, atol=1e-5)
        r = requests.post(server.url + "/bad/run", json={"x": x.tolist()})
        assert r.status_code == 503 and f"model {bad} is not available" in r.json()["error"]
        assert requests.get(server.url + "/livez").status_code == 200
        assert requests.get(server.url + "/v2/models/good/ready").status_code == 200
    finally:
        assert server.stop() == 0


def test_a_corrupt_model_yaml_is_a_clear_error_and_the_others_still_work(
        bento, ocr_cls_model, two_models):
    good, bad, bad_path = two_models
    with open(os.path.join(bad_path, "model.yaml"), "w") as f:
        f.write("name: [unclosed\n\t: : :")
    proc = bento.run("serve", bad, "--port", "0", check=False, timeout=30)
    assert proc.returncode != 0
    assert "model.yaml" in proc.stderr, proc.stderr
    proc = bento.run("models", "list", "-o", "json", check=False)
    assert proc.returncode == 0, proc.stderr
    assert good in proc.stdout
    _run_ok(bento, good, ocr_cls_model)
    server = Server(bento, "good")
    try:
        server.wait_ready()
        assert requests.post(server.url + "/run", json={"x": _x().tolist()}).status_code == 200
    finally:
        assert server.stop() == 0


def test_sigkill_under_load_then_restart_serves_and_the_store_is_intact(bento, ocr_cls_model):
    tag = bento.save(ocr_cls_model, "ocr-cls", "--batchable")
    before = bento.snapshot()
    server = Server(bento, "ocr-cls")
    server.wait_ready()
    stop = threading.Event()
    answered = []

    def client():
        session = requests.Session()
        while not stop.is_set():
            try:
                answered.append(session.post(server.url + "/run", json={"x": _x().tolist()},
                                             timeout=5).status_code)
            except requests.RequestException:
                pass  # the server went away under us

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for _ in range(4):
            pool.submit(client)
        time.sleep(1.5)
        server.proc.send_signal(signal.SIGKILL)
        assert server.proc.wait(timeout=10) == -signal.SIGKILL
        stop.set()
    assert answered.count(200) > 0 and set(answered) == {200}
    # Serving never writes to the store, not even a lock or cache file a kill could leave.
    assert bento.snapshot() == before
    assert [m["tag"] for m in bento.list()] == [tag]
    restarted = Server(bento, "ocr-cls")
    try:
        restarted.wait_ready()
        x = _x(3)
        r = requests.post(restarted.url + "/run", json={"x": x.tolist()})
        assert r.status_code == 200
        # The same ONNX Runtime on the same input, one request: the same bits.
        np.testing.assert_array_equal(np.array(next(iter(r.json().values())), dtype=np.float32),
                                      _reference(ocr_cls_model, x))
    finally:
        assert restarted.stop() == 0
