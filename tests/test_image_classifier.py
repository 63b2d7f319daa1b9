"""examples/image_classifier end to end: the guide's ONNXImageClassifier on a real MobileNetV2,
checked against a reference run of the guide's Python preprocessing (Pillow) and onnxruntime."""
import io
import json
import pathlib

import numpy as np
import onnxruntime as ort
import pytest
import requests
from PIL import Image

from conftest import ROOT, ExampleServer

MOBILENET = ROOT / ".deps" / "models" / "mobilenet_v2"
SKIMAGE = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data")
CATS = {281, 282, 283, 284, 285}  # tabby, tiger cat, Persian, Siamese, Egyptian cat


@pytest.fixture(scope="module")
def custom_objects():
    return json.loads((MOBILENET / "custom_objects.json").read_text())


@pytest.fixture
def classifier(bento):
    bento.save(MOBILENET / "mobilenet_v2.onnx", "image_classifier", "--custom-objects",
               MOBILENET / "custom_objects.json", "--batchable")
    server = ExampleServer(bento, "image_classifier")
    server.wait_ready()
    yield server
    assert server.stop() == 0


def reference(path, custom_objects):
    """The guide's preprocess_image, then onnxruntime, then softmax."""
    params = custom_objects["preprocessing_params"]
    image = Image.open(path).convert("RGB").resize((224, 224))
    x = np.array(image, dtype=np.float32) / 255.0
    x = (x - np.array(params["mean"])) / np.array(params["std"])
    x = np.expand_dims(np.transpose(x, (2, 0, 1)), 0).astype(np.float32)
    logits = ort.InferenceSession(str(MOBILENET / "mobilenet_v2.onnx")).run(None, {"input": x})[0][0]
    e = np.exp(logits - logits.max())
    return e / e.sum()


def post_image(server, path, route="/classify_image"):
    with open(path, "rb") as f:
        return requests.post(server.url + route, files={"image": (path.name, f, "image/png")})


def test_chelsea_is_a_cat_and_matches_the_reference(classifier, custom_objects):
    r = post_image(classifier, SKIMAGE / "chelsea.png")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["predicted_class"] in CATS
    assert out["predicted_class_name"] == custom_objects["class_names"][out["predicted_class"]]
    want = reference(SKIMAGE / "chelsea.png", custom_objects)
    assert out["predicted_class"] == int(np.argmax(want))
    assert [p["class_id"] for p in out["top5_predictions"]] == list(np.argsort(want)[::-1][:5])
    # Preprocessing matches Pillow: the probabilities agree to float rounding.
    for p in out["top5_predictions"]:
        assert abs(p["confidence"] - want[p["class_id"]]) < 1e-4
    assert out["confidence"] == out["top5_predictions"][0]["confidence"]
    # chelsea.png's colour profile is one libpng warns about: never on the server's output.
    assert not any("libpng" in line for line in classifier.log), classifier.log


def test_coffee_has_a_cup_or_espresso_in_the_top5(classifier):
    # A single-parameter API also takes the raw image as the body.
    r = requests.post(classifier.url + "/classify_image",
                      data=(SKIMAGE / "coffee.png").read_bytes(),
                      headers={"Content-Type": "image/png"})
    assert r.status_code == 200, r.text
    top5 = {p["class_id"] for p in r.json()["top5_predictions"]}
    assert top5 & {967, 968}  # espresso, cup


def test_classify_batch_equals_one_by_one(classifier):
    paths = [SKIMAGE / n for n in ("chelsea.png", "coffee.png", "astronaut.png")]
    files = [("images", (p.name, p.read_bytes(), "image/png")) for p in paths]
    r = requests.post(classifier.url + "/classify_batch", files=files)
    assert r.status_code == 200, r.text
    batch = r.json()
    assert len(batch) == 3
    for path, got in zip(paths, batch):
        one = post_image(classifier, path).json()
        assert got["predicted_class"] == one["predicted_class"]
        assert abs(got["confidence"] - one["confidence"]) < 1e-4


def test_bad_images_are_400(classifier):
    r = requests.post(classifier.url + "/classify_image",
                      files={"image": ("x.png", b"not an image at all", "image/png")})
    assert r.status_code == 400 and "not an image" in r.json()["error"]
    data = (SKIMAGE / "chelsea.png").read_bytes()
    r = requests.post(classifier.url + "/classify_image",
                      files={"image": ("x.png", data[: len(data) // 2], "image/png")})
    assert r.status_code == 400, r.text
    r = requests.post(classifier.url + "/classify_image", json={"image": "abc"})
    assert r.status_code == 415, r.text
    body = (b"--XYZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + data[:100])
    r = requests.post(classifier.url + "/classify_image", data=body,
                      headers={"Content-Type": "multipart/form-data; boundary=XYZ"})
    assert r.status_code == 400 and "multipart" in r.json()["error"]
    doc = requests.get(classifier.url + "/docs.json").json()
    assert {"/classify_image", "/classify_batch"} <= set(doc["paths"])


def test_opencv_is_loaded_only_for_an_image_bento_does_not_decode_itself(classifier,
                                                                         custom_objects, tmp_path):
    """bento decodes PNG itself, and JPEG and the rest through OpenCV, in a plugin it loads on
    first use (src/io/imgcodecs_plugin.h): a server that only ever gets PNGs never maps OpenCV
    (~140 libraries as Debian builds it), and the first JPEG loads it and is classified as the
    guide's Pillow pipeline classifies it."""
    def mapped():
        maps = pathlib.Path(f"/proc/{classifier.proc.pid}/maps").read_text()
        return "libbento_imgcodecs.so" in maps, "libopencv_imgcodecs" in maps

    assert post_image(classifier, SKIMAGE / "chelsea.png").status_code == 200
    assert mapped() == (False, False)
    jpeg = tmp_path / "chelsea.jpg"
    Image.open(SKIMAGE / "chelsea.png").convert("RGB").save(jpeg, "JPEG", quality=95)
    r = requests.post(classifier.url + "/classify_image",
                      files={"image": (jpeg.name, jpeg.read_bytes(), "image/jpeg")})
    assert r.status_code == 200, r.text
    assert mapped() == (True, True)
    want = reference(jpeg, custom_objects)
    assert r.json()["predicted_class"] == int(np.argmax(want))
    assert abs(r.json()["confidence"] - want.max()) < 1e-3


def test_a_model_with_a_fixed_batch_of_one_refuses_two_images_with_400(bento, tmp_path):
    """A failed run keeps its status: MobileNetV2 exported with batch 1 fixed, given two
    images, answers 400 naming the expected shape (it was a 500 through .value())."""
    import onnx
    model = onnx.load(str(MOBILENET / "mobilenet_v2.onnx"))
    for value in list(model.graph.input) + list(model.graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        dim.Clear()
        dim.dim_value = 1
    fixed = tmp_path / "fixed.onnx"
    onnx.save(model, str(fixed))
    bento.save(fixed, "image_classifier", "--custom-objects", MOBILENET / "custom_objects.json")
    server = ExampleServer(bento, "image_classifier")
    server.wait_ready()
    try:
        data = (SKIMAGE / "chelsea.png").read_bytes()
        assert post_image(server, SKIMAGE / "chelsea.png").status_code == 200
        r = requests.post(server.url + "/classify_batch",
                          files=[("images", ("a.png", data, "image/png"))] * 2)
        assert r.status_code == 400, r.text
        assert "wrong shape" in r.json()["error"] and "[1, 3, 224, 224]" in r.json()["error"]
    finally:
        assert server.stop() == 0
