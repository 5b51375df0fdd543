"""BENCHMARKS.md and the PNG plots, from the results JSON alone (so `--report-only` can redo them)."""

from __future__ import annotations

import os
import shlex
import statistics
from typing import Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from . import faults  # noqa: E402
from . import adversarial  # noqa: E402
from . import coldbuild  # noqa: E402
from . import skew  # noqa: E402
from . import maintenance  # noqa: E402
from . import incremental  # noqa: E402

LABEL = {
    "ours": "clockberg source-clockify",
    "ours_all": "clockberg source-clockify, all streams",
    "airbyte": "Airbyte source-clockify",
    "tap": "Singer tap-clockify",
    "pyiceberg": "PyIceberg + PyArrow loader",
}
DEST_LABEL = {"ours": "clockberg destination-iceberg", "pyiceberg": "PyIceberg + PyArrow loader"}
COLOR = {"ours": "#1f77b4", "ours_all": "#6baed6", "airbyte": "#ff7f0e", "tap": "#2ca02c", "pyiceberg": "#d62728"}


def med(runs: list, key: str) -> Optional[float]:
    """Median over the runs that exited 0 (a crashed run's figures measure nothing)."""
    vals = [r[key] for r in runs if r.get(key) is not None and r.get("exit", 0) == 0]
    return statistics.median(vals) if vals else None


def med_fn(runs: list, fn) -> Optional[float]:
    vals = [v for v in (fn(r) for r in runs if r.get("exit", 0) == 0) if v is not None]
    return statistics.median(vals) if vals else None


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    """a / b, None when either is missing or b is zero."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def fx(v, digits: int = 1) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def fr(v: Optional[float]) -> str:
    return "n/a" if v is None else f"{v:.1f}×" if v >= 1 else f"{v:.2f}×"


def mib(b) -> str:
    return "n/a" if b is None else f"{b / 1048576:.1f} MiB"


def table(header: list, rows: list) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def truth_sum(runs: list, key: str) -> Optional[float]:
    return med_fn(runs, lambda r: sum(v[key] for v in r["truth"].values()) if "truth" in r else None)


def ok(runs: list) -> bool:
    """Every run exited 0: only then do its figures enter ratios and headlines."""
    return bool(runs) and all(r.get("exit") == 0 for r in runs)


def failed_row(label: str, runs: list, width: int) -> Optional[list]:
    """A table row saying how a peer failed, when none of its runs succeeded."""
    if any(r.get("exit") == 0 for r in runs):
        return None
    err = next((e for r in runs for e in r.get("errors", [])), "no error text")
    return [label, f"**failed** (exit {exits(runs)}): {err.replace('|', '/')}"] + [""] * (width - 2)


def exits(runs: list) -> str:
    codes = sorted({r["exit"] for r in runs})
    return ", ".join(str(c) for c in codes)


class Report:
    def __init__(self, res: dict, plots: str, md_dir: str):
        self.res = res
        self.s = res.get("sections", {})
        self.plots = plots
        self.md_dir = md_dir
        self.lines: list = []
        self.headlines: list = []
        self.losses: list = []
        self.shortfalls: list = []

    def img(self, name: str, alt: str) -> None:
        rel = os.path.relpath(os.path.join(self.plots, name), self.md_dir)
        self.lines.append(f"\n![{alt}]({rel})\n")

    def p(self, *text: str) -> None:
        self.lines.extend(text)

    def failed(self, name: str) -> bool:
        sec = self.s.get(name)
        if sec is None:
            self.p(f"_Not run in this session._\n")
            return True
        if "error" in sec:
            self.p(f"**This section failed:** `{sec['error']}`\n")
            return True
        return False

    def lose(self, what: str, ours, theirs, unit: str, better_low: bool = True) -> None:
        if ours is None or theirs is None:
            return
        if (better_low and ours > theirs) or (not better_low and ours < theirs):
            self.losses.append(f"{what}: ours {fx(ours)} {unit} vs {fx(theirs)} {unit}")

    # --- sections ---------------------------------------------------------------------------------

    def compare(self) -> None:
        self.p("## 1. Sources on the same simulated workspace (10 requests/s per key, 200 ms latency)\n")
        if self.failed("compare"):
            return
        sec = self.s["compare"]
        runs = sec["runs"]
        n = sec["time_entries"]
        tc = sec.get("truth_counts", {})
        self.p(
            f"One PRO workspace from the simulator's `scaled` preset: {fx(tc.get('time_entries'))} time entries over 10 "
            f"members (one inactive, one running timer), {tc.get('projects')} projects, {tc.get('tasks')} tasks. The "
            f"simulator enforces {10} requests per second per API key and adds 200 ms to every request; a fresh "
            f"simulator serves every run, so no run inherits another's token bucket. Peers run alternately, "
            f"{len(next(iter(runs.values())))} time(s) each; figures are medians. The 7 streams are Airbyte's "
            f"(users, projects, clients, tags, user_groups, time_entries, tasks = our workspace_users, projects, "
            f"clients, tags, groups, time_entries, tasks). A perfect client needs {sec['minimum_requests'].get('50')} "
            f"requests at page size 50 and {sec['minimum_requests'].get('5000')} at 5000 for all streams of this "
            f"workspace (`/_sim/minimum-requests`).\n"
        )
        rows = []
        for key in ("ours", "airbyte", "tap", "ours_all"):
            if key not in runs or not runs[key]:
                continue
            rr = runs[key]
            fail = failed_row(LABEL[key], rr, 13)
            if fail:
                rows.append(fail)
                continue
            rows.append([
                LABEL[key], len(rr[0]["records"]), fx(med(rr, "wall_s")), fx(med(rr, "requests")), fx(med(rr, "too_many")),
                fx(med(rr, "records_total")), fx(truth_sum(rr, "truth")), fx(truth_sum(rr, "missing")),
                fx(truth_sum(rr, "duplicates")), fx(truth_sum(rr, "unexpected")), fx(med(rr, "cpu_s"), 2),
                fx(med(rr, "peak_rss_mib")), exits(rr),
            ])
        self.p(table(["source", "streams", "wall s", "HTTP requests", "429s", "records emitted", "ground truth",
                      "missing", "duplicated", "unexpected", "CPU s", "peak RSS MiB", "exit"], rows), "")
        o, a, t = runs.get("ours", []), runs.get("airbyte", []), runs.get("tap", [])
        if ok(o) and ok(a):
            rw = ratio(med(a, "wall_s"), med(o, "wall_s"))
            rc = ratio(med(a, "cpu_s"), med(o, "cpu_s"))
            rm = ratio(med(a, "peak_rss_mib"), med(o, "peak_rss_mib"))
            rq = ratio(med(a, "requests"), med(o, "requests"))
            self.p(table(["ratio (Airbyte ÷ ours)", "value"], [
                ["wall time", fr(rw)], ["CPU seconds", fr(rc)], ["peak RSS", fr(rm)], ["HTTP requests", fr(rq)]]), "")
            self.headlines.append(
                f"Same workspace, same 10 req/s limit and 200 ms latency, Airbyte's 7 streams: clockberg finishes "
                f"{fr(rw)} faster than Airbyte's source-clockify with {fr(rq)} fewer requests, {fr(rc)} less CPU and "
                f"{fr(rm)} less peak memory; Airbyte misses {fx(truth_sum(a, 'missing'))} and duplicates "
                f"{fx(truth_sum(a, 'duplicates'))} of {fx(truth_sum(a, 'truth'))} records, clockberg misses "
                f"{fx(truth_sum(o, 'missing'))} and duplicates {fx(truth_sum(o, 'duplicates'))}.")
            self.lose("source wall time at 10 rps (s)", med(o, "wall_s"), med(a, "wall_s"), "s")
            self.lose("source peak RSS vs Airbyte (MiB)", med(o, "peak_rss_mib"), med(a, "peak_rss_mib"), "MiB")
            self.lose("source CPU vs Airbyte (s)", med(o, "cpu_s"), med(a, "cpu_s"), "s")
        if ok(o) and ok(t):
            self.p(f"- tap-clockify ÷ ours (on its 5 streams vs our 7): {fr(ratio(med(t, 'wall_s'), med(o, 'wall_s')))} the wall time, "
                   f"{fr(ratio(med(t, 'requests'), med(o, 'requests')))} the requests, {fr(ratio(med(t, 'cpu_s'), med(o, 'cpu_s')))} "
                   f"the CPU, {fr(ratio(med(t, 'peak_rss_mib'), med(o, 'peak_rss_mib')))} the peak RSS.\n")
            self.lose("source peak RSS vs tap-clockify (MiB)", med(o, "peak_rss_mib"), med(t, "peak_rss_mib"), "MiB")
            self.lose("source CPU vs tap-clockify (s)", med(o, "cpu_s"), med(t, "cpu_s"), "s")
            self.lose("source wall vs tap-clockify (s)", med(o, "wall_s"), med(t, "wall_s"), "s")
        # Per-stream correctness.
        streams = list(o[0]["truth"].keys()) if o and "truth" in o[0] else []
        if streams:
            self.p("Per stream, first run of each source (emitted / missing / duplicated against the simulator's ground truth):\n")
            rows = []
            for s in streams:
                row = [s, fx(o[0]["truth"][s]["truth"])]
                for rr in (o, a, t):
                    if rr and "truth" in rr[0] and s in rr[0]["truth"]:
                        v = rr[0]["truth"][s]
                        row.append(f"{fx(v['emitted'])} / {fx(v['missing'])} / {fx(v['duplicates'])}")
                    else:
                        row.append("not read" if rr else "n/a")
                rows.append(row)
            self.p(table(["stream (ours)", "ground truth", "clockberg", "Airbyte", "tap-clockify"], rows), "")
        if ok(a) and (truth_sum(a, "duplicates") or truth_sum(a, "missing")):
            self.p("Why Airbyte's connector duplicates and misses records (read from its manifest and airbyte-cdk 0.80.0): "
                   "its `PageIncrement` paginator starts at page 0 and does not send `page` on the first request, so "
                   "Clockify serves page 1, and the next request asks for `page=1` again: every member with more than 50 "
                   "time entries has the first 50 emitted twice. Its `users` stream (also the parent of `time_entries`) "
                   "does not ask for `status=ALL`, so Clockify leaves out inactive members, and their time entries are "
                   "never read. tap-clockify misses the same inactive member's entries: it lists members itself, "
                   "without `status=ALL`.\n")
        shipped = sec.get("tap_as_shipped")
        if shipped:
            self.p(
                f"tap-clockify as shipped, with its `users` stream selected: exit {shipped['exit']} after "
                f"{fx(shipped['wall_s'])} s and {fx(shipped['records_total'])} records; error: "
                f"`{(shipped['errors'] or ['none'])[0]}`. Its `users` stream requests `/workspace/{{id}}/users` (singular "
                f"`workspace`), which the API answers 404, and the tap stops there. The table above therefore runs it "
                f"without `users` (its `time_entries` still lists members itself, active ones only); it has no "
                f"`user_groups` stream.\n")
        every = runs.get("ours_all")
        if every and "truth" in every[0]:
            self.p(f"clockberg on all {len(every[0]['truth'])} streams of the same workspace (first run):\n")
            rows = [[s, fx(v["truth"]), fx(v["emitted"]), fx(v["missing"]), fx(v["duplicates"]), fx(v["unexpected"])]
                    for s, v in every[0]["truth"].items()]
            self.p(table(["stream", "ground truth", "emitted", "missing", "duplicated", "unexpected"], rows), "")
        self.plot_compare(runs)
        self.img("sources.png", "sources at 10 rps / 200 ms")

    def raw(self) -> None:
        self.p("## 2. Raw speed: time entries with rate limits off on loopback\n")
        if self.failed("raw"):
            return
        sec = self.s["raw"]
        runs = sec["runs"]
        self.p(f"{fx(sec['time_entries'])} time entries, simulator at `--rps 0 --latency 0`, only the `time_entries` "
               f"stream selected; ours with `requests_per_second: 0` (client-side limiting off), page size at each "
               f"connector's default (ours 5000, Airbyte 50 fixed in its manifest, tap-clockify 250). Records per "
               f"second is time-entry records ÷ wall time of the whole process, start-up included.\n")
        rows = []
        for key in ("ours", "airbyte", "tap"):
            rr = runs.get(key)
            if not rr:
                continue
            fail = failed_row(LABEL[key], rr, 10)
            if fail:
                rows.append(fail)
                continue
            rows.append([LABEL[key], fx(med(rr, "wall_s"), 2), fx(med_fn(rr, lambda r: r["records"].get("time_entries"))),
                         fx(med(rr, "records_per_s")), fx(med(rr, "cpu_us_per_record")), fx(med(rr, "requests")),
                         fx(med(rr, "peak_rss_mib")), fx(truth_sum(rr, "missing")), fx(truth_sum(rr, "duplicates")), exits(rr)])
        self.p(table(["source", "wall s", "records", "records/s", "CPU µs/record", "HTTP requests", "peak RSS MiB",
                      "missing", "duplicated", "exit"], rows), "")
        o = runs.get("ours", [])
        for key in ("airbyte", "tap"):
            rr = runs.get(key)
            if ok(o) and ok(rr):
                r1 = ratio(med(o, "records_per_s"), med(rr, "records_per_s"))
                r2 = ratio(med(rr, "cpu_us_per_record"), med(o, "cpu_us_per_record"))
                self.p(f"- ours ÷ {LABEL[key]}: {fr(r1)} the records per second, {fr(r2)} less CPU per record.")
                if key == "airbyte":
                    self.headlines.append(f"Limits off on loopback: {fr(r1)} the time-entry records per second of Airbyte's "
                                          f"connector at {fr(r2)} less CPU per record.")
                self.lose(f"records/s vs {LABEL[key]}", med(o, "records_per_s"), med(rr, "records_per_s"), "rec/s", better_low=False)
                self.lose(f"CPU µs/record vs {LABEL[key]}", med(o, "cpu_us_per_record"), med(rr, "cpu_us_per_record"), "µs")
        self.p("")
        sc = self.s.get("scaling_source", {}).get("sizes", {})
        if sc:
            big = max(sc, key=int)
            rr = sc[big]["runs"]
            rps = med_fn(rr, lambda r: r["records"]["time_entries"] / r["wall_s"] if r["wall_s"] else None)
            cpu = med_fn(rr, lambda r: 1e6 * r["cpu_s"] / r["records"]["time_entries"] if r["records"]["time_entries"] else None)
            self.p(f"At {fx(int(big))} time entries (section 5), ours reads {fx(rps)} records/s at {fx(cpu, 2)} CPU µs per "
                   f"record with a peak RSS of {fx(med(rr, 'peak_rss_mib'))} MiB.\n")

    def destinations(self) -> None:
        self.p("## 3. Destinations on the same input\n")
        if self.failed("destinations"):
            return
        sizes = self.s["destinations"]["sizes"]
        big = max(sizes, key=int)
        d = sizes[big]
        self.p(f"Input: one JSONL file of Airbyte messages written by our source ({fx(d['records'])} time-entry RECORD "
               f"messages plus its STATE/LOG/TRACE lines, {mib(d['input_bytes'])}), fed to each destination from "
               f"disk. Ours: `destination-iceberg write` with `{{\"warehouse\": \"/abs/dir\"}}` (embedded SQLite catalog, "
               f"local warehouse, default flush settings), stream in `append` mode. The alternative: "
               f"`bench/pyiceberg_load.py`, PyIceberg SqlCatalog on SQLite + local warehouse, same columns, "
               f"stdlib `json` + `pyarrow`, one `table.append` per {fx(self.res.get('pyiceberg_batch_rows', 100000))} "
               f"rows. Fresh warehouse per run; both run alternately; medians.\n")
        rows = []
        for who in ("ours", "pyiceberg"):
            rr = d.get(who, [])
            if not rr:
                continue
            fail = failed_row(DEST_LABEL[who], rr, 9)
            if fail:
                rows.append(fail)
                continue
            rows.append([DEST_LABEL[who], fx(med(rr, "wall_s"), 2), fx(med(rr, "records_per_s")), fx(med(rr, "cpu_s"), 2),
                         fx(med(rr, "peak_rss_mib")), fx(med(rr, "table_rows")), fx(med(rr, "data_files")),
                         mib(med(rr, "data_bytes")), exits(rr)])
        self.p(table(["destination", "wall s", "records/s", "CPU s", "peak RSS MiB", "rows in table", "data files",
                      "data size", "exit"], rows), "")
        o, p = d.get("ours", []), d.get("pyiceberg", [])
        if ok(o) and ok(p):
            rw = ratio(med(p, "wall_s"), med(o, "wall_s"))
            rm = ratio(med(p, "peak_rss_mib"), med(o, "peak_rss_mib"))
            self.p(f"- PyIceberg loader ÷ ours: {fr(rw)} the wall time, {fr(rm)} the peak RSS, "
                   f"{fr(ratio(med(p, 'cpu_s'), med(o, 'cpu_s')))} the CPU.\n")
            self.headlines.append(f"{fx(d['records'])} time entries into Iceberg: destination-iceberg takes "
                                  f"{fr(rw)} less time than a PyIceberg + PyArrow loader with {fr(rm)} less peak memory.")
            self.lose("destination wall time (s)", med(o, "wall_s"), med(p, "wall_s"), "s")
            self.lose("destination peak RSS (MiB)", med(o, "peak_rss_mib"), med(p, "peak_rss_mib"), "MiB")
            self.lose("destination data size (bytes)", med(o, "data_bytes"), med(p, "data_bytes"), "bytes")
            self.lose("destination data files", med(o, "data_files"), med(p, "data_files"), "files")
        if len(sizes) > 1:
            rows = []
            for n in sorted(sizes, key=int):
                for who in ("ours", "pyiceberg"):
                    rr = sizes[n].get(who, [])
                    fail = failed_row(DEST_LABEL[who], rr, 8) if rr else None
                    if fail:
                        rows.append([fx(int(n))] + fail[:-1])
                    elif rr:
                        rows.append([fx(int(n)), DEST_LABEL[who], fx(med(rr, "wall_s"), 2), fx(med(rr, "records_per_s")),
                                     fx(med(rr, "peak_rss_mib")), fx(med(rr, "data_files")), mib(med(rr, "data_bytes")), exits(rr)])
            self.p("All sizes:\n", table(["time entries", "destination", "wall s", "records/s", "peak RSS MiB", "data files",
                                          "data size", "exit"], rows), "")

    def rate(self) -> None:
        self.p("## 4. Rate control under the 10 requests/s limit\n")
        if self.failed("rate_control"):
            return
        sec = self.s["rate_control"]
        calm, burst = sec.get("calm"), sec.get("bursts")
        r = burst or calm
        self.p(f"Our source reads {fx(r['truth_records'])} time entries of {r.get('members', 10)} members with page size "
               f"{r['page_size']} (small pages, so the run is long enough to watch the controller) from the simulator at "
               f"10 requests/s per key and 200 ms latency. The `scaled` preset gives half of the entries to one member; "
               f"the harness first tops every other member up to the same depth (`POST /_sim/time-entries`), because one "
               f"member's pages are read one after another and a single chain at 200 ms cannot exceed 5 requests/s. Two "
               f"runs: calm, and in chaos mode with only 429 bursts on (a burst of {r['chaos_429_len']} consecutive 429s "
               f"starts with probability {burst['chaos_429'] if burst else '?'} per request; seeded, so the same requests "
               f"get them every time). AIMD starts at 5 requests/s, adds 0.5/s per 429-free second up to 10, and halves "
               f"on a 429. Requests per second come from the simulator's own per-second timeline; the controller's rate "
               f"from the source's LOG lines; 429s from polling `/_sim/stats` every 250 ms.\n")
        runs = [(k, v) for k, v in (("calm", calm), ("with 429 bursts", burst)) if v]
        def share(v):
            q = ratio(v["too_many"], v["requests"])
            return f"{fx(v['too_many'])} ({fx(100 * q if q is not None else None, 2)} %)"
        rows = [
            ["wall time (s)"] + [fx(v["wall_s"]) for _, v in runs],
            ["records emitted / ground truth"] + [f"{fx(v['records'])} / {fx(v['truth_records'])}" for _, v in runs],
            ["HTTP requests"] + [fx(v["requests"]) for _, v in runs],
            ["429 answers (limiter + injected)"] + [share(v) for _, v in runs],
            ["of which injected by chaos"] + [fx(v.get("chaos_faults", {}).get("burst429", 0)) for _, v in runs],
            ["mean requests/s after the first 10 s"] + [fx(v.get("sustained_rps_after_10s"), 2) for _, v in runs],
            ["rate cuts / raises logged"] + [f"{sum(1 for e in v['events'] if e['kind'] == 'cut')} / "
                                             f"{sum(1 for e in v['events'] if e['kind'] == 'raise')}" for _, v in runs],
            ["peak RSS (MiB)"] + [fx(v["peak_rss_mib"]) for _, v in runs],
            ["exit"] + [v["exit"] for _, v in runs],
        ]
        self.p(table(["figure"] + [k for k, _ in runs], rows), "")
        if burst:
            self.p(_gap_note(burst))
            rec = _recovery(burst)
            if rec:
                low, secs = rec
                self.p(f"After the first burst, the controller fell to {fx(low, 1)} req/s and took {fx(secs)} s to climb back "
                       f"to 10 req/s.\n")
                if secs > 10:
                    self.shortfalls.append(
                        f"Recovery after a 429 burst is slow: each 429 of the burst halves the rate again (to {fx(low, 1)} req/s "
                        f"here) and the additive climb of 0.5/s then needs {fx(secs)} s to return to 10 req/s (section 4).")
        self.plot_rate(runs)
        self.img("rate_control.png", "request rate over time")

    def scaling(self) -> None:
        self.p("## 5. Scaling with workspace size\n")
        if self.failed("scaling_source"):
            return
        sc = self.s["scaling_source"]["sizes"]
        lim = self.s.get("scaling_limited", {}).get("sizes", {})
        dest = self.s.get("destinations", {}).get("sizes", {})
        rows = []
        for n in sorted(sc, key=int):
            rr = sc[n]["runs"]
            lr = lim.get(n, {}).get("runs", [])
            do, dp = dest.get(n, {}).get("ours", []), dest.get(n, {}).get("pyiceberg", [])
            rows.append([fx(int(n)), fx(med(rr, "wall_s"), 2), fx(med(rr, "peak_rss_mib")),
                         fx(med_fn(rr, lambda r: r["records"]["time_entries"])),
                         fx(med(lr, "wall_s"), 1) if lr else "n/a", fx(med(lr, "requests")) if lr else "n/a",
                         fx(med(lr, "too_many")) if lr else "n/a", fx(med(lr, "rps_after_10s"), 2) if lr else "n/a",
                         fx(med(do, "peak_rss_mib")), fx(med(dp, "peak_rss_mib")), fx(med(do, "wall_s"), 2), fx(med(dp, "wall_s"), 2)])
        self.p("Our source on `time_entries` alone, limits off (loopback) and at 10 requests/s with 200 ms latency; both "
               "destinations on the limits-off output of the same size.\n")
        self.p(table(["time entries", "source wall s (no limits)", "source peak RSS MiB", "records",
                      "source wall s (10 rps, 200 ms)", "requests (10 rps)", "429s (10 rps)", "requests/s after 10 s (10 rps)",
                      "destination-iceberg peak RSS MiB", "PyIceberg loader peak RSS MiB",
                      "destination-iceberg wall s", "PyIceberg loader wall s"], rows), "")
        ns = sorted(sc, key=int)
        if len(ns) > 1:
            lo, hi = ns[0], ns[-1]
            f = int(hi) / int(lo)
            sw = ratio(med(sc[hi]["runs"], "wall_s"), med(sc[lo]["runs"], "wall_s"))
            sr = ratio(med(sc[hi]["runs"], "peak_rss_mib"), med(sc[lo]["runs"], "peak_rss_mib"))
            do = ratio(med(dest.get(hi, {}).get("ours", []), "peak_rss_mib"), med(dest.get(lo, {}).get("ours", []), "peak_rss_mib"))
            dp = ratio(med(dest.get(hi, {}).get("pyiceberg", []), "peak_rss_mib"), med(dest.get(lo, {}).get("pyiceberg", []), "peak_rss_mib"))
            lr = lim.get(hi, {}).get("runs", [])
            lrps = med(lr, "rps_after_10s")
            if lrps is not None and lrps < 9:
                self.shortfalls.append(
                    f"On the `scaled` workspace, where one member holds half of the {fx(int(hi))} time entries, our read at "
                    f"10 req/s + 200 ms sustains only {fx(lrps, 2)} req/s after the first 10 s: that member's pages are "
                    f"fetched one after another, so once the other partitions finish, one chain of 200 ms requests sets the "
                    f"pace (section 5; the even workspace of section 4 sustains the limit).")
            if do is not None and do > 1.5:
                self.shortfalls.append(
                    f"destination-iceberg's peak RSS grows with the input: ×{fx(do, 2)} from {fx(int(lo))} to {fx(int(hi))} "
                    f"records ({fx(med(dest[lo]['ours'], 'peak_rss_mib'))} → {fx(med(dest[hi]['ours'], 'peak_rss_mib'))} MiB): "
                    f"under its 512 MiB goal, but not flat.")
            if sr is not None and sr > 1.5:
                self.shortfalls.append(
                    f"source-clockify's peak RSS grows with the input: ×{fx(sr, 2)} from {fx(int(lo))} to {fx(int(hi))} "
                    f"time entries ({fx(med(sc[lo]['runs'], 'peak_rss_mib'))} → {fx(med(sc[hi]['runs'], 'peak_rss_mib'))} MiB), "
                    f"under its 100 MiB goal.")
            self.p(f"From {fx(int(lo))} to {fx(int(hi))} time entries ({f:.0f}× the data): source wall time ×{fx(sw, 1)} "
                   f"(start-up weighs on the small end), source peak RSS ×{fx(sr, 2)}, destination-iceberg peak RSS "
                   f"×{fx(do, 2)}, PyIceberg loader peak RSS ×{fx(dp, 2)}.\n")
        self.plot_scaling(sc, lim, dest)
        self.img("scaling.png", "scaling")

    def faults(self) -> None:
        faults.report(self)

    def incremental(self) -> None:
        incremental.report(self)

    def goals(self) -> None:
        """The figures issues 3 and 4 set as goals for our own programs, pass or miss."""
        rows = []
        calm = self.s.get("rate_control", {}).get("calm")
        if calm:
            rps = calm.get("sustained_rps_after_10s")
            share = ratio(calm["too_many"], calm["requests"])
            rows.append([f"source at 10 req/s + 200 ms, calm run of section 4 ({fx(calm['truth_records'])} time entries, "
                         f"{calm.get('members')} members): requests/s after the first 10 s", "≥ 9", fx(rps, 2),
                         _mark(rps is not None and rps >= 9)])
            rows.append(["… 429s as a share of requests", "< 5 %", fx(100 * share if share is not None else None, 2) + " %",
                         _mark(share is not None and share < 0.05)])
            rows.append(["… records lost", "0", fx(calm["truth_records"] - calm["records"]),
                         _mark(calm["truth_records"] == calm["records"] and calm["exit"] == 0)])
        sc = self.s.get("scaling_source", {}).get("sizes", {})
        if sc:
            big = max(sc, key=int)
            rr = sc[big]["runs"]
            rps = med_fn(rr, lambda r: r["records"]["time_entries"] / r["wall_s"] if r["wall_s"] else None)
            rss = med(rr, "peak_rss_mib")
            rows.append([f"source, limits off, {fx(int(big))} time entries: records/s", "≥ 100,000", fx(rps), _mark(rps is not None and rps >= 100000)])
            rows.append([f"source, limits off, {fx(int(big))} time entries: peak RSS", "< 100 MiB", f"{fx(rss)} MiB", _mark(rss is not None and rss < 100)])
        dest = self.s.get("destinations", {}).get("sizes", {})
        if dest:
            big = max(dest, key=int)
            rr = dest[big].get("ours", [])
            rps, rss = med(rr, "records_per_s"), med(rr, "peak_rss_mib")
            rows.append([f"destination-iceberg, {fx(int(big))} records: records/s", "≥ 50,000", fx(rps), _mark(rps is not None and rps >= 50000)])
            rows.append([f"destination-iceberg, {fx(int(big))} records: peak RSS", "< 512 MiB", f"{fx(rss)} MiB", _mark(rss is not None and rss < 512)])
        if not rows:
            return
        self.p("## Our own goals (issues 3 and 4)\n")
        if self.res.get("plan") == "quick":
            self.p("_Quick plan: sizes are below the ones the goals name; marks are indicative only._\n")
        self.p(table(["goal", "target", "measured (median)", ""], rows), "")
        for r in rows:
            if r[3] == "missed":
                self.losses.append(f"own goal missed: {r[0]}: {r[2]} (target {r[1]})")

    # --- plots ------------------------------------------------------------------------------------

    def save(self, fig, name: str) -> None:
        os.makedirs(self.plots, exist_ok=True)
        fig.tight_layout()
        fig.savefig(os.path.join(self.plots, name), dpi=110)
        plt.close(fig)

    def plot_compare(self, runs: dict) -> None:
        keys = [k for k in ("ours", "airbyte", "tap") if runs.get(k)]
        metrics = [("wall_s", "wall time (s)"), ("requests", "HTTP requests"), ("cpu_s", "CPU (s)"), ("peak_rss_mib", "peak RSS (MiB)")]
        fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
        for ax, (m, title) in zip(axes, metrics):
            vals = [med(runs[k], m) or 0 for k in keys]
            bars = ax.bar(range(len(keys)), vals, color=[COLOR[k] for k in keys])
            names = [LABEL[k].replace(" ", "\n", 1) + (f"\n({len(runs[k][0]['records'])} streams)") for k in keys]
            ax.set_xticks(range(len(keys)), names, fontsize=7)
            ax.set_title(title, fontsize=10)
            for b, v in zip(bars, vals):
                ax.annotate(fx(float(v), 2 if m == "cpu_s" else 1), (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom", fontsize=8)
        fig.suptitle(f"Sources on the same simulated workspace (10 req/s per key, 200 ms latency); medians", fontsize=11)
        self.save(fig, "sources.png")

    def plot_rate(self, runs: list) -> None:
        fig, axes = plt.subplots(len(runs), 1, figsize=(11, 3.6 * len(runs)), squeeze=False)
        for ax, (name, r) in zip(axes[:, 0], runs):
            t0 = r["t_start"]
            tl = r["timeline"]
            ax.bar([x["second"] - t0 + 0.5 for x in tl], [x["requests"] for x in tl], width=0.9, color="#9ecae1",
                   label="requests arriving at the simulator per second")
            polls = r["polls"]
            xs, ys = [], []
            for a, b in zip(polls, polls[1:]):
                d = b["tooMany"] - a["tooMany"]
                if d > 0:
                    xs.append(b["t"] - t0)
                    ys.append(d)
            if xs:
                ax.scatter(xs, ys, color="#d62728", marker="v", zorder=5, label="429 answers (per 250 ms poll)")
            sx, sy = [0.0], [5.0]
            for e in r["events"]:
                sx.append(e["t"] - t0)
                sy.append(e["rate"])
            sx.append(r["t_end"] - t0)
            sy.append(sy[-1])
            ax.step(sx, sy, where="post", color="#08519c", lw=2, label="our AIMD rate (from the source's LOG)")
            ax.axhline(10, color="k", ls="--", lw=1, label="simulator limit: 10 req/s per key")
            ax.set_ylabel("requests per second")
            ax.set_ylim(0, 15)
            ax.set_xlim(0, r["t_end"] - t0 + 1)
            ax.legend(loc="upper right", fontsize=8, ncol=2)
            ax.set_title(f"{name}: {fx(r['requests'])} requests, {fx(r['too_many'])} × 429", fontsize=10)
        axes[-1, 0].set_xlabel("seconds since the source started")
        fig.suptitle("Rate control: AIMD from 5 req/s, additive climb to the limit, halving on 429", fontsize=11)
        self.save(fig, "rate_control.png")

    def plot_scaling(self, sc: dict, lim: dict, dest: dict) -> None:
        ns = sorted((int(n) for n in sc))
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
        a1.plot(ns, [med(sc[str(n)]["runs"], "wall_s") for n in ns], "o-", color=COLOR["ours"], label="source, limits off")
        if lim:
            ln = [n for n in ns if str(n) in lim]
            a1.plot(ln, [med(lim[str(n)]["runs"], "wall_s") for n in ln], "s-", color="#08519c", label="source, 10 req/s + 200 ms")
        top = med(sc[str(ns[-1])]["runs"], "wall_s")
        if top:
            a1.plot(ns, [top * n / ns[-1] for n in ns], ":", color="grey", label="linear (∝ time entries)")
        a1.set_xscale("log")
        a1.set_yscale("log")
        a1.set_xlabel("time entries")
        a1.set_ylabel("wall time (s)")
        a1.set_title("source-clockify wall time", fontsize=10)
        a1.legend(fontsize=8)
        for who, style in (("ours", "o-"), ("pyiceberg", "s-")):
            dn = [n for n in ns if dest.get(str(n), {}).get(who)]
            if dn:
                a2.plot(dn, [med(dest[str(n)][who], "peak_rss_mib") for n in dn], style, color=COLOR[who], label=DEST_LABEL[who])
        a2.plot(ns, [med(sc[str(n)]["runs"], "peak_rss_mib") for n in ns], "^--", color=COLOR["ours_all"], label="source-clockify")
        a2.set_xscale("log")
        a2.set_xlabel("time entries")
        a2.set_ylabel("peak RSS (MiB)")
        a2.set_ylim(bottom=0)
        a2.set_title("peak memory", fontsize=10)
        a2.legend(fontsize=8)
        self.save(fig, "scaling.png")


def write(res: dict, md_path: str, plots: str) -> None:
    r = Report(res, plots, os.path.dirname(os.path.abspath(md_path)))
    body_start = len(r.lines)
    for fn in (r.compare, r.raw, r.destinations, r.rate, r.scaling, lambda: skew.report(r), r.faults, r.incremental, lambda: maintenance.report(r), r.goals,
               lambda: coldbuild.report(r)):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - a partial report beats none
            r.p(f"**Report error in {fn.__name__}:** `{type(e).__name__}: {e}`\n")
    body = r.lines[body_start:] + adversarial.render(res)
    m = res.get("machine", {})
    head = [
        "# Benchmarks",
        "",
        f"Generated by `{res.get('command', 'make bench')}` (`bash bench/run.sh{' --quick' if res.get('plan') == 'quick' else ''}`) "
        f"on {m.get('date', '?')}; plan `{res.get('plan')}`"
        + (" (small sizes, single runs: a smoke test of the harness, not figures to quote)" if res.get("plan") == "quick" else "")
        + f"; the measurements took {fx(res.get('total_seconds'))} s. Raw figures: `bench/results.json`. "
        "Every figure is a median over the runs stated; ratios compare medians.",
        "",
        "## Machine and versions",
        "",
        table(["", ""], [
            ["CPU", f"{m.get('cpu')} ({m.get('nproc')} cores as seen by the OS, shared with whatever else runs)"],
            ["memory", f"{m.get('memory_gib')} GiB"], ["kernel", m.get("kernel")],
            ["load average at start / end", f"{fx(_first(m.get('loadavg_start')), 2)} / {fx(_first(m.get('loadavg_end')), 2)}"],
            ["Go", m.get("go")], ["clockberg", m.get("ours")],
            ["Airbyte connector", f"{m.get('airbyte', 'not installed')} (Python {m.get('airbyte_python', '?')})"],
            ["Singer tap", f"{m.get('tap', 'not installed')} (Python {m.get('tap_python', '?')})"],
            ["PyIceberg loader", f"pyiceberg {m.get('pyiceberg')}, pyarrow {m.get('pyarrow')} (Python {m.get('python_harness')})"],
        ]),
        "",
        "## Headline ratios",
        "",
        *[f"- {h}" for h in r.headlines],
        "",
        "## Where we lose or fall short",
        "",
        *([f"- Against a peer: {x}" for x in r.losses] or ["- Against the peers: on none of the figures below in this run."]),
        *[f"- {x}" for x in r.shortfalls],
        "",
        "## How the peers were run",
        "",
    ]
    ap, tp = res.get("airbyte_patch"), res.get("tap_patch")
    if ap:
        head.append(f"- Airbyte's `airbyte-source-clockify` is a manifest-only connector on `airbyte-cdk`; it ignores "
                    f"`api_url`. For the benchmark only, the harness rewrites one line of the installed manifest in the "
                    f"benchmark's own virtualenv (`bench/{ap['file']}`, pristine copy kept as `manifest.yaml.orig`; its "
                    f"sha256 `{m.get('airbyte_manifest_sha256', '?')[:16]}…`): `{ap['from']}` → `{ap['to']}`. Nothing else "
                    f"changes. Run as `source-clockify read --config … --catalog …` (its console script), config "
                    f"`api_key`, `workspace_id`. It needs Python < 3.11: airbyte-cdk 0.80.0, which it pins, fails to "
                    f"import on 3.11 (a dataclass with a mutable default), so its virtualenv uses Python 3.10.")
    if tp:
        head.append(f"- Singer `tap-clockify` (the newest release on PyIndex installs; it ships no console script, so "
                    f"the harness calls its `main()`): the base URL is hard-coded in `BaseStream.get_url_base`; the "
                    f"harness rewrites that line in its virtualenv (`bench/{tp['file']}`, pristine copy `base.py.orig`): "
                    f"`{tp['from']}` → `{tp['to']}`. Config `api_key`, `workspace`, `start_date` 2000-01-01.".replace("PyIndex", "PyPI"))
    inst = res.get("install", {})
    for k, v in inst.items():
        if v.get("status") != "ok":
            head.append(f"- {k}: install {v.get('status')}: `{v.get('detail', '')}`")
    for n in res.get("notes", []):
        head.append(f"- {n}")
    head += ["- CPU seconds and peak RSS come from GNU time (`/usr/bin/time -v`) around each process (Python peers: "
             "the interpreter, start-up included). HTTP requests and 429s are counted by the simulator.", ""]
    cmds = _commands(res)
    if cmds:
        head += ["Commands, as run (`$WORK` is `bench/.work`; each run's config and catalog are written under "
                 "`$WORK/runs/<run>/` by the harness; the destinations read `time_entries_<N>.jsonl` on stdin):",
                 "", "```"] + cmds + ["```", ""]
    with open(md_path, "w", encoding="utf-8") as f:
        f.write("\n".join(head + body).rstrip() + "\n")


def _join(argv: list) -> str:
    """Shell-quoted, keeping the $WORK/$SIM placeholders and a trailing '< file' readable."""
    parts = []
    for a in argv:
        if a.startswith("< "):
            parts.append(a)
        elif a.startswith("$") and " " not in a:
            parts.append(a)
        else:
            parts.append(shlex.quote(a))
    return " ".join(parts)


def _commands(res: dict) -> list:
    out, seen = [], set()
    sims = set()
    for sec in ("compare", "raw"):
        for key, runs in res.get("sections", {}).get(sec, {}).get("runs", {}).items():
            if runs and runs[0].get("argv"):
                line = _join(runs[0]["argv"])
                sims.add("bench/.work/bin/clockify-sim --addr 127.0.0.1:0 " + " ".join(runs[0].get("sim_args", [])))
                if (key, line) not in seen:
                    seen.add((key, line))
                    out.append(f"# {sec}: {LABEL.get(key, key)}")
                    out.append(line)
    dest = res.get("sections", {}).get("destinations", {}).get("sizes", {})
    if dest:
        big = dest[max(dest, key=int)]
        for who in ("ours", "pyiceberg"):
            if big.get(who) and big[who][0].get("argv"):
                out.append(f"# destinations: {DEST_LABEL[who]}")
                out.append(_join(big[who][0]["argv"]))
    return sorted(sims) + out


def _gap_note(r: dict) -> str:
    """Describes the longest stretch without any request in a run, a visible effect of backing off."""
    tl = sorted(x["second"] for x in r["timeline"])
    if len(tl) < 2:
        return ""
    gap, at = max(((b - a - 1, a) for a, b in zip(tl, tl[1:])), default=(0, 0))
    if gap <= 0:
        return "In the run with bursts, no whole second passed without a request.\n"
    return (f"In the run with bursts, the longest stretch with no request at all lasted {gap} s, starting "
            f"{at - r['t_start'] + 1:.0f} s into the run (retry waits after the burst while the rate was cut).\n")


def _recovery(r: dict):
    """(lowest rate after the first cut, seconds from that cut until the rate is back at its earlier peak)."""
    ev = r.get("events", [])
    first = next((i for i, e in enumerate(ev) if e["kind"] == "cut"), None)
    if first is None:
        return None
    peak = max([5.0] + [e["rate"] for e in ev[:first]])
    low = ev[first]["rate"]
    for e in ev[first + 1:]:
        low = min(low, e["rate"])
        if e["kind"] == "raise" and e["rate"] >= peak:
            return low, e["t"] - ev[first]["t"]
    return None


def _mark(ok_: bool) -> str:
    return "met" if ok_ else "missed"


def _first(v):
    if isinstance(v, (list, tuple)) and v:
        return float(v[0])
    return None
