"""scripts/check-layers: the layer order of src/ holds, and planted violations are caught."""
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check-layers"


def check(root=None):
    args = [sys.executable, str(SCRIPT)] + (["--root", str(root)] if root else [])
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def plant(root, files):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_repository_passes():
    proc = check()
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_clean_planted_tree_passes(tmp_path):
    plant(tmp_path, {
        "src/serving/app.h": '#include "http/server.h"\n#include "bento/status.h"\n',
        "src/http/server.h": '#include "base/fs.h"\n#include <string>\n',
        "src/kserve/grpc_server.cc": '#include "inference.grpc.pb.h"\n#include "serving/app.h"\n',
        "include/bento/status.h": '#include "bento/tensor.h"\n#include <string>\n',
        "bench/b.cc": '#include "cli/main.h"\n#include <onnxruntime_cxx_api.h>\n',
        "fuzz/f.cc": '#include "serving/app.h"\n',
    })
    proc = check(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_lower_layer_including_higher_fails(tmp_path):
    plant(tmp_path, {"src/http/x.cc": '#include "base/fs.h"\n#include "serving/app.h"\n'})
    proc = check(tmp_path)
    assert proc.returncode == 1
    assert 'src/http/x.cc:2: http may not include "serving/app.h"' in proc.stdout
    assert "http may use: base, policy" in proc.stdout
    assert len(proc.stdout.splitlines()) == 1


def test_unlayered_quoted_include_only_in_kserve(tmp_path):
    plant(tmp_path, {"src/kserve/a.cc": '#include "inference.pb.h"\n',
                     "src/serving/b.cc": '#include "inference.pb.h"\n'})
    proc = check(tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        'src/serving/b.cc:1: serving may not include "inference.pb.h" '
        "(serving may use: base, tensor, store, runtime, batching, io, policy, http, manager)"]


def test_onnxruntime_outside_runtime_fails(tmp_path):
    plant(tmp_path, {"src/serving/y.cc": "#include <onnxruntime_cxx_api.h>\n"})
    proc = check(tmp_path)
    assert proc.returncode == 1
    assert "src/serving/y.cc:1:" in proc.stdout
    assert "<onnxruntime_cxx_api.h>" in proc.stdout


def test_onnxruntime_in_runtime_passes(tmp_path):
    plant(tmp_path, {"src/runtime/z.cc": "#include <onnxruntime_cxx_api.h>\n"})
    proc = check(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_public_api_including_internal_header_fails(tmp_path):
    plant(tmp_path, {"include/bento/x.h": '#include "bento/status.h"\n#include "serving/app.h"\n'})
    proc = check(tmp_path)
    assert proc.returncode == 1
    assert 'include/bento/x.h:2:' in proc.stdout
    assert '"serving/app.h"' in proc.stdout


def test_unknown_layer_fails(tmp_path):
    plant(tmp_path, {"src/metrics/m.cc": '#include "base/fs.h"\n'})
    proc = check(tmp_path)
    assert proc.returncode == 1
    assert "src/metrics: unknown layer, add it to the table in scripts/check-layers" \
        in proc.stdout


def test_detail_headers_only_in_the_public_api_and_serving(tmp_path):
    plant(tmp_path, {"include/bento/service.h": '#include "bento/detail/api_traits.h"\n',
                     "include/bento/detail/api_traits.h": '#include "bento/json.h"\n',
                     "src/serving/traits.cc": '#include "bento/detail/api_traits.h"\n',
                     "src/kserve/a.cc": '#include "bento/detail/api_traits.h"\n'})
    proc = check(tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [
        'src/kserve/a.cc:1: kserve may not include "bento/detail/api_traits.h" '
        "(bento/detail/ is for the public API's templates and the serving layer only)"]


def _compile_commands():
    from conftest import BIN
    path = BIN.parent / "compile_commands.json"
    return json.loads(path.read_text())


def test_the_build_gives_src_and_onnxruntime_only_where_the_layers_allow():
    """The build holds the rule too: code outside src/ (the examples, as a user's service)
    compiles against include/ alone, and only the runtime layer (and its tests and the raw
    ONNX Runtime benchmark) gets ONNX Runtime's headers."""
    src, ort = f"-I{ROOT / 'src'} ", "onnxruntime/include"
    examples, checked = [], 0
    for entry in _compile_commands():
        rel = pathlib.Path(entry["file"]).resolve().relative_to(ROOT).as_posix()
        command = entry["command"] + " "
        checked += 1
        if rel.startswith("examples/"):
            examples.append(rel)
            assert src not in command, f"{rel} sees src/: {command}"
        allowed_ort = rel.startswith("src/runtime/") or rel == "bench/raw_ort_bench.cc"
        assert allowed_ort or ort not in command, f"{rel} sees ONNX Runtime: {command}"
    assert len(examples) >= 10 and checked > 100
