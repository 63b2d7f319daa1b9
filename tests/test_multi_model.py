"""examples/multi_model end to end: the guide's MultiONNXService with three real models (the
MobileNetV2 classifier, PP-OCRv4's text detector and its text recognizer), checked section by
section against reference runs with onnxruntime, numpy and Pillow; and with a model missing
from the store, which fails its own section only."""
import json
import math
import pathlib
import subprocess

import numpy as np
import onnxruntime as ort
import pytest
import requests
from PIL import Image

import test_image_classifier
import test_object_detector
from conftest import BENTO, OCR_MODELS, ROOT, ExampleServer

RECOGNIZER = OCR_MODELS / "ch_PP-OCRv4_rec_infer.onnx"
SAVE_MODEL = ROOT / "examples" / "multi_model" / "save-model"
SKIMAGE = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data")
PAGE = SKIMAGE / "page.png"


def characters():
    """PaddleOCR's dictionary for the recognizer: ppocr_keys_v1.txt, one per line, then ' '."""
    lines = (OCR_MODELS / "ppocr_keys_v1.txt").read_text(encoding="utf-8").removesuffix("\n")
    return lines.split("\n") + [" "]


def save_all(bento):
    """The example's own save-model script, with the CLI under test."""
    subprocess.run([str(SAVE_MODEL)], env=dict(bento.env, BENTO=str(BENTO)),
                   check=True, capture_output=True, timeout=600)


def serve(bento):
    server = ExampleServer(bento, "multi_model")
    server.wait_ready()
    return server


def analyse(server, path):
    with open(path, "rb") as f:
        r = requests.post(server.url + "/comprehensive_analysis", files={"image": (path.name, f)})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def detector_params():
    example = ROOT / "examples" / "object_detector"
    metadata = json.loads((example / "metadata.json").read_text())
    custom = json.loads((example / "custom_objects.json").read_text())
    return {**metadata, **custom["preprocessing_params"]}


def recognize(image, box, session, chars):
    """PaddleOCR's resize_norm_img and CTC greedy decoding of one line."""
    x1, y1 = max(math.floor(box[0]), 0), max(math.floor(box[1]), 0)
    x2, y2 = min(math.ceil(box[2]), image.width), min(math.ceil(box[3]), image.height)
    line = image.convert("RGB").crop((x1, y1, x2, y2))
    w = math.ceil(48 * line.width / line.height)
    x = np.array(line.resize((w, 48), Image.BILINEAR), dtype=np.float32) / 255.0
    x = (x[:, :, ::-1] - np.array([0.5])) / np.array([0.5])  # BGR
    padded = np.zeros((1, 3, 48, max(320, w)), dtype=np.float32)
    padded[0, :, :, :w] = np.transpose(x, (2, 0, 1))
    probs = session.run(None, {"x": padded})[0][0]
    best = probs.argmax(axis=1)
    keep = (best != 0) & np.r_[True, best[1:] != best[:-1]]
    text = "".join(chars[i - 1] for i in best[keep])
    return text, float(probs.max(axis=1)[keep].mean()) if keep.any() else 0.0


def test_page_analysis_matches_each_model(bento, detector_params):
    save_all(bento)
    server = serve(bento)
    try:
        out = analyse(server, PAGE)
    finally:
        assert server.stop() == 0

    custom = json.loads((test_image_classifier.MOBILENET / "custom_objects.json").read_text())
    want = test_image_classifier.reference(PAGE, custom)
    cls = out["classification"]
    assert cls["predicted_class"] == int(np.argmax(want))
    assert cls["predicted_class_name"] == custom["class_names"][cls["predicted_class"]]
    assert cls["confidence"] == pytest.approx(float(want.max()), abs=1e-4)

    boxes = test_object_detector.reference_boxes(PAGE, detector_params)
    det = out["detection"]
    assert det["num_detections"] == len(boxes) == len(det["detections"]) >= 7
    for got, box in zip(det["detections"], boxes):
        assert got["bbox"] == [int(v) for v in box[:4]]
        assert got["class_id"] == 0 and got["class_name"] == "text"
        assert got["confidence"] == pytest.approx(box[4], abs=1e-5)

    session = ort.InferenceSession(str(RECOGNIZER))
    chars = characters()
    image = Image.open(PAGE)
    lines = out["recognition"]["lines"]
    assert len(lines) == len(boxes)
    for got, box in zip(lines, boxes):
        text, confidence = recognize(image, box, session, chars)
        assert got["text"] == text
        assert got["confidence"] == pytest.approx(confidence, abs=1e-4)
        assert got["bbox"] == [int(v) for v in box[:4]]
    # What the page says: the title, and words from the paragraph and the code line. (The
    # recognizer, trained mostly on Chinese, often drops the spaces between English words.)
    read = out["recognition"]["text"]
    assert read == "\n".join(line["text"] for line in lines)
    assert lines[0]["text"] == "Region-based segmentation"
    for word in ("Let us first determine markers", "coins", "background", "extreme",
                 "histogram of grey values", "markers="):
        assert word in read, read


def test_a_missing_model_fails_only_its_section(bento):
    save_all(bento)
    bento.run("models", "delete", "text_recognizer", "-y")
    server = serve(bento)  # starts and is ready without the recognizer
    try:
        for _ in range(2):  # and stays up
            out = analyse(server, SKIMAGE / "chelsea.png")
            assert out["classification"]["predicted_class"] in test_image_classifier.CATS
            assert "error" not in out["detection"]
            assert set(out["recognition"]) == {"error"}
            assert "text_recognizer" in out["recognition"]["error"]
        assert requests.get(server.url + "/readyz").status_code == 200
    finally:
        assert server.stop() == 0


def test_without_the_detector_recognition_says_why(bento):
    save_all(bento)
    bento.run("models", "delete", "object_detector", "-y")
    server = serve(bento)
    try:
        out = analyse(server, PAGE)
        assert "error" not in out["classification"]
        assert "object_detector" in out["detection"]["error"]
        assert "object_detector" in out["recognition"]["error"]
        r = requests.post(server.url + "/comprehensive_analysis",
                          files={"image": ("x.png", b"not an image", "image/png")})
        assert r.status_code == 400
    finally:
        assert server.stop() == 0
