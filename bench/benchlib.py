"""Helpers shared by bento's benchmark scripts: free ports, servers, wrk runs, tables."""
import json
import os
import pathlib
import socket
import subprocess
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / "build" / "bin"
BENTO = BIN / "bento"
LUA = ROOT / "bench" / "post.lua"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, timeout=120, path="/readyz"):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1) as r:
                if r.status == 200:
                    return time.monotonic() - start
        except Exception:
            time.sleep(0.02)
    raise RuntimeError(f"server on {port} not ready after {timeout}s")


def wrk(url, body_file, concurrency, seconds, content_type="application/json"):
    """Closed-loop load: `concurrency` connections, each sending the next request as soon as
    the previous answer arrives."""
    env = dict(os.environ, BENCH_BODY=str(body_file), BENCH_CONTENT_TYPE=content_type)
    threads = max(1, min(concurrency, 2))
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds}s",
                          "--timeout", "30s", "-s", str(LUA), url],
                         env=env, capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRK_JSON "))
    r = json.loads(line[len("WRK_JSON "):])
    errors = (r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"] +
              r["non2xx"])
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000, "errors": errors}


def table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    lines = ["| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(lines)
