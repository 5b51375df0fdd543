"""Issue 12's section: the skewed `scaled` workspace (one member holds half the time entries) read at
10 requests/s with 200 ms latency. Our source splits that member's time range into windows read
concurrently, so the rate limit, not one member's chain of requests, sets the pace. Figures: requests
per second after the first 10 s, entries missing and duplicated against the simulator's ground truth,
and requests against the minimum a perfect client needs for the same streams."""

from __future__ import annotations

import os
import statistics
import sys
import time

from .plan import LATENCY, LIMIT_RPS
from .sim import Sim

# Entries of the skewed workspace; the quick plan's is small enough for CI.
FULL_ENTRIES = 1_000_000
QUICK_ENTRIES = 100_000
STREAMS = ("time_entries",)
PAGE = 5000


def run(bench) -> None:
    n = QUICK_ENTRIES if bench.plan.name == "quick" else FULL_ENTRIES
    sec = {"entries": n, "rps": LIMIT_RPS, "latency": LATENCY, "runs": [], "loadavg_start": os.getloadavg(),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "tree": bench.ours.version()}
    with Sim(bench.sim_bin, bench.sim_args(n, LIMIT_RPS, LATENCY), os.path.join(bench.work, "sim.log")) as sim:
        truth_ids = sim.truth_ids()
        sec["minimum_requests"] = sim.minimum_requests(PAGE, STREAMS)
        for r in range(bench.plan.runs):
            bench_log(f"skew: ours, {n} time entries (one member holds half) at {LIMIT_RPS} rps/{LATENCY}, run {r + 1}/{bench.plan.runs}")
            res = bench.run_source(bench.ours, sim, list(STREAMS), f"skew-{r}", want_ids=True, truth_ids=truth_ids)
            st = sim.stats()
            t0 = min((x["second"] for x in st.get("timeline", [])), default=0)
            res["timeline"] = [{"t": x["second"] - t0, "requests": x["requests"]} for x in st.get("timeline", [])]
            os.remove(res["stdout"])
            sec["runs"].append(res)
    sec["loadavg_end"] = os.getloadavg()
    bench.results["sections"]["skew"] = sec


def bench_log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _med(runs, fn):
    vals = [v for v in (fn(r) for r in runs if r.get("exit") == 0) if v is not None]
    return statistics.median(vals) if vals else None


def report(rep) -> None:
    """Section 6 of BENCHMARKS.md, the rate plot, and the goals of issue 12."""
    from .report import _mark, fx, table

    rep.p("## 6. A skewed workspace at the rate limit (issue 12)\n")
    if rep.failed("skew"):
        return
    sec = rep.s["skew"]
    runs = sec["runs"]
    minimum = sec["minimum_requests"]

    def te(r, key):
        return r["truth"]["time_entries"][key] if "truth" in r else None

    rows = []
    for i, r in enumerate(runs):
        over = 100 * (r["requests"] / minimum - 1) if minimum else None
        rows.append([i + 1, fx(r["wall_s"], 1), fx(r["requests"]), fx(over, 2) + " %", fx(r["rps_after_10s"], 2),
                     fx(r["too_many"]), fx(te(r, "emitted")), fx(te(r, "missing")), fx(te(r, "duplicates")), r["exit"]])
    rep.p(f"Our source reads `time_entries` of the `scaled` preset with {fx(sec['entries'])} entries (10 members, one with "
          f"half of them) from the simulator at {sec['rps']} requests/s per key and {sec['latency']} latency; page size "
          f"{PAGE}. A perfect client needs {fx(minimum)} requests for these partitions (`/_sim/minimum-requests?page-size="
          f"{PAGE}&stream=time_entries`, which counts the parents it reads too). Requests per second come from the "
          f"simulator's per-second timeline; missing and duplicated entries from comparing every emitted id with the "
          f"simulator's ground truth. Measured on {sec.get('date', '?')} ({sec.get('tree', '?')}), load average "
          f"{fx((sec.get('loadavg_start') or [None])[0], 2)} at the start and {fx((sec.get('loadavg_end') or [None])[0], 2)} at "
          f"the end on 2 shared cores.\n")
    rep.p(table(["run", "wall s", "requests", "over the minimum", "requests/s after 10 s", "429s", "entries emitted",
                 "missing", "duplicated", "exit"], rows), "")
    rps = _med(runs, lambda r: r.get("rps_after_10s"))
    over = _med(runs, lambda r: 100 * (r["requests"] / minimum - 1) if minimum else None)
    missing = max((te(r, "missing") or 0 for r in runs), default=None)
    dups = max((te(r, "duplicates") or 0 for r in runs), default=None)
    goals = [
        ["requests/s after the first 10 s (median)", "≥ 9.5", fx(rps, 2), _mark(rps is not None and rps >= 9.5)],
        ["entries missing (worst run)", "0", fx(missing), _mark(missing == 0)],
        ["entries duplicated (worst run)", "0", fx(dups), _mark(dups == 0)],
        ["requests over the minimum (median)", "≤ 3 %", fx(over, 2) + " %", _mark(over is not None and over <= 3)],
    ]
    rep.p(table(["goal (issue 12)", "target", "measured", ""], goals), "")
    if rep.res.get("plan") == "quick":
        rep.p("_Quick plan: a tenth of the entries, one run; the goals name the full size._\n")
    for g in goals:
        if g[3] == "missed":
            rep.shortfalls.append(f"Skewed workspace (section 6): {g[0]} is {g[2]} (target {g[1]}).")
    plot(rep, sec)
    rep.img("skew_rate.png", "requests per second on the skewed workspace")


def plot(rep, sec) -> None:
    from .report import plt

    runs = [r for r in sec["runs"] if r.get("timeline")]
    if not runs:
        return
    fig, ax = plt.subplots(figsize=(11, 3.6))
    for i, r in enumerate(runs):
        tl = r["timeline"]
        ax.plot([x["t"] + 0.5 for x in tl], [x["requests"] for x in tl], "o-", ms=3, lw=1, label=f"run {i + 1}")
    ax.axhline(sec["rps"], color="k", ls="--", lw=1, label=f"simulator limit: {sec['rps']} req/s per key")
    ax.axhline(9.5, color="#d62728", ls=":", lw=1, label="goal after 10 s: 9.5 req/s")
    ax.axvline(10, color="grey", ls=":", lw=1)
    ax.set_ylim(0, sec["rps"] * 1.5)
    ax.set_xlabel("seconds since the first request")
    ax.set_ylabel("requests per second")
    ax.legend(loc="lower right", fontsize=8, ncol=2)
    ax.set_title(f"Skewed workspace ({sec['entries']:,} time entries, one member holds half), {sec['rps']} req/s, "
                 f"{sec['latency']} latency", fontsize=10)
    rep.save(fig, "skew_rate.png")
