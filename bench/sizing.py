"""Sizing figures for docs/deploy.md: what one bento pod of one CPU serves.

The "pod" is `bento serve` pinned to one core with taskset, its thread pools sized to one CPU
as a 1-CPU cgroup limit sizes them (--workers 1 --io-threads 1 --threads 1); the load comes
from the other core. For each model, with the adaptive batcher (the default for a model saved batchable) and
with --no-batching:
1. peak throughput: closed-loop wrk at concurrency 1, 2, 4, 8 and 16; the best point that
   had no error (past saturation, the latency budget sheds requests with 503);
2. latency under load: open-loop Poisson arrivals at 50 % and 70 % of that peak, each request
   timed from the moment it was due (so a stalled server cannot hide its queue), for p50 and
   p99, and the share shed with 503 by the latency budget; any other failure is an error, and
   the script exits 1;
3. memory: the server's peak RSS and PSS over the whole run.

    .venv/bin/python bench/sizing.py [--seconds 10] [--out bench/results]
"""
import argparse
import asyncio
import json
import os
import pathlib
import random
import socket
import statistics
import subprocess
import tempfile
import time

import benchlib
import compare


async def _request(reader, writer, head, body):
    writer.write(head + body)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def _open_loop(port, route, body, rate, seconds, connections=64):
    """Poisson arrivals at `rate` per second for `seconds`, on up to `connections` keep-alive
    connections. Returns (latencies in ms from each request's due time, requests shed with
    503 by the latency budget, other failures)."""
    head = (f"POST {route} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    idle = asyncio.Queue()
    opened = 0
    latencies, shed, failures = [], 0, 0
    rng = random.Random(1)

    async def one(due):
        nonlocal opened, shed, failures
        if idle.empty() and opened < connections:
            opened += 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            idle.put_nowait((reader, writer))
        conn = await idle.get()
        try:
            status = await _request(*conn, head, body)
            latencies.append((time.monotonic() - due) * 1000)
            shed += status == 503
            failures += status not in (200, 503)
            idle.put_nowait(conn)
        except (OSError, asyncio.IncompleteReadError):
            failures += 1
            opened -= 1

    tasks, start = [], time.monotonic()
    due = start
    while due < start + seconds:
        due += rng.expovariate(rate)
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    while not idle.empty():
        idle.get_nowait()[1].close()
    return latencies, shed, failures


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def size(name, variant, argv, env, route, body_file, seconds):
    port = benchlib.free_port()
    pod = ["taskset", "-c", "0", *argv, "--port", str(port), "--workers", "1",
           "--io-threads", "1", "--threads", "1", "--no-access-log"]
    with benchlib.Server(pod, port, env=env) as server:
        server.wait_ready()
        server.start_sampling()
        url = f"http://127.0.0.1:{port}{route}"
        benchlib.wrk(url, body_file, 4, 2)  # warm-up
        points = {c: benchlib.wrk(url, body_file, c, seconds) for c in (1, 2, 4, 8, 16)}
        # Past saturation the latency budget (--max-latency-ms) sheds requests with 503: the
        # peak is the best point that answered every request.
        clean = [c for c in points if points[c]["errors"] == 0] or list(points)
        best = max(clean, key=lambda c: points[c]["rps"])
        peak = points[best]["rps"]
        row = {"model": name, "variant": variant, "peak_rps": peak, "peak_concurrency": best,
               "peak_p99_ms": points[best]["p99_ms"], "points": points, "errors": 0}
        body = body_file.read_bytes()
        for load in (50, 70):
            latencies, shed, failures = asyncio.run(
                _open_loop(port, route, body, peak * load / 100, seconds))
            row[f"p50_ms_at_{load}"] = statistics.median(latencies)
            row[f"p99_ms_at_{load}"] = percentile(latencies, 99)
            row[f"shed_pct_at_{load}"] = 100 * shed / len(latencies)
            row["errors"] += failures
        server.stop()
        row["rss_mib"] = server.peak_rss / 2**20
        row["pss_mib"] = server.peak_pss / 2**20
    return row



def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--out", type=pathlib.Path, default=benchlib.ROOT / "bench/results")
    args = parser.parse_args()
    if os.cpu_count() < 2:
        raise SystemExit("sizing needs two cores: one for the pod, one for the load")
    os.sched_setaffinity(0, {1})  # the load generators, and wrk, stay off the pod's core
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        bodies = compare.make_bodies(tmp)
        home = tmp / "home"
        env = dict(os.environ, BENTOML_HOME=str(home), BENTOML_DO_NOT_TRACK="True")
        subprocess.run([benchlib.BENTO, "models", "save", compare.OCR_CLS, "--name", "ocr_cls",
                        "--batchable"], env=env, check=True, capture_output=True)
        subprocess.run([benchlib.ROOT / "examples/image_classifier/save-model"],
                       env=dict(env, BENTO=str(benchlib.BENTO)), check=True, capture_output=True)
        serve = [str(benchlib.BENTO), "serve"]
        rows = []
        for name, model, body in (
                ("small: PaddleOCR direction classifier, 1x3x48x192", "ocr_cls", "ocr-cls"),
                ("MobileNetV2, 1x3x224x224", "image_classifier", "mobilenet-json")):
            for variant, flags in (("batching (default)", []), ("--no-batching", ["--no-batching"])):
                rows.append(size(name, variant, serve + [model, *flags], env, "/run",
                                 bodies[body], args.seconds))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sizing.json").write_text(json.dumps(rows, indent=2) + "\n")
    table = benchlib.table(
        ["model (POST /run, JSON)", "serving", "peak req/s per CPU", "p50 / p99 at 50 %",
         "p50 / p99 at 70 %", "shed at 50 % / 70 %", "memory (RSS / PSS)"],
        [[r["model"], r["variant"], f"{r['peak_rps']:.0f}",
          f"{r['p50_ms_at_50']:.0f} / {r['p99_ms_at_50']:.0f} ms",
          f"{r['p50_ms_at_70']:.0f} / {r['p99_ms_at_70']:.0f} ms",
          f"{r['shed_pct_at_50']:.1f} / {r['shed_pct_at_70']:.1f} %",
          f"{r['rss_mib']:.0f} / {r['pss_mib']:.0f} MiB"] for r in rows])
    (args.out / "sizing.md").write_text(
        f"One CPU per pod ({os.cpu_count()}-core machine, `bench/sizing.py --seconds "
        f"{args.seconds:g}`):\n\n{table}\n")
    print(table)
    if any(r["errors"] for r in rows):
        raise SystemExit("some requests failed (not counting 503s shed by the latency budget)")


if __name__ == "__main__":
    main()
