"""Section "faults" (issue 14): bench/faultbench kills destination-iceberg with SIGKILL at random
moments of append, overwrite, append_dedup and overwrite_dedup syncs, retries each one (resume or re-send) and
counts rows lost, duplicated and stale, and the orphan files the kills left. `make faults` runs the
same program on its own."""

from __future__ import annotations

import json
import os
import subprocess

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
ROOT = os.path.dirname(HERE)

TRIALS = {"full": 32, "quick": 8}


def run(bench) -> dict:
    trials = TRIALS.get(bench.plan.name, 8)
    out = os.path.join(bench.rundir("runs", "faults"), "faults.json")
    argv = ["go", "run", "./bench/faultbench", "-bin", bench.bin, "-trials", str(trials), "-json", out]
    p = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if not os.path.exists(out):
        raise RuntimeError(f"faultbench exited {p.returncode} without results: {(p.stderr or p.stdout)[-800:]}")
    with open(out, encoding="utf-8") as f:
        res = json.load(f)
    res["exit"] = p.returncode
    res["argv"] = ["go", "run", "./bench/faultbench", "-bin", "$WORK/bin", "-trials", str(trials)]
    res["stdout_tail"] = p.stdout[-3000:]
    return res


def report(r) -> None:
    sec = r.s.get("faults")
    r.p("## Faults: SIGKILL of the destination, then a retry (issue 14)\n")
    if r.failed("faults"):
        return
    trials = sec.get("trials", [])
    by = {}
    for t in trials:
        k = (t["mode"], t["retry"])
        a = by.setdefault(k, {"n": 0, "lost": 0, "dup": 0, "stale": 0, "partial": 0, "orphans": 0, "finished": 0})
        a["n"] += 1
        a["lost"] += t["rows_lost"]
        a["dup"] += t["rows_duplicated"]
        a["stale"] += t["rows_stale"]
        a["partial"] += int(t["main_partial_after_kill"])
        a["orphans"] += t["orphan_files"]
        a["finished"] += int(t["finished_before_kill"])
    rows = [[m, rt, a["n"], a["finished"], a["lost"], a["dup"], a["stale"], a["partial"], a["orphans"]]
            for (m, rt), a in sorted(by.items())]
    r.p(f"`{' '.join(sec['argv'])}`: {len(trials)} trials of {sec['records_per_sync']} records per sync "
        f"(a STATE every {sec['state_every']}, `flush_records` {sec['flush_records']}, seed {sec['seed']}); each kill at a "
        "random record and a random moment up to 0.4 s later, while the destination converts, writes or commits; each "
        "retry resumes from the last echoed state or sends everything again. Rows are read back with iceberg-go; "
        "\"stale\" counts rows of the old generation or an older version after the retry, \"main partial\" trials in "
        "which main showed anything but the previous generation between the kill and the retry. Orphans are files no "
        "metadata references (table maintenance removes them). "
        f"Took {sec.get('seconds', 0):.0f} s.\n")
    from .report import table  # late import: report imports this module
    r.p(table(["mode", "retry", "trials", "finished before the kill", "rows lost", "rows duplicated", "rows stale",
               "main partial", "orphan files"], rows), "")
    r.p(f"Total: {sec['rows_lost']} rows lost, {sec['rows_duplicated']} duplicated, {sec['rows_stale']} stale, "
        f"{sec['trials_main_partial']} partial views of main; {sec['orphan_files']} orphan files "
        f"({sec['orphan_bytes'] / 1024:.1f} KiB).\n")
    if sec["rows_lost"] or sec["rows_duplicated"] or sec["rows_stale"] or sec["trials_main_partial"]:
        r.losses.append(f"faults: {sec['rows_lost']} rows lost, {sec['rows_duplicated']} duplicated, "
                        f"{sec['rows_stale']} stale after retried kills (goal 0)")
