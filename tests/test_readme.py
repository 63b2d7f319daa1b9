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
    script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || :; wait' EXIT"]
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


def test_model_lifecycle_block(bento, tmp_path):
    [out] = _run(_blocks_from("--model-control-mode explicit &", 1), bento, tmp_path)
    lines = out.splitlines()
    second = lines[1].split(":")[1]  # the second save's tag
    index = json.loads(lines[-1][2:] if lines[-1].startswith("{}") else lines[-1])
    assert "{}" in out, out
    assert index == [{"name": "digits", "version": second, "state": "READY"}], out


def test_kserve_grpc_blocks(bento, tmp_path):
    bento.save_image_classifier()
    _, client = _run(_blocks_from("--grpc-port 8001 &", 2), bento, tmp_path)
    assert int(client) in range(1000), client


def test_shipping_block(bento, tmp_path):
    """README's bento build and containerize, on the image classifier's bentofile."""
    bento.save_image_classifier()
    [out] = _run(_blocks_from("bento build examples/image_classifier", 1), bento, tmp_path)
    lines = out.splitlines()
    tag = lines[0]
    assert tag.startswith("image_classifier:"), out
    assert any(line.startswith(tag + " ") and "image_classifier" in line for line in lines), out
    assert any(line.startswith("sha256:") for line in lines), out
    assert "k8s/deployment.yaml" in lines and (tmp_path / "k8s/scaledobject.yaml").exists(), out
    assert lines[-1] == "4", out
    assert (tmp_path / "image_classifier.tar").stat().st_size > 10 << 20


def _expectations(blocks):
    """For each curl command of the blocks, the answer its README comment shows: the `# ...`
    lines right after it, joined, with `...` standing for anything. None where none is shown."""
    expected = []
    for _, body in blocks:
        lines = body.splitlines()
        for i, line in enumerate(lines):
            if not line.startswith("curl ") or "/readyz" in line:
                continue
            j = i
            while lines[j].rstrip().endswith("\\"):
                j += 1
            comment = []
            for k in range(j + 1, len(lines)):
                if not lines[k].startswith("# "):
                    break
                comment.append(lines[k][2:].strip())
            expected.append("".join(comment) or None)
    return expected


def _matches(pattern, line):
    regex = ".*?".join(re.escape(part) for part in pattern.split("..."))
    return re.fullmatch(regex, line, re.S) is not None


EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/README.md"))


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_example_readme_answers_as_it_shows(bento, tmp_path, example):
    """Each example's README, run as written: its save-model, its server, and each curl call,
    whose answer must match the comment under it (`...` matching anything)."""
    readme = f"examples/{example}/README.md"
    text = (ROOT / readme).read_text()
    blocks = [(m.group(1), m.group(2)) for m in FENCE.finditer(text)]
    first = next(i for i, (_, body) in enumerate(blocks) if "save-model" in body)
    last = next(i for i in range(first, len(blocks))
                if any(line.startswith("curl ") and "/readyz" not in line
                       for line in blocks[i][1].splitlines()))
    blocks = blocks[first:last + 1]
    (tmp_path / "README.md").write_text("not an image\n")
    outputs = _run(blocks, bento, tmp_path)
    expected = _expectations(blocks)
    answers = outputs[-1].splitlines()[-len(expected):]
    assert len(answers) == len(expected), outputs
    for pattern, answer in zip(expected, answers):
        assert pattern is not None, f"{readme}: a curl call shows no answer"
        assert _matches(pattern, answer), f"{readme}:\n  shows {pattern}\n  got   {answer}"


def test_python_api_block(bento, tmp_path):
    """README's `import bento` block, with the package `make python` installed."""
    [out] = _run(_blocks_from("import bento as bentoml", 1), bento, tmp_path)
    assert out.splitlines()[-1] == "(2, 1000) ['cat', 'dog'] ['CPUExecutionProvider']", out
