"""examples/text_classifier end to end: the guide's ONNXTextProcessor on a real language
identifier (trained at setup on Debian's fortune cookies), checked against a reference run of
the guide's Python tokenization, onnxruntime and softmax."""
import json

import numpy as np
import onnxruntime as ort
import pytest
import requests

from conftest import ROOT, ExampleServer

MODEL = ROOT / ".deps" / "models" / "text_classifier"

# Sentences written for this test (not from the training data), one language each.
SENTENCES = {
    "The weather was so nice today that we walked along the river until sunset.": "English",
    "Ich habe heute keine Zeit, weil ich den ganzen Tag arbeiten muss.": "German",
    "Mañana vamos a la playa con mis amigos si no llueve.": "Spanish",
    "Non so se domani potrò venire alla festa, ho troppo lavoro.": "Italian",
    "ÜBER DEN WOLKEN MUSS DIE FREIHEIT WOHL GRENZENLOS SEIN.": "German",
}


@pytest.fixture(scope="module")
def custom_objects():
    return json.loads((MODEL / "custom_objects.json").read_text())


@pytest.fixture(scope="module")
def metadata():
    return json.loads((MODEL / "metadata.json").read_text())


@pytest.fixture(scope="module")
def session():
    return ort.InferenceSession(str(MODEL / "text_classifier.onnx"))


@pytest.fixture
def classifier(bento):
    bento.save_text_classifier()
    server = ExampleServer(bento, "text_classifier")
    server.wait_ready()
    yield server
    assert server.stop() == 0


def reference(text, custom_objects, metadata, session):
    """The guide's tokenize_text and classify_text, verbatim."""
    vocab, max_length = custom_objects["vocab"], metadata["max_length"]
    tokens = text.lower().split()
    token_ids = [vocab.get(token, 0) for token in tokens]
    if len(token_ids) < max_length:
        token_ids += [0] * (max_length - len(token_ids))
    else:
        token_ids = token_ids[:max_length]
    input_ids = np.array([token_ids], dtype=np.int64)
    predictions = session.run(None, {"input_ids": input_ids})[0][0]
    exp_preds = np.exp(predictions - np.max(predictions))
    return exp_preds / np.sum(exp_preds)


def classify(server, text):
    r = requests.post(server.url + "/classify_text", json={"text": text})
    assert r.status_code == 200, r.text
    return r.json()


def test_sentences_match_the_seed_pipeline(classifier, custom_objects, metadata, session):
    for text, language in SENTENCES.items():
        out = classify(classifier, text)
        want = reference(text, custom_objects, metadata, session)
        assert out["text"] == text
        assert np.allclose(out["probabilities"], want, atol=1e-5, rtol=0), (text, out, want)
        assert out["predicted_class"] == int(np.argmax(want))
        assert out["predicted_class_name"] == custom_objects["class_names"][out["predicted_class"]]
        assert out["predicted_class_name"] == language, out
        assert out["confidence"] == pytest.approx(float(want.max()), abs=1e-5)


def test_long_text_is_truncated_like_the_seed(classifier, custom_objects, metadata, session):
    text = " ".join(["il gatto dorme sul divano"] * 40)  # 200 words > max_length
    out = classify(classifier, text)
    want = reference(text, custom_objects, metadata, session)
    assert np.allclose(out["probabilities"], want, atol=1e-5, rtol=0)
    assert out["predicted_class_name"] == "Italian"


def test_heldout_quotes_are_mostly_right(classifier, custom_objects, metadata, session):
    heldout = json.loads((MODEL / "heldout.json").read_text())
    sample = heldout[::30]  # 60 quotes, every language
    right = 0
    for example in sample:
        out = classify(classifier, example["text"])
        want = reference(example["text"], custom_objects, metadata, session)
        assert np.allclose(out["probabilities"], want, atol=1e-5, rtol=0)
        right += out["predicted_class_name"] == example["label"]
    assert right / len(sample) >= 0.9, f"{right} of {len(sample)} right"


def test_raw_text_body_and_bad_input(classifier):
    r = requests.post(classifier.url + "/classify_text", data="Das ist ein schöner Tag.".encode(),
                      headers={"Content-Type": "text/plain; charset=utf-8"})
    assert r.status_code == 200, r.text
    assert r.json()["predicted_class_name"] == "German"
    # Empty text: every id is padding; the model still answers.
    assert classify(classifier, "")["text"] == ""
    r = requests.post(classifier.url + "/classify_text", data=b"caf\xe9 au lait",
                      headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and "UTF-8" in r.json()["error"], r.text
    r = requests.post(classifier.url + "/classify_text", json={"text": 42})
    assert r.status_code == 400, r.text
    r = requests.post(classifier.url + "/classify_text", json={})
    assert r.status_code == 400, r.text
