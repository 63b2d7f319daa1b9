"""`bento manifests`: what it writes is what an API server would accept, checked offline.

- Core kinds (Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget) against
  Kubernetes' own schemas with kubernetes-validate in strict mode: an unknown field is an
  error, as kubectl's strict field validation makes it.
- KServe's and KEDA's kinds against their CustomResourceDefinitions' openAPIV3Schema (from
  their releases' sources, laid out by scripts/install-deps), made strict the same way.
- The generator's output is compared with golden files (BENTO_UPDATE_GOLDEN=1 rewrites them).
- A planted mistake in each kind fails validation: the validators are known to look.
- The autoscalers' metrics and PromQL name series that a running bento really exports.
"""
import os
import pathlib

import jsonschema
import kubernetes_validate
import pytest
import requests
import yaml

from conftest import BIN, ONNX_TESTDATA, ROOT, Server

ADD_MODEL = ONNX_TESTDATA / "node" / "test_add" / "model.onnx"
SCHEMAS = ROOT / ".deps" / "k8s-schemas"
GOLDEN = ROOT / "tests" / "golden" / "manifests"
# The oldest Kubernetes the manifests are for: 1.30 made the preStop `sleep` action default-on.
# kubernetes-validate checks against its newest schemas it bundles that are not older.
KUBERNETES = "1.33.0"
CRDS = {
    "ClusterServingRuntime": "kserve/serving.kserve.io_clusterservingruntimes.yaml",
    "InferenceService": "kserve/serving.kserve.io_inferenceservices.yaml",
    "ScaledObject": "keda/keda.sh_scaledobjects.yaml",
}
FILES = ["clusterservingruntime.yaml", "inferenceservice.yaml", "deployment.yaml",
         "service.yaml", "hpa.yaml", "hpa-in-progress.yaml", "pdb.yaml", "scaledobject.yaml"]


def strict(schema):
    """`schema` with `additionalProperties: false` on every object schema that lists its
    properties and neither allows others nor preserves unknown fields."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {k: strict(v) for k, v in out["properties"].items()}
        if "additionalProperties" not in out and \
                not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    for key in ("items", "additionalProperties", "not"):
        if isinstance(out.get(key), dict):
            out[key] = strict(out[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in out:
            out[key] = [strict(s) for s in out[key]]
    return out


def crd_schema(kind, api_version):
    crd = yaml.safe_load((SCHEMAS / CRDS[kind]).read_text())
    version = api_version.split("/")[1]
    for v in crd["spec"]["versions"]:
        if v["name"] == version:
            return strict(v["schema"]["openAPIV3Schema"])
    raise AssertionError(f"{CRDS[kind]} has no version {version}")


def validate(obj):
    """Raises when `obj` is not a valid object of its kind."""
    if obj["kind"] in CRDS:
        jsonschema.Draft7Validator(crd_schema(obj["kind"], obj["apiVersion"])).validate(obj)
    else:
        kubernetes_validate.validate(obj, KUBERNETES, strict=True)


def manifests(bento, tmp_path, tag, *flags):
    out = tmp_path / "manifests"
    proc = bento.run("manifests", tag, "-o", out, *flags)
    assert proc.stdout.split() == [str(out / f) for f in FILES]
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    return {f: yaml.safe_load((out / f).read_text()) for f in FILES}, out


def container(objects, file):
    spec = objects[file]["spec"]
    pod = spec["template"]["spec"] if file == "deployment.yaml" else spec
    (only,) = pod["containers"]
    return only


def test_the_manifests_of_a_model_match_the_golden_files_and_validate(bento, tmp_path):
    bento.save(ADD_MODEL, "adder")
    objects, out = manifests(bento, tmp_path, "adder", "--image", "adder-bento:v1",
                             "--storage-uri", "s3://models/adder", "--namespace", "ml")
    for f in FILES:
        validate(objects[f])
        golden = GOLDEN / f
        if os.environ.get("BENTO_UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text((out / f).read_text())
        assert (out / f).read_text() == golden.read_text(), f"{f} differs from {golden}"
    runtime = container(objects, "clusterservingruntime.yaml")
    assert runtime["name"] == "kserve-container"
    assert "--model-dir=/mnt/models" in runtime["args"]
    assert "--model-name={{.Name}}" in runtime["args"]
    assert objects["inferenceservice.yaml"]["spec"]["predictor"]["model"]["modelFormat"] == \
        {"name": "onnx"}


def test_a_no_code_bento_gets_its_image_and_grpc(bento, tmp_path):
    bento.save(ADD_MODEL, "adder")
    (tmp_path / "bentofile.yaml").write_text("name: adder_bento\nmodels: [adder:latest]\n")
    tag = bento.run("build", "-f", tmp_path / "bentofile.yaml", tmp_path).stdout.strip()
    objects, _ = manifests(bento, tmp_path, tag)
    for obj in objects.values():
        validate(obj)
        assert obj["metadata"]["name"] in ("bento", "adder-bento")
    deployment = container(objects, "deployment.yaml")
    assert deployment["image"] == tag  # the name `bento containerize` gives the image
    assert "--grpc-port=8081" in deployment["args"]
    assert [p["name"] for p in objects["service.yaml"]["spec"]["ports"]] == ["http", "grpc"]
    assert objects["inferenceservice.yaml"]["spec"]["predictor"]["model"]["modelFormat"] == \
        {"name": "bentoml"}


def test_a_services_bento_serves_grpc_too(bento, tmp_path):
    bento.save_image_classifier()
    (tmp_path / "bentofile.yaml").write_text(
        f"service: {BIN / 'image_classifier'}\nmodels: [image_classifier:latest]\n")
    tag = bento.run("build", "-f", tmp_path / "bentofile.yaml", tmp_path).stdout.strip()
    objects, _ = manifests(bento, tmp_path, tag)
    for obj in objects.values():
        validate(obj)
    # A service's executable takes --grpc-port and serves its models' KServe v2 there.
    assert "--grpc-port=8081" in container(objects, "deployment.yaml")["args"]
    assert [p["name"] for p in objects["service.yaml"]["spec"]["ports"]] == ["http", "grpc"]


def planted(objects, file):
    """A copy of `file`'s object with one mistake a careless edit could make."""
    obj = yaml.safe_load(yaml.safe_dump(objects[file]))
    spec = obj["spec"]
    if file == "deployment.yaml":
        c = spec["template"]["spec"]["containers"][0]
        c["readinesProbe"] = c.pop("readinessProbe")  # a misspelt field
    elif file == "service.yaml":
        spec["ports"][0]["port"] = "eighty"
    elif file in ("hpa.yaml", "hpa-in-progress.yaml"):
        spec["minReplicas"] = "one"
    elif file == "pdb.yaml":
        spec["maxUnavailable"] = [1]
    elif file == "clusterservingruntime.yaml":
        spec["supportedModelFormat"] = spec.pop("supportedModelFormats")
    elif file == "inferenceservice.yaml":
        model = spec["predictor"]["model"]
        model["storageURI"] = model.pop("storageUri")
    elif file == "scaledobject.yaml":
        del spec["triggers"][0]["type"]  # required
    return obj


@pytest.mark.parametrize("file", FILES)
def test_a_planted_mistake_fails_validation(bento, tmp_path, file):
    bento.save(ADD_MODEL, "adder")
    objects, _ = manifests(bento, tmp_path, "adder", "--image", "adder-bento:v1")
    validate(objects[file])
    with pytest.raises((jsonschema.ValidationError, kubernetes_validate.ValidationError)):
        validate(planted(objects, file))


@pytest.mark.parametrize("flags, words", [
    ([], "--image"),  # a model has no image of its own
    (["--image", "x:1", "--name", "Not_A_Name"], "Kubernetes name"),
    (["--image", "x:1", "--min-replicas", "3", "--max-replicas", "2"], "--min-replicas"),
    (["--image", "x:1", "--grpc-port", "8080"], "two ports"),
])
def test_bad_arguments_are_clear_errors_and_write_nothing(bento, tmp_path, flags, words):
    bento.save(ADD_MODEL, "adder")
    proc = bento.run("manifests", "adder", "-o", tmp_path / "out", *flags, check=False)
    assert proc.returncode != 0 and words in proc.stderr, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bentoml"]


def test_an_unknown_tag_and_an_existing_folder_are_errors(bento, tmp_path):
    proc = bento.run("manifests", "nothing", "-o", tmp_path / "out", check=False)
    assert proc.returncode != 0 and "nothing" in proc.stderr
    bento.save(ADD_MODEL, "adder")
    (tmp_path / "out").mkdir()
    proc = bento.run("manifests", "adder", "-o", tmp_path / "out", "--image", "x:1", check=False)
    assert proc.returncode != 0 and "already exists" in proc.stderr
    assert list((tmp_path / "out").iterdir()) == []


def test_the_autoscalers_watch_series_bento_exports(bento, tmp_path):
    """The PromQL of scaledobject.yaml and the metric of hpa-in-progress.yaml select series,
    with the service_name they filter on, from a running bento's /metrics."""
    bento.save(ADD_MODEL, "adder")
    objects, _ = manifests(bento, tmp_path, "adder", "--image", "x:1")
    queries = [t["metadata"]["query"] for t in objects["scaledobject.yaml"]["spec"]["triggers"]]
    hpa_metric = objects["hpa-in-progress.yaml"]["spec"]["metrics"][0]["pods"]["metric"]["name"]
    server = Server(bento, "adder")
    try:
        server.wait_ready()
        body = {"inputs": [{"name": n, "shape": [3, 4, 5], "datatype": "FP32", "data": [0.5] * 60}
                           for n in ("x", "y")]}
        assert requests.post(f"{server.url}/v2/models/adder/infer", json=body).status_code == 200
        metrics = requests.get(f"{server.url}/metrics").text
    finally:
        server.stop()
    series = [line for line in metrics.splitlines() if line and not line.startswith("#")]

    def exported(name, selector):
        return any(s.startswith(name + "{") and selector in s for s in series)

    selector = 'service_name="adder"'
    assert f"{{{selector}}}" in queries[0] and f"{{{selector}}}" in queries[1]
    assert exported("bentoml_service_request_total", selector), metrics
    assert "bentoml_service_request_total" in queries[0]
    # Unbatched, a request waits for a worker; the gauge is there, at 0, named by the model.
    assert exported("bento_request_queued", 'model="adder"') and "bento_request_queued" in queries[1]
    assert exported(hpa_metric, selector), metrics


def test_the_commands_in_docs_deploy_run(bento, tmp_path, ocr_cls_model):
    """docs/deploy.md's `bento manifests` commands, as written (their placeholders are mere
    strings to bento), write manifests that validate: the guide cannot drift from the CLI."""
    text = (ROOT / "docs" / "deploy.md").read_text().replace("\\\n", " ")
    commands = [line.split() for line in text.splitlines() if line.startswith("bento manifests")]
    assert len(commands) == 2, commands
    bento.save(ADD_MODEL, "adder")
    (tmp_path / "bentofile.yaml").write_text("name: adder_bento\nmodels: [adder:latest]\n")
    bento.run("build", "-f", tmp_path / "bentofile.yaml", tmp_path)
    bento.save(ocr_cls_model, "ocr_cls")
    for i, argv in enumerate(commands):
        out = tmp_path / f"docs{i}"
        argv = [out if a == "k8s/" else a for a in argv[1:]]
        bento.run(*argv)
        for f in FILES:
            validate(yaml.safe_load((out / f).read_text()))
