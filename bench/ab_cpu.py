"""A/B of two builds of libbento on the tiny-request path: the server's CPU a request (user
and kernel, from /proc/PID/stat), its throughput and p99 under wrk, with launches alternated
(A, B, A, B, ...) so that the machine's drift falls on both alike. On a shared 2-core machine a
single run of either varies by 10-20%; the medians of alternated rounds are what to compare.

  .venv/bin/python bench/ab_cpu.py --a DIR --b DIR [--rounds 5] [--seconds 5]
                                   [--concurrency 32] [--scenario tiny noop]
                                   [--preload-a LIB] [--preload-b LIB]

DIR is a folder holding the libbento.so.0 to run with (put first on LD_LIBRARY_PATH, which
the binaries' RUNPATH yields to), or "build" for the tree's own build. To compare a change:
copy build/lib/libbento.so.0.1.0 to /tmp/a/libbento.so.0, make the change, rebuild, and run
with `--a /tmp/a --b build`. Scenarios: `tiny`, `bento serve digits` and POST /run (the
digits MLP, whose Run takes microseconds); `noop`, bench/noop_service.cc's echo API (bento's
HTTP and JSON layers alone). --preload-a/--preload-b put a shared library in LD_PRELOAD on
that side, to compare allocators (`--a build --b build --preload-b
/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4`). Prints a table; writes nothing.
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

import benchlib
import compare


def library_env(folder, preload, home):
    env = dict(os.environ, BENTOML_HOME=str(home))
    env.pop("LD_LIBRARY_PATH", None)
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = preload
    if folder != "build":
        path = pathlib.Path(folder).resolve()
        if not (path / "libbento.so.0").exists():
            sys.exit(f"{path} holds no libbento.so.0")
        env["LD_LIBRARY_PATH"] = str(path)
    return env


def one_run(scenario, folder, preload, home, bodies, args, tmp):
    port = benchlib.free_port()
    if scenario == "tiny":
        argv = [str(benchlib.BENTO), "serve", "--no-access-log", "--port", str(port), "digits"]
        route, body = "/run", bodies["tiny"]
    else:
        argv = [str(benchlib.BIN / "bento_bench_noop"), "--no-access-log", "--port", str(port)]
        route, body = "/noop", bodies["noop"]
    env = library_env(folder, preload, home)
    with benchlib.Server(argv, port, env=env, log=tmp / f"{scenario}.log") as server:
        server.wait_ready()
        url = server.url + route
        benchlib.wrk(url, body, args.concurrency, 1)  # warm-up: the API's first calls, caches
        before = benchlib.cpu_seconds(server.proc.pid)
        load = benchlib.wrk(url, body, args.concurrency, args.seconds)
        after = benchlib.cpu_seconds(server.proc.pid)
    if load["errors"]:
        sys.exit(f"{scenario} with {folder}: {load['errors']} errors")
    return {"user_us": (after[0] - before[0]) / load["requests"] * 1e6,
            "kernel_us": (after[1] - before[1]) / load["requests"] * 1e6,
            "rps": load["rps"], "p99_ms": load["p99_ms"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--a", required=True, help='folder with libbento.so.0, or "build"')
    parser.add_argument("--b", required=True, help='folder with libbento.so.0, or "build"')
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--scenario", nargs="+", choices=["tiny", "noop"],
                        default=["tiny", "noop"])
    parser.add_argument("--preload-a", help="a shared library to preload on side A")
    parser.add_argument("--preload-b", help="a shared library to preload on side B")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        home = tmp / "home"
        subprocess.run([benchlib.BENTO, "models", "save", compare.DIGITS, "--name", "digits",
                        "--batchable"],
                       env=dict(os.environ, BENTOML_HOME=str(home)), check=True,
                       capture_output=True)
        bodies = compare.make_bodies(tmp)
        runs = {(s, side): [] for s in args.scenario for side in "ab"}
        for r in range(args.rounds):
            for scenario in args.scenario:
                for side, folder, preload in (("a", args.a, args.preload_a),
                                              ("b", args.b, args.preload_b)):
                    got = one_run(scenario, folder, preload, home, bodies, args, tmp)
                    runs[scenario, side].append(got)
                    print(f"round {r + 1} {scenario} {side}: {got['user_us']:.1f} + "
                          f"{got['kernel_us']:.1f} us CPU a request, {got['rps']:,.0f} "
                          f"requests/s, p99 {got['p99_ms']:.2f} ms", file=sys.stderr, flush=True)
    rows = []
    for scenario in args.scenario:
        med = {side: {k: statistics.median(run[k] for run in runs[scenario, side])
                      for k in ("user_us", "kernel_us", "rps", "p99_ms")} for side in "ab"}
        for key, name in (("user_us", "user CPU us a request"),
                          ("kernel_us", "kernel CPU us a request"),
                          ("rps", "requests/s"), ("p99_ms", "p99 ms")):
            a, b = med["a"][key], med["b"][key]
            rows.append([scenario, name, f"{a:,.2f}", f"{b:,.2f}", f"{b / a:.2f}x" if a else "-"])
    print(f"Medians of {args.rounds} alternated rounds, wrk at c={args.concurrency} for "
          f"{args.seconds:g} s; A = {args.a} {args.preload_a or ''}, "
          f"B = {args.b} {args.preload_b or ''}\n")
    print(benchlib.table(["scenario", "figure", "A", "B", "B/A"], rows))


if __name__ == "__main__":
    main()
