"""BentoML's own HTTP clients (PyPI's bentoml) against bento, as a BentoML user calls a server.

SyncHTTPClient and AsyncHTTPClient read GET /schema.json to learn each API's route and how
to send its parameters (JSON, or multipart for files and images) and decode its answer. The
schema is compared with what BentoML itself produces for the same Python signature, and
every call is compared with the same request sent over plain HTTP."""
import asyncio
import json
import pathlib
import typing as t
from typing import Annotated

import bentoml
import numpy as np
import onnxruntime as ort
import PIL.Image
import pytest
import requests
from bentoml.exceptions import BentoMLException, InvalidArgument
from bentoml.validators import DType, Shape

from conftest import ONNX_TESTDATA, ROOT, ExampleServer, Server
from digits import heldout_rows, served

MOBILENET = ROOT / ".deps" / "models" / "mobilenet_v2"
SKIMAGE = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data")
# condition (bool), x, y (int64), all [2, 2] -> z: three inputs of two dtypes.
WHERE = ONNX_TESTDATA / "node" / "test_where_long_example" / "model.onnx"
CHELSEA, COFFEE = SKIMAGE / "chelsea.png", SKIMAGE / "coffee.png"


def bentoml_schema(service_class):
    """BentoML's Service.schema() of a Python class with the same signatures, by route name,
    as BentoML's server writes it (JSON: tuples become lists)."""
    schema = json.loads(json.dumps(bentoml.service(service_class).schema()))
    return {route["name"]: route for route in schema["routes"]}, schema["paths"]


def served_schema(server):
    r = requests.get(server.url + "/schema.json")
    assert r.status_code == 200, r.text
    schema = r.json()
    return schema, {route["name"]: route for route in schema["routes"]}


def post_images(server, route, field, paths):
    files = [(field, (p.name, p.read_bytes(), "image/png")) for p in paths]
    r = requests.post(server.url + route, files=files)
    assert r.status_code == 200, r.text
    return r.json()


def example(name, save):
    """A fixture: the example's model saved by `save(bento)`, its server ready; stopped after."""
    @pytest.fixture
    def fixture(bento):
        save(bento)
        server = ExampleServer(bento, name)
        server.wait_ready()
        yield server
        assert server.stop() == 0
    return fixture


image_classifier = example("image_classifier", lambda bento: bento.save_image_classifier())
text_classifier = example("text_classifier", lambda bento: bento.save_text_classifier())


def test_schema_of_a_cpp_service_is_bentomls_for_the_same_signature(image_classifier):
    class ONNXImageClassifier:
        @bentoml.api
        def classify_image(self, image: PIL.Image.Image) -> t.Any: ...

        @bentoml.api
        def classify_batch(self, images: t.List[PIL.Image.Image]) -> t.List[t.Any]: ...

    want, want_paths = bentoml_schema(ONNXImageClassifier)
    schema, routes = served_schema(image_classifier)
    assert schema["name"] == "ONNXImageClassifier" and schema["type"] == "service"
    assert routes == want
    assert schema["paths"] == want_paths
    # Only the service's own APIs: not the infra routes, not KServe's.
    assert set(schema["paths"]) == {"/classify_image", "/classify_batch"}


dynamic_shapes = served("dynamic_shapes")


def test_schema_of_text(text_classifier):
    class ONNXTextProcessor:
        @bentoml.api
        def classify_text(self, text: str) -> t.Any: ...

    want, _ = bentoml_schema(ONNXTextProcessor)
    assert served_schema(text_classifier)[1] == want


def test_schema_and_calls_of_nested_lists_of_numbers(dynamic_shapes):
    class DynamicONNXService:
        @bentoml.api
        def process_variable_input(self, data: t.List[t.List[float]]) -> t.Any: ...

    want, _ = bentoml_schema(DynamicONNXService)
    assert served_schema(dynamic_shapes)[1] == want
    rows = heldout_rows(3)[0].tolist()
    r = requests.post(dynamic_shapes.url + "/process_variable_input", json={"data": rows})
    assert r.status_code == 200, r.text
    with bentoml.SyncHTTPClient(dynamic_shapes.url) as client:
        assert client.process_variable_input(data=rows) == r.json()


def test_schema_of_a_no_code_model_gives_dtypes_and_fixed_shapes(bento):
    bento.save(WHERE, "where")
    server = Server(bento, "where")
    server.wait_ready()
    try:
        class where:
            @bentoml.api
            def run(self,
                    condition: Annotated[np.ndarray, DType("bool"), Shape((2, 2))],
                    x: Annotated[np.ndarray, DType("int64"), Shape((2, 2))],
                    y: Annotated[np.ndarray, DType("int64"), Shape((2, 2))]) -> t.Any: ...

        want, _ = bentoml_schema(where)
        schema, routes = served_schema(server)
        assert schema["name"] == "where"
        assert routes["run"]["input"] == want["run"]["input"]
        # The model's own run route too, and its outputs by name, each a typed tensor.
        assert routes["where_run"]["input"] == want["run"]["input"]
        assert routes["run"]["output"] == {
            "type": "object",
            "properties": {"z": {"type": "tensor", "format": "numpy-array", "dtype": "int64",
                                 "shape": [2, 2], "dim": 4}}}
    finally:
        assert server.stop() == 0


def test_sync_client_classifies_pil_images_paths_and_lists_as_plain_http_does(image_classifier):
    plain = post_images(image_classifier, "/classify_image", "image", [CHELSEA])
    plain_batch = post_images(image_classifier, "/classify_batch", "images", [CHELSEA, COFFEE])
    with bentoml.SyncHTTPClient(image_classifier.url) as client:
        # A PIL image (the client encodes it as PNG), a path, and positional arguments.
        assert client.classify_image(image=PIL.Image.open(CHELSEA)) == plain
        assert client.classify_image(CHELSEA) == plain
        assert client.classify_batch(images=[PIL.Image.open(CHELSEA), COFFEE]) == plain_batch
        assert plain["predicted_class_name"] is not None


def test_async_client_classifies_as_plain_http_does(image_classifier):
    plain = post_images(image_classifier, "/classify_image", "image", [CHELSEA])
    plain_batch = post_images(image_classifier, "/classify_batch", "images", [CHELSEA, COFFEE])

    async def calls():
        async with bentoml.AsyncHTTPClient(image_classifier.url) as client:
            return await asyncio.gather(
                client.classify_image(image=PIL.Image.open(CHELSEA)),
                client.classify_image(image=CHELSEA),
                client.classify_batch(images=[CHELSEA, PIL.Image.open(COFFEE)]))

    one, by_path, batch = asyncio.run(calls())
    assert one == plain and by_path == plain and batch == plain_batch


def test_both_clients_classify_text_as_plain_http_does(text_classifier):
    sentence = "Ich habe heute keine Zeit, weil ich den ganzen Tag arbeiten muss."
    r = requests.post(text_classifier.url + "/classify_text", json={"text": sentence})
    assert r.status_code == 200, r.text
    with bentoml.SyncHTTPClient(text_classifier.url) as client:
        assert client.classify_text(text=sentence) == r.json()
        assert client.classify_text(sentence) == r.json()

    async def call():
        async with bentoml.AsyncHTTPClient(text_classifier.url) as client:
            return await client.classify_text(text=sentence)

    assert asyncio.run(call()) == r.json()
    assert r.json()["predicted_class_name"] == "German"


def test_clients_run_a_no_code_model_with_several_inputs_into_numpy(bento):
    bento.save(WHERE, "where")
    server = Server(bento, "where")
    server.wait_ready()
    try:
        rng = np.random.default_rng(7)
        feed = {"condition": rng.random((2, 2)) < 0.5,
                "x": rng.integers(-2**62, 2**62, (2, 2), dtype=np.int64),
                "y": rng.integers(-2**62, 2**62, (2, 2), dtype=np.int64)}
        want = ort.InferenceSession(str(WHERE)).run(None, feed)[0]
        plain = requests.post(server.url + "/run",
                              json={k: v.tolist() for k, v in feed.items()})
        assert plain.status_code == 200, plain.text
        with bentoml.SyncHTTPClient(server.url) as client:
            got = client.run(**feed)
            # Plain lists work too: the schema's dtype and shape make them arrays.
            from_lists = client.where_run(**{k: v.tolist() for k, v in feed.items()})

        async def call():
            async with bentoml.AsyncHTTPClient(server.url) as client:
                return await client.run(**feed)

        for out in (got, from_lists, asyncio.run(call())):
            assert set(out) == {"z"}
            assert out["z"].dtype == np.int64 and out["z"].shape == (2, 2)
            np.testing.assert_array_equal(out["z"], want)
        assert plain.json()["z"] == want.tolist()
    finally:
        assert server.stop() == 0


def test_server_errors_surface_as_bentomls_exceptions(bento, tmp_path):
    bento.save_image_classifier()
    server = ExampleServer(bento, "image_classifier", "--max-body-size", "100000",
                           "--api-key", "sesame")
    server.wait_ready()
    try:
        not_an_image = tmp_path / "notes.png"
        not_an_image.write_bytes(b"not an image at all")
        big = tmp_path / "big.png"
        PIL.Image.effect_noise((400, 400), 64).save(big)
        # BentoML's client sends a PIL image's own file, so an image under the limit is a file.
        small = tmp_path / "small.png"
        PIL.Image.open(CHELSEA).resize((150, 100)).save(small)
        with bentoml.SyncHTTPClient(server.url, token="sesame") as client:
            # 400: BentoML's InvalidArgument, with the server's message.
            with pytest.raises(InvalidArgument, match="not an image"):
                client.classify_image(image=not_an_image)
            # 413 has no exception class of its own: BentoMLException with its status.
            with pytest.raises(BentoMLException) as error:
                client.classify_image(image=big)
            assert error.value.error_code == 413
            # The key goes where the server asks for it: the calls above got past it.
            assert client.classify_image(image=small)["predicted_class"] in range(1000)
        # Without the key: the schema and readiness need none, the API call is a 401.
        with bentoml.SyncHTTPClient(server.url) as client:
            with pytest.raises(BentoMLException) as error:
                client.classify_image(image=small)
            assert error.value.error_code == 401
    finally:
        assert server.stop() == 0
