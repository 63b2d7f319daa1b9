"""Shipping, end to end: a relocatable install, a service built out of tree against it, and
`bento build` / `bento containerize` images that run with no container runtime.

The install is copied out of the place it was installed to, which is then removed, so that
nothing can resolve through either the checkout or the first install. The images are unpacked
into a root filesystem and run with chroot, as their own user, with their own entrypoint and
environment; nothing of the host is visible to them but the kernel and loopback."""
import io
import json
import os
import pathlib
import shutil
import subprocess
import tarfile

import numpy as np
import pytest
import requests
from PIL import Image

from conftest import BIN, ONNX_TESTDATA, ROOT, Server, _free_port

SKIMAGE = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data")
ADD_MODEL = ONNX_TESTDATA / "node" / "test_add" / "model.onnx"  # sum = x + y, float [3, 4, 5]
RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 4, 5)).astype(np.float32)
Y = RNG.standard_normal((3, 4, 5)).astype(np.float32)

ADDER_SERVICE = r"""
// A service of the user's own, built against an installed bento: x + y by ONNX Runtime.
#include <optional>

#include "bento/lists.h"
#include "bento/onnx.h"
#include "bento/service.h"

class Adder : public bento::Service {
 public:
  Adder() : Service("Adder") {
    session_ = bento::onnx::load_model("adder:latest").value();
    Api("add", &Adder::Add, {"x", "y"}, "x + y, by ONNX Runtime");
  }

  bento::StatusOr<bento::Json> Add(const bento::Tensor& x, const bento::Tensor& y) {
    ASSIGN_OR_RETURN(auto outputs, session_->Run({{"x", x}, {"y", y}}, {"sum"}));
    ASSIGN_OR_RETURN(bento::Json sum, bento::ToList(outputs[0]));
    return bento::Json{{"sum", sum}};
  }

 private:
  std::optional<bento::onnx::Session> session_;
};

BENTO_SERVICE_MAIN(Adder)
"""

ADDER_PROJECT = """
cmake_minimum_required(VERSION 3.25)
project(adder_service LANGUAGES CXX)
find_package(bento REQUIRED)
bento_add_service(adder_service SOURCES adder_service.cc)
"""


class Command(Server):
    """A server started by any command line; `port_flag=False` leaves the port to $PORT."""

    def __init__(self, bento, argv, env=None, port_flag=True):
        self.argv = [str(a) for a in argv]
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.verify = True
        env = dict(env if env is not None else bento.env)
        if not port_flag:
            env["PORT"] = str(self.port)
        extra = ["--port", str(self.port)] if port_flag else []
        self._start(self.argv + extra, env, start_new_session=True)


def ldd(binary):
    """{library name: the path the loader resolves it to}."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 3 and words[1] == "=>":
            found[words[0]] = words[2]
    return found


def post_add(url, route="/add"):
    r = requests.post(url + route, json={"x": X.tolist(), "y": Y.tolist()}, timeout=30)
    assert r.status_code == 200, r.text
    return np.array(r.json()["sum"], dtype=np.float32)


def classify(url, jpeg=False):
    """Classifies chelsea.png, or a JPEG of it: bento decodes PNG itself, and every other
    format through OpenCV, in a plugin it loads on first use (src/io/imgcodecs_plugin.h),
    which a shipped tree or image must hold with OpenCV's own libraries."""
    data = (SKIMAGE / "chelsea.png").read_bytes()
    name, kind = "chelsea.png", "image/png"
    if jpeg:
        out = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").save(out, "JPEG", quality=95)
        data, name, kind = out.getvalue(), "chelsea.jpg", "image/jpeg"
    r = requests.post(url + "/classify_image", files={"image": (name, data, kind)}, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def install(tmp_path_factory):
    first = tmp_path_factory.mktemp("install")
    subprocess.run(["cmake", "--install", str(BIN.parent), "--prefix", str(first)], check=True,
                   capture_output=True)
    moved = tmp_path_factory.mktemp("elsewhere") / "bento"
    shutil.copytree(first, moved, symlinks=True)
    shutil.rmtree(first)
    return moved


def test_a_relocated_install_resolves_nothing_in_the_checkout(install):
    for binary in (install / "bin" / "bento", install / "lib" / "libbento.so.0",
                   install / "libexec" / "bento" / "image_classifier"):
        libraries = ldd(binary)
        assert "not found" not in libraries.values(), libraries
        inside = {n: p for n, p in libraries.items() if p.startswith(str(ROOT))}
        assert not inside, f"{binary} resolves into the checkout: {inside}"
        for own in ("libbento.so.0", "libonnxruntime.so.1"):
            if own in libraries:
                assert pathlib.Path(libraries[own]).resolve().parent == install / "lib"
    assert "libbento.so.0" in ldd(install / "bin" / "bento")
    # Stripped, with the debug info kept beside, where gdb looks for it.
    sections = subprocess.run(["readelf", "-S", str(install / "bin" / "bento")],
                              capture_output=True, text=True, check=True).stdout
    assert ".debug_info" not in sections and ".gnu_debuglink" in sections
    debug = install / "bin" / ".debug" / "bento.debug"
    assert ".debug_info" in subprocess.run(["readelf", "-S", str(debug)], capture_output=True,
                                           text=True, check=True).stdout
    assert (install / "include" / "bento" / "service.h").is_file()
    assert (install / "lib" / "cmake" / "bento" / "bentoConfig.cmake").is_file()
    assert (install / "share" / "bento" / "swagger-ui" / "swagger-ui-bundle.js").is_file()


def test_the_relocated_install_serves_with_swagger_ui(install, bento):
    bento.save(ADD_MODEL, "adder")
    server = Command(bento, [install / "bin" / "bento", "serve", "adder"])
    try:
        server.wait_ready()
        r = requests.post(server.url + "/run", json={"x": X.tolist(), "y": Y.tolist()})
        assert r.status_code == 200, r.text
        np.testing.assert_array_equal(np.array(r.json()["sum"], dtype=np.float32), X + Y)
        page = requests.get(server.url + "/")
        assert page.status_code == 200 and "swagger-ui" in page.text
        bundle = requests.get(server.url + "/static_content/swagger-ui-bundle.js")
        assert bundle.status_code == 200
        assert bundle.content == (install / "share/bento/swagger-ui/swagger-ui-bundle.js").read_bytes()
    finally:
        assert server.stop() == 0


def test_the_relocated_image_classifier_classifies(install, bento):
    bento.save_image_classifier()
    server = Command(bento, [install / "libexec" / "bento" / "image_classifier"])
    try:
        server.wait_ready()
        assert classify(server.url)["predicted_class"] in {281, 282, 283, 284, 285}
        assert classify(server.url, jpeg=True)["predicted_class"] in {281, 282, 283, 284, 285}
    finally:
        assert server.stop() == 0


def test_an_install_without_its_plugin_decodes_png_and_says_what_is_missing(install, bento,
                                                                           tmp_path):
    """An installation problem is the server's error, not the client's, and the rest serves."""
    broken = tmp_path / "bento"
    shutil.copytree(install, broken, symlinks=True, copy_function=os.link,
                    ignore=shutil.ignore_patterns("libbento_imgcodecs.so", ".debug"))
    bento.save_image_classifier()
    server = Command(bento, [broken / "libexec" / "bento" / "image_classifier"])
    try:
        server.wait_ready()
        jpeg = io.BytesIO()
        Image.open(SKIMAGE / "chelsea.png").convert("RGB").save(jpeg, "JPEG")
        r = requests.post(server.url + "/classify_image",
                          files={"image": ("chelsea.jpg", jpeg.getvalue(), "image/jpeg")})
        assert r.status_code == 500 and "needs bento's OpenCV plugin" in r.json()["error"], r.text
        assert classify(server.url)["predicted_class"] in {281, 282, 283, 284, 285}
    finally:
        assert server.stop() == 0
    assert "needs bento's OpenCV plugin" in "".join(server.log)


def test_a_service_builds_out_of_tree_against_the_install(install, bento, tmp_path):
    project = tmp_path / "adder_service"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(ADDER_PROJECT)
    (project / "adder_service.cc").write_text(ADDER_SERVICE)
    build = project / "build"
    for command in (["cmake", "-S", project, "-B", build, "-G", "Ninja",
                     f"-DCMAKE_PREFIX_PATH={install}"],
                    ["cmake", "--build", build]):
        proc = subprocess.run([str(c) for c in command], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    # It links the installed libbento, and nothing of the checkout.
    libraries = ldd(build / "adder_service")
    assert pathlib.Path(libraries["libbento.so.0"]).resolve().parent == install / "lib"
    assert not [p for p in libraries.values() if p.startswith(str(ROOT))]
    bento.save(ADD_MODEL, "adder")
    server = Command(bento, [build / "adder_service"])
    try:
        server.wait_ready()
        np.testing.assert_array_equal(post_add(server.url), X + Y)
    finally:
        assert server.stop() == 0


# --- bento build and containerize ------------------------------------------------------------

def build_bento(bento, tmp_path, bentofile, check=True):
    (tmp_path / "bentofile.yaml").write_text(bentofile)
    return bento.run("build", "-f", tmp_path / "bentofile.yaml", tmp_path, check=check)


@pytest.fixture
def adder_bento(bento, tmp_path):
    bento.save(ADD_MODEL, "adder")
    tag = build_bento(bento, tmp_path, """
name: adder_bento
description: Adds two tensors.
labels: {owner: ship-test}
models: [adder:latest]
envs:
  - name: BENTO_SHIP_TEST
    value: "yes"
""").stdout.strip()
    return tag


@pytest.fixture
def classifier_bento(bento, tmp_path):
    bento.save_image_classifier()
    (tmp_path / "labels.md").write_text("the classifier's notes\n")
    return build_bento(bento, tmp_path, f"""
service: {BIN / 'image_classifier'}
models: [image_classifier:latest]
include: ["*.md"]
""").stdout.strip()


def test_build_writes_a_bento_in_bentomls_layout(bento, adder_bento):
    name, version = adder_bento.split(":")
    assert name == "adder_bento"
    path = pathlib.Path(bento.run("get", adder_bento, "-o", "path").stdout.strip())
    assert path == bento.home / "bentos" / name / version
    info = json.loads(bento.run("get", adder_bento, "-o", "json").stdout)
    model = bento.list()[0]["tag"]
    assert info["models"] == [model] and info["service"] == ""
    assert info["labels"] == {"owner": "ship-test"}
    model_name, model_version = model.split(":")
    assert (path / "models" / model_name / model_version / "saved_model.onnx").read_bytes() == \
        ADD_MODEL.read_bytes()
    assert (path / "models" / model_name / "latest").read_text() == model_version
    assert "Adds two tensors." in (path / "README.md").read_text()
    assert "/run:" in (path / "apis" / "openapi.yaml").read_text()
    dockerfile = (path / "env" / "docker" / "Dockerfile").read_text()
    assert "ENTRYPOINT" in dockerfile
    assert "opencv" not in dockerfile  # no-code serving decodes no image
    assert [b["tag"] for b in json.loads(bento.run("list", "-o", "json").stdout)] == [adder_bento]


def test_serve_a_built_bento_by_tag(bento, adder_bento):
    server = Command(bento, [BIN / "bento", "serve", adder_bento])
    try:
        server.wait_ready()
        np.testing.assert_array_equal(post_add(server.url, "/run"), X + Y)
    finally:
        assert server.stop() == 0


def test_a_bento_serves_its_own_models_after_the_store_loses_them(bento, classifier_bento):
    bento.run("models", "delete", "-y", "image_classifier")
    path = bento.run("get", classifier_bento, "-o", "path").stdout.strip()
    assert (pathlib.Path(path) / "src" / "labels.md").is_file()
    server = Command(bento, [BIN / "bento", "serve", path])  # by folder; it execs the service
    try:
        server.wait_ready()
        assert classify(server.url)["predicted_class"] in {281, 282, 283, 284, 285}
        assert classify(server.url, jpeg=True)["predicted_class"] in {281, 282, 283, 284, 285}
    finally:
        assert server.stop() == 0


def test_export_delete_import_round_trip(bento, adder_bento, tmp_path):
    archive = bento.run("export", adder_bento, tmp_path).stdout.strip()
    assert archive.endswith(".bento")
    bento.run("delete", "-y", adder_bento)
    assert json.loads(bento.run("list", "-o", "json").stdout) == []
    assert bento.run("import", archive).stdout.strip() == adder_bento
    assert bento.run("get", adder_bento, "-o", "json").check_returncode() is None


@pytest.mark.parametrize("bentofile, words", [
    ("models: [adder:latest]\npython:\n  packages: [numpy]\n", "'python' is not supported"),
    ("models: [adder:latest]\nservise: x\n", "unknown bentofile key 'servise'"),
    ("service: 'service:svc'\n", "Python import path"),
    ("models: [no_such_model:latest]\n", "no_such_model"),
    ("service: missing/binary\nmodels: [adder:latest]\n", "there is no file at"),
])
def test_bad_bentofiles_are_clear_errors_and_leave_nothing(bento, tmp_path, bentofile, words):
    bento.save(ADD_MODEL, "adder")
    proc = build_bento(bento, tmp_path, bentofile, check=False)
    assert proc.returncode != 0
    assert words in proc.stderr, proc.stderr
    assert not list((bento.home / "bentos").glob("*/*")) if (bento.home / "bentos").exists() else True
    assert not list((bento.home / "tmp").glob("*")) if (bento.home / "tmp").exists() else True


def test_a_service_that_needs_an_unlisted_model_fails_the_build(bento, tmp_path):
    bento.save_image_classifier()
    bento.save(ADD_MODEL, "adder")
    proc = build_bento(bento, tmp_path, f"service: {BIN / 'image_classifier'}\nmodels: [adder:latest]\n",
                       check=False)
    assert proc.returncode != 0 and "own models" in proc.stderr, proc.stderr
    assert not list((bento.home / "bentos").glob("*/*"))


# --- images ----------------------------------------------------------------------------------

def blob(layout, digest):
    return layout / "blobs" / "sha256" / digest.split(":")[1]


def unpack(layout, rootfs):
    """The image's root filesystem, layer on layer, and its config."""
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(blob(layout, index["manifests"][0]["digest"]).read_text())
    for layer in manifest["layers"]:
        with tarfile.open(blob(layout, layer["digest"]), "r:gz") as tar:
            tar.extractall(rootfs, numeric_owner=True)
    return json.loads(blob(layout, manifest["config"]["digest"]).read_text())["config"]


def run_image(bento, layout, rootfs):
    """Runs the image as its config says: its user, entrypoint and env; the port by $PORT."""
    config = unpack(layout, rootfs)
    user = config["User"]
    env = dict(e.split("=", 1) for e in config["Env"])
    return Command(bento, [shutil.which("chroot"), f"--userspec={user}", rootfs, *config["Entrypoint"]],
                   env=env, port_flag=False), config


def test_the_no_code_image_validates_is_reproducible_and_serves(bento, adder_bento, tmp_path):
    first, second = tmp_path / "image-1", tmp_path / "image-2"
    digest = bento.run("containerize", adder_bento, "-o", first).stdout.strip()
    assert digest.startswith("sha256:")
    assert bento.run("containerize", adder_bento, "-o", second).stdout.strip() == digest
    assert blob(first, digest).read_bytes() == blob(second, digest).read_bytes()
    subprocess.run(["oci-image-tool", "validate", "--type", "image", str(first)],
                   check=True, capture_output=True)
    ref = adder_bento
    subprocess.run(["skopeo", "copy", f"oci:{first}:{ref}",
                    f"docker-archive:{tmp_path / 'skopeo.tar'}:{ref}"],
                   check=True, capture_output=True)
    # One layer per model, and each holds the model's files.
    manifest = json.loads(blob(first, digest).read_text())
    assert len(manifest["layers"]) == 4  # runtime, bento, the model, the bento's files

    server, config = run_image(bento, first, tmp_path / "rootfs")
    try:
        server.wait_ready()
        np.testing.assert_array_equal(post_add(server.url, "/run"), X + Y)
    finally:
        assert server.stop() == 0
    # No-code serving decodes no image: neither the decoders' plugin nor OpenCV is in it.
    rootfs = tmp_path / "rootfs"
    assert (rootfs / "opt" / "bento" / "lib" / "libbento.so.0").is_file()
    assert not [p for p in rootfs.rglob("*") if "opencv" in p.name or "imgcodecs" in p.name]
    assert config["User"] == "1000:1000" and "3000/tcp" in config["ExposedPorts"]
    assert "BENTO_SHIP_TEST=yes" in config["Env"]
    assert config["Labels"]["owner"] == "ship-test"


def test_the_image_classifier_image_classifies_and_archives_load(bento, classifier_bento,
                                                                 tmp_path):
    layout = tmp_path / "image"
    bento.run("containerize", classifier_bento, "-o", layout)
    subprocess.run(["oci-image-tool", "validate", "--type", "image", str(layout)],
                   check=True, capture_output=True)
    server, _ = run_image(bento, layout, tmp_path / "rootfs")
    try:
        server.wait_ready()
        out = classify(server.url)
        assert out["predicted_class"] in {281, 282, 283, 284, 285}
        assert out["predicted_class_name"]
        assert classify(server.url, jpeg=True)["predicted_class"] in {281, 282, 283, 284, 285}
    finally:
        assert server.stop() == 0
    for fmt in ("oci-archive", "docker-archive"):
        archive = tmp_path / f"image.{fmt}.tar"
        bento.run("containerize", classifier_bento, "-o", archive, "--format", fmt)
        inspect = subprocess.run(["skopeo", "inspect", f"{fmt}:{archive}"], capture_output=True,
                                 text=True, check=True)
        assert json.loads(inspect.stdout)["Os"] == "linux"
    context = tmp_path / "docker-context"
    bento.run("containerize", classifier_bento, "-o", context, "--format", "dockerfile")
    dockerfile = (context / "Dockerfile").read_text()
    assert "libopencv-imgcodecs" in dockerfile and "ENTRYPOINT" in dockerfile
    assert (context / "opt" / "bento" / "lib" / "libbento_imgcodecs.so").is_file()
    assert (context / "opt" / "bento" / "bin" / "bento").is_file()
    assert (context / "bento" / "bin" / "image_classifier").is_file()


def test_containerize_into_an_unwritable_place_is_a_clear_error(bento, adder_bento, tmp_path):
    (tmp_path / "a-file").write_text("")
    proc = bento.run("containerize", adder_bento, "-o", tmp_path / "a-file" / "image", check=False)
    assert proc.returncode != 0 and "a-file" in proc.stderr, proc.stderr
    existing = tmp_path / "full"
    existing.mkdir()
    (existing / "x").write_text("")
    proc = bento.run("containerize", adder_bento, "-o", existing, check=False)
    assert proc.returncode != 0 and "exists" in proc.stderr, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "bentofile.yaml", "bentoml",
                                                         "full"]
    assert not list((bento.home / "tmp").glob("*"))
