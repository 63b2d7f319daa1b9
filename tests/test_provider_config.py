"""examples/provider_config end to end: the guide's OptimizedONNXService with CUDA and CPU
providers and their options. Where this ONNX Runtime has no CUDA provider, the service falls
back to CPU with a logged warning and says so in its answers."""
import re

import requests

from conftest import ROOT
from digits import assert_matches, heldout_rows, reference, served


service = served("provider_config")


def test_reports_the_provider_in_use_and_matches_the_reference(service):
    x, _ = heldout_rows(5)
    r = requests.post(service.url + "/optimized_inference", json={"input_data": x.tolist()})
    assert r.status_code == 200, r.text
    out = r.json()
    assert_matches(out["results"], reference(x))
    log = "".join(service.log)
    fell_back = re.search(r"CUDAExecutionProvider (is not available|cannot be used)", log)
    # Regression: the first session of a process appended CUDA before ONNX Runtime's
    # environment existed, so CUDA failed with this even where it works.
    assert "DefaultLogger" not in log
    if not list((ROOT / ".deps" / "onnxruntime" / "lib").glob("*providers_cuda*")):
        assert fell_back, log  # the bundled ONNX Runtime is a CPU build
    assert out["provider"] == ("CPUExecutionProvider" if fell_back else "CUDAExecutionProvider")


def test_bad_input_is_400(service):
    r = requests.post(service.url + "/optimized_inference", json={"input_data": [[0.5] * 10]})
    assert r.status_code == 400 and "float32[batch, 64]" in r.json()["error"], r.text
