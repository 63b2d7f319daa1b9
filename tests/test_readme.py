"""README's commands, run as written, so that the docs cannot drift from the code.

Each test takes README's fenced blocks that follow one another from a marker line on (a
shell block that starts a server in the background, then the blocks that talk to it), runs
them in one bash script in a folder of its own, with `build/bin/` pointed at the build under
test and a store of its own, and checks what they print. The background server is stopped at the
end. README's servers use fixed ports (3001 and 8001), as a user would."""
import json
import re
import subprocess
import sys

import pytest

from conftest import BIN, ROOT

FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)
SEPARATOR = "@@ end of a README block @@"


def _blocks_from(marker, count, readme="README.md"):
    """The `count` fenced blocks of `readme` starting with the one that contains `marker`."""
    text = (ROOT / readme).read_text()
    blocks = [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]
    first = next(i for i, (_, body) in enumerate(blocks) if marker in body)
    return blocks[first:first + count]


def _run(blocks, bento, tmp_path):
    """What each block printed, in order."""
    script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT"]
    for i, (language, body) in enumerate(blocks):
        # Run in a folder of the test's own, so that files the blocks write (v2.json) stay
        # out of the checkout; the repository paths they name point back into it.
        body = (body.replace("build/bin/", f"{BIN}/").replace(".deps/", f"{ROOT}/.deps/")
                .replace("cmake --build build ", f"cmake --build {BIN.parent} ")
                .replace("examples/", f"{ROOT}/examples/"))
        if language == "sh":
            script.append(body)
        elif language == "python":
            path = tmp_path / f"block{i}.py"
            path.write_text(body)
            script.append(f"{sys.executable} {path}")
        else:
            raise AssertionError(f"README block in {language}: no runner for it")
        script.append(f"echo; echo {SEPARATOR}")
    env = dict(bento.env, BENTO=str(BIN / "bento"))  # what the examples' save-model runs
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [out.strip() for out in proc.stdout.split(SEPARATOR)[:-1]]


def test_no_code_quickstart(bento, tmp_path):
    if not (ROOT / ".deps/models/digits_mlp/digits_mlp.onnx").exists():
        pytest.fail("the digits model is missing: run `make models`")
    [out] = _run(_blocks_from("digits_mlp.onnx", 1), bento, tmp_path)
    answer = json.loads(out.splitlines()[-1])
    probabilities = answer["probabilities"][0]
    assert len(probabilities) == 10 and abs(sum(probabilities) - 1) < 1e-5, answer
    assert [m["tag"].split(":")[0] for m in bento.list()] == ["digits"]


def test_kserve_http_blocks(bento, tmp_path):
    bento.save_image_classifier()
    curl, client = _run(_blocks_from("serve image_classifier --port 3001 &", 2), bento, tmp_path)
    assert curl.replace(" ", "").startswith('{"model_name":"image_classifier"'), curl
    assert int(client) in range(1000), client


def test_kserve_grpc_blocks(bento, tmp_path):
    bento.save_image_classifier()
    _, client = _run(_blocks_from("--grpc-port 8001 &", 2), bento, tmp_path)
    assert int(client) in range(1000), client


def test_image_classifier_readme(bento, tmp_path):
    (tmp_path / "README.md").write_text("not an image\n")  # the file its last call sends
    _, out = _run(_blocks_from("save-model", 2, "examples/image_classifier/README.md"), bento,
                  tmp_path)
    one, batch, bad = out.splitlines()
    assert json.loads(one)["predicted_class_name"] == "Egyptian cat", one
    assert [r["predicted_class_name"] for r in json.loads(batch)] == ["espresso", "Egyptian cat"]
    assert bad == "400"
