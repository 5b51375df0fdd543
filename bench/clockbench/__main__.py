"""Benchmark harness: runs every measurement of issue 7 and writes results JSON, BENCHMARKS.md and plots.

python -m clockbench [--quick] --bin DIR --work DIR --results FILE --markdown FILE --plots DIR
python -m clockbench --report-only --results FILE --markdown FILE --plots DIR
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
import traceback

from . import adversarial, analyze, coldbuild, faults, incremental, maintenance, peers, procs, report, skew
from .plan import FULL, LATENCY, LIMIT_RPS, QUICK, Plan
from .sim import Sim, StatsPoller

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
ROOT = os.path.dirname(HERE)
# A rate-control read takes well under a minute at 10 requests/s; this bounds one that never ends.
RATE_RUN_TIMEOUT_S = 900


def log(msg: str) -> None:
    print(f"[bench {dt.datetime.now(dt.timezone.utc).strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, plan: Plan, bin_dir: str, work: str):
        self.plan = plan
        self.bin = bin_dir
        self.work = work
        self.sim_bin = os.path.join(bin_dir, "clockify-sim")
        self.dest_bin = os.path.join(bin_dir, "destination-iceberg")
        self.results: dict = {"plan": plan.name, "sections": {}, "notes": []}
        self.ours = peers.Ours(bin_dir)
        self.airbyte = self._peer(peers.Airbyte, ".venv-airbyte")
        self.tap = self._peer(peers.Tap, ".venv-tap")
        self.python = os.path.join(HERE, ".venv", "bin", "python")
        self.inputs: dict = {}  # time entries -> (JSONL path, records)

    def _peer(self, cls, venv: str):
        try:
            return cls(os.path.join(HERE, venv))
        except (FileNotFoundError, OSError) as e:
            self.results["notes"].append(f"{cls.label} is not installed: {e}")
            return None

    # --- helpers --------------------------------------------------------------------------------

    def sim_args(self, entries: int, rps: float, latency: str = "0s", extra: tuple = ()) -> list:
        return ["--preset", "scaled", "--time-entries", str(entries), "--rps", str(rps), "--latency", latency, *extra]

    def rundir(self, *parts: str) -> str:
        d = os.path.join(self.work, *parts)
        os.makedirs(d, exist_ok=True)
        return d

    def run_source(self, peer, sim: Sim, streams: list, tag: str, want_ids: bool, truth_ids=None, workspace=True, **cfg) -> dict:
        d = self.rundir("runs", tag)
        ws = sim.workspace_id() if workspace or peer is not self.ours else None
        inv = peer.invocation(d, sim.url, streams, workspace_id=ws, **cfg)
        sim.reset_stats()
        t_start = time.time()
        m = procs.run_measured(inv.argv, os.path.join(d, "stdout.jsonl"), os.path.join(d, "stderr.log"), timeout_s=1800)
        t_end = time.time()
        st = sim.stats()
        # Whole seconds from the 10th after start to the last complete one (issue 3's "after the first ten seconds").
        after10 = [x["requests"] for x in st.get("timeline", []) if t_start + 10 <= x["second"] and x["second"] + 1 <= t_end]
        out = analyze.read_output(m.stdout_path, inv.protocol, want_ids=want_ids)
        errors = out.errors + (analyze.singer_errors(m.stderr_path) if inv.protocol == "singer" else [])
        res = {
            "peer": peer.key,
            "exit": m.returncode,
            "wall_s": m.wall_s,
            "cpu_s": m.cpu_s,
            "peak_rss_mib": m.peak_rss_mib,
            "requests": st["requests"],
            "too_many": st["tooMany"],
            "statuses": st["statuses"],
            "rps_after_10s": statistics.mean(after10) if after10 else None,
            "argv": [a.replace(self.work, "$WORK").replace(HERE, "bench").replace(sim.url, "$SIM") for a in inv.argv],
            "sim_args": sim.args,
            "records": {ours: out.records.get(theirs, 0) for ours, theirs in inv.names.items()},
            "records_total": sum(out.records.values()),
            "errors": [procs.one_line(e) for e in errors[:3]],
            "bad_lines": out.bad_lines,
            "stdout": m.stdout_path,
        }
        if want_ids and truth_ids is not None:
            res["truth"] = analyze.against_truth(out, inv.names, truth_ids)
        if m.returncode != 0 and not errors:
            res["errors"] = [procs.one_line(procs.tail(m.stderr_path, 5))]
        return res

    # --- sections -------------------------------------------------------------------------------

    def cold_build(self) -> None:
        self.results["sections"]["cold_build"] = coldbuild.measure(self)

    def scaling_source(self) -> None:
        """Our source on time entries with limits off, at each size; the outputs feed the destinations."""
        sec = {"sizes": {}}
        for n in self.plan.scale_sizes:
            runs = []
            with Sim(self.sim_bin, self.sim_args(n, 0), os.path.join(self.work, "sim.log")) as sim:
                truth = sim.truth_counts()["time_entries"]
                truth_ids = sim.truth_ids() if n <= 200_000 else None
                for r in range(self.plan.runs):
                    log(f"scaling: ours, {n} time entries, limits off, run {r + 1}/{self.plan.runs}")
                    res = self.run_source(self.ours, sim, ["time_entries"], f"scale-{n}-{r}", want_ids=truth_ids is not None,
                                          truth_ids=truth_ids, requests_per_second=0)
                    res["truth_records"] = truth
                    runs.append(res)
            last = runs[-1]
            keep = os.path.join(self.rundir("inputs"), f"time_entries_{n}.jsonl")
            os.replace(last["stdout"], keep)
            self.inputs[n] = (keep, last["records"]["time_entries"])
            sec["sizes"][str(n)] = {"runs": runs, "input_bytes": os.path.getsize(keep)}
        self.results["sections"]["scaling_source"] = sec

    def destinations(self) -> None:
        """Both destinations on the same JSONL, at every size; pairs alternate."""
        sec = {"sizes": {}}
        cat = self.dest_catalog()
        for n in self.plan.scale_sizes:
            path, records = self.inputs[n]
            runs = {"ours": [], "pyiceberg": []}
            for r in range(self.plan.runs):
                for who in ("ours", "pyiceberg"):
                    log(f"destinations: {who}, {records} records, run {r + 1}/{self.plan.runs}")
                    runs[who].append(self.run_destination(who, path, records, cat, f"dest-{who}-{n}-{r}"))
            sec["sizes"][str(n)] = {"records": records, "input_bytes": os.path.getsize(path), **runs}
        self.results["sections"]["destinations"] = sec

    def dest_catalog(self) -> str:
        src = os.path.join(self.work, "runs", f"scale-{self.plan.scale_sizes[0]}-0", "ours-catalog.json")
        with open(src, encoding="utf-8") as f:
            stream = json.load(f)["streams"][0]["stream"]
        cat = {"streams": [{"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "append",
                            "generation_id": 1, "minimum_generation_id": 0, "sync_id": 1}]}
        path = os.path.join(self.work, "dest-catalog.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(cat, f)
        return path

    def run_destination(self, who: str, input_path: str, records: int, catalog: str, tag: str) -> dict:
        d = self.rundir("runs", tag)
        wh = os.path.join(d, "warehouse")
        shutil.rmtree(wh, ignore_errors=True)
        os.makedirs(wh)
        if who == "ours":
            cfg = os.path.join(d, "config.json")
            with open(cfg, "w", encoding="utf-8") as f:
                json.dump({"warehouse": wh}, f)
            argv = [self.dest_bin, "write", "--config", cfg, "--catalog", catalog]
            m = procs.run_measured(argv, os.path.join(d, "stdout.jsonl"), os.path.join(d, "stderr.log"), stdin_path=input_path)
        else:
            argv = [self.python, os.path.join(HERE, "pyiceberg_load.py"), "--input", input_path, "--catalog", catalog,
                    "--stream", "time_entries", "--warehouse", wh, "--batch-rows", str(self.plan.pyiceberg_batch_rows)]
            m = procs.run_measured(argv, os.path.join(d, "stdout.jsonl"), os.path.join(d, "stderr.log"))
        files = [p for p in glob.glob(os.path.join(wh, "**", "*.parquet"), recursive=True)]
        rows = table_rows(wh, "time_entries")
        res = {
            "exit": m.returncode,
            "argv": [a.replace(self.work, "$WORK").replace(HERE, "bench") for a in argv]
            + ([f"< {input_path.replace(self.work, '$WORK')}"] if who == "ours" else []),
            "wall_s": m.wall_s,
            "cpu_s": m.cpu_s,
            "peak_rss_mib": m.peak_rss_mib,
            "records": records,
            "records_per_s": records / m.wall_s if m.wall_s > 0 else 0,
            "table_rows": rows,
            "data_files": len(files),
            "data_bytes": sum(os.path.getsize(p) for p in files),
            "errors": [] if m.returncode == 0 else [procs.one_line(procs.tail(m.stderr_path, 5))],
        }
        if who == "ours" and m.returncode != 0:
            out = analyze.read_output(m.stdout_path, "airbyte", want_ids=False)
            res["errors"] = [procs.one_line(e) for e in out.errors[:3]] or res["errors"]
        shutil.rmtree(wh, ignore_errors=True)  # a million rows of Parquet per run add up
        return res

    def compare(self) -> None:
        """The three sources on one workspace at 10 rps with 200 ms latency; ours also on all streams."""
        n = self.plan.compare_entries
        sec = {"time_entries": n, "runs": {}, "tap_as_shipped": None}
        args = self.sim_args(n, LIMIT_RPS, LATENCY)
        with Sim(self.sim_bin, args, os.path.join(self.work, "sim.log")) as sim:
            truth_ids = sim.truth_ids()
            sec["truth_counts"] = sim.truth_counts()
            sec["minimum_requests"] = {str(p): sim.minimum_requests(p) for p in (50, 100, 5000)}
        plan = [("ours", self.ours, peers.AIRBYTE_STREAMS, True)]
        if self.airbyte:
            plan.append(("airbyte", self.airbyte, peers.AIRBYTE_STREAMS, True))
        if self.tap:
            # Its users stream requests /workspace/{id}/users (singular), which Clockify answers 404 and the
            # tap then stops; this variant leaves that stream out so the others can be measured.
            plan.append(("tap", self.tap, [s for s in peers.AIRBYTE_STREAMS if s != "workspace_users"], True))
        plan.append(("ours_all", self.ours, sorted(truth_ids), False))
        for key, *_ in plan:
            sec["runs"][key] = []
        for r in range(self.plan.runs):
            for key, peer, streams, ws in plan:
                log(f"compare: {key}, {n} time entries at {LIMIT_RPS} rps/{LATENCY}, run {r + 1}/{self.plan.runs}")
                with Sim(self.sim_bin, args, os.path.join(self.work, "sim.log")) as sim:
                    res = self.run_source(peer, sim, streams, f"compare-{key}-{r}", want_ids=True, truth_ids=truth_ids, workspace=ws)
                sec["runs"][key].append(res)
        if self.tap:
            log("compare: tap-clockify as shipped (with its users stream)")
            with Sim(self.sim_bin, args, os.path.join(self.work, "sim.log")) as sim:
                tap_streams = [s for s in peers.AIRBYTE_STREAMS if s in peers.TAP_NAMES]
                sec["tap_as_shipped"] = self.run_source(self.tap, sim, tap_streams, "compare-tap-shipped", want_ids=True, truth_ids=truth_ids)
        self.results["sections"]["compare"] = sec

    def raw(self) -> None:
        """Limits off on loopback: records per second and CPU per record, time entries only."""
        n = self.plan.raw_entries
        sec = {"time_entries": n, "runs": {}}
        peers_ = [("ours", self.ours)] + [(p.key, p) for p in (self.airbyte, self.tap) if p]
        for key, _ in peers_:
            sec["runs"][key] = []
        with Sim(self.sim_bin, self.sim_args(n, 0), os.path.join(self.work, "sim.log")) as sim:
            truth_ids = sim.truth_ids()
            for r in range(self.plan.runs):
                for key, peer in peers_:
                    log(f"raw: {key}, {n} time entries, limits off, run {r + 1}/{self.plan.runs}")
                    cfg = {"requests_per_second": 0} if peer is self.ours else {}
                    res = self.run_source(peer, sim, ["time_entries"], f"raw-{key}-{r}", want_ids=True, truth_ids=truth_ids, **cfg)
                    recs = res["records"].get("time_entries", 0)
                    res["records_per_s"] = recs / res["wall_s"] if res["wall_s"] > 0 else 0
                    res["cpu_us_per_record"] = 1e6 * res["cpu_s"] / recs if recs else None
                    sec["runs"][key].append(res)
        self.results["sections"]["raw"] = sec

    def rate_control(self) -> None:
        """Two reads under 10 rps / 200 ms: a calm one (the sustained rate) and one with seeded bursts of
        429s (the reaction); our rate over time in both."""
        sec = {}
        for variant in ("calm", "bursts"):
            sec[variant] = self._rate_run(variant == "bursts")
        self.results["sections"]["rate_control"] = sec

    def _rate_run(self, bursts: bool) -> dict:
        """One read of time entries under 10 rps / 200 ms, sampled over time.

        The scaled preset gives half of the entries to one member, whose pages are read one after another;
        at 200 ms per request that one chain cannot exceed 5 requests/s and would hide the controller. So
        every other member is first topped up (POST /_sim/time-entries) to the same depth: ten partitions
        of equal length keep enough requests in flight for the limiter, not the latency, to set the pace."""
        p = self.plan
        extra = ("--chaos", "--chaos-5xx", "0", "--chaos-truncate", "0", "--chaos-slow", "0",
                 "--chaos-429", str(p.chaos_429), "--chaos-429-len", str(p.chaos_429_len)) if bursts else ()
        args = self.sim_args(2 * p.rate_entries_per_user, LIMIT_RPS, LATENCY, extra)
        d = self.rundir("runs", "rate-bursts" if bursts else "rate-calm")
        with Sim(self.sim_bin, args, os.path.join(self.work, "sim.log")) as sim:
            ws = sim.info()["workspaces"][0]
            # Scaled(): Users[0] holds half; the other members share the other half evenly.
            n_users = len(ws["users"])
            rest = p.rate_entries_per_user // (n_users - 1)
            for u in ws["users"][1:]:
                add = p.rate_entries_per_user - rest
                if add > 0:
                    sim.post(f"/_sim/time-entries?workspace={ws['id']}&user={u}&count={add}")
            truth = sim.truth_counts()["time_entries"]
            log(f"rate control: {truth} time entries over {n_users} members, page size {p.rate_page_size}, "
                + (f"429 bursts p={p.chaos_429}" if bursts else "no chaos"))
            inv = self.ours.invocation(d, sim.url, ["time_entries"], workspace_id=ws["id"], page_size=p.rate_page_size)
            sim.reset_stats()
            events, records, t_start = [], 0, time.time()
            time_path = os.path.join(d, "stderr.log.time")
            with StatsPoller(sim) as poller, open(os.path.join(d, "stderr.log"), "wb") as se, \
                    open(os.path.join(d, "stdout.jsonl"), "wb") as so:
                proc = subprocess.Popen([procs.GNU_TIME, "-v", "-o", time_path, *inv.argv], stdout=subprocess.PIPE, stderr=se)
                # The loop below ends when the read does; a read that never ends is killed, not waited for.
                watchdog = threading.Timer(RATE_RUN_TIMEOUT_S, proc.kill)
                watchdog.start()
                for line in proc.stdout:
                    so.write(line)
                    if b'"RECORD"' in line[:64]:
                        records += 1
                    elif b'"LOG"' in line[:64]:
                        ev = analyze.rate_event(json.loads(line)["log"]["message"])
                        if ev:
                            events.append({"t": time.time(), "kind": ev[0], "rate": ev[1]})
                rc = proc.wait(timeout=60)
                watchdog.cancel()
            t_end = time.time()
            st = sim.stats()
        with open(time_path, encoding="utf-8") as f:
            tm = procs.parse_gnu_time(f.read())
        timeline = st["timeline"]
        after10 = [x["requests"] for x in timeline if t_start + 10 <= x["second"] < int(t_end)]
        return {
            "time_entries": truth, "members": n_users, "page_size": p.rate_page_size, "chaos_429": p.chaos_429 if bursts else 0,
            "chaos_429_len": p.chaos_429_len, "exit": rc, "t_start": t_start, "t_end": t_end,
            "wall_s": t_end - t_start, "records": records, "truth_records": truth,
            "requests": st["requests"], "too_many": st["tooMany"], "chaos_faults": st.get("chaosFaults", {}),
            "timeline": timeline, "polls": poller.samples, "events": events,
            "sustained_rps_after_10s": statistics.mean(after10) if after10 else None,
            "peak_rss_mib": tm["peak_rss_kib"] / 1024, "cpu_s": tm["user_s"] + tm["sys_s"],
        }

    def faults(self) -> None:
        self.results["sections"]["faults"] = faults.run(self)

    def scaling_limited(self) -> None:
        """Our source on time entries at 10 rps / 200 ms, at each size."""
        sec = {"sizes": {}}
        for n in self.plan.scale_sizes:
            runs = []
            with Sim(self.sim_bin, self.sim_args(n, LIMIT_RPS, LATENCY), os.path.join(self.work, "sim.log")) as sim:
                truth = sim.truth_counts()["time_entries"]
                minimum = sim.minimum_requests(5000)
                for r in range(self.plan.runs):
                    log(f"scaling: ours, {n} time entries at {LIMIT_RPS} rps/{LATENCY}, run {r + 1}/{self.plan.runs}")
                    res = self.run_source(self.ours, sim, ["time_entries"], f"scale-limited-{n}-{r}", want_ids=False)
                    res["truth_records"] = truth
                    os.remove(res["stdout"])
                    runs.append(res)
            sec["sizes"][str(n)] = {"runs": runs, "minimum_requests_all_streams_5000": minimum}
        self.results["sections"]["scaling_limited"] = sec

    def skew(self) -> None:
        skew.run(self)

    def incremental(self) -> None:
        """Issue 10: what an incremental dedup sync costs (bench/clockbench/incremental.py)."""
        incremental.run(self)


Bench.adversarial_source = adversarial.run


def _maintenance(self) -> None:
    """Issue 11: consecutive syncs with table maintenance on and off (bench/clockbench/maintenance.py)."""
    self.results["sections"]["maintenance"] = maintenance.run(self)


Bench.maintenance = _maintenance


def table_rows(warehouse: str, table: str):
    """total-records of the current snapshot, read from the newest metadata JSON of the table."""
    metas = glob.glob(os.path.join(warehouse, "**", table, "metadata", "*.metadata.json"), recursive=True)
    if not metas:
        return None
    newest = max(metas, key=lambda p: (os.path.getmtime(p), p))
    with open(newest, encoding="utf-8") as f:
        md = json.load(f)
    cur = md.get("current-snapshot-id")
    for s in md.get("snapshots", []):
        if s.get("snapshot-id") == cur:
            return int(s.get("summary", {}).get("total-records", 0))
    return 0


def machine(bench: Bench) -> dict:
    def cmd(argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "unknown"

    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        mem_kib = int(f.readline().split()[1])
    info = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "go": cmd(["go", "version"]),
        "ours": bench.ours.version(),
        "python_harness": platform.python_version(),
        "pyiceberg": peers._dist_version(os.path.join(HERE, ".venv"), "pyiceberg"),
        "pyarrow": peers._dist_version(os.path.join(HERE, ".venv"), "pyarrow"),
        "loadavg_start": os.getloadavg(),
    }
    if bench.airbyte:
        info["airbyte"] = bench.airbyte.version()
        info["airbyte_python"] = peers.python_version(os.path.join(bench.airbyte.venv, "bin", "python"))
        info["airbyte_manifest_sha256"] = peers.sha256(bench.airbyte.manifest + ".orig") if os.path.exists(bench.airbyte.manifest + ".orig") else peers.sha256(bench.airbyte.manifest)
    if bench.tap:
        info["tap"] = bench.tap.version()
        info["tap_python"] = peers.python_version(bench.tap.python)
    return info


SECTIONS = ["scaling_source", "destinations", "compare", "raw", "rate_control", "scaling_limited", "skew", "faults", "adversarial_source",
            "incremental", "maintenance", "cold_build"]


def main() -> int:
    ap = argparse.ArgumentParser(prog="clockbench")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--bin", default=os.path.join(HERE, ".work", "bin"))
    ap.add_argument("--work", default=os.path.join(HERE, ".work"))
    ap.add_argument("--results", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--markdown", default=os.path.join(ROOT, "BENCHMARKS.md"))
    ap.add_argument("--plots", default=os.path.join(HERE, "plots"))
    ap.add_argument("--report-only", action="store_true", help="regenerate BENCHMARKS.md and plots from --results")
    ap.add_argument("--only", default="", help="comma-separated sections, for developing the harness")
    ap.add_argument("--command", default="make bench", help="the command to quote in BENCHMARKS.md")
    a = ap.parse_args()

    if a.report_only:
        with open(a.results, encoding="utf-8") as f:
            results = json.load(f)
        report.write(results, a.markdown, a.plots)
        return 0

    plan = QUICK if a.quick else FULL
    os.makedirs(a.work, exist_ok=True)
    bench = Bench(plan, os.path.abspath(a.bin), os.path.abspath(a.work))
    bench.results["machine"] = machine(bench)
    bench.results["command"] = a.command
    bench.results["pyiceberg_batch_rows"] = plan.pyiceberg_batch_rows
    status_file = os.path.join(a.work, "peer-install.json")
    if os.path.exists(status_file):
        with open(status_file, encoding="utf-8") as f:
            bench.results["install"] = json.load(f)
    if bench.airbyte:
        bench.results["airbyte_patch"] = {"file": os.path.relpath(bench.airbyte.manifest, HERE),
                                          "from": "url_base: https://api.clockify.me/api/v1/",
                                          "to": "url_base: http://127.0.0.1:<simulator port>/api/v1/"}
    if bench.tap:
        bench.results["tap_patch"] = {"file": os.path.relpath(bench.tap.base_py, HERE),
                                      "from": 'return "https://api.clockify.me/api/v1"',
                                      "to": 'return "http://127.0.0.1:<simulator port>/api/v1"'}
    only = [s for s in a.only.split(",") if s] or SECTIONS
    t0 = time.monotonic()
    failed = []
    for name in SECTIONS:
        if name not in only:
            continue
        if name == "destinations" and "scaling_source" not in only:
            log("destinations need scaling_source's outputs; skipped")
            continue
        s0 = time.monotonic()
        try:
            getattr(bench, name)()
        except Exception as e:  # noqa: BLE001 - one broken section must not hide the others' figures
            failed.append(name)
            bench.results["sections"][name] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
            log(f"{name} FAILED: {type(e).__name__}: {e}")
        bench.results["sections"].get(name, {})["section_seconds"] = time.monotonic() - s0
    bench.results["total_seconds"] = time.monotonic() - t0
    bench.results["machine"]["loadavg_end"] = os.getloadavg()
    with open(a.results, "w", encoding="utf-8") as f:
        json.dump(bench.results, f, indent=1, default=str)
    report.write(bench.results, a.markdown, a.plots)
    # Inputs of a million records are hundreds of MiB; keep them only when asked.
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(os.path.join(a.work, "inputs"), ignore_errors=True)
        shutil.rmtree(os.path.join(a.work, "runs"), ignore_errors=True)
    log(f"done in {bench.results['total_seconds']:.0f} s; failed sections: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
