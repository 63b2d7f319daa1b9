"""`bento models ...` end to end: save, list, get, delete, export, import, bad input, crashes."""
import json
import os
import random
import re
import signal
import subprocess
import time

import pytest
import yaml

from conftest import BENTO

VERSION = re.compile(r"^[0-9a-v]{16}$")


def test_save_list_get_delete(bento, ocr_cls_model):
    tag = bento.save(ocr_cls_model, "ocr-cls", "--label", "stage=prod",
                     "--metadata", "accuracy=0.93", "--metadata", "source=paddle",
                     "--batchable", "--batch-dim", "0")
    name, version = tag.split(":")
    assert name == "ocr-cls" and VERSION.match(version)

    listed = bento.list()
    assert [m["tag"] for m in listed] == [tag]
    assert listed[0]["module"] == "bentoml.onnx"
    table = bento.run("models", "list").stdout
    assert tag in table and "Creation Time" in table

    info = yaml.safe_load(bento.run("models", "get", "ocr-cls").stdout)
    assert list(info) == ["name", "version", "module", "labels", "options", "metadata",
                          "context", "signatures", "api_version", "creation_time"]
    assert info["labels"] == {"stage": "prod"}
    assert info["metadata"] == {"accuracy": 0.93, "source": "paddle"}
    assert info["signatures"] == {"run": {"batchable": True, "batch_dim": [0, 0]}}
    spec = info["options"]["input_specs"]["run"][0]
    assert spec["type"]["tensorType"]["elemType"] == 1
    assert spec["type"]["tensorType"]["shape"]["dim"][1] == {"dimValue": "3"}

    as_json = json.loads(bento.run("models", "get", tag, "-o", "json").stdout)
    assert as_json["tag"] == tag
    path = bento.run("models", "get", f"ocr-cls:{version[:6]}", "-o", "path").stdout.strip()
    assert os.path.isfile(os.path.join(path, "saved_model.onnx"))
    assert (bento.home / "models" / "ocr-cls" / "latest").read_text() == version

    second = bento.save(ocr_cls_model, "ocr-cls")
    assert second > tag  # versions sort by time
    assert (bento.home / "models" / "ocr-cls" / "latest").read_text() == second.split(":")[1]
    bento.run("models", "delete", second, "-y")
    assert (bento.home / "models" / "ocr-cls" / "latest").read_text() == version
    # Without -y, deleting asks; a "no" keeps the model.
    proc = bento.run("models", "delete", tag, input="n\n", check=False)
    assert proc.returncode != 0 and [m["tag"] for m in bento.list()] == [tag]
    bento.run("models", "delete", tag, input="y\n")
    assert bento.list() == []


@pytest.mark.parametrize("suffix", [".bentomodel", ".tar.gz"])
def test_export_import_round_trip(bento, ocr_cls_model, tmp_path, suffix):
    tag = bento.save(ocr_cls_model, "ocr-cls", "--label", "k=v")
    original = bento.snapshot()
    archive = tmp_path / f"exported{suffix}"
    assert bento.run("models", "export", tag, archive).stdout.strip() == str(archive)
    magic = archive.read_bytes()[:6]
    if suffix == ".bentomodel":
        assert magic == b"\xfd7zXZ\x00"  # xz
    else:
        assert magic[:2] == b"\x1f\x8b"  # gzip

    # An existing tag is refused, and the store is unchanged.
    proc = bento.run("models", "import", archive, check=False)
    assert proc.returncode != 0 and "exist" in proc.stderr
    assert bento.snapshot() == original

    bento.run("models", "delete", tag, "-y")
    assert bento.run("models", "import", archive).stdout.strip() == tag
    assert bento.snapshot() == original


def test_bad_input_is_refused_and_the_store_unchanged(bento, ocr_cls_model, tmp_path):
    bento.save(ocr_cls_model, "good")
    before = bento.snapshot()
    data = ocr_cls_model.read_bytes()
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(data[: len(data) // 3])
    text = tmp_path / "notes.onnx"
    text.write_text("this is not an onnx model\n")
    corrupt = tmp_path / "corrupt.bentomodel"
    corrupt.write_bytes(b"\xfd7zXZ\x00" + os.urandom(4096))
    not_archive = tmp_path / "plain.bentomodel"
    not_archive.write_text("hello")
    text_file = tmp_path / "text.bentomodel"  # libarchive reads a line of text as mtree
    text_file.write_text("hello\n")
    (tmp_path / "bad.json").write_text('{"names": ["a", "b"')
    (tmp_path / "list.json").write_text('["a", "b"]')

    cases = [
        (["models", "save", ocr_cls_model, "--name", "m", "--custom-objects",
          tmp_path / "bad.json"], "is not valid JSON: parse error at line 1, column 20"),
        (["models", "save", ocr_cls_model, "--name", "m", "--metadata-file",
          tmp_path / "list.json"], "must hold a JSON object, such as"),
        (["models", "export", "good", tmp_path / "missing" / "good.bentomodel"],
         "there is no folder " + str(tmp_path / "missing")),
        (["models", "save", truncated, "--name", "m"], "ONNX"),
        (["models", "save", text, "--name", "m"], "ONNX"),
        (["models", "save", ocr_cls_model, "--name", "../x"], "name"),
        (["models", "save", ocr_cls_model, "--name", "Has Space"], "name"),
        (["models", "save", tmp_path / "missing.onnx", "--name", "m"], "not found"),
        (["models", "get", "nope:latest"], "nope"),
        (["models", "get", "a:b:c"], "tag"),
        (["models", "delete", "nope", "-y"], "nope"),
        (["models", "export", "nope"], "nope"),
        (["models", "import", corrupt], "corrupted input data"),
        (["models", "import", not_archive], "unrecognized archive format"),
        (["models", "import", text_file], "is not a .bentomodel archive: expected a tar archive"),
        (["models", "import", tmp_path / "missing.bentomodel"], "no archive file at"),
    ]
    for args, needle in cases:
        proc = bento.run(*args, check=False)
        assert proc.returncode != 0, args
        assert proc.stderr.startswith("error: "), (args, proc.stderr)
        assert needle.lower() in proc.stderr.lower(), (args, proc.stderr)
        assert bento.snapshot() == before, args
    assert not any((bento.home / "models").glob("m"))


def _check_store_whole(bento, expected_bytes):
    """Every version folder holds a parseable model.yaml and the whole model file."""
    for version_dir in (bento.home / "models").glob("*/*"):
        if not version_dir.is_dir():
            continue
        info = yaml.safe_load((version_dir / "model.yaml").read_text())
        assert info["version"] == version_dir.name
        assert (version_dir / "saved_model.onnx").read_bytes() == expected_bytes
    for latest in (bento.home / "models").glob("*/latest"):
        assert (latest.parent / latest.read_text()).is_dir()


def test_sigkill_during_save_leaves_no_partial_model(bento, ocr_rec_model):
    expected = ocr_rec_model.read_bytes()
    rng = random.Random(7)

    def staging():  # a save writes into tmp/save-<name>-*/ and renames it into place
        return set((bento.home / "tmp").glob("save-victim-*"))

    mid_save = 0
    for round_ in range(8):
        before = staging()
        proc = subprocess.Popen([str(BENTO), "models", "save", str(ocr_rec_model), "--name",
                                 "victim"], env=bento.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        if round_ % 2:
            time.sleep(rng.uniform(0.0, 0.4))  # anywhere, before, during or after the save
        else:
            deadline = time.monotonic() + 30  # as soon as the save has begun writing
            while staging() == before and proc.poll() is None:
                assert time.monotonic() < deadline
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        mid_save += staging() != before  # the kill landed mid-save: its staging is left
        _check_store_whole(bento, expected)
        for m in bento.list():
            assert m["tag"].startswith("victim:")
    assert mid_save >= 2, "no kill landed in the middle of a save"
    # The store still takes new saves afterwards.
    tag = bento.save(ocr_rec_model, "victim")
    assert tag in [m["tag"] for m in bento.list()]
    _check_store_whole(bento, expected)


def test_two_processes_saving_one_name_both_succeed(bento, ocr_rec_model):
    cmd = [str(BENTO), "models", "save", str(ocr_rec_model), "--name", "race"]
    procs = [subprocess.Popen(cmd, env=bento.env, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    tags = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(tags)) == 2
    latest = (bento.home / "models" / "race" / "latest").read_text()
    assert latest in {t.split(":")[1] for t in tags}
    assert sorted(m["tag"] for m in bento.list()) == sorted(tags)
    _check_store_whole(bento, ocr_rec_model.read_bytes())


def test_bentoml_habits_list_filters_delete_takes_several_names_lower_case(bento,
                                                                          ocr_cls_model):
    def listed(*filter_):
        out = bento.run("models", "list", *filter_, "-o", "json").stdout
        return [m["tag"] for m in json.loads(out)]

    a1 = bento.save(ocr_cls_model, "alpha")
    a2 = bento.save(ocr_cls_model, "alpha")
    b = bento.save(ocr_cls_model, "beta")
    # An upper-case name is lower-cased with a warning, as BentoML does.
    proc = bento.run("models", "save", ocr_cls_model, "--name", "Gamma")
    g = proc.stdout.strip()
    assert g.startswith("gamma:"), proc.stdout
    assert "warning: model names are lower case: saved 'Gamma' as 'gamma'" in proc.stderr
    # `models list NAME[:VERSION]` lists that model's versions, newest first.
    assert listed("alpha") == [a2, a1]
    assert listed("ALPHA") == [a2, a1]
    assert listed(a1) == [a1]
    assert listed("alpha:latest") == [a2]
    assert listed("nope") == []
    assert set(listed()) == {a1, a2, b, g}
    # `models delete` takes several tags.
    assert bento.run("models", "delete", a1, b, "-y").stdout.split() == \
        ["deleted", a1, "deleted", b]
    assert set(listed()) == {a2, g}
    # A missing one fails the command, after the others are deleted.
    proc = bento.run("models", "delete", "nope", g, "-y", check=False)
    assert proc.returncode == 2 and "nope" in proc.stderr
    assert listed() == [a2]
