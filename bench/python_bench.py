"""Python services on bento's engine, measured (bench/results/python.md):

1. The guide's ONNXImageClassifier (tests/python_services/image_classifier.py, one file):
   served by bento (`python -m bento serve`) and by BentoML 1.4 (`bentoml serve`, the same
   source with `import bentoml`), beside bento's C++ port (examples/image_classifier), at
   each concurrency. Target at 32: bento >= 3x BentoML's throughput, p99 <= 1/3 of BentoML's.
2. What calling Python adds to a request: a no-op Python API (bench/bento_python_services.py
   Noop) against the same no-op API in C++ (bench/noop_service.cc), one client at a time.
   Target: under 30 us added per request.
3. A batchable Python API under 32 clients: how many times Python was called against how
   many requests and batches (bento's batcher calls Python once per batch).

    .venv/bin/python bench/python_bench.py [--seconds 5] [--out bench/results]
"""
import argparse
import contextlib
import json
import os
import pathlib
import sys
import tempfile
import time
import urllib.request

import benchlib
import compare

ROOT = benchlib.ROOT
PYTHON = ROOT / ".venv/bin/python"
SERVICES = ROOT / "tests/python_services"


def python_server(target, port, env, home, log, *flags):
    """`python -m bento serve TARGET` with its services' folder on the path."""
    e = dict(env, BENTOML_HOME=str(home), PYTHONPATH=f"{SERVICES}:{ROOT / 'bench'}",
             BENTO_LOG_LEVEL="warn")
    return benchlib.Server([str(PYTHON), "-m", "bento", "serve", target, "--no-access-log",
                            "--port", str(port), *flags], port, env=e, cwd=ROOT / "bench",
                           log=log)


def cpp_server(binary, port, env, home, log):
    """A service executable of this build."""
    return benchlib.Server([str(benchlib.BIN / binary), "--no-access-log", "--port", str(port)],
                           port, env=dict(env, BENTOML_HOME=str(home), BENTO_LOG_LEVEL="warn"),
                           log=log)


def guide_classifier(args, env, homes, body, logdir):
    """Each server in turn: start, warm up, then wrk at each concurrency."""
    url_route, content_type = "/classify_image", f"multipart/form-data; boundary={compare.BOUNDARY}"
    launches = {
        "bento (Python)": lambda port: python_server(
            "image_classifier:ONNXImageClassifier", port, env, homes[0],
            logdir / "guide-bento-python.log"),
        "BentoML 1.4": lambda port: benchlib.Server(
            [str(compare.BENTOML), "serve", "bentoml_services:ONNXImageClassifier", "--port",
             str(port)], port, env=dict(env, BENTOML_HOME=str(homes[1])), cwd=ROOT / "bench",
            log=logdir / "guide-bentoml.log"),
        "bento (C++ port)": lambda port: cpp_server(
            "image_classifier", port, env, homes[0], logdir / "guide-bento-cpp.log"),
    }
    points = {}
    for name, launch in launches.items():
        print(f"guide classifier: {name}", file=sys.stderr, flush=True)
        port = benchlib.free_port()
        with launch(port) as server:
            server.wait_ready()
            url = server.url + url_route
            answer = compare.check_answer(url, body, content_type)
            server.start_sampling()
            benchlib.wrk(url, body, 8, args.warmup, content_type)
            points[name] = {"answer": answer,
                            **{c: benchlib.wrk(url, body, c, args.seconds, content_type)
                               for c in args.concurrency}}
            server.stop()
            points[name]["peak_rss"] = server.peak_rss
    return points


def noop(args, env, home, tmp, logdir):
    body = tmp / "noop.json"
    body.write_text(json.dumps({"text": "hello"}))
    servers = {
        "C++": lambda port: cpp_server("bento_bench_noop", port, env, home,
                                       logdir / "noop-cpp.log"),
        "Python": lambda port: python_server("bento_python_services:Noop", port, env, home,
                                             logdir / "noop-python.log"),
    }
    # Both servers run at once and their repetitions alternate, so that what the machine does
    # meanwhile falls on both alike: the figure is a difference of two p50s of ~100 us, which
    # one server's run minutes after the other's can move by tens of us.
    with contextlib.ExitStack() as stack:
        urls = {}
        for name, launch in servers.items():
            server = stack.enter_context(launch(benchlib.free_port()))
            server.wait_ready()
            urls[name] = server.url + "/noop"
            benchlib.wrk(urls[name], body, 1, args.warmup)
        runs = {name: {c: [] for c in (1, 32)} for name in servers}
        for rep in range(args.reps):
            for c in (1, 32):
                for name, url in urls.items():
                    print(f"no-op API: {name}, c={c}, rep {rep + 1}/{args.reps}",
                          file=sys.stderr, flush=True)
                    runs[name][c].append(benchlib.wrk(url, body, c, args.seconds))
    return {name: {c: benchlib.median_point(r) for c, r in by_c.items()}
            for name, by_c in runs.items()}


def batched(args, env, home, tmp, logdir):
    body = tmp / "batched.json"
    body.write_text(json.dumps({"x": [[1.0, 2.0, 3.0, 4.0]]}))
    print("batchable Python API", file=sys.stderr, flush=True)
    port = benchlib.free_port()
    with python_server("bento_python_services:Batched", port, env, home,
                       logdir / "batched-python.log") as server:
        server.wait_ready()
        url = server.url + "/double"
        benchlib.wrk(url, body, 32, args.warmup)
        items_before, batches_before = _settled_totals(server.url)
        calls_before = _post_json(server.url + "/calls_so_far", {})
        point = benchlib.wrk(url, body, 32, args.seconds)
        items, batches = _settled_totals(server.url)
        calls = _post_json(server.url + "/calls_so_far", {}) - calls_before
    return {**point, "python_calls": calls, "batches": batches - batches_before,
            "items": items - items_before}


def _settled_totals(url):
    """The batcher's item and batch totals once they stop moving: wrk stops with requests
    still queued or in a batch, whose Python call would otherwise land between two reads."""
    totals = benchlib.batch_totals(url)
    for _ in range(50):
        time.sleep(0.1)
        totals, before = benchlib.batch_totals(url), totals
        if totals == before:
            break
    return totals


def _post_json(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def markdown(args, guide, noops, batch, wall):
    out = ["# Python services on bento's engine", "",
           f"`bench/python_bench.py`, {os.cpu_count()} cores, {args.seconds:g} s per point, "
           f"{wall:.0f} s in all. Each server has the whole machine, shared with wrk.", "",
           "## The guide's ONNXImageClassifier: bento against BentoML 1.4", "",
           "One source, tests/python_services/image_classifier.py: bento serves it with "
           "`import bento as bentoml`, BentoML with `import bentoml` (bench/bentoml_services.py)."
           " POST /classify_image, a multipart PNG (chelsea.png). bento's C++ port of the same "
           "service is beside them. First answers: " +
           "; ".join(f"{n}: {p['answer']}" for n, p in guide.items()) + ".", ""]
    py, ml = guide["bento (Python)"], guide["BentoML 1.4"]
    rows = []
    for c in args.concurrency:
        row = [c]
        for name in guide:
            p = guide[name][c]
            row += [f"{p['rps']:.1f}", f"{p['p50_ms']:.1f}", f"{p['p99_ms']:.1f}", p["errors"]]
        row += [f"{compare_ratio(py[c]['rps'], ml[c]['rps']):.2f}x",
                f"1/{compare_ratio(ml[c]['p99_ms'], py[c]['p99_ms']):.2f}"]
        rows.append(row)
    headers = ["c"]
    for name in guide:
        headers += [f"{name} rps", "p50 ms", "p99 ms", "err"]
    out += [benchlib.table(headers + ["rps bento/BentoML", "p99 bento/BentoML"], rows), ""]
    out.append("Peak RSS under load: " + ", ".join(
        f"{n} {p['peak_rss'] / 2**20:.0f} MiB" for n, p in guide.items()) + ".")
    c = 32 if 32 in args.concurrency else args.concurrency[-1]
    tput = compare_ratio(py[c]["rps"], ml[c]["rps"])
    p99 = compare_ratio(py[c]["p99_ms"], ml[c]["p99_ms"])
    out += ["", f"Target at c={c}: throughput >= 3x BentoML's: **{tput:.2f}x** "
            f"({'met' if tput >= 3 else 'missed'}); p99 <= 1/3 of BentoML's: "
            f"**1/{1 / p99 if p99 else float('inf'):.2f}** ({'met' if p99 <= 1 / 3 else 'missed'}).",
            "", "## What calling Python adds to a request", "",
            "A no-op API, `{\"text\": \"hello\"}` in and out: bench/noop_service.cc (C++) "
            "against bench/bento_python_services.py `Noop` (Python), both on bento's server, "
            f"running at once, their {args.reps} runs of {args.seconds:g} s at each concurrency "
            "alternating (median quoted).", ""]
    rows = []
    for c in (1, 32):
        cpp, pyn = noops["C++"][c], noops["Python"][c]
        added = 1e6 * c / pyn["rps"] - 1e6 * c / cpp["rps"]
        rows.append([c, f"{cpp['rps']:.0f}", f"{cpp['p50_ms'] * 1000:.0f}",
                     f"{pyn['rps']:.0f}", f"{pyn['p50_ms'] * 1000:.0f}",
                     f"{(pyn['p50_ms'] - cpp['p50_ms']) * 1000:.0f}", f"{added:.0f}"])
    out += [benchlib.table(["c", "C++ rps", "C++ p50 us", "Python rps", "Python p50 us",
                            "p50 added us", "time per request added us (c / rps)"], rows), ""]
    added1 = (noops["Python"][1]["p50_ms"] - noops["C++"][1]["p50_ms"]) * 1000
    out += [f"Target: under 30 us added per request (p50, one client): **{added1:.0f} us** "
            f"({'met' if added1 < 30 else 'missed'}).", "",
            "## A batchable Python API under 32 clients", "",
            f"`Batched.double` (`batchable=True, max_batch_size=32`), {args.seconds:g} s of wrk "
            f"at c=32: {batch['requests']} requests ({batch['rps']:.0f}/s, p99 "
            f"{batch['p99_ms']:.1f} ms, {batch['errors']} errors), {batch['items']:.0f} items in "
            f"{batch['batches']:.0f} batches (bento's `adaptive_batch_size` metric), and "
            f"**{batch['python_calls']} calls into Python**: "
            f"{'one per batch' if batch['python_calls'] == batch['batches'] else 'NOT one per batch'}"
            f", {batch['items'] / max(batch['python_calls'], 1):.1f} requests per call.", ""]
    return "\n".join(out)


def compare_ratio(a, b):
    return a / b if b else float("inf")


def main():
    quick = os.environ.get("BENCH_QUICK") == "1"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2 if quick else 5)
    parser.add_argument("--warmup", type=float, default=1 if quick else 3)
    parser.add_argument("--reps", type=int, default=1 if quick else 3,
                        help="repetitions of each no-op point (medianed)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "bench/results")
    args = parser.parse_args()
    started = time.monotonic()
    env = dict(os.environ, BENTOML_DO_NOT_TRACK="True")
    env.pop("BENTOML_HOME", None)
    args.out.mkdir(parents=True, exist_ok=True)
    logdir = args.out / "logs"
    logdir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bento-python-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        bodies = compare.make_bodies(tmp)
        homes = compare.make_stores(tmp, env)
        guide = guide_classifier(args, env, homes, bodies["mobilenet-image"], logdir)
        noops = noop(args, env, homes[0], tmp, logdir)
        batch = batched(args, env, homes[0], tmp, logdir)
    text = markdown(args, guide, noops, batch, time.monotonic() - started)
    (args.out / "python.md").write_text(text)
    print(text)
    answers = {p["answer"] for p in guide.values()}
    if len(answers) > 1:
        print(f"error: the servers answer differently: {answers}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
