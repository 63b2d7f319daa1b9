"""Helpers shared by bento's benchmark scripts: free ports, servers (cold start, memory of the
whole process tree, clean shutdown), wrk runs, raw ONNX Runtime runs, tables."""
import atexit
import ctypes
import json
import os
import pathlib
import shutil
import signal
import socket
import statistics
import subprocess
import threading
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(os.environ.get("BENTO_BUILD_DIR", ROOT / "build")) / "bin"
BENTO = BIN / "bento"
LUA = ROOT / "bench" / "post.lua"

_live_servers = set()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children():
    """Maps each pid to its child pids, from /proc/<pid>/stat."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces; the ppid follows it.
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def _tree(pid):
    """`pid` and its live descendants."""
    children = _children()
    todo = [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        yield p


def cpu_seconds(pid):
    """(user, kernel) CPU seconds of `pid` and its live descendants (nginx's workers, say),
    all their threads."""
    user, kernel = 0, 0
    tick = os.sysconf("SC_CLK_TCK")
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # exited meanwhile
        fields = stat[stat.rindex(")") + 2:].split()
        user += int(fields[11]) / tick  # utime
        kernel += int(fields[12]) / tick  # stime
    return user, kernel


def tree_memory(pid):
    """(RSS, PSS) in bytes, summed over `pid` and all its descendants. RSS counts a page
    shared by two processes twice; PSS splits it between them."""
    rss, pss = 0, 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
        except OSError:
            continue  # exited meanwhile
    return rss, pss


class Server:
    """A server process in its own process group: launched, timed to its first 200 from
    /readyz, sampled for memory while it runs, and stopped with its whole tree (also at exit
    and on SIGTERM/SIGINT of the benchmark, so no server outlives a failed run)."""

    def __init__(self, argv, port, env=None, cwd=None, log=None):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._log = open(log, "ab") if log else subprocess.DEVNULL
        self._start = time.monotonic()
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_term_with_parent)
        _live_servers.add(self)
        self.peak_rss = self.peak_pss = 0
        self._sampling = None

    def wait_ready(self, timeout=180):
        """Seconds from launch to the first 200 from /readyz."""
        while time.monotonic() - self._start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} before ready")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=1) as r:
                    if r.status == 200:
                        return time.monotonic() - self._start
            except Exception:
                time.sleep(0.01)
        raise RuntimeError(f"server on {self.port} not ready after {timeout}s")

    def memory(self):
        return tree_memory(self.proc.pid)

    def start_sampling(self, period=0.25):
        """Records the peak RSS and PSS of the tree until stop()."""
        stop = threading.Event()

        def loop():
            while not stop.wait(period):
                rss, pss = self.memory()
                self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self._sampling = (stop, thread)

    def stop(self, timeout=30):
        if self._sampling:
            self._sampling[0].set()
            self._sampling[1].join()
            self._sampling = None
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(self.proc.pid, signal.SIGKILL)  # stragglers: workers of a dead parent
        self.proc.wait()
        _live_servers.discard(self)
        if self._log is not subprocess.DEVNULL:
            self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def batch_totals(url):
    """(items, batches) so far from a server's /metrics: the sum and count of
    bentoml_service_adaptive_batch_size, BentoML's histogram, which bento exports too."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    totals = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        name = line.split("{", 1)[0].split(" ", 1)[0]
        for kind in totals:
            if name.endswith(f"adaptive_batch_size_{kind}"):
                totals[kind] += float(line.rsplit(" ", 1)[1])
    return totals["sum"], totals["count"]


def _term_with_parent():
    """In the child before exec: SIGTERM when the benchmark dies, even by SIGKILL."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _stop_all():
    for server in list(_live_servers):
        server.stop(timeout=10)


def _on_signal(signum, frame):
    _stop_all()
    raise SystemExit(128 + signum)


atexit.register(_stop_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def wrk(url, body_file, concurrency, seconds, content_type="application/json", header=None):
    """Closed-loop load: `concurrency` connections, each sending the next request as soon as
    the previous answer arrives. `rps` counts 2xx answers only; `errors` counts the rest
    (non-2xx, socket errors, timeouts). Latencies are over every answer."""
    env = dict(os.environ, BENCH_BODY=str(body_file), BENCH_CONTENT_TYPE=content_type)
    if header:
        env["BENCH_HEADER"] = header
    threads = max(1, min(concurrency, 2))
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds:g}s",
                          "--timeout", "30s", "-s", str(LUA), url],
                         env=env, capture_output=True, text=True, check=True,
                         timeout=seconds + 60).stdout
    line = next(l for l in out.splitlines() if l.startswith("WRK_JSON "))
    r = json.loads(line[len("WRK_JSON "):])
    errors = (r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"] +
              r["non2xx"])
    ok = max(0, r["requests"] - r["non2xx"])
    return {"rps": ok / (r["duration_us"] / 1e6), "p50_ms": r["p50_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000, "errors": errors, "requests": r["requests"]}


NGINX_CONF = """
worker_processes {workers};
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_max_body_size 64m;
  client_body_buffer_size 4m;
  client_body_temp_path {folder}/body;
  proxy_temp_path {folder}/proxy;
  fastcgi_temp_path {folder}/fastcgi;
  uwsgi_temp_path {folder}/uwsgi;
  scgi_temp_path {folder}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type application/json; return 200 '{{"floor": true}}'; }}
  }}
}}
"""


def nginx_floor(folder, port):
    """The HTTP floor: Debian's nginx (nginx-light), one worker per core, reading each
    request's whole body and answering a fixed one, as fast as an HTTP server can answer the
    same POST. A Server: wait_ready() (its /readyz is 200 too), then load it with wrk."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(workers=os.cpu_count() or 1, folder=folder, port=port))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"  # sbin: not on every user's PATH
    return Server([nginx, "-c", str(conf), "-p", str(folder), "-g", "daemon off;"], port,
                  log=folder / "nginx.log")


def raw_ort(model, body, concurrency, batch, seconds):
    """Raw in-process ONNX Runtime (build/bin/bento_bench_raw): `concurrency` threads each
    calling Run back to back on `batch` copies of the request's input. Adds the process's
    peak RSS in bytes (`max_rss`)."""
    return _measure("bento_bench_raw", model, body, "--concurrency", concurrency,
                    "--batch", batch, "--seconds", seconds)


def path_limit(path, model, inputs, concurrency, seconds):
    """The limit of a serving path (build/bin/bento_bench_path): `concurrency` threads each
    decoding a request, running it and encoding its answer with bento's own code, no HTTP.
    `path` is json, kserve or image; `inputs` the request body (json, kserve: POST /run's
    JSON) or [image, custom_objects.json] (image). Adds `max_rss` as raw_ort does."""
    return _measure("bento_bench_path", path, model, *inputs, "--concurrency", concurrency,
                    "--seconds", seconds)


def _measure(program, *args):
    """Runs one of the in-process benchmarks, which print one JSON line; adds its peak RSS."""
    proc = subprocess.Popen([str(BIN / program), *map(str, args)], stdout=subprocess.PIPE,
                            text=True, preexec_fn=_term_with_parent)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{program} exited with {proc.returncode}")
    return {**json.loads(out), "max_rss": usage.ru_maxrss * 1024}


def median_point(runs):
    """The median of each figure over repeated runs of one point; errors are summed, so that
    errors in any one run show."""
    return {k: (sum if k == "errors" else statistics.median)(r[k] for r in runs)
            for k in runs[0] if isinstance(runs[0][k], (int, float))}


def compare_transports(transports, concurrencies, seconds, repeat):
    """Loads each (name, load) of `transports` in turn at each concurrency: a 1 s warm-up,
    then `repeat` runs of `seconds`, medianed (median_point). `load(c, seconds)` returns a
    wrk-style point. Returns table rows (throughput as a ratio to the first transport) and
    every point by "name c=C"."""
    rows, results = [], {}
    for c in concurrencies:
        base = None
        for name, load in transports:
            load(c, 1)  # warm-up
            point = median_point([load(c, seconds) for _ in range(repeat)])
            base = base or point["rps"]
            results[f"{name} c={c}"] = point
            rows.append([name, c, f"{point['rps']:.0f}", f"{point['p50_ms']:.2f}",
                         f"{point['p99_ms']:.2f}", f"{point['rps'] / base:.2f}",
                         int(point["errors"])])
    return rows, results


def table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    lines = ["| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(lines)
