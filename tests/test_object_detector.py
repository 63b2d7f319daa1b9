"""examples/object_detector end to end: the guide's ONNXObjectDetector on PP-OCRv4's text
detector, checked against a reference written here with onnxruntime, numpy and Pillow: the
same preprocessing, regions of the probability map, thresholds, NMS and scaling."""
import io
import json
import pathlib

import numpy as np
import onnxruntime as ort
import pytest
import requests
from PIL import Image

from conftest import OCR_MODELS, ROOT, ExampleServer

EXAMPLE = ROOT / "examples" / "object_detector"
DETECTOR = OCR_MODELS / "ch_PP-OCRv4_det_infer.onnx"
PAGE = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data/page.png")


@pytest.fixture(scope="module")
def params():
    metadata = json.loads((EXAMPLE / "metadata.json").read_text())
    custom = json.loads((EXAMPLE / "custom_objects.json").read_text())
    return {**metadata, **custom["preprocessing_params"]}


def save_detector(bento):
    bento.save(DETECTOR, "object_detector", "--metadata-file", EXAMPLE / "metadata.json",
               "--custom-objects", EXAMPLE / "custom_objects.json")


@pytest.fixture
def detector(bento):
    save_detector(bento)
    server = ExampleServer(bento, "object_detector")
    server.wait_ready()
    yield server
    assert server.stop() == 0


# ---- the reference ---------------------------------------------------------------------------

def preprocess(image, p):
    """PaddleOCR's DetResizeForTest (limit_type max) and NormalizeImage on a BGR image."""
    w, h = image.size
    ratio = p["limit_side_len"] / max(w, h) if max(w, h) > p["limit_side_len"] else 1.0
    rw = max(int(round(int(w * ratio) / 32) * 32), 32)
    rh = max(int(round(int(h * ratio) / 32) * 32), 32)
    x = np.array(image.convert("RGB").resize((rw, rh), Image.BILINEAR), dtype=np.float32) / 255.0
    x = x[:, :, ::-1]  # BGR: PP-OCR was trained on OpenCV's images
    x = (x - np.array(p["mean"])) / np.array(p["std"])
    return np.expand_dims(np.transpose(x, (2, 0, 1)), 0).astype(np.float32)


def regions(prob, threshold):
    """8-connected regions of prob > threshold in row-major order of their first pixel:
    (x1, y1, x2, y2, mean probability)."""
    h, w = prob.shape
    mask = (prob > threshold).ravel()
    seen = np.zeros(h * w, dtype=bool)
    found = []
    for start in np.flatnonzero(mask):
        if seen[start]:
            continue
        seen[start] = True
        stack, pixels = [start], []
        while stack:
            at = stack.pop()
            pixels.append(at)
            y, x = divmod(at, w)
            for ny in range(max(y - 1, 0), min(y + 2, h)):
                for nx in range(max(x - 1, 0), min(x + 2, w)):
                    n = ny * w + nx
                    if mask[n] and not seen[n]:
                        seen[n] = True
                        stack.append(n)
        ys, xs = np.divmod(np.array(pixels), w)
        score = prob.ravel()[pixels].astype(np.float64).mean()
        found.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1, score])
    return found


def iou(a, b):
    iw = max(min(a[2], b[2]) - max(a[0], b[0]), 0)
    ih = max(min(a[3], b[3]) - max(a[1], b[1]), 0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
    return iw * ih / union if union > 0 else 0


def reference_boxes(path, p):
    """The detected boxes in the image's coordinates, as floats: [x1, y1, x2, y2, score]."""
    image = Image.open(path)
    x = preprocess(image, p)
    prob = ort.InferenceSession(str(DETECTOR)).run(None, {"x": x})[0][0, 0]
    mh, mw = prob.shape
    boxes = []
    for x1, y1, x2, y2, score in regions(prob, p["mask_threshold"]):
        w, h = x2 - x1, y2 - y1
        if min(w, h) < 3:
            continue
        d = w * h * p["unclip_ratio"] / (2 * (w + h))
        box = [max(x1 - d, 0), max(y1 - d, 0), min(x2 + d, mw), min(y2 + d, mh), score]
        if score > p["confidence_threshold"]:
            boxes.append(box)
    kept = []
    for box in sorted(boxes, key=lambda b: -b[4]):  # stable: ties keep scan order
        if all(iou(box, k) <= p["nms_threshold"] for k in kept):
            kept.append(box)
    W, H = image.size
    scaled = [[min(max(b[0] * W / mw, 0), W), min(max(b[1] * H / mh, 0), H),
               min(max(b[2] * W / mw, 0), W), min(max(b[3] * H / mh, 0), H), b[4]] for b in kept]
    return sorted(scaled, key=lambda b: (b[1], b[0]))


def reference(path, p):
    """The guide's detections: integer boxes (int() truncates) and their scores."""
    return [([int(v) for v in b[:4]], b[4]) for b in reference_boxes(path, p)]


def detect(server, path):
    with open(path, "rb") as f:
        r = requests.post(server.url + "/detect_objects", files={"image": (path.name, f)})
    assert r.status_code == 200, r.text
    return r.json()


# ---- tests -----------------------------------------------------------------------------------

def test_page_lines_match_the_reference(detector, params):
    out = detect(detector, PAGE)
    want = reference(PAGE, params)
    assert out["num_detections"] == len(want) == len(out["detections"])
    assert out["image_size"] == [384, 191]
    assert out["confidence_threshold"] == params["confidence_threshold"]
    for got, (bbox, score) in zip(out["detections"], want):
        assert got["class_id"] == 0 and got["class_name"] == "text"
        assert got["bbox"] == bbox, (got, bbox)
        assert got["confidence"] == pytest.approx(score, abs=1e-5)
        assert got["confidence"] > params["confidence_threshold"]


def test_page_lines_cover_the_text(detector):
    """page.png is a photographed page: a title, five lines of a paragraph, a line of code and
    the top of a cut-off line. Each found box is a line (wide, not tall, inside the page) and
    together they cover nearly all of the ink (the darkest pixels: the page's shadows are
    lighter)."""
    out = detect(detector, PAGE)
    assert 7 <= out["num_detections"] <= 9, out
    ink = np.array(Image.open(PAGE).convert("L")) < 60
    covered = np.zeros_like(ink)
    for d in out["detections"]:
        x1, y1, x2, y2 = d["bbox"]
        assert 0 <= x1 < x2 <= 384 and 0 <= y1 < y2 <= 191
        assert x2 - x1 > 2 * (y2 - y1), d  # a line of text is wide
        assert y2 - y1 < 40, d
        covered[y1:y2, x1:x2] = True
    assert (ink & covered).sum() / ink.sum() > 0.95


def test_blank_and_tiny_images_have_no_detections(detector):
    for size in [(1, 1), (300, 40)]:
        buf = io.BytesIO()
        Image.new("RGB", size, "white").save(buf, format="PNG")
        r = requests.post(detector.url + "/detect_objects", data=buf.getvalue(),
                          headers={"Content-Type": "image/png"})
        assert r.status_code == 200, r.text
        assert r.json()["num_detections"] == 0
        assert r.json()["image_size"] == list(size)


def test_bad_images_are_400(detector):
    r = requests.post(detector.url + "/detect_objects",
                      files={"image": ("x.png", b"not an image", "image/png")})
    assert r.status_code == 400 and "not an image" in r.json()["error"]
    r = requests.post(detector.url + "/detect_objects", json={"image": 1})
    assert r.status_code == 415, r.text
