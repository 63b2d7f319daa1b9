"""The system shared-memory path against KServe v2 binary HTTP and gRPC raw contents, on
MobileNetV2 (a 602,112-byte FP32 input, a 4,000-byte output), one `bento serve` for all.

With shared memory the request names regions that the client registered once: the input is
read from one region and the output written into another, so a request carries a few hundred
bytes instead of 600 kB. Every request of a run names the same two regions (concurrent
requests write the same output region, which is fine for throughput); each transport's answer
is checked against onnxruntime first, on a single request.

    .venv/bin/python bench/shm_bench.py --ghz .deps/go/bin/ghz [--concurrency 1 8 32]
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
import requests
import tritonclient.utils.shared_memory as shm
from tritonclient.grpc import service_pb2

import benchlib
from kserve_bench import ghz

MODEL = benchlib.ROOT / ".deps/models/mobilenet_v2/mobilenet_v2.onnx"
IN, OUT = "bench-shm-in", "bench-shm-out"


def bodies(folder, x, out_bytes):
    """The request of each transport, as files: {name: (path, wrk header or None)}."""
    shape = list(x.shape)
    header = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": shape,
                                     "parameters": {"binary_data_size": x.nbytes}}],
                         "parameters": {"binary_data_output": True}}).encode()
    (folder / "v2.bin").write_bytes(header + x.tobytes())
    (folder / "shm.json").write_text(json.dumps(
        {"inputs": [{"name": "input", "datatype": "FP32", "shape": shape,
                     "parameters": {"shared_memory_region": "in",
                                    "shared_memory_byte_size": x.nbytes}}],
         "outputs": [{"name": "output",
                      "parameters": {"shared_memory_region": "out",
                                     "shared_memory_byte_size": out_bytes}}]}))
    raw = service_pb2.ModelInferRequest(model_name="m")
    raw.inputs.add(name="input", datatype="FP32", shape=shape)
    raw.raw_input_contents.append(x.tobytes())
    (folder / "grpc.bin").write_bytes(raw.SerializeToString())
    regions = service_pb2.ModelInferRequest(model_name="m")
    tensor = regions.inputs.add(name="input", datatype="FP32", shape=shape)
    tensor.parameters["shared_memory_region"].string_param = "in"
    tensor.parameters["shared_memory_byte_size"].int64_param = x.nbytes
    output = regions.outputs.add(name="output")
    output.parameters["shared_memory_region"].string_param = "out"
    output.parameters["shared_memory_byte_size"].int64_param = out_bytes
    (folder / "grpc-shm.bin").write_bytes(regions.SerializeToString())
    return header


def check_answers(url, folder, header, out_handle, want):
    length = len(header)
    r = requests.post(url + "/v2/models/m/infer", data=(folder / "v2.bin").read_bytes(),
                      headers={"Content-Type": "application/octet-stream",
                               "Inference-Header-Content-Length": str(length)})
    n = int(r.headers["Inference-Header-Content-Length"])
    got = {"binary HTTP": np.frombuffer(r.content[n:], dtype=np.float32).reshape(want.shape)}
    r = requests.post(url + "/v2/models/m/infer", data=(folder / "shm.json").read_bytes(),
                      headers={"Content-Type": "application/json"})
    r.raise_for_status()
    got["shared memory"] = shm.get_contents_as_numpy(out_handle, np.float32, list(want.shape))
    for transport, answer in got.items():
        if not np.allclose(answer, want, rtol=1e-4, atol=1e-5):
            sys.exit(f"shm_bench: {transport} answers {answer.ravel()[:4]}..., not "
                     f"onnxruntime's {want.ravel()[:4]}...")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ghz", default=shutil.which("ghz") or
                        str(benchlib.ROOT / ".deps/go/bin/ghz"))
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args()

    session = ort.InferenceSession(str(MODEL))
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    want = session.run(None, {"input": x})[0]
    in_handle = shm.create_shared_memory_region(IN, "/" + IN, x.nbytes)
    out_handle = shm.create_shared_memory_region(OUT, "/" + OUT, want.nbytes)
    try:
        shm.set_shared_memory_region(in_handle, [x])
        with tempfile.TemporaryDirectory() as tmp:
            tmp = pathlib.Path(tmp)
            env = dict(os.environ, BENTOML_HOME=str(tmp / "home"), BENTOML_DO_NOT_TRACK="True")
            subprocess.run([str(benchlib.BENTO), "models", "save", str(MODEL), "--name", "m"],
                           env=env, check=True, capture_output=True)
            header = bodies(tmp, x, want.nbytes)
            port, grpc_port = benchlib.free_port(), benchlib.free_port()
            url = f"http://127.0.0.1:{port}"
            infer = f"{url}/v2/models/m/infer"
            transports = [
                ("binary HTTP", lambda c, s: benchlib.wrk(
                    infer, tmp / "v2.bin", c, s, content_type="application/octet-stream",
                    header=f"Inference-Header-Content-Length: {len(header)}")),
                ("shared memory, HTTP", lambda c, s: benchlib.wrk(infer, tmp / "shm.json", c, s)),
                ("gRPC raw contents", lambda c, s: ghz(args.ghz, grpc_port, tmp / "grpc.bin", c, s)),
                ("shared memory, gRPC", lambda c, s: ghz(args.ghz, grpc_port,
                                                         tmp / "grpc-shm.bin", c, s)),
            ]
            argv = [str(benchlib.BENTO), "serve", "m", "--port", str(port), "--grpc-port",
                    str(grpc_port), "--no-access-log"]
            with benchlib.Server(argv, port, env=env) as server:
                server.wait_ready()
                for name, key, size in (("in", IN, x.nbytes), ("out", OUT, want.nbytes)):
                    requests.post(f"{url}/v2/systemsharedmemory/region/{name}/register",
                                  json={"key": "/" + key, "byte_size": size}).raise_for_status()
                check_answers(url, tmp, header, out_handle, want)
                rows, results = benchlib.compare_transports(transports, args.concurrency,
                                                            args.seconds, args.repeat)
    finally:
        shm.destroy_shared_memory_region(in_handle)
        shm.destroy_shared_memory_region(out_handle)
    text = (f"System shared memory against binary HTTP and gRPC on MobileNetV2 (input "
            f"{x.nbytes} bytes, output {want.nbytes}), `bento serve` defaults, {args.seconds:g} s "
            f"x {args.repeat} (median; errors summed; answers checked against onnxruntime "
            f"first)\n\n" +
            benchlib.table(["transport", "c", "rps", "p50 ms", "p99 ms", "/ binary HTTP",
                            "errors"], rows))
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "shm.md").write_text(text + "\n")
        (args.out / "shm.json").write_text(json.dumps(results, indent=1) + "\n")
    if any(p["errors"] for p in results.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
