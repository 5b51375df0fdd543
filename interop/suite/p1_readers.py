"""Part 1: independent readers. A full demo sync (simulator demo preset → source-clockify read →
destination-iceberg write on the embedded default: SQLite catalog in a local warehouse), then
PyIceberg loads every table from the SQLite catalog and reads every row, DuckDB queries the same
rows, and every row must equal the record the source emitted, field by field after the documented
type mapping, with row counts equal to the simulator's ground truth. A second sync then exercises
the other modes (incremental dedup re-reading its lookback window, append, overwrite = truncate
refresh, full-refresh append_dedup, overwrite_dedup) and PyIceberg and DuckDB read those tables
too."""

from __future__ import annotations

import datetime as dt
import os
import time
import urllib.request
from collections import Counter
from pathlib import Path

from pyiceberg.expressions import In

from harness import (NAMESPACE, SABOTAGE, WORK, Checks, PartFailed, configure, dest_write, first_data_file, java_check, parse_instant,
                     pk_value, say, source_read, states_from, verify_sync, write_json)
import shared


def sql_catalog(warehouse: Path):
    from pyiceberg.catalog.sql import SqlCatalog

    return SqlCatalog("airbyte", uri=f"sqlite:///{warehouse / 'catalog.db'}", warehouse=f"file://{warehouse}")


def change_entries(d) -> tuple[list[str], tuple[str, str]]:
    """Deletes three time entries of the lookback window (7 days before each member's newest) through
    the simulator's admin route, and moves a fourth an hour later; returns their ids and the move."""
    newest: dict[tuple, dt.datetime] = {}
    recs = [r["data"] for r in d.read.records.get("time_entries", [])]
    for r in recs:
        k = (r["workspaceId"], r["userId"])
        t = parse_instant(r["timeInterval"]["start"])
        newest[k] = max(newest.get(k, t), t)
    window = [r for r in recs if newest[(r["workspaceId"], r["userId"])] - dt.timedelta(days=7) <= parse_instant(r["timeInterval"]["start"])
              < newest[(r["workspaceId"], r["userId"])] and r["timeInterval"].get("end")]
    window.sort(key=lambda r: r["id"])
    if len(window) < 4:
        raise PartFailed(f"only {len(window)} time entries in the lookback windows of the demo preset")
    gone, mv = window[:3], window[3]

    def admin(path: str) -> None:
        req = urllib.request.Request(d.sim.url + path, method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()

    for r in gone:
        admin(f"/_sim/time-entries/delete?workspace={r['workspaceId']}&id={r['id']}")
    to = (parse_instant(mv["timeInterval"]["start"]) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    admin(f"/_sim/time-entries/move?workspace={mv['workspaceId']}&id={mv['id']}&start={to}")
    return [r["id"] for r in gone], (mv["id"], to)


def tagged(records: dict[str, list[dict]], gen: int) -> dict[str, list[dict]]:
    return {k: [dict(r, _gen=gen) for r in v] for k, v in records.items()}


def duckdb_nested(chk: Checks, table, records: list[dict]) -> None:
    """DuckDB SQL on the nested field timeInterval.start of the time entries (PyIceberg's Arrow, delete
    files applied): entries per month and the earliest start, against the last version of each record."""
    import datetime as dt
    import duckdb

    from harness import parse_instant

    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.register("t", table.scan().to_arrow())
    typed = "struct" in str(table.schema().find_field("timeInterval").field_type)
    start = '"timeInterval".start' if typed else "CAST(json_extract_string(\"timeInterval\", '$.start') AS TIMESTAMPTZ)"
    got = {m: (n, first) for m, n, first in con.execute(
        f"SELECT strftime({start}, '%Y-%m') AS m, count(*), min({start}) FROM t GROUP BY 1").fetchall()}
    want: dict = {}
    for r in {r["data"]["id"]: r for r in records}.values():
        if r["data"].get("_ab_cdc_deleted_at") is not None:
            continue  # a tombstone: the key has no row
        s = (r["data"].get("timeInterval") or {}).get("start")
        t = parse_instant(s).astimezone(dt.timezone.utc) if s else None
        w = want.setdefault(t.strftime("%Y-%m") if t else None, [0, None])
        w[0] += 1
        if t and (w[1] is None or t < w[1]):
            w[1] = t
    ok = chk.check({m: n for m, (n, _) in got.items()} == {m: n for m, (n, _) in want.items()},
                   f"DuckDB: entries per month of {start} differ from the records")
    for m, (n, first) in want.items():
        if m in got and first is not None:
            ok &= chk.check(got[m][1] == first, f"DuckDB: earliest {start} in {m} is {got[m][1]}, the records say {first}")
    if ok:
        say(f"  DuckDB SQL on {start} agrees with the records ({len(got)} months)")
    chk.count("DuckDB queries on a nested field")


def run(chk: Checks) -> None:
    d = shared.demo()
    base = WORK / "p1"
    warehouse = base / "warehouse"
    dst_cfg = write_json(base / "destination.json", {"warehouse": str(warehouse)})

    t0 = time.time()
    w1 = dest_write(dst_cfg, d.cat_path, d.source_stdout())
    say(f"  sync 1: destination-iceberg write of {sum(d.read.count().values())} records into "
        f"{len(d.configured['streams'])} tables took {time.time() - t0:.1f}s (embedded SQLite catalog, {warehouse})")
    cat = sql_catalog(warehouse)
    tables = sorted(t[1] for t in cat.list_tables(NAMESPACE))
    chk.check(len(tables) == len(d.configured["streams"]),
              f"SQLite catalog lists {len(tables)} tables in {NAMESPACE}, want {len(d.configured['streams'])}")
    say(f"  PyIceberg SqlCatalog lists {len(tables)} tables: {', '.join(tables)}")

    if SABOTAGE:
        victim = first_data_file(cat.load_table((NAMESPACE, "tasks")))
        os.remove(victim.removeprefix("file://"))
        say(f"  self-test: removed data file {victim} of {NAMESPACE}.tasks")
        chk.sabotaged(f"{NAMESPACE}.tasks: PyIceberg could not read")
        mlist = cat.load_table((NAMESPACE, "tags")).current_snapshot().manifest_list
        os.remove(mlist.removeprefix("file://"))
        say(f"  self-test: removed the manifest list {mlist} of {NAMESPACE}.tags")
        chk.sabotaged("sync 1: Iceberg Java failed", f"{NAMESPACE}.tags: PyIceberg could not read")

    expected1 = tagged(d.read.records, 1)
    if SABOTAGE:
        # The comparison itself must notice one changed field of one record.
        rec = expected1["projects"][0]
        rec["data"] = dict(rec["data"], name=str(rec["data"].get("name")) + " (sabotaged)")
        say(f"  self-test: changed the name of project {rec['data']['id']} in the expected records")
        chk.sabotaged("clockify.projects: row", "clockify.projects (DuckDB): row")
    for name, n in sorted(d.read.count().items()):
        chk.check(n == d.truth.get(name), f"source emitted {n} {name} records, ground truth is {d.truth.get(name)}")
    # A source-defined primary key must identify one record: a user who picks append_dedup (offered
    # for every stream with a key) would otherwise lose rows.
    for s in d.catalog["streams"]:
        pk = s.get("source_defined_primary_key") or []
        recs = d.read.records.get(s["name"], [])
        if pk and recs:
            keys = Counter(pk_value(r["data"], pk) for r in recs)
            dup = {k: n for k, n in keys.items() if n > 1}
            chk.check(not dup, f"{s['name']}: source_defined_primary_key {pk} is not unique: {len(dup)} key(s) on several "
                               f"records, e.g. {next(iter(dup), None)} x{next(iter(dup.values()), 0)}; append_dedup would keep "
                               f"{len(keys)} of {len(recs)} rows")
            chk.count("streams whose primary key is unique among their records", 0 if dup else 1)
    verify_sync(chk, cat, NAMESPACE, d.configured, expected1, d.truth, truth_ids=d.truth_ids)
    java_props = {"name": "airbyte", "catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
                  "uri": f"jdbc:sqlite:file:{warehouse / 'catalog.db'}", "warehouse": f"file://{warehouse}"}
    java_check(chk, "sync 1", NAMESPACE, java_props, {s["stream"]["name"]: d.truth[s["stream"]["name"]]
                                                      for s in d.configured["streams"]})

    # Sync 2: every other mode the destination supports, read back by PyIceberg.
    modes = {"time_entries": ("incremental", "append_dedup"), "tags": ("full_refresh", "append"),
             "clients": ("full_refresh", "overwrite"), "groups": ("full_refresh", "append_dedup"),
             "projects": ("full_refresh", "overwrite_dedup")}
    configured2 = configure({"streams": [s for s in d.catalog["streams"] if s["name"] in modes]},
                            generation=2, sync_id=2, modes=modes)
    cat2_path = write_json(base / "configured_catalog_2.json", configured2)
    state_path = write_json(base / "state.json", states_from(w1))
    # Between the syncs, users delete a few entries of the lookback window and move another one
    # within it: sync 2 must emit tombstones for the first and the new start for the last.
    deleted, moved = change_entries(d)
    say(f"  between the syncs: deleted time entries {deleted}; moved {moved[0]} to {moved[1]}")
    read2 = source_read(d.src_cfg, cat2_path, state=state_path)
    w2 = dest_write(dst_cfg, cat2_path, read2.run.stdout)
    counts2 = read2.count()
    say(f"  sync 2 (generation 2, state from sync 1): source re-read {counts2}; modes "
        + ", ".join(f"{k} {v[0]}+{v[1]}" for k, v in modes.items()))
    chk.check(w2.rc == 0, "sync 2 write failed")
    chk.check(0 < counts2.get("time_entries", 0) < d.truth["time_entries"],
              f"incremental sync 2 re-read {counts2.get('time_entries', 0)} time entries; want some but fewer than "
              f"{d.truth['time_entries']} (state not honoured, or no lookback)")

    both = tagged(d.read.records, 1)
    for k, v in tagged(read2.records, 2).items():
        both[k] = both.get(k, []) + v
    records2 = {k: (both[k] if modes[k][1] in ("append", "append_dedup") else [dict(r, _gen=2) for r in read2.records.get(k, [])])
                for k in modes}

    tomb = sorted(r["data"]["id"] for r in read2.records.get("time_entries", []) if r["data"].get("_ab_cdc_deleted_at"))
    chk.check(tomb == sorted(deleted), f"sync 2 emitted tombstones for {tomb}, want the deleted {sorted(deleted)}")
    new_start = [r["data"]["timeInterval"]["start"] for r in read2.records.get("time_entries", []) if r["data"]["id"] == moved[0]]
    chk.check(bool(new_start) and parse_instant(new_start[-1]) == parse_instant(moved[1]),
              f"sync 2 emitted the moved entry {moved[0]} with starts {new_start}, want {moved[1]}")
    truth2 = d.sim.truth()

    def expected(name: str, mode: str) -> int:
        return 2 * d.truth[name] if mode == "append" else truth2[name]

    cat = sql_catalog(warehouse)
    verify_sync(chk, cat, NAMESPACE, configured2, records2, d.truth, expected=expected, label="sync 2: ")
    java_check(chk, "sync 2", NAMESPACE, java_props,
               {s["stream"]["name"]: (expected(s["stream"]["name"], modes[s["stream"]["name"]][1])
                                      if s["stream"]["name"] in modes else d.truth[s["stream"]["name"]])
                for s in d.configured["streams"]})
    te = cat.load_table((NAMESPACE, "time_entries"))
    left = te.scan(row_filter=In("id", deleted + [moved[0]]), selected_fields=("id", "timeInterval")).to_arrow().to_pylist()
    chk.check(sorted(r["id"] for r in left) == [moved[0]],
              f"time_entries after sync 2 holds {sorted(r['id'] for r in left)} of the deleted {deleted} and moved {moved[0]}")
    chk.count("deleted time entries gone from the dedup table", len(deleted))
    files = te.inspect.files().to_pylist()
    kinds = {0: 0, 1: 0, 2: 0}
    for f in files:
        kinds[f["content"]] = kinds.get(f["content"], 0) + 1
    say(f"  time_entries after sync 2: {kinds[0]} data files, {kinds[1]} position-delete files, "
        f"{kinds[2]} equality-delete files, {len(te.history())} snapshots")
    # Snowflake cannot read equality deletes; the destination dedups with position deletes.
    chk.check(kinds[2] == 0, f"time_entries has {kinds[2]} equality-delete files")
    duckdb_nested(chk, te, records2["time_entries"])
    chk.count("sync-mode tables read after sync 2", len(modes))
