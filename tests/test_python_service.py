"""Python services (@bento.service, @bento.api) served by bento's C++ server in the Python
process (`python -m bento serve module:Class`): the guide's own ONNXImageClassifier against
the C++ example on the same model, BentoML's schema for the same class, and the handoff's
parameter kinds, errors and batching (tests/python_services/features.py)."""
import concurrent.futures
import json
import os
import sys

import bento as bento_package  # the Python package (`bento` is the store fixture here)
import bentoml
import numpy as np
import pytest
import requests
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

from conftest import BENTO, ROOT, ExampleServer, Server, _free_port, python_env
from digits import heldout_rows, save_model
from test_multi_model import save_all
from test_object_detector import save_detector

SERVICES = ROOT / "tests" / "python_services"
# The services' folder, before any PYTHONPATH the tests run under (the AddressSanitizer run
# puts its own build of the package there: scripts/test-sanitized).
SERVICES_PATH = os.pathsep.join(filter(None, [str(SERVICES), os.environ.get("PYTHONPATH")]))
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"


class PythonServer(Server):
    """`python -m bento serve TARGET ARGS...`, run from tests/python_services."""

    def __init__(self, bento, target, *args):
        self.target = target
        super().__init__(bento, *args)

    def command(self):
        return [sys.executable, "-m", "bento", "serve", self.target, *self.args]

    def environment(self, bento):
        return python_env(dict(bento.env, PYTHONPATH=SERVICES_PATH))


@pytest.fixture
def features(bento):
    server = PythonServer(bento, "features:Features")
    server.wait_ready()
    yield server
    assert server.stop() == 0


def post_images(server, route, field, names):
    files = [(field, (n, open(f"{SKIMAGE}/{n}", "rb").read(), "image/png")) for n in names]
    r = requests.post(server.url + route, files=files)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_guides_image_classifier_answers_as_the_cpp_example(bento):
    bento.save_image_classifier()
    python = PythonServer(bento, "image_classifier:ONNXImageClassifier")
    cpp = ExampleServer(bento, "image_classifier")
    python.wait_ready()
    cpp.wait_ready()
    try:
        for name in ("chelsea.png", "coffee.png", "astronaut.png"):
            got = post_images(python, "/classify_image", "image", [name])
            want = post_images(cpp, "/classify_image", "image", [name])
            # The guide reports logits as confidences where the C++ example reports softmax
            # probabilities; the classes and their order are the same.
            assert got["predicted_class"] == want["predicted_class"]
            assert got["predicted_class_name"] == want["predicted_class_name"] is not None
            assert [p["class_id"] for p in got["top5_predictions"]] == \
                [p["class_id"] for p in want["top5_predictions"]]
        batch = post_images(python, "/classify_batch", "images", ["chelsea.png", "coffee.png"])
        assert [b["predicted_class"] for b in batch] == [
            post_images(cpp, "/classify_image", "image", [n])["predicted_class"]
            for n in ("chelsea.png", "coffee.png")]
        # BentoML's own schema of the guide's class (with BentoML's own decorators).
        sys.path.insert(0, str(SERVICES))
        try:
            source = (SERVICES / "image_classifier.py").read_text().replace(
                "\nimport bento as bentoml\n", "\nimport bentoml\n")
            namespace = {"__name__": "guide_image_classifier"}
            exec(compile(source, "guide_image_classifier", "exec"), namespace)  # noqa: S102
        finally:
            sys.path.remove(str(SERVICES))
        want = json.loads(json.dumps(namespace["ONNXImageClassifier"].schema()))
        got = requests.get(python.url + "/schema.json").json()
        assert {r["name"]: r for r in got["routes"]} == {r["name"]: r for r in want["routes"]}
        # Its model, loaded in __init__, answers KServe v2 too.
        r = requests.get(python.url + "/v2/models/image_classifier")
        assert r.status_code == 200 and r.json()["name"] == "image_classifier"
    finally:
        assert python.stop() == 0
        assert cpp.stop() == 0


@pytest.mark.parametrize("example,target,route,bodies", [
    ("text_classifier", "text_processor:ONNXTextProcessor", "/classify_text",
     [{"text": "Ich habe heute keine Zeit, weil ich arbeiten muss."},
      {"text": "The weather was so nice today."}, {"text": ""}]),
    ("dynamic_shapes", "dynamic_shapes:DynamicONNXService", "/process_variable_input",
     [{"data": heldout_rows(n)[0].tolist()} for n in (1, 5)]),
    ("batch_processing", "batch_processing:BatchONNXService", "/batch_inference",
     [{"inputs": heldout_rows(40)[0].tolist()}]),
    ("validated", "validated:ValidatedONNXService", "/predict",
     [{"input_data": heldout_rows(n)[0].tolist()} for n in (1, 3)]),
    ("robust", "robust:RobustONNXService", "/predict",
     [{"input_data": heldout_rows(2)[0].tolist()}]),
    ("monitored", "monitored:MonitoredONNXService", "/predict_with_timing",
     [{"input_data": heldout_rows(2)[0].tolist()}]),
    ("provider_config", "provider_config:OptimizedONNXService", "/optimized_inference",
     [{"input_data": heldout_rows(4)[0].tolist()}]),
])
def test_the_guides_services_answer_as_the_cpp_examples(bento, example, target, route, bodies):
    """The guide's Python services, on the C++ examples' models, answer what the C++ examples
    answer (numbers to float32 rounding: numpy and C++ sum in different orders)."""
    if example == "text_classifier":
        bento.save_text_classifier()
    else:
        save_model(bento, example)
    python, cpp = PythonServer(bento, target), ExampleServer(bento, example)
    python.wait_ready()
    cpp.wait_ready()
    try:
        for body in bodies:
            got = requests.post(python.url + route, json=body)
            want = requests.post(cpp.url + route, json=body)
            assert got.status_code == want.status_code == 200, (got.text, want.text)
            got, want = got.json(), want.json()
            for timing in ("inference_time", "average_time"):  # the clock's, not the model's
                if isinstance(want, dict) and timing in want:
                    assert got.pop(timing) >= 0 and want.pop(timing) >= 0
            assert_close(got, want)
    finally:
        assert python.stop() == 0
        assert cpp.stop() == 0


@pytest.mark.parametrize("example,target,route,save,images", [
    ("object_detector", "object_detector:ONNXObjectDetector", "/detect_objects", save_detector,
     ["page.png", "coffee.png", "logo.png"]),
    ("multi_model", "multi_model:MultiONNXService", "/comprehensive_analysis", save_all,
     ["page.png", "coffee.png", "chelsea.png"]),
])
def test_the_guides_image_services_answer_as_the_cpp_examples(bento, example, target, route,
                                                              save, images):
    """The guide's ONNXObjectDetector and MultiONNXService, on PP-OCRv4's text detector (and
    MobileNetV2 and PP-OCRv4's recognizer), answer what the C++ examples answer for gray, RGB
    and RGBA images: the same boxes (integers), classes and texts, and scores to float32
    rounding (the models' inputs are the same bit for bit: Pillow's resize is what bento's
    C++ resize reproduces; only sums run in different orders)."""
    save(bento)
    python, cpp = PythonServer(bento, target), ExampleServer(bento, example)
    python.wait_ready()
    cpp.wait_ready()
    try:
        for name in images:
            got = post_images(python, route, "image", [name])
            want = post_images(cpp, route, "image", [name])
            assert_close(got, want)
            if name == "page.png":  # its lines of text: the comparison is not of empty lists
                detection = want if example == "object_detector" else want["detection"]
                assert detection["num_detections"] >= 7, want
                if example == "multi_model":
                    assert want["recognition"]["lines"][0]["text"] == "Region-based segmentation"
    finally:
        assert python.stop() == 0
        assert cpp.stop() == 0


def assert_close(got, want):
    if isinstance(want, dict):
        assert set(got) == set(want), (got.keys(), want.keys())
        for k in want:
            assert_close(got[k], want[k])
    elif isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert_close(g, w)
    elif isinstance(want, float):
        assert got == pytest.approx(want, rel=1e-5, abs=1e-6)
    else:
        assert got == want


def test_parameters_are_parsed_in_cpp_and_reach_python_as_their_types(features):
    r = requests.post(features.url + "/describe",
                      files={"image": open(f"{SKIMAGE}/chelsea.png", "rb")})
    assert r.status_code == 200, r.text
    from PIL import Image
    chelsea = Image.open(f"{SKIMAGE}/chelsea.png")
    assert r.json() == {"size": [451, 300], "mode": "RGB", "note": "none",
                        "sum": int(np.asarray(chelsea, dtype=np.int64).sum())}
    # BentoML's client sends the string field through json.dumps.
    with bentoml.SyncHTTPClient(features.url) as client:
        out = client.describe(image=f"{SKIMAGE}/chelsea.png", note="hi")
        assert out["note"] == "hi"
        np.testing.assert_array_equal(client.scale(x=np.arange(6.0).reshape(2, 3)),
                                      np.arange(6.0).reshape(2, 3) * 2)
        assert client.shout(text="quiet") == "QUIET!"
    r = requests.post(features.url + "/scale", json={"x": [[1, 2], [3, 4]], "factor": 0.5})
    assert r.json() == [[0.5, 1.0], [1.5, 2.0]]
    value = {"nested": [1, 2.5, None, "s", {"k": [True]}], "unicode": "ü\u0000"}
    r = requests.post(features.url + "/echo", json={"data": value})
    assert r.status_code == 200 and r.json() == value
    # NaN and infinities go both ways, as Python's json writes them.
    r = requests.post(features.url + "/scale", data='{"x": [NaN, Infinity, -1e308]}',
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.text == "[NaN, Infinity, -Infinity]"


def test_an_api_serves_at_its_route_under_its_name(features):
    r = requests.post(features.url + "/v1/numbers/add-one", json={"n": 41})
    assert r.status_code == 200 and r.json() == 42, r.text
    assert requests.post(features.url + "/add_one", json={"n": 1}).status_code == 404
    assert requests.post(features.url + "/plus_one", json={"n": 1}).status_code == 404
    routes = {r["name"]: r["route"] for r in requests.get(features.url + "/schema.json")
              .json()["routes"]}
    assert routes["add_one"] == "/v1/numbers/add-one"
    with bentoml.SyncHTTPClient(features.url) as client:
        assert client.add_one(n=1) == 2
    with pytest.raises(ValueError, match="fixed path"):
        bento_package.api(route="/items/{id}")


def test_exceptions_become_status_codes(features):
    def fail(kind):
        return requests.post(features.url + "/fail", json={"kind": kind})
    assert fail("invalid").status_code == 400
    assert fail("invalid").json()["error"] == "kind must be valid"
    assert fail("missing").status_code == 404
    r = fail("bug")
    assert r.status_code == 500 and "RuntimeError" in r.json()["error"]
    assert "a bug in the service" not in r.text  # the traceback is logged, not sent
    features.wait_log("Traceback", "RuntimeError: a bug in the service")
    # Bad input never reaches Python: the C++ side answers.
    r = requests.post(features.url + "/describe", files={"image": ("x.png", b"nope", "image/png")})
    assert r.status_code == 400 and "not an image" in r.json()["error"]


def test_a_batchable_api_is_called_once_per_batch(features):
    def call(i):
        r = requests.post(features.url + "/double", json={"x": [[float(i), 1.0]]})
        return r.status_code, r.json()

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(call, range(64)))
    assert all(code == 200 for code, _ in answers)
    assert [a for _, a in answers] == [[[2.0 * i, 2.0]] for i in range(64)]
    calls = requests.post(features.url + "/batch_calls_so_far", json={}).json()
    assert 0 < calls < 64, calls


def test_concurrent_calls_of_every_kind_each_get_their_own_answer(features):
    """The handoff under load: API workers and the batcher's threads take the GIL for images,
    tensors, text, JSON, errors and batches at once; each answer is its own request's."""
    chelsea = open(f"{SKIMAGE}/chelsea.png", "rb").read()

    def call(i):
        kind = i % 5
        if kind == 0:
            r = requests.post(features.url + "/describe", data={"note": str(i)},
                              files={"image": ("c.png", chelsea, "image/png")})
            return r.status_code == 200 and r.json()["note"] == str(i)
        if kind == 1:
            r = requests.post(features.url + "/scale", json={"x": [float(i)], "factor": 3.0})
            return r.status_code == 200 and r.json() == [3.0 * i]
        if kind == 2:
            r = requests.post(features.url + "/shout", json={"text": f"n{i}"})
            return r.status_code == 200 and r.text == f"N{i}!"
        if kind == 3:
            r = requests.post(features.url + "/fail", json={"kind": "invalid" if i % 2 else "bug"})
            return r.status_code == (400 if i % 2 else 500)
        r = requests.post(features.url + "/double", json={"x": [[float(i)]]})
        return r.status_code == 200 and r.json() == [[2.0 * i]]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(call, range(200)))
    assert all(answers), [i for i, ok in enumerate(answers) if not ok]


def test_serve_flags_and_policies_apply(bento):
    grpc_port = _free_port()
    server = PythonServer(bento, "features:Features", "--api-key", "k", "--max-body-size", "1KiB",
                          "--grpc-port", grpc_port)
    server.wait_ready()
    try:
        # gRPC, the other transport: the probe needs no key, anything else does.
        client = grpcclient.InferenceServerClient(f"127.0.0.1:{grpc_port}")
        assert client.is_server_live()
        with pytest.raises(InferenceServerException, match="UNAUTHENTICATED|API key"):
            client.get_server_metadata()
        assert client.get_server_metadata(headers={"authorization": "Bearer k"}).name
        assert requests.post(server.url + "/shout", json={"text": "a"}).status_code == 401
        auth = {"Authorization": "Bearer k"}
        r = requests.post(server.url + "/shout", json={"text": "a"}, headers=auth)
        assert r.status_code == 200 and r.text == "A!"
        big = requests.post(server.url + "/shout", json={"text": "a" * 2000}, headers=auth)
        assert big.status_code == 413
        metrics = requests.get(server.url + "/metrics", headers=auth).text
        assert 'endpoint="/shout"' in metrics
    finally:
        assert server.stop() == 0


@pytest.mark.parametrize("target,message", [
    ("no_such_module:X", "cannot import the service module 'no_such_module'"),
    ("features:Nope", "has no @bento.service class 'Nope'"),
])
def test_a_bad_target_fails_startup_with_a_clear_message(bento, target, message):
    server = PythonServer(bento, target)
    assert server.proc.wait(timeout=60) == 1
    assert message in "".join(server.log)


def test_bento_serve_runs_a_python_service_given_as_module_and_class(bento):
    """`bento serve features:Features` in the service's folder hands over to
    `python3 -m bento serve` (BENTO_PYTHON: this venv's interpreter)."""
    bento.env["BENTO_PYTHON"] = sys.executable

    class CliServer(Server):
        cwd = SERVICES

        def command(self):
            return [str(BENTO), "serve", "features:Features", *self.args]

        def environment(self, bento):
            return python_env(bento.env)  # the Python process the CLI becomes

    server = CliServer(bento, "--api-key", "k")
    try:
        server.wait_ready()
        r = requests.post(server.url + "/shout", json={"text": "a"},
                          headers={"Authorization": "Bearer k"})
        assert r.status_code == 200 and r.text == "A!"
    finally:
        assert server.stop() == 0
