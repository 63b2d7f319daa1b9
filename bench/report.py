"""Turns bench/results/results.json (written by bench/compare.py) into results.md (tables,
targets) and PNG plots made with matplotlib. Needs only the standard library and matplotlib
(Debian's python3-matplotlib: `make bench` runs it with /usr/bin/python3).

    python3 bench/report.py [bench/results]
"""
import json
import pathlib
import re
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SERVERS = ("bento", "bentoml")
EXTRA = "bento-nobatch"  # bento with --no-batching, on batched APIs only
# bento with the defaults it had before it chose batching (--max-batch-size 32), on batched
# APIs only: the "before" of this run's before/after ratios.
BEFORE = "bento-before"
LABEL = {"bento": "bento", "bentoml": "BentoML 1.4", "raw": "raw ONNX Runtime",
         EXTRA: "bento, batching off", BEFORE: "bento, defaults before batching was chosen"}
COLOR = {"bento": "#1f77b4", "bentoml": "#ff7f0e", "raw": "#2ca02c", "raw1": "#98df8a",
         EXTRA: "#9467bd"}
MIB = 1024 * 1024
TARGET_C = 32


def med(values):
    return statistics.median(values)


def point(entry, server, c):
    return entry[server]["points"][str(c)]


def div(a, b):
    return a / b if b else float("inf")


def fmt(x, digits=1):
    return f"{x:,.{digits}f}"


def _context(e, c):
    """Figures that say where a server's time goes at concurrency c, for the targets' notes."""
    best = e["raw"]["best"]
    b, m = point(e, "bento", c), point(e, "bentoml", c)
    return (f"raw ORT's best is {fmt(best['items_per_s'], 0)} items/s (batch {best['batch']}, "
            f"{best['concurrency']} thread(s)); bento serves {div(b['rps'], best['items_per_s']):.0%} "
            f"of it, BentoML {div(m['rps'], best['items_per_s']):.0%}"
            + (f"; mean batch: bento {_batch(b)}, BentoML {_batch(m)}"
               if b.get("mean_batch") or m.get("mean_batch") else "; no batching on this API"))


def _own_floor(e, served, nginx, c):
    """What bento's own floor (a no-op API with no model) says of the tiny model's distance
    from nginx: what bento's HTTP layer costs with no model behind it."""
    if "bento_floor" not in e:
        return ""
    noop = e["bento_floor"][str(c)]["rps"]
    return (f"; bento's own floor, a no-op API with no model, serves {fmt(noop, 0)} rps "
            f"({div(noop, nginx):.0%} of nginx), and the tiny model {div(served['rps'], noop):.0%} "
            "of that")


def _chosen(e):
    """What each bento configuration logged when its model loaded: the first launch's lines
    whole (the timings behind the choice), then each launch's choices in short, since the
    timings, and so the choices, can differ between launches."""
    out = []
    for server in ("bento", EXTRA, BEFORE):
        launches = e.get(server, {}).get("chosen_at_load") or []
        if not any(launches):
            continue
        out += [f"- {LABEL[server]}, launch 1: {line}" for line in launches[0]]
        short = ["; ".join(m.group(0) for line in lines for m in _CHOICE.finditer(line))
                 for lines in launches]
        out.append(f"- {LABEL[server]}, each launch: " +
                   " | ".join(f"{i}: {text or '-'}" for i, text in enumerate(short, 1)))
    return (["What bento chose when the model loaded (its log):", ""] + out + [""]) if out else []


# The choices in a load-time log line (bench/compare.py keeps them).
_CHOICE = re.compile(r"largest batch: \d+|batching is \w+|intra-op threads: [^)]+")


def _batch(p):
    """A point's mean batch, or "-" where nothing was batched (for bento's default: batching
    did not pay when the model was timed, at load or on its first request)."""
    return fmt(p["mean_batch"]) if p.get("mean_batch") else "-"


def _phases(e):
    """Where the path limit's time goes, per request, from its one-thread point."""
    one = e["path"]["points"].get("1", e["path"]["best"])

    def t(ms):
        return f"{ms:.2f} ms" if ms >= 1 else f"{ms * 1000:.1f} µs"
    return (f"alone, a request takes {t(one['decode_ms'])} to decode, {t(one['run_ms'])} in Run "
            f"and {t(one['encode_ms'])} to encode")


def targets(results):
    """Each target of the benchmark: (what, measured, met, by how much missed, context)."""
    rows = []
    sc = results["scenarios"]
    c = str(TARGET_C)
    if "ocr-cls" in sc and c in sc["ocr-cls"]["bento"]["points"]:
        e = sc["ocr-cls"]
        b, m = point(e, "bento", c), point(e, "bentoml", c)
        ratio = div(b["rps"], m["rps"])
        best = e["raw"]["best"]["items_per_s"]
        rows.append(("small model, c=32: bento throughput >= 10x BentoML", f"{ratio:.1f}x",
                     ratio >= 10, f"{ratio / 10:.0%} of the target",
                     f"10x BentoML is {fmt(10 * m['rps'], 0)} rps, "
                     f"{div(10 * m['rps'], best):.0%} of raw ORT's best; " + _context(e, c)))
        p99 = div(b["p99_ms"], m["p99_ms"])
        rows.append(("small model, c=32: bento p99 <= 1/5 of BentoML's",
                     f"1/{div(1, p99):.1f}", p99 <= 0.2, f"{p99 / 0.2:.1f}x the allowed p99",
                     f"in a closed loop p50 is about c / throughput = {fmt(32000 / b['rps'], 0)}"
                     f" ms for bento, {fmt(div(32000, m['rps']), 0)} ms for BentoML: the "
                     "latency ratio follows the throughput ratio"))
    for key in ("mobilenet-json", "mobilenet-image"):
        if key not in sc or c not in sc[key]["bento"]["points"]:
            continue
        e = sc[key]
        bento = point(e, "bento", c)["rps"]
        ratio = div(bento, point(e, "bentoml", c)["rps"])
        rows.append((f"MobileNetV2 {e['route']}, c=32: bento >= 1.5x BentoML", f"{ratio:.2f}x",
                     ratio >= 1.5, f"{ratio / 1.5:.0%} of the target", _context(e, c)))
        limit = div(bento, e["raw"]["best"]["items_per_s"])
        rows.append((f"MobileNetV2 {e['route']}, c=32: bento >= 90% of raw ORT's best batch",
                     f"{limit:.0%}", limit >= 0.9, f"{limit / 0.9:.0%} of the target",
                     _context(e, c) + f"; each request also carries {e['body_bytes'] / 1e3:,.0f}"
                     " kB to parse, and wrk shares the cores; raw ORT has neither"))
    for key, e in sc.items():
        if "path" not in e or c not in e["bento"]["points"]:
            continue
        limit = e["path"]["best"]
        served = point(e, "bento", c)
        frac = div(served["rps"], limit["items_per_s"])
        rows.append((f"{key}: bento at c=32 >= 80% of its path's limit ({e['path']['kind']} "
                     "decode, Run and encode in one process)", f"{frac:.0%}", frac >= 0.8,
                     f"{frac / 0.8:.0%} of the target",
                     f"the limit is {fmt(limit['items_per_s'], 0)} rps at "
                     f"{limit['concurrency']} threads; {_phases(e)}; the server adds HTTP, "
                     "and wrk shares its cores"))
        if key == "tiny" and "floor" in e:
            floor = e["floor"][c]["rps"]
            ratio = div(served["rps"], floor)
            rows.append(("tiny model, c=32: bento >= 50% of the nginx floor",
                         f"{ratio:.0%}", ratio >= 0.5, f"{ratio / 0.5:.0%} of the target",
                         f"nginx reads the same {e['body_bytes'] / 1e3:,.0f} kB POST and answers "
                         f"a fixed body at {fmt(floor, 0)} rps; bento also decodes, runs and "
                         f"encodes ({_phases(e)}) on the I/O thread that read the request"
                         + _own_floor(e, served, floor, c) +
                         ": where its CPU goes, what was tried, and the same path behind a "
                         "bare epoll loop (the most any HTTP layer could serve it on this "
                         "machine), in tiny-profile.md"))
        shed = sum(point(e, s, c)["errors"] for s in ("bento", EXTRA) if s in e)
        rows.append((f"{key}: nothing shed or failed at c=32 with the default latency budget",
                     f"{shed} errors", shed == 0, f"{shed} errors",
                     f"max latency {results['meta']['max_latency_ms']} ms (both servers' "
                     "default); errors summed over the repetitions"))
        if EXTRA in e:
            on_off = div(served["rps"], point(e, EXTRA, c)["rps"])
            rows.append((f"{key}: batching on >= 1.0x off at c=32", f"{on_off:.2f}x",
                         on_off >= 1.0, f"{on_off:.0%} of the target",
                         (f"mean batch {served['mean_batch']:.1f}"
                          if served.get("mean_batch") else
                          "bento's default served it unbatched, as --no-batching does (same "
                          "threads, same path: the ratio is the noise between interleaved runs): "
                          "batching did not pay when the model was timed (at load, or on its "
                          "first request)") + "; peak RSS by default "
                         f"{fmt(med(e['bento']['peak_rss']) / MIB, 0)} MiB, with --no-batching "
                         f"{fmt(med(e[EXTRA]['peak_rss']) / MIB, 0)} MiB"))
            mem = div(med(e["bento"]["peak_rss"]), med(e[EXTRA]["peak_rss"]))
            rows.append((f"{key}: batched peak RSS <= 1.5x unbatched", f"{mem:.2f}x",
                         mem <= 1.5, f"{mem / 1.5:.1f}x the allowed memory",
                         "ONNX Runtime keeps the activations of the largest batch it ran in "
                         "its arena; raw ORT alone: " + ", ".join(
                             f"batch {b} {fmt(r['max_rss'] / MIB, 0)} MiB"
                             for b, r in e["raw"]["batches"].items() if "max_rss" in r)))
        if BEFORE in e and "1" in e[BEFORE]["points"]:
            now, was = point(e, "bento", "1"), point(e, BEFORE, "1")
            ratio = div(now["p50_ms"], was["p50_ms"])
            rows.append((f"{key}: p50 at c=1 within 10% of bento's defaults before batching "
                         "was chosen (same run)", f"{ratio:.2f}x", ratio <= 1.1,
                         f"{ratio / 1.1:.2f}x the allowed p50",
                         f"p50 {fmt(now['p50_ms'], 2)} ms by default, "
                         f"{fmt(was['p50_ms'], 2)} ms with `{_command(e['commands'][BEFORE])}`, "
                         "which batches at 32 on every core's intra-op threads (a lone "
                         "request's Run spreads over every core); by default a model served "
                         "unbatched runs one intra-op thread per API worker, or every core's "
                         "where a lone request ran at least 15% faster on them at load"))
    for key, e in sc.items():
        # The target is the resident memory with the model loaded (at rest, read before the
        # first request, so before ONNX Runtime's arena holds any activations); the peak under load, which ONNX Runtime's arena for a batch's activations
        # dominates, is given beside it.
        rss = div(med(e["bento"]["idle_rss"]), med(e["bentoml"]["idle_rss"]))
        raw_rss = {b: r["max_rss"] for b, r in e["raw"]["batches"].items() if "max_rss" in r}
        top = max(raw_rss, key=int) if raw_rss else None
        rows.append((f"{key}: bento RSS with the model loaded <= 1/3 of BentoML's",
                     f"1/{div(1, rss):.1f}", rss <= 1 / 3, f"{rss * 3:.1f}x the allowed RSS",
                     f"at rest: bento {fmt(med(e['bento']['idle_rss']) / MIB, 0)} MiB, BentoML "
                     f"{fmt(med(e['bentoml']['idle_rss']) / MIB, 0)} MiB; peak under load: bento "
                     f"{fmt(med(e['bento']['peak_rss']) / MIB, 0)} MiB, BentoML "
                     f"{fmt(med(e['bentoml']['peak_rss']) / MIB, 0)} MiB"
                     + (f"; raw ORT alone peaks at {fmt(raw_rss[top] / MIB, 0)} MiB at batch "
                        f"{top} (ONNX Runtime's arena for a batch's activations)" if top else "")))
        cold = div(med(e["bento"]["cold_start_s"]), med(e["bentoml"]["cold_start_s"]))
        rows.append((f"{key}: bento cold start <= 1/10 of BentoML's", f"1/{div(1, cold):.1f}",
                     cold <= 0.1, f"{cold * 10:.1f}x the allowed time",
                     f"bento {med(e['bento']['cold_start_s']):.2f} s, BentoML "
                     f"{med(e['bentoml']['cold_start_s']):.2f} s"))
    return rows


def before_after(results):
    """Rows of this run's before/after table: each batched API under bento's defaults before it
    chose batching (BEFORE) and now, at the target concurrency and, for latency, at c=1."""
    rows, c = [], str(TARGET_C)
    for key, e in results["scenarios"].items():
        if BEFORE not in e or c not in e[BEFORE]["points"]:
            continue
        was, now = point(e, BEFORE, c), point(e, "bento", c)
        rss_was, rss_now = med(e[BEFORE]["peak_rss"]), med(e["bento"]["peak_rss"])
        row = [key, f"{fmt(was['rps'])} → {fmt(now['rps'])}",
               f"{div(now['rps'], was['rps']):.2f}x", f"{was['errors']} → {now['errors']}",
               f"{_batch(was)} → {_batch(now)}",
               f"{fmt(rss_was / MIB, 0)} → {fmt(rss_now / MIB, 0)}",
               f"{div(rss_now, rss_was):.2f}x"]
        if "1" in e[BEFORE]["points"]:
            p_was, p_now = point(e, BEFORE, "1")["p50_ms"], point(e, "bento", "1")["p50_ms"]
            row += [f"{fmt(p_was, 2)} → {fmt(p_now, 2)}", f"{div(p_now, p_was):.2f}x"]
        else:
            row += ["-", "-"]
        rows.append(row)
    return rows


def markdown(results):
    meta, sc = results["meta"], results["scenarios"]
    load = meta["load_average_before"][0]
    out = [f"# bento vs BentoML {meta['versions']['bentoml']} vs raw ONNX Runtime", ""]
    out.append(f"Run on {meta['date']}, {meta['cores']} cores ({meta['cpu']}), "
               f"{'QUICK smoke run, ' if meta['quick'] else ''}{meta['wall_seconds']} s in all. "
               f"Load average before the run: {load:.1f}, after: "
               f"{meta['load_average_after'][0]:.1f}.")
    if load > 0.5 * meta["cores"]:
        out.append(f"**Other work shared the machine during this run** (load average {load:.1f} "
                   f"on {meta['cores']} cores before it started): the numbers are noisy, "
                   "and both servers lost CPU to it alike (their runs are interleaved).")
    out += ["", f"Each point: wrk for {meta['seconds_per_point']:g} s after a "
            f"{meta['warmup_seconds']:g} s warm-up, {meta['reps']} repetitions (each a fresh "
            "server launch), median quoted; raw ONNX Runtime "
            f"{meta['raw_seconds']:g} s per point, {meta['reps']} repetitions. Versions: " +
            ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".", "",
            "Thread budget, the same for both servers: the whole machine "
            f"({meta['cores']} cores, shared with wrk). ONNX Runtime keeps its default intra-op "
            "pool (one thread per physical core) in BentoML, in raw ONNX Runtime and in bento's "
            "services and models given a max batch size; bento gives a model it does not batch, "
            "or whose batching it times, one thread per API worker, or every core's threads "
            "where a lone request ran at least 15% faster on them when the model loaded (its "
            "default; the server logs say which). "
            "bento: one HTTP I/O thread and one API worker per core (its defaults). BentoML: "
            "`workers=1` (one worker process), `threads=1` (its default). Batching on `/run`, "
            + (f"both sides: max batch size {meta['max_batch_size']}, "
               if meta.get("max_batch_size") else
               "max batch size 32 for BentoML; bento's default for bento (at most 32, no "
               "larger than the size past which an item stops getting cheaper, and batching "
               "only where batches beat requests run at once, timed when the model loads or, "
               "when no input can be made up for it, on its first request), ") +
            f"max latency {meta['max_latency_ms']} ms. `/classify_image` is not batchable in the "
            "guide nor in bento's port.", "", "![headline](headline.png)", "", "## Targets", ""]
    rows = [(what, got, "yes" if ok else "**no**", "" if ok else miss, why)
            for what, got, ok, miss, why in targets(results)]
    out += [_table(["target", "measured", "met", "where missed", "context"], rows), ""]
    rows = before_after(results)
    if rows:
        out += ["## Before and after", "",
                "Each batched API served with bento's defaults before it chose batching "
                "(`--max-batch-size 32`: every batchable model batched at 32, on every core's "
                "intra-op threads) and with today's, in this run, interleaved; "
                f"throughput, errors, mean batch and peak RSS at c={TARGET_C}, p50 at c=1.", "",
                _table(["API", "rps before → now", "now / before", "errors", "mean batch",
                        "peak RSS MiB", "now / before", "p50 c=1 ms", "now / before"], rows),
                ""]
    for key, e in sc.items():
        out += [f"## {e['title']}", "", f"![{key}]({key}.png)", "",
                f"Request body: {e['body_bytes']:,} bytes. Commands: `{_command(e['commands']['bento'])}` "
                f"and `{e['commands']['bentoml']}`. First answers: bento {e['bento']['answer']}; "
                f"BentoML {e['bentoml']['answer']}.", ""]
        rows = []
        best = e["raw"]["best"]["items_per_s"]
        for c in meta["concurrency"]:
            b, m = point(e, "bento", c), point(e, "bentoml", c)
            raw1 = e["raw"]["batch1"][str(c)]
            rows.append([c, fmt(b["rps"]), fmt(b["p50_ms"], 2), fmt(b["p99_ms"], 2), b["errors"],
                         _batch(b),
                         fmt(m["rps"]), fmt(m["p50_ms"], 2), fmt(m["p99_ms"], 2), m["errors"],
                         _batch(m),
                         f"{div(b['rps'], m['rps']):.1f}x", f"{div(m['p99_ms'], b['p99_ms']):.1f}x",
                         fmt(raw1["rps"]), f"{div(b['rps'], best):.0%}"] +
                        ([fmt(e["path"]["points"][str(c)]["rps"]),
                          f"{div(b['rps'], e['path']['best']['items_per_s']):.0%}"]
                         if "path" in e else []) +
                        ([fmt(e["floor"][str(c)]["rps"]),
                          f"{div(b['rps'], e['floor'][str(c)]['rps']):.0%}"]
                         if "floor" in e else []) +
                        ([fmt(e["bento_floor"][str(c)]["rps"]),
                          f"{div(b['rps'], e['bento_floor'][str(c)]['rps']):.0%}"]
                         if "bento_floor" in e else []))
        out += [_table(["c", "bento rps", "p50 ms", "p99 ms", "err", "batch", "BentoML rps",
                        "p50 ms", "p99 ms", "err", "batch", "rps bento/BentoML", "p99 BentoML/bento",
                        "raw ORT rps (batch 1, c threads)", "bento / raw best"] +
                       (["path limit rps (c threads)", "bento / path limit"]
                        if "path" in e else []) +
                       (["nginx floor rps", "bento / floor"] if "floor" in e else []) +
                       (["bento no-op rps", "bento / no-op"] if "bento_floor" in e else []),
                       rows), ""]
        if "path" in e:
            lim = e["path"]["best"]
            out += [f"Path limit ({e['path']['kind']}: bento's own decoding, Run and encoding "
                    "in one process, no HTTP, bench/path_bench.cc): best "
                    f"{fmt(lim['items_per_s'])} rps at {lim['concurrency']} threads; "
                    f"{_phases(e)}. The nginx floor: Debian's nginx reading the same POST and "
                    "answering a fixed body (the most any HTTP server here can answer)." +
                    (" bento's no-op floor: bento's own server with a no-op API and no model "
                     "(bench/noop_service.cc: it returns the text it is given, in a body of "
                     "the same size), the most any model served over bento's HTTP can answer."
                     if "bento_floor" in e else ""), ""]
        out += _chosen(e)
        if EXTRA in e:
            out += [f"bento with batching off (`{_command(e['commands'][EXTRA])}`), for "
                    "comparison with its batched runs above:", "",
                    _table(["c", "rps", "p50 ms", "p99 ms", "err", "rps batching on / off"],
                           _variant_rows(e, EXTRA, meta["concurrency"], False, ["rps"])), ""]
        if BEFORE in e:
            out += [f"bento with the defaults it had before it chose batching "
                    f"(`{_command(e['commands'][BEFORE])}`: batched at 32, on every core's "
                    "intra-op threads), the before of this run's before/after ratios:", "",
                    _table(["c", "rps", "p50 ms", "p99 ms", "err", "batch",
                            "rps now / before", "p50 now / before"],
                           _variant_rows(e, BEFORE, meta["concurrency"], True,
                                         ["rps", "p50_ms"])), ""]
        raw_best = e["raw"]["best"]
        out += [f"Raw ONNX Runtime's best: {fmt(raw_best['items_per_s'])} items/s at batch "
                f"{raw_best['batch']}, {raw_best['concurrency']} thread(s); by batch size "
                "(one thread): " + ", ".join(f"{b}: {fmt(r['items_per_s'])}" for b, r in
                                            e["raw"]["batches"].items()) + " items/s. "
                "Its peak RSS (the whole benchmark process, no server): " +
                ", ".join(f"batch {b}: {fmt(r['max_rss'] / MIB, 0)} MiB" for b, r in
                          [("1", e["raw"]["batch1"][str(meta["concurrency"][0])])] +
                          list(e["raw"]["batches"].items()) if "max_rss" in r) + ".", ""]
        rows = [[LABEL[s], fmt(med(e[s]["cold_start_s"]), 2),
                 ", ".join(f"{x:.2f}" for x in e[s]["cold_start_s"]),
                 fmt(med(e[s]["idle_rss"]) / MIB, 0), fmt(med(e[s]["peak_rss"]) / MIB, 0),
                 fmt(med(e[s]["peak_pss"]) / MIB, 0)] for s in SERVERS + (EXTRA, BEFORE) if s in e]
        out += [_table(["server", "cold start s (median)", "each launch", "RSS at rest MiB",
                        "peak RSS under load MiB", "peak PSS MiB"], rows), ""]
    out += ["Errors (`err`) are non-2xx answers, socket errors and timeouts summed over the "
            "repetitions; `rps` counts 2xx answers only; `batch` is the mean number of items "
            "per ONNX Runtime call, from the servers' `bentoml_service_adaptive_batch_size` "
            "(0: the API is not batched). See bench/README.md for how to read this page.", ""]
    return "\n".join(out)


def _variant_rows(e, server, concurrency, batch, ratios):
    """A row per concurrency of another bento configuration: its throughput, latency, errors
    (and mean batch), then bento's default over it for each field in `ratios`."""
    rows = []
    for c in concurrency:
        x, b = point(e, server, c), point(e, "bento", c)
        rows.append([c, fmt(x["rps"]), fmt(x["p50_ms"], 2), fmt(x["p99_ms"], 2), x["errors"]] +
                    ([_batch(x)] if batch else []) +
                    [f"{div(b[k], x[k]):.2f}x" for k in ratios])
    return rows


def _command(command):
    """The command as run, with the build folder left out of the program's path."""
    program, _, rest = command.partition(" ")
    return f"{pathlib.Path(program).name} {rest}".strip()


def _table(headers, rows):
    lines = ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(lines)


def scenario_plot(key, e, meta, path):
    cs = meta["concurrency"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for s in [s for s in SERVERS + (EXTRA,) if s in e]:
        pts = [point(e, s, c) for c in cs]
        style = "o-" if s in SERVERS else "^-."
        for ax, field in zip(axes, ("rps", "p50_ms", "p99_ms")):
            ax.plot(cs, [p[field] for p in pts], style, color=COLOR[s], label=LABEL[s])
    raw = [e["raw"]["batch1"][str(c)] for c in cs]
    axes[0].plot(cs, [r["rps"] for r in raw], "s--", color=COLOR["raw1"],
                 label="raw ORT, batch 1, c threads")
    axes[0].axhline(e["raw"]["best"]["items_per_s"], ls=":", color=COLOR["raw"],
                    label=f"raw ORT best (batch {e['raw']['best']['batch']}, "
                          f"{e['raw']['best']['concurrency']} threads)")
    axes[1].plot(cs, [r["p50_ms"] for r in raw], "s--", color=COLOR["raw1"], label="raw ORT")
    axes[2].plot(cs, [r["p99_ms"] for r in raw], "s--", color=COLOR["raw1"], label="raw ORT")
    for ax, title, unit in zip(axes, ("throughput", "p50 latency", "p99 latency"),
                               ("requests/s (2xx)", "ms", "ms")):
        ax.set_xscale("log", base=2)
        ax.set_xticks(cs, [str(c) for c in cs])
        ax.set_xlabel("concurrency (closed-loop clients)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[1].set_yscale("log")
    axes[2].set_yscale("log")
    axes[0].set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    fig.suptitle(e["title"])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def headline_plot(results, path):
    """Three panels at the target concurrency: throughput (bento with batching on and off,
    BentoML, bento's path limit and the nginx floor), peak memory and cold start."""
    sc = results["scenarios"]
    keys = list(sc)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), gridspec_kw={"width_ratios": [2, 1.2, 1]})
    xs = range(len(keys))
    c = str(TARGET_C) if str(TARGET_C) in next(iter(sc.values()))["bento"]["points"] else \
        str(results["meta"]["concurrency"][-1])

    def bars(ax, series, width):
        """series: (label, color, values or None per key, labels or None per key)."""
        for i, (label, color, vals, labels) in enumerate(series):
            offset = (i - (len(series) - 1) / 2) * width
            at = [(x + offset, v, lab) for x, v, lab in zip(xs, vals, labels) if v is not None]
            drawn = ax.bar([a[0] for a in at], [a[1] for a in at], width, color=color,
                           label=label)
            ax.bar_label(drawn, labels=[a[2] for a in at], fontsize=6.5)

    def rps(k, s):
        return point(sc[k], s, c)["rps"] if s in sc[k] else None

    fmt0 = lambda v: None if v is None else f"{v:.0f}"  # noqa: E731
    bento = [rps(k, "bento") for k in keys]
    limit = [sc[k]["path"]["best"]["items_per_s"] for k in keys]
    floor = [sc[k]["floor"][c]["rps"] if c in sc[k]["floor"] else None for k in keys]
    bars(axes[0], [
        ("bento", COLOR["bento"], bento,
         [f"{v:.0f}\n{div(v, rps(k, 'bentoml')):.1f}x\n{div(v, lim):.0%}"
          for v, k, lim in zip(bento, keys, limit)]),
        (LABEL[EXTRA], COLOR[EXTRA], [rps(k, EXTRA) for k in keys],
         [fmt0(rps(k, EXTRA)) for k in keys]),
        ("BentoML 1.4", COLOR["bentoml"], [rps(k, "bentoml") for k in keys],
         [fmt0(rps(k, "bentoml")) for k in keys]),
        ("bento's path limit (its decoding and Run in one loop, no HTTP)", COLOR["raw"], limit,
         [fmt0(v) for v in limit]),
        ("nginx floor (a fixed answer to the same POST)", "#7f7f7f", floor,
         [fmt0(v) for v in floor]),
    ], 0.16)
    axes[0].set_title(f"requests/s at concurrency {c}; over bento: x BentoML, share of its "
                      "path's limit", fontsize=10)
    for ax, field, title, scale, servers in (
            (axes[1], "peak_rss", "peak RSS of the server (MiB)", MIB,
             ("bento", EXTRA, "bentoml")),
            (axes[2], "cold_start_s", "cold start to /readyz 200 (s)", 1, ("bento", "bentoml"))):
        series = []
        for s in servers:
            vals = [med(sc[k][s][field]) / scale if s in sc[k] else None for k in keys]
            labels = [None if v is None else f"{v:.2f}" if field == "cold_start_s" else
                      f"{v:.0f}" for v in vals]
            series.append((LABEL[s], COLOR[s], vals, labels))
        bars(ax, series, 0.8 / len(servers))
        ax.set_title(title, fontsize=10)
    for ax in axes:
        if ax is not axes[1]:
            ax.set_yscale("log")
        ax.margins(y=0.25)
        ax.set_xticks(list(xs), keys, fontsize=8 if ax is axes[0] else 7,
                      rotation=0 if ax is axes[0] else 15)
        ax.grid(axis="y", alpha=0.3)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=5, fontsize=8.5)
    meta = results["meta"]
    fig.suptitle(f"bento vs BentoML {meta['versions']['bentoml']}, each path against its own "
                 f"limit, {meta['cores']} cores, median of {meta['reps']} runs")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                          pathlib.Path(__file__).resolve().parent / "results")
    results = json.loads((folder / "results.json").read_text())
    for key, e in results["scenarios"].items():
        scenario_plot(key, e, results["meta"], folder / f"{key}.png")
    headline_plot(results, folder / "headline.png")
    (folder / "results.md").write_text(markdown(results))
    print(f"wrote {folder / 'results.md'} and the plots", file=sys.stderr)
    for what, got, ok, miss, _ in targets(results):
        print(f"  {'met   ' if ok else 'MISSED'} {what}: {got}{'' if ok else ' (' + miss + ')'}")


if __name__ == "__main__":
    sys.exit(main())
