"""Swagger UI in a real browser (Debian Chromium driven by playwright-core): the APIs are
listed, and one runs through "Try it out" with a 200 response."""
import shutil
import subprocess

import pytest

from conftest import ROOT, Server


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium not installed")
def test_swagger_ui_try_it_out(bento, tmp_path):
    # A tiny real model from ONNX's test suite, so the example body is small: y = abs(x).
    bento.save("/usr/share/libonnx-testdata/data/node/test_abs/model.onnx", "abs")
    server = Server(bento, "abs")
    server.wait_ready()
    try:
        proc = subprocess.run(["node", str(ROOT / "tests/browser/try_it_out.mjs"), server.url,
                               "/run", str(tmp_path / "swagger.png")],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "/run" in proc.stdout and "/abs/run" in proc.stdout
        assert "status: 200" in proc.stdout, proc.stdout
    finally:
        server.stop()
