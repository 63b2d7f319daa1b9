"""Shared fixtures for bento's end-to-end tests.

The tests drive the real `build/bin/bento` binary (and, for compatibility, the real BentoML
package from PyPI) against a fresh $BENTOML_HOME per test. Nothing is mocked.
"""
import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENTO = ROOT / "build" / "bin" / "bento"
OCR_MODELS = ROOT / ".deps" / "npm" / "node_modules" / "@gutenye" / "ocr-models" / "assets"
ONNX_TESTDATA = pathlib.Path("/usr/share/libonnx-testdata/data")


class Bento:
    """Runs the bento CLI against one store."""

    def __init__(self, home: pathlib.Path):
        self.home = home
        self.env = dict(os.environ, BENTOML_HOME=str(home), BENTOML_DO_NOT_TRACK="True")

    def run(self, *args, check=True, input=None, timeout=120):
        proc = subprocess.run([str(BENTO), *map(str, args)], env=self.env, input=input,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"bento {' '.join(map(str, args))} failed "
                                 f"({proc.returncode}): {proc.stderr}")
        return proc

    def save(self, path, name, *flags):
        return self.run("models", "save", path, "--name", name, *flags).stdout.strip()

    def list(self):
        return json.loads(self.run("models", "list", "-o", "json").stdout)

    def snapshot(self):
        """Every file under the store's models/ folder with its size: to prove nothing moved."""
        models = self.home / "models"
        if not models.exists():
            return {}
        return {str(p.relative_to(models)): p.stat().st_size
                for p in sorted(models.rglob("*")) if p.is_file()}


@pytest.fixture
def bento(tmp_path):
    home = tmp_path / "bentoml"
    home.mkdir()
    return Bento(home)


@pytest.fixture
def ocr_cls_model():
    return OCR_MODELS / "ch_ppocr_mobile_v2.0_cls_infer.onnx"


@pytest.fixture
def ocr_rec_model():
    return OCR_MODELS / "ch_PP-OCRv4_rec_infer.onnx"
