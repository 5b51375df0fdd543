"""What an incremental dedup sync costs (issue 10): a full sync of time entries into append_dedup, then
an incremental sync from the echoed state (7-day lookback), at several table sizes; a history that
grows while the weekly change stays the same; PyIceberg's Table.upsert of the same re-read rows on the
same table beside it.

Only destination-iceberg is measured (under GNU time): the source's output is captured to a file
first. Bytes and files come from the Iceberg metadata the sync left (the summaries of the snapshots it
added), so the same harness measures any version of the destination:
  bytes written   sum of added-files-size (data and delete files) of the sync's snapshots
  bytes removed   sum of removed-files-size
  files touched   data and delete files added plus removed
  amplification   bytes written by the incremental sync / (re-read rows x compressed bytes per row of
                  the table before it: total-files-size / live rows)
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import random
import shutil
import subprocess

from . import procs
from .sim import Sim

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
BASELINE = os.path.join(HERE, "incremental_before.json")  # the section as run on the code before issue 10


def log(msg: str) -> None:
    from .__main__ import log as _log

    _log(msg)


# --- Iceberg metadata ------------------------------------------------------------------------------

def table_metadata(warehouse: str, table: str = "time_entries") -> dict | None:
    """The newest metadata JSON of the table (highest version number in its file name)."""
    metas = glob.glob(os.path.join(warehouse, "**", table, "metadata", "*.metadata.json"), recursive=True)
    if not metas:
        return None
    newest = max(metas, key=lambda p: (int(os.path.basename(p).split("-", 1)[0]), os.path.getmtime(p)))
    with open(newest, encoding="utf-8") as f:
        return json.load(f)


def _i(summary: dict, key: str) -> int:
    try:
        return int(summary.get(key, 0))
    except (TypeError, ValueError):
        return 0


def table_state(md: dict | None) -> dict:
    """Live rows and sizes of the current snapshot, and the ids of every snapshot so far."""
    if not md:
        return {"snapshots": [], "rows": 0, "bytes": 0, "data_files": 0, "delete_files": 0}
    cur = md.get("current-snapshot-id")
    summ = next((s.get("summary", {}) for s in md.get("snapshots", []) if s.get("snapshot-id") == cur), {})
    return {
        "snapshots": [s["snapshot-id"] for s in md.get("snapshots", [])],
        "rows": _i(summ, "total-records") - _i(summ, "total-position-deletes"),
        "bytes": _i(summ, "total-files-size"),
        "data_files": _i(summ, "total-data-files"),
        "delete_files": _i(summ, "total-delete-files"),
        "partitions": len(md.get("partition-specs", [{}])[-1].get("fields", [])) > 0,
        "delete_mode": md.get("properties", {}).get("write.delete.mode"),
    }


def sync_cost(md: dict, before: list) -> dict:
    """Sums the summaries of the snapshots added since `before` (a list of snapshot ids)."""
    old = set(before)
    snaps = [s for s in md.get("snapshots", []) if s["snapshot-id"] not in old]
    add = lambda k: sum(_i(s.get("summary", {}), k) for s in snaps)  # noqa: E731
    return {
        "snapshots": len(snaps),
        "operations": [s.get("summary", {}).get("operation") for s in snaps],
        "bytes_written": add("added-files-size"),
        "bytes_removed": add("removed-files-size"),
        "data_files_added": add("added-data-files"),
        "data_files_removed": add("deleted-data-files"),
        "delete_files_added": add("added-delete-files"),
        "delete_files_removed": add("removed-delete-files"),
        "position_deletes_added": add("added-position-deletes"),
        "files_touched": add("added-data-files") + add("deleted-data-files") + add("added-delete-files") + add("removed-delete-files"),
        "rows_added": add("added-records"),
    }


# --- processes -------------------------------------------------------------------------------------

def count_records(path: str) -> int:
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if b'"RECORD"' in line[:64]:
                n += 1
    return n


def states(stdout_path: str) -> list:
    """The destination's echoed STATE payloads, last one per stream, as a --state file wants them."""
    last = {}
    with open(stdout_path, "rb") as f:
        for line in f:
            if b'"STATE"' not in line[:64]:
                continue
            st = json.loads(line)["state"]
            key = json.dumps(st.get("stream", {}).get("stream_descriptor", {}), sort_keys=True)
            last[key] = {k: v for k, v in st.items() if k not in ("destinationStats", "sourceStats", "id")}
    return list(last.values())


def dedup_catalog(stream: dict, sync_id: int) -> dict:
    return {"streams": [{
        "stream": stream, "sync_mode": "incremental", "destination_sync_mode": "append_dedup",
        "cursor_field": stream.get("default_cursor_field") or [], "primary_key": stream.get("source_defined_primary_key") or [],
        "generation_id": 1, "minimum_generation_id": 0, "sync_id": sync_id}]}


def _json(path: str, obj) -> str:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)
    return path


class Runner:
    def __init__(self, bench):
        self.b = bench
        self.dest = bench.dest_bin
        self.src = os.path.join(bench.bin, "source-clockify")

    def destination(self, d: str, tag: str, warehouse: str, catalog: dict, input_path: str, dest_cfg: dict) -> dict:
        cfg = _json(os.path.join(d, f"{tag}-config.json"), {"warehouse": warehouse, **dest_cfg})
        cat = _json(os.path.join(d, f"{tag}-catalog.json"), catalog)
        before = table_state(table_metadata(warehouse))
        argv = [self.dest, "write", "--config", cfg, "--catalog", cat]
        m = procs.run_measured(argv, os.path.join(d, f"{tag}-stdout.jsonl"), os.path.join(d, f"{tag}-stderr.log"),
                               stdin_path=input_path, timeout_s=3600)
        md = table_metadata(warehouse)
        res = {"exit": m.returncode, "wall_s": m.wall_s, "cpu_s": m.cpu_s, "peak_rss_mib": m.peak_rss_mib,
               "records": count_records(input_path), "input_bytes": os.path.getsize(input_path),
               "argv": [a.replace(self.b.work, "$WORK") for a in argv] + [f"< {input_path.replace(self.b.work, '$WORK')}"],
               "before": {k: v for k, v in before.items() if k != "snapshots"},
               "after": {k: v for k, v in table_state(md).items() if k != "snapshots"},
               "stdout": m.stdout_path}
        if md:
            res.update(sync_cost(md, before["snapshots"]))
        if m.returncode != 0:
            res["error"] = procs.one_line(procs.tail(m.stderr_path, 5))
        return res

    def upsert(self, d: str, warehouse: str, input_path: str) -> dict:
        before = table_state(table_metadata(warehouse))
        argv = [self.b.python, os.path.join(HERE, "pyiceberg_upsert.py"), "--warehouse", warehouse, "--input", input_path]
        m = procs.run_measured(argv, os.path.join(d, "upsert-stdout.jsonl"), os.path.join(d, "upsert-stderr.log"), timeout_s=1800)
        md = table_metadata(warehouse)
        res = {"exit": m.returncode, "wall_s": m.wall_s, "cpu_s": m.cpu_s, "peak_rss_mib": m.peak_rss_mib,
               "after": {k: v for k, v in table_state(md).items() if k != "snapshots"}}
        if md:
            res.update(sync_cost(md, before["snapshots"]))
        try:
            with open(m.stdout_path, encoding="utf-8") as f:
                res["pyiceberg"] = json.loads(f.read().strip().splitlines()[-1])
        except (OSError, ValueError, IndexError):
            pass
        if m.returncode != 0:
            res["error"] = procs.one_line(procs.tail(m.stderr_path, 5))
        return res

    def fresh(self, d: str) -> str:
        wh = os.path.join(d, "warehouse")
        shutil.rmtree(wh, ignore_errors=True)
        os.makedirs(wh)
        return wh

    def rollback(self, wh: str, snapshot_id: int) -> None:
        subprocess.run([self.b.python, os.path.join(HERE, "pyiceberg_upsert.py"), "--warehouse", wh, "--rollback-to",
                        str(snapshot_id)], check=True, capture_output=True, timeout=300)

    def incremental(self, d: str, wh: str, stream: dict, full: dict, incr_input: str, dest_cfg: dict, upsert: bool) -> dict:
        """PyIceberg's upsert of the re-read rows on the table the full sync left (optionally; main is set
        back afterwards), then destination-iceberg's incremental sync of the same rows on that same table."""
        out = {"full": full}
        if upsert:
            log(f"incremental: PyIceberg Table.upsert of the {count_records(incr_input)} re-read rows")
            base = table_metadata(wh)["current-snapshot-id"]
            out["pyiceberg_upsert"] = self.upsert(d, wh, incr_input)
            self.rollback(wh, base)
        incr = self.destination(d, "incremental", wh, dedup_catalog(stream, 2), incr_input, dest_cfg)
        per_row = incr["before"]["bytes"] / incr["before"]["rows"] if incr["before"].get("rows") else None
        reread = incr["records"]
        out.update({"incremental": incr, "reread_rows": reread, "bytes_per_row": per_row})
        if per_row and reread:
            out["reread_bytes"] = reread * per_row
            out["amplification"] = incr.get("bytes_written", 0) / (reread * per_row)
            up = out.get("pyiceberg_upsert")
            if up and up.get("bytes_written") is not None:
                up["amplification"] = up["bytes_written"] / (reread * per_row)
        shutil.rmtree(wh, ignore_errors=True)
        return out


# --- the simulator series --------------------------------------------------------------------------

def simulated(r: Runner, n: int, dest_cfg: dict, upsert: bool) -> tuple:
    """Simulator → source read (captured) → destination full sync → source read from the state the
    destination echoed → destination incremental sync."""
    b = r.b
    d = b.rundir("runs", f"incremental-{n}")
    full_in = os.path.join(b.rundir("inputs"), f"incremental-full-{n}.jsonl")
    incr_in = os.path.join(b.rundir("inputs"), f"incremental-incr-{n}.jsonl")
    with Sim(b.sim_bin, b.sim_args(n, 0), os.path.join(b.work, "sim.log")) as sim:
        inv = b.ours.invocation(d, sim.url, ["time_entries"], requests_per_second=0)
        with open(inv.argv[inv.argv.index("--catalog") + 1], encoding="utf-8") as f:
            stream = json.load(f)["streams"][0]["stream"]
        src_cfg = inv.argv[inv.argv.index("--config") + 1]
        cat = _json(os.path.join(d, "source-catalog.json"), dedup_catalog(stream, 1))
        log(f"incremental: {n} time entries: source read (full), destination full sync")
        with open(full_in, "wb") as so:
            subprocess.run([r.src, "read", "--config", src_cfg, "--catalog", cat], stdout=so, stderr=subprocess.DEVNULL,
                           check=True, timeout=1800)
        wh = r.fresh(d)
        full = r.destination(d, "full", wh, dedup_catalog(stream, 1), full_in, dest_cfg)
        st = _json(os.path.join(d, "state.json"), states(full["stdout"]))
        log(f"incremental: {n} time entries: source read from the echoed state, destination incremental sync")
        cat2 = _json(os.path.join(d, "source-catalog-2.json"), dedup_catalog(stream, 2))  # a new sync: a new sync_id
        with open(incr_in, "wb") as so:
            subprocess.run([r.src, "read", "--config", src_cfg, "--catalog", cat2, "--state", st], stdout=so,
                           stderr=subprocess.DEVNULL, check=True, timeout=1800)
    out = r.incremental(d, wh, stream, full, incr_in, dest_cfg, upsert)
    out["time_entries"] = n
    for p in (full_in, incr_in):
        os.remove(p)
    return out, stream


# --- a growing history at a constant weekly rate (generated input) --------------------------------

WEEK = 7 * 86400
END = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
MEMBERS = 10


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(u: int, i: int, start: float, rng: random.Random, edited: bool) -> dict:
    dur = 900 + rng.randrange(4 * 3600)
    return {
        "id": f"{int(start):08x}{u:04x}{i:012x}",
        "description": ("edited " if edited else "") + f"work item {i % 97}",
        "userId": f"{0x5f000000 + u:08x}{u:016x}", "workspaceId": "5e00000000000000000000aa",
        "projectId": f"5e0000000000000000000{rng.randrange(8):03x}", "taskId": None,
        "tagIds": [f"5e00000000000000000{rng.randrange(10):05x}"] if i % 3 else [],
        "billable": bool(i % 2), "isLocked": False, "kioskId": None, "type": "REGULAR",
        "timeInterval": {"start": _iso(start), "end": _iso(start + dur), "duration": f"PT{dur // 60}M"},
        "customFieldValues": [], "hourlyRate": {"amount": 5000, "currency": "EUR"},
        "costRate": {"amount": 2500, "currency": "EUR"}, "approvalRequestId": None,
    }


def generate(path: str, years: int, per_week: int, window_days: int = 0) -> int:
    """The source's output for one team: MEMBERS members, per_week entries a week spread evenly over
    `years` years ending at END, newest first per member; window_days > 0 writes only the entries of
    the last window_days (edited), as an incremental read with that lookback would. Ends with a STATE."""
    span = years * 365 * 86400
    per_member = per_week * years * 365 // 7 // MEMBERS
    step = span / per_member
    end = END.timestamp()
    n = 0
    emitted = int(end * 1000)
    with open(path, "w", encoding="utf-8") as f:
        for u in range(MEMBERS):
            rng = random.Random(u)
            for i in range(per_member - 1, -1, -1):
                start = end - span + i * step + u * 37
                if window_days and start < end - window_days * 86400:
                    break
                rec = {"type": "RECORD", "record": {"stream": "time_entries", "data": _entry(u, i, start, rng, window_days > 0),
                                                    "emitted_at": emitted}}
                f.write(json.dumps(rec, separators=(",", ":")) + "\n")
                n += 1
        f.write(json.dumps({"type": "STATE", "state": {"type": "STREAM", "stream": {
            "stream_descriptor": {"name": "time_entries"}, "stream_state": {"generated": True}}}}) + "\n")
    return n


def history(r: Runner, stream: dict, years_list: tuple, per_week: int, dest_cfg: dict) -> dict:
    out = {}
    for years in years_list:
        d = r.b.rundir("runs", f"incremental-history-{years}y")
        full_in = os.path.join(r.b.rundir("inputs"), f"history-full-{years}.jsonl")
        incr_in = os.path.join(r.b.rundir("inputs"), f"history-incr-{years}.jsonl")
        n = generate(full_in, years, per_week)
        k = generate(incr_in, years, per_week, window_days=7)
        log(f"incremental: history {years} year(s): {n} entries, incremental re-reads {k}")
        wh = r.fresh(d)
        full = r.destination(d, "full", wh, dedup_catalog(stream, 1), full_in, dest_cfg)
        res = r.incremental(d, wh, stream, full, incr_in, dest_cfg, upsert=False)
        res.update({"years": years, "entries": n, "per_week": per_week})
        out[str(years)] = res
        for p in (full_in, incr_in):
            os.remove(p)
    return out


# --- adversarial but legal input (issue 14 item 6): peak RSS of the destination ----------------

ITEMS_SCHEMA = {"type": "object", "properties": {"id": {"type": "string"}, "v": {"type": ["null", "string"]},
                                                   "ts": {"type": ["null", "integer"]}}}


def _items_schema(values: int) -> dict:
    props = dict(ITEMS_SCHEMA["properties"])
    props.update({f"v{i}": {"type": ["null", "string"]} for i in range(1, values)})
    return {"type": "object", "properties": props}


def _items_catalog(mode: str, values: int = 1) -> dict:
    stream = {"name": "items", "json_schema": _items_schema(values), "supported_sync_modes": ["full_refresh", "incremental"],
              "source_defined_primary_key": [["id"]]}
    return {"streams": [{"stream": stream, "sync_mode": "incremental", "destination_sync_mode": mode,
                         "primary_key": [["id"]] if mode == "append_dedup" else [], "cursor_field": ["ts"] if mode == "append_dedup" else [],
                         "generation_id": 1, "minimum_generation_id": 0, "sync_id": 1}]}


def _items(path: str, n: int, width: int, values: int = 1) -> None:
    pad = "x" * width
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            data = {"id": f"k{i:09d}", "v": pad, "ts": i}
            data.update({f"v{j}": pad for j in range(1, values)})
            f.write(json.dumps({"type": "RECORD", "record": {"stream": "items", "emitted_at": 1,
                                                              "data": data}}, separators=(",", ":")) + "\n")
        f.write(json.dumps({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "items"},
                                                                                      "stream_state": {"n": n}}}}) + "\n")


def adversarial(r: Runner, cases: tuple) -> dict:
    out = {}
    for label, n, width, mode, *more in cases:
        values = more[0] if more else 1
        d = r.b.rundir("runs", f"adversarial-{label}")
        path = os.path.join(r.b.rundir("inputs"), f"adversarial-{label}.jsonl")
        _items(path, n, width, values)
        wh = r.fresh(d)
        log(f"incremental: adversarial input {label}: {n} records of {values} × {width} bytes, {mode}")
        res = r.destination(d, label, wh, _items_catalog(mode, values), path, {})
        res.pop("before", None)
        res.update({"label": label, "records": n, "width": width, "values": values, "mode": mode})
        out[label] = res
        os.remove(path)
        shutil.rmtree(wh, ignore_errors=True)
    return out


def run(bench) -> None:
    p = bench.plan
    r = Runner(bench)
    dest_cfg = {}
    sec = {"sizes": {}, "history": {}, "config": dest_cfg}
    stream = None
    for n in p.incremental_sizes:
        res, stream = simulated(r, n, dest_cfg, upsert=True)
        sec["sizes"][str(n)] = res
    if stream is not None:
        sec["history"] = history(r, stream, p.history_years, p.history_per_week, dest_cfg)
    sec["adversarial"] = adversarial(r, p.adversarial)
    bench.results["sections"]["incremental"] = sec
    baseline = os.environ.get("BENCH_INCREMENTAL_BASELINE")
    if baseline:
        # Keeps this run as the "before" column (the code before issue 10), outside results.json.
        with open(baseline, "w", encoding="utf-8") as f:
            json.dump({"machine": bench.results.get("machine"), "plan": p.name, "section": sec}, f, indent=1, default=str)


# --- BENCHMARKS.md -----------------------------------------------------------------------------

def _baseline() -> dict | None:
    try:
        with open(BASELINE, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _mb(b) -> str:
    return "n/a" if b is None else f"{b / 1e6:.2f} MB"


def report(rep) -> None:
    """Section 7 of BENCHMARKS.md: this run ("now"), the baseline run of the code before issue 10
    ("before", bench/incremental_before.json) and PyIceberg's upsert."""
    from .report import fx, table

    rep.p("## Incremental dedup syncs: what an incremental sync costs (issue 10)\n")
    sec = rep.s.get("incremental")
    base = (_baseline() or {}).get("section")
    if sec is None and base is None:
        rep.p("_Not run in this session._\n")
        return
    if sec and "error" in sec:
        rep.p(f"**This section failed:** `{sec['error']}`\n")
        sec = None
    rep.p("A full sync of `time_entries` into `append_dedup` (simulator `--preset scaled --time-entries N --rps 0`, "
          "the source's output captured to a file), then an incremental sync from the state the destination echoed "
          "(7-day lookback): only `destination-iceberg write` is measured, under GNU time. Bytes and files come from "
          "the summaries of the snapshots each sync added; **write amplification** = bytes the incremental sync wrote "
          "/ (rows it re-read × compressed bytes per row of the table before it). *before* is the same harness run on "
          "the code before issue 10 (copy-on-write over the whole table; `bench/incremental_before.json`); "
          "*now* is this run. PyIceberg `Table.upsert` (`bench/pyiceberg_upsert.py`) upserts the same re-read rows "
          "into the table the full sync left (main is then set back, and our incremental sync runs on that same "
          "table). The machine is shared: times are noisy.\n")
    runs = [("before", base), ("now", sec)] if base is not None else [("now", sec)]
    rows = []
    for label, s in runs:
        if not s:
            continue
        for n, x in sorted(s.get("sizes", {}).items(), key=lambda kv: int(kv[0])):
            f, i = x["full"], x["incremental"]
            rows.append([f"{int(n):,}", label, f"{fx(f['wall_s'])} s / {fx(f['peak_rss_mib'])} MiB",
                         fx(x.get("reread_rows")), f"{fx(i['wall_s'], 2)} s", _mb(i.get("bytes_written")),
                         _mb(i.get("bytes_removed")), fx(i.get("files_touched")), f"{fx(i['peak_rss_mib'])} MiB",
                         fx(x.get("amplification"))])
            up = x.get("pyiceberg_upsert")
            if up and label == "now" or (up and base is None) or (up and label == "before" and sec is None):
                rows.append([f"{int(n):,}", f"PyIceberg upsert on the {label} table", "", fx(x.get("reread_rows")),
                             f"{fx(up['wall_s'], 2)} s" + ("" if up.get("exit") == 0 else f" (exit {up.get('exit')})"),
                             _mb(up.get("bytes_written")), _mb(up.get("bytes_removed")), fx(up.get("files_touched")),
                             f"{fx(up['peak_rss_mib'])} MiB", fx(up.get("amplification"))])
    rep.p(table(["time entries", "code", "full sync: wall / peak RSS", "re-read rows", "incremental: wall",
                 "bytes written", "bytes removed", "files touched", "peak RSS", "write amplification"], rows), "")
    hrows = []
    for label, s in runs:
        if not s:
            continue
        for y, x in sorted(s.get("history", {}).items(), key=lambda kv: int(kv[0])):
            i = x["incremental"]
            hrows.append([f"{y} year{'s' if int(y) > 1 else ''}", label, fx(x.get("entries")), fx(x.get("reread_rows")),
                          _mb(i.get("bytes_written")), fx(i.get("files_touched")), f"{fx(i['wall_s'], 2)} s",
                          f"{fx(i['peak_rss_mib'])} MiB", fx(x.get("amplification"))])
    if hrows:
        rep.p("The same team over a longer history: generated input (10 members, a constant number of entries a week, "
              "the incremental sync re-reads the last 7 days, edited), full sync then incremental sync:\n")
        rep.p(table(["history", "code", "entries", "re-read rows", "bytes written", "files touched", "wall", "peak RSS",
                     "write amplification"], hrows), "")
    arows = []
    for label, s in runs:
        for k, x in (s or {}).get("adversarial", {}).items():
            per = f"{x['values']} × " if x.get("values", 1) > 1 else ""
            arows.append([k, label, f"{fx(x['records'])} × {per}{fx(x['width'])} B", x["mode"], fx(x["exit"]), f"{fx(x['wall_s'], 1)} s",
                          f"{fx(x['peak_rss_mib'])} MiB"])
    if arows:
        rep.p("Adversarial but legal input (issue 14 item 6), one stream, one STATE at the end: the destination's peak RSS "
              "(goal < 512 MiB):\n")
        rep.p(table(["input", "code", "records × size", "mode", "exit", "wall", "peak RSS"], arows), "")
    plot(rep, runs)
    rep.img("incremental.png", "incremental")
    for label, s in runs:
        if label != "now" or not s:
            continue
        for n, x in s.get("sizes", {}).items():
            a = x.get("amplification")
            if a is not None and a > 10:
                rep.shortfalls.append(f"incremental dedup sync at {int(n):,} time entries: write amplification {fx(a)} (goal ≤ 10)")
            for k in ("full", "incremental"):
                if x[k]["peak_rss_mib"] >= 512:
                    rep.shortfalls.append(f"{k} dedup sync at {int(n):,} time entries: peak RSS {fx(x[k]['peak_rss_mib'])} MiB (goal < 512 MiB)")
        for k, x in s.get("adversarial", {}).items():
            if x["peak_rss_mib"] >= 512 or x["exit"] != 0:
                rep.shortfalls.append(f"adversarial input {k}: exit {x['exit']}, peak RSS {fx(x['peak_rss_mib'])} MiB (goal < 512 MiB)")


def plot(rep, runs: list) -> None:
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    styles = {"before": ("s--", "#d62728"), "now": ("o-", "#1f77b4")}
    for label, s in runs:
        if not s:
            continue
        st, color = styles[label]
        sz = sorted(s.get("sizes", {}).items(), key=lambda kv: int(kv[0]))
        if sz:
            a1.plot([int(n) for n, _ in sz], [x.get("amplification") or 0 for _, x in sz], st, color=color, label=f"destination-iceberg ({label})")
        if label == runs[-1][0]:
            up = [(int(n), x["pyiceberg_upsert"].get("amplification")) for n, x in sz if x.get("pyiceberg_upsert")]
            up = [(n, a) for n, a in up if a is not None]
            if up:
                a1.plot([n for n, _ in up], [a for _, a in up], "^:", color="#2ca02c", label=f"PyIceberg upsert ({label} table)")
        hs = sorted(s.get("history", {}).items(), key=lambda kv: int(kv[0]))
        if hs:
            a2.plot([int(y) for y, _ in hs], [x.get("amplification") or 0 for _, x in hs], st, color=color, label=f"destination-iceberg ({label})")
    for ax in (a1, a2):
        ax.axhline(10, color="k", ls=":", lw=1, label="goal: 10")
        ax.set_yscale("log")
        ax.set_ylabel("write amplification")
        ax.legend(fontsize=8)
    a1.set_xscale("log")
    from matplotlib.ticker import NullFormatter

    a1.xaxis.set_minor_formatter(NullFormatter())
    a1.set_xlabel("time entries in the table")
    a1.set_title("incremental sync (7-day lookback) by table size", fontsize=10)
    a2.set_xlabel("years of history (same weekly change)")
    a2.set_title("incremental sync by length of history", fontsize=10)
    rep.save(fig, "incremental.png")
