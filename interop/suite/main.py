"""Runs the interop parts in order. Each part prints what it checked and one PASS/FAIL line.

usage: main.py RESULTS_FILE [PART ...]
With INTEROP_SABOTAGE=1 (run.sh --self-test) every part first breaks its own subject (a data file
removed, a message field's type changed, ...) and the part is expected to FAIL; main.py then
reports a part as "detected" when it failed.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")  # PyAirbyte: no registry or telemetry calls
os.environ.setdefault("DO_NOT_TRACK", "1")

from harness import SABOTAGE, Checks, PartFailed, say  # noqa: E402
import shared  # noqa: E402

PARTS = [
    ("p0_infra", "0 infrastructure: PyIceberg round trip through every catalog, protocol models, PyAirbyte"),
    ("p1_readers", "1 independent readers (PyIceberg, DuckDB) after a full demo sync"),
    ("p2_protocol", "2 Airbyte protocol models and draft-07 record validation"),
    ("p3_pyairbyte", "3 PyAirbyte runs source-clockify into its default DuckDB cache"),
    ("p4_rest", "4 Iceberg REST catalog (Apache fixture jar)"),
    ("p5_s3_glue", "5 S3 and Glue on moto server"),
    ("p6_postgres", "6 PostgreSQL SQL catalog, two concurrent destination processes"),
    ("p7_oddities", "7 odd names and values read back by PyIceberg, DuckDB's Parquet reader and Iceberg Java"),
    ("p8_gcs_azure", "8 GCS (fake-gcs-server) and Azure (Azurite) storage, SAS token"),
    ("p9_spark", "9 Apache Spark 3.5 reads every table (SQLite JDBC catalog, REST fixture), nested-field SQL"),
    ("p10_maintenance", "10 table maintenance (maintain, then a sync with maintenance on): SQLite + local, REST fixture (local, S3), SQLite + S3 on moto"),
]


def main() -> int:
    results_file = Path(sys.argv[1])
    wanted = set(sys.argv[2:])
    results = []
    for mod_name, title in PARTS:
        if wanted and mod_name not in wanted and mod_name.split("_")[0] not in wanted:
            continue
        say(f"=== part {title}" + (" [self-test: sabotaged]" if SABOTAGE else ""))
        chk = Checks(mod_name)
        t0 = time.time()
        err = None
        try:
            mod = importlib.import_module(mod_name)
            mod.run(chk)
        except PartFailed as e:
            err = str(e)
        except Exception as e:  # noqa: BLE001 - an unexpected error fails the part, with its trace
            err = f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=6)}"
        secs = time.time() - t0
        if err:
            chk.failures.append(err)
            say(f"  ERROR: {err}")
        for k, v in chk.counted.items():
            say(f"  checked: {v} {k}")
        ok = not chk.failures
        if SABOTAGE:
            missing = [m for m in chk.sabotage_markers if not any(m in f for f in chk.failures)]
            detected = not ok and bool(chk.sabotage_markers) and not missing
            if not ok and missing:
                say(f"  self-test: the part failed, but not on its sabotage (no failure mentions {missing})")
            say(f"{'PASS' if detected else 'FAIL'} self-test part {title}: "
                f"{'the sabotage was detected' if detected else 'the sabotage went UNNOTICED'} ({secs:.1f}s)")
            results.append({"part": mod_name, "ok": detected})
        else:
            say(f"{'PASS' if ok else 'FAIL'} part {title} ({secs:.1f}s"
                f"{'' if ok else f', {len(chk.failures)} failure(s)'})")
            results.append({"part": mod_name, "ok": ok})
    shared.close()
    results_file.write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
