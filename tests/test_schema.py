"""API fuzzing: schemathesis (PyPI) generates requests from /docs.json, valid and invalid,
against a real `bento serve` of a real model and against the C++ example service, and checks
every answer: no 5xx, and every response, status code, content type and header as the
document says. A fixed seed and a bound on examples keep it reproducible and quick.

One check is left out: positive_data_acceptance expects every schema-valid request to be
accepted, but JSON Schema cannot say that nested lists must be rectangular or that bytes
must decode as an image, so some schema-valid bodies are rightly answered 400."""
import subprocess

import pytest

from conftest import BIN, ROOT, SANITIZER, ExampleServer, Server

SCHEMATHESIS = ROOT / ".venv" / "bin" / "schemathesis"
MAX_EXAMPLES = 40


def _schemathesis(server, tmp_path):
    proc = subprocess.run(
        [str(SCHEMATHESIS), "run", server.url + "/docs.json", "--checks", "all",
         "--exclude-checks", "positive_data_acceptance", "--max-examples", str(MAX_EXAMPLES),
         "--seed", "20261127", "--workers", "2", "--request-timeout", "60" if SANITIZER else "20",
         "--suppress-health-check", "all", "--report-dir", str(tmp_path / "report")],
        # A sanitizer slows the server several times over; the cases stay the same.
        cwd=tmp_path, capture_output=True, text=True, timeout=900 if SANITIZER else 180)
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-2000:]
    assert "Tested: " in proc.stdout and "generated" in proc.stdout, proc.stdout
    assert server.proc.poll() is None  # alive after all of it


def _no_code(bento, ocr_cls_model):
    bento.save(ocr_cls_model, "ocr-cls")
    return Server(bento, "ocr-cls", "--no-access-log")


def _image_classifier(bento, ocr_cls_model):
    if not (BIN / "image_classifier").exists():
        pytest.skip("image_classifier is not built")
    bento.save_image_classifier()
    return ExampleServer(bento, "image_classifier", "--no-access-log")


@pytest.mark.parametrize("start", [_no_code, _image_classifier],
                         ids=["bento-serve-ocr-cls", "image-classifier"])
def test_every_answer_matches_the_openapi_document(bento, ocr_cls_model, tmp_path, start):
    server = start(bento, ocr_cls_model)
    server.wait_ready()
    try:
        _schemathesis(server, tmp_path)
    finally:
        assert server.stop() == 0
