"""Part 10: table maintenance (issue 11) on four catalog/storage pairs: SQLite catalog + local
warehouse, the Apache Iceberg REST fixture with a local warehouse and with an S3 warehouse on moto,
and SQLite catalog + S3 on moto.

For each, six syncs with maintenance off pile up files: an append_dedup stream (merge-on-read, so
every sync after the first adds position delete files) with new keys, updates and
`_ab_cdc_deleted_at` tombstones, and an overwrite stream with a new generation per sync. PyIceberg
reads every row of both tables; then `destination-iceberg maintain --json` runs with a short
retention (keep 2 snapshots, no history, compact from 2 small files, fold every delete file in).
Afterwards, through the same catalog: PyIceberg's rows are identical to before (every column, by
_airbyte_raw_id) and equal the records' model (the last version per key, tombstoned keys gone;
the last generation); the table has no delete file; the snapshots are down to the retention; the
report's after-figures are PyIceberg's; every file any retained snapshot references (data and
delete files, manifests, manifest lists) exists on the storage; DuckDB's own Parquet reader on the
current data files alone (no delete file to apply) returns exactly the live rows. A seventh sync,
with maintenance on (the automatic path after a sync), must then read back as its model with no
delete file left either."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, Callable

from harness import (SABOTAGE, WORK, Checks, PartFailed, binary, run_ok, say, table_columns, to_micros, verify_rows,
                     write_json)
import shared

SYNCS = 6
RETENTION = {"keep_snapshots": 2, "keep_history_hours": 0, "min_small_files": 2, "delete_files_per_file": 1}
DEDUP, OVERWRITE = "entries", "projects"
DT = {"type": ["null", "string"], "format": "date-time"}
SCHEMAS = {
    DEDUP: {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": ["null", "string"]}, "hours": {"type": ["null", "number"]},
        "billable": {"type": ["null", "boolean"]}, "updated_at": DT, "_ab_cdc_deleted_at": DT,
        "detail": {"type": ["null", "object"], "properties": {"v": {"type": ["null", "integer"]},
                                                              "note": {"type": ["null", "string"]}}}}},
    OVERWRITE: {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": ["null", "string"]}, "gen": {"type": ["null", "integer"]}}},
}


def catalog(sync: int) -> dict:
    return {"streams": [
        {"stream": {"name": DEDUP, "json_schema": SCHEMAS[DEDUP], "supported_sync_modes": ["full_refresh", "incremental"],
                    "source_defined_cursor": True, "default_cursor_field": ["updated_at"],
                    "source_defined_primary_key": [["id"]]},
         "sync_mode": "incremental", "destination_sync_mode": "append_dedup", "cursor_field": ["updated_at"],
         "primary_key": [["id"]], "generation_id": 1, "minimum_generation_id": 0, "sync_id": sync},
        {"stream": {"name": OVERWRITE, "json_schema": SCHEMAS[OVERWRITE], "supported_sync_modes": ["full_refresh"]},
         "sync_mode": "full_refresh", "destination_sync_mode": "overwrite", "primary_key": [["id"]],
         "generation_id": sync, "minimum_generation_id": sync, "sync_id": sync},
    ]}


def ts(day: int, sync: int) -> str:
    return (dt.datetime(2026, 1, 1, 8, tzinfo=dt.timezone.utc) + dt.timedelta(days=day, minutes=sync)).isoformat().replace("+00:00", "Z")


def sync_records(sync: int, deleted: set[int]) -> dict[str, list[dict]]:
    """Sync n's records: 12 new keys (the first three syncs in January, the rest in February, so
    two partitions), updates of 4 earlier live keys and, from sync 3, a tombstone of one of them."""
    emitted = 1_700_000_000_000 + sync * 60_000
    day = (sync - 1) * 9
    ent = []
    for i in range(12):
        k = (sync - 1) * 12 + i + 1
        ent.append({"id": k, "name": f"entry {k}", "hours": k / 4, "billable": k % 2 == 0, "updated_at": ts(day, sync),
                    "_ab_cdc_deleted_at": None, "detail": {"v": k, "note": f"sync {sync}"}})
    earlier = [k for k in range(1, (sync - 1) * 12 + 1) if k not in deleted]
    for k in earlier[sync::5][:4]:
        ent.append({"id": k, "name": f"entry {k} v{sync}", "hours": k / 4 + sync, "billable": True,
                    "updated_at": ts(day, sync), "_ab_cdc_deleted_at": None, "detail": {"v": -k, "note": None}})
    if sync >= 3 and earlier:
        k = earlier[(sync * 7) % len(earlier)]
        ent.append({"id": k, "name": None, "hours": None, "billable": None, "updated_at": ts(day, sync),
                    "_ab_cdc_deleted_at": ts(day, sync), "detail": None})
        deleted.add(k)
    proj = [{"id": p, "name": f"project {p} gen {sync}", "gen": sync} for p in range(1, 4 + sync % 3)]
    return {name: [{"stream": name, "emitted_at": emitted, "data": d} for d in recs]
            for name, recs in ((DEDUP, ent), (OVERWRITE, proj))}


def input_lines(recs: dict[str, list[dict]], sync: int) -> bytes:
    out = []
    for name, rs in recs.items():
        out += [json.dumps({"type": "RECORD", "record": r}) for r in rs]
        out.append(json.dumps({"type": "STATE", "state": {"type": "STREAM", "stream": {
            "stream_descriptor": {"name": name}, "stream_state": {"sync": sync}}}}))
    return ("\n".join(out) + "\n").encode()


class Model:
    """What the tables must hold: every dedup record so far (verify_rows keeps the last version of a
    key and drops tombstoned keys) and the last overwrite generation."""

    def __init__(self) -> None:
        self.records: dict[str, list[dict]] = {DEDUP: [], OVERWRITE: []}
        self.deleted: set[int] = set()
        self.sync = 0

    def next(self) -> dict[str, list[dict]]:
        self.sync += 1
        recs = sync_records(self.sync, self.deleted)
        self.records[DEDUP] += [dict(r, _gen=1) for r in recs[DEDUP]]
        self.records[OVERWRITE] = [dict(r, _gen=self.sync) for r in recs[OVERWRITE]]
        return recs

    def live(self, name: str) -> int:
        if name == OVERWRITE:
            return len(self.records[OVERWRITE])
        last: dict[int, dict] = {}
        for r in self.records[DEDUP]:
            last[r["data"]["id"]] = r
        return sum(1 for r in last.values() if r["data"]["_ab_cdc_deleted_at"] is None)


def local_path(path: str) -> str:
    """A local path from file:///p, file:/p (Iceberg Java's spelling) or /p."""
    if path.startswith("file:"):
        path = path[5:]
        while path.startswith("//"):
            path = path[1:]
    return path


class Storage:
    """Reads the files a table references, on a local folder or S3 (moto). Paths compare in
    norm()'s spelling."""

    def __init__(self, s3=None) -> None:
        self.s3 = s3

    def norm(self, path: str) -> str:
        return path if path.startswith("s3://") else local_path(path)

    def exists(self, path: str) -> bool:
        if path.startswith("s3://"):
            bucket, key = path[5:].split("/", 1)
            try:
                self.s3.head_object(Bucket=bucket, Key=key)
                return True
            except self.s3.exceptions.ClientError:
                return False
        return os.path.exists(local_path(path))

    def parquet_under(self, location: str) -> set[str]:
        """The Parquet files under a table's location (norm() spelling)."""
        if location.startswith("s3://"):
            bucket, prefix = location[5:].split("/", 1)
            out, token = set(), None
            for _ in range(1000):  # bounded: 1000 pages of 1000 keys
                kw = {"ContinuationToken": token} if token else {}
                page = self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix.rstrip("/") + "/", **kw)
                out |= {f"s3://{bucket}/{o['Key']}" for o in page.get("Contents", []) if o["Key"].endswith(".parquet")}
                token = page.get("NextContinuationToken")
                if not token:
                    break
            return out
        return {os.path.join(d, f) for d, _, fs in os.walk(local_path(location)) for f in fs if f.endswith(".parquet")}

    def remove(self, path: str) -> None:
        if path.startswith("s3://"):
            bucket, key = path[5:].split("/", 1)
            self.s3.delete_object(Bucket=bucket, Key=key)
        else:
            os.remove(local_path(path))

    def local_copy(self, path: str, folder: Path) -> str:
        if not path.startswith("s3://"):
            return local_path(path)
        bucket, key = path[5:].split("/", 1)
        dst = folder / key.replace("/", "_")
        self.s3.download_file(bucket, key, str(dst))
        return str(dst)


def file_counts(tbl) -> tuple[int, int]:
    """(data files, delete files) of the current snapshot, by PyIceberg's files metadata table."""
    if tbl.current_snapshot() is None:
        return 0, 0
    content = tbl.inspect.files().column("content").to_pylist()
    return sum(1 for c in content if c == 0), sum(1 for c in content if c != 0)


def referenced_files(tbl) -> set[str]:
    """Every file a retained snapshot references: manifest lists, manifests, data and delete files."""
    out: set[str] = set()
    for snap in tbl.metadata.snapshots:
        out.add(snap.manifest_list)
        for m in snap.manifests(tbl.io):
            out.add(m.manifest_path)
            for e in m.fetch_manifest_entry(tbl.io, discard_deleted=True):
                out.add(e.data_file.file_path)
    return out


def read_rows(tbl) -> list[dict]:
    return sorted(tbl.scan().to_arrow().to_pylist(), key=lambda r: r["_airbyte_raw_id"])


def check_model(chk: Checks, label: str, cat, ns: str, model: Model, when: str) -> dict[str, list[dict]]:
    """Every row of both tables against the model; returns the rows by stream."""
    out = {}
    cfg = catalog(model.sync)
    for cs in cfg["streams"]:
        name = cs["stream"]["name"]
        try:
            tbl = cat.load_table((ns, name))
            rows = read_rows(tbl)
        except Exception as e:  # noqa: BLE001 - any reader error is a failure of this table
            chk.check(False, f"{label}{ns}.{name}: PyIceberg could not read the table {when}: {type(e).__name__}: {e}")
            continue
        verify_rows(chk, f"{label}{ns}.{name} {when}", rows, table_columns(tbl.schema()), cs["stream"]["json_schema"],
                    model.records[name], cs["primary_key"], cs["destination_sync_mode"] == "append_dedup",
                    cs["generation_id"], model.live(name))
        out[name] = rows
    return out


def variant(chk: Checks, label: str, base: Path, dst: dict, open_cat: Callable[[], Any], store: Storage) -> None:
    ns = dst["namespace"]
    off = dict(dst, maintenance={"enabled": False})
    cfg_off = write_json(base / "destination-off.json", off)
    model = Model()
    for _ in range(SYNCS):
        recs = model.next()
        cat_path = write_json(base / f"catalog-{model.sync}.json", catalog(model.sync))
        run_ok([binary("destination-iceberg"), "write", "--config", str(cfg_off), "--catalog", str(cat_path)],
               stdin=input_lines(recs, model.sync))
    cat = open_cat()
    before = check_model(chk, label, cat, ns, model, f"after {SYNCS} syncs")
    figures = {}
    for name in (DEDUP, OVERWRITE):
        tbl = cat.load_table((ns, name))
        figures[name] = (len(tbl.metadata.snapshots), *file_counts(tbl))
    say(f"  {label}{SYNCS} syncs, maintenance off: " + "; ".join(
        f"{n}: {s} snapshots, {d} data files, {x} delete files, {model.live(n)} rows" for n, (s, d, x) in figures.items()))
    chk.check(figures[DEDUP][2] > 0, f"{label}{ns}.{DEDUP} has no delete file before maintenance "
                                     "(merge-on-read updates should have written some): nothing to fold in")
    chk.check(all(s > RETENTION["keep_snapshots"] for s, _, _ in figures.values()),
              f"{label}snapshots before maintenance {figures}: not more than the retention, expiry untested")

    # maintain, with the short retention.
    cfg_m = write_json(base / "destination-maintain.json", dict(dst, maintenance=dict(RETENTION, enabled=False)))
    r = run_ok([binary("destination-iceberg"), "maintain", "--config", str(cfg_m), "--json"])
    reports = {rep["table"].split(".")[-1]: rep for rep in json.loads(r.stdout)}
    chk.check(set(reports) == {DEDUP, OVERWRITE}, f"{label}maintain reported tables {sorted(reports)}, want {[DEDUP, OVERWRITE]}")
    for name, rep in sorted(reports.items()):
        say(f"  {label}maintain {rep['table']}: snapshots {rep['before']['snapshots']} -> {rep['after']['snapshots']}, "
            f"data files {rep['before']['data_files']} -> {rep['after']['data_files']}, delete files "
            f"{rep['before']['delete_files']} -> {rep['after']['delete_files']}, files on storage {rep['before']['files']} -> "
            f"{rep['after']['files']}; compacted {rep['compacted_data_files']} into {rep['written_data_files']}, "
            f"folded {rep['folded_delete_files']} delete files, expired {rep['expired_snapshots']} snapshots"
            + (f", skipped {rep['skipped']}" if rep.get("skipped") else ""))
        chk.check(not rep.get("skipped"), f"{label}maintain skipped steps on {rep['table']}: {rep.get('skipped')}")
        chk.check(rep["expired_snapshots"] > 0, f"{label}maintain expired no snapshot of {rep['table']}")
        chk.check(rep["after"]["files"] < rep["before"]["files"],
                  f"{label}maintain left {rep['after']['files']} files under {rep['table']}'s location, before {rep['before']['files']}")
    chk.check(reports.get(DEDUP, {}).get("folded_delete_files", 0) > 0, f"{label}maintain folded no delete file of {DEDUP}")

    if SABOTAGE:
        tbl = open_cat().load_table((ns, DEDUP))
        victim = next(iter(tbl.scan().plan_files())).file.file_path
        store.remove(victim)
        say(f"  self-test: removed data file {victim} of the maintained {ns}.{DEDUP}")
        chk.sabotaged(f"{label}{ns}.{DEDUP}: PyIceberg could not read")

    cat = open_cat()
    after = check_model(chk, label, cat, ns, model, "after maintain")
    for name in (DEDUP, OVERWRITE):
        if name in before and name in after:
            chk.check(after[name] == before[name],
                      f"{label}{ns}.{name}: rows after maintain differ from before (every column, by _airbyte_raw_id): "
                      f"{len(before[name])} rows before, {len(after[name])} after, "
                      f"{sum(1 for a, b in zip(before[name], after[name]) if a != b)} differ")
            chk.count("rows identical before and after maintain (every column)", len(after[name]))
        tbl = cat.load_table((ns, name))
        check_table(chk, label, ns, name, tbl, store, base / f"duck-{name}", after.get(name), reports.get(name))

    # A sync after maintenance, with maintenance on (the automatic path).
    on = write_json(base / "destination-on.json", dict(dst, maintenance=dict(RETENTION, enabled=True)))
    recs = model.next()
    cat_path = write_json(base / f"catalog-{model.sync}.json", catalog(model.sync))
    w = run_ok([binary("destination-iceberg"), "write", "--config", str(on), "--catalog", str(cat_path)],
               stdin=input_lines(recs, model.sync))
    warns = [l for l in w.lines() if b'"WARN"' in l or b'"ERROR"' in l]
    chk.check(not warns, f"{label}sync {model.sync} (maintenance on) logged {warns[:2]}")
    cat = open_cat()
    again = check_model(chk, label, cat, ns, model, f"after sync {model.sync}")
    for name in (DEDUP, OVERWRITE):
        check_table(chk, label, ns, name, cat.load_table((ns, name)), store, base / f"duck-{name}-{model.sync}",
                    again.get(name), None)
    chk.count("catalog/storage pairs maintained")


def check_table(chk: Checks, label: str, ns: str, name: str, tbl, store: Storage, tmp: Path,
                rows: list[dict] | None, rep: dict | None) -> None:
    """No delete file, snapshots within the retention, every referenced file present, and DuckDB's
    Parquet reader on the current data files alone returns PyIceberg's rows, every column."""
    where = f"{label}{ns}.{name}"
    snaps = len(tbl.metadata.snapshots)
    refs = max(1, len(tbl.metadata.refs))
    data, deletes = file_counts(tbl)
    chk.check(deletes == 0, f"{where}: {deletes} delete files after maintenance, want 0")
    chk.check(snaps <= RETENTION["keep_snapshots"] * refs,
              f"{where}: {snaps} snapshots after maintenance, want at most {RETENTION['keep_snapshots']} per ref "
              f"({sorted(tbl.metadata.refs)})")
    if rep is not None:
        a = rep["after"]
        chk.check((a["snapshots"], a["data_files"], a["delete_files"]) == (snaps, data, deletes),
                  f"{where}: maintain reports after (snapshots, data, delete files) "
                  f"{(a['snapshots'], a['data_files'], a['delete_files'])}, PyIceberg sees {(snaps, data, deletes)}")
        chk.check(rep["metadata_location"] == tbl.metadata_location,
                  f"{where}: maintain reports metadata {rep['metadata_location']}, the catalog has {tbl.metadata_location}")
    try:
        files = referenced_files(tbl)
    except Exception as e:  # noqa: BLE001
        chk.check(False, f"{where}: PyIceberg could not read the manifests of its snapshots: {type(e).__name__}: {e}")
        return
    missing = sorted(p for p in files if not store.exists(p))
    chk.check(not missing, f"{where}: {len(missing)} of {len(files)} files retained snapshots reference are missing: {missing[:3]}")
    chk.count("referenced files found on storage", len(files) - len(missing))
    # Expiry deleted what only expired snapshots referenced: every Parquet file left is referenced.
    stale = sorted(store.parquet_under(tbl.metadata.location) - {store.norm(p) for p in files})
    chk.check(not stale, f"{where}: {len(stale)} Parquet files under the table's location that no retained snapshot "
                         f"references (expiry should have deleted them): {stale[:3]}")
    if rows is None or deletes:
        return
    import duckdb

    tmp.mkdir(parents=True, exist_ok=True)
    paths = [store.local_copy(t.file.file_path, tmp) for t in tbl.scan().plan_files()]
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        got = []
        if paths:
            # Columns from the files only: no hive partition column taken from the directory names.
            cur = con.execute("SELECT * FROM read_parquet(?, hive_partitioning = false)", [paths])
            names = [d[0] for d in cur.description]
            got = sorted((dict(zip(names, r)) for r in cur.fetchall()), key=lambda r: r["_airbyte_raw_id"])
    except Exception as e:  # noqa: BLE001
        chk.check(False, f"{where}: DuckDB could not read the {len(paths)} current data files: {type(e).__name__}: {e}")
        return
    finally:
        con.close()
    want = [plain(r) for r in rows]
    got = [plain(r) for r in got]
    differ = [w["_airbyte_raw_id"] for w, g in zip(want, got) if w != g]
    chk.check(len(got) == len(want) and not differ,
              f"{where} (DuckDB Parquet): the {len(paths)} data files hold {len(got)} rows, the table {len(want)}; "
              f"{len(differ)} rows differ in some column (first {differ[:1]}: DuckDB "
              f"{next((g for w, g in zip(want, got) if w != g), None)}, PyIceberg {next((w for w, g in zip(want, got) if w != g), None)})")
    chk.count("DuckDB rows read from data files without deletes, every column equal to PyIceberg's", len(got))


def plain(v: Any) -> Any:
    """A row value in one spelling for both readers: instants as microseconds since the epoch."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, dt.datetime):
        return to_micros(v)
    return v


def guarded(chk: Checks, label: str, fn: Callable[[], None]) -> None:
    """A failed command or service fails this pair only, so the other pairs still run."""
    try:
        fn()
    except PartFailed as e:
        chk.check(False, f"{label}{e}")


def run(chk: Checks) -> None:
    from pyiceberg.catalog.rest import RestCatalog
    from pyiceberg.catalog.sql import SqlCatalog

    base = WORK / "p10"

    # SQLite catalog + local warehouse (the embedded default).
    wh = base / "local" / "warehouse"
    guarded(chk, "sql+local: ", lambda: variant(
        chk, "sql+local: ", base / "local", {"warehouse": str(wh), "namespace": "maint_local"},
        lambda: SqlCatalog("airbyte", uri=f"sqlite:///{wh / 'catalog.db'}", warehouse=f"file://{wh}"), Storage()))

    # The REST fixture, local warehouse.
    def rest() -> None:
        uri = shared.service("INTEROP_REST_URI")
        cfg = {"warehouse": "file://" + os.environ.get("INTEROP_REST_WAREHOUSE", str(base / "rest-warehouse")),
               "namespace": "maint_rest", "catalog": {"catalog_type": "rest", "uri": uri}}
        variant(chk, "rest: ", base / "rest", cfg, lambda: RestCatalog("rest", uri=uri), Storage())

    guarded(chk, "rest: ", rest)

    # The REST fixture whose warehouse is on S3 (moto; the server's own S3FileIO writes metadata).
    def rest_s3() -> None:
        uri = shared.service("INTEROP_REST_S3_URI")
        ep = shared.service("INTEROP_S3_ENDPOINT")
        client = shared.boto("s3", ep)
        if "rest-s3" not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
            client.create_bucket(Bucket="rest-s3")  # part 4 creates it when it runs first
        cfg = {"warehouse": "s3://rest-s3/warehouse", "namespace": "maint_rest_s3",
               "catalog": {"catalog_type": "rest", "uri": uri}, "storage": shared.s3_storage(ep)}
        variant(chk, "rest+s3: ", base / "rest-s3", cfg, lambda: RestCatalog("rest_s3", uri=uri, **shared.s3_props(ep)),
                Storage(client))

    guarded(chk, "rest+s3: ", rest_s3)

    # SQLite catalog + S3 on moto.
    def s3() -> None:
        ep = shared.service("INTEROP_S3_ENDPOINT")
        client = shared.boto("s3", ep)
        bucket = "clockberg-maint"
        client.create_bucket(Bucket=bucket)
        db = base / "s3" / "catalog.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        cfg = {"warehouse": f"s3://{bucket}/warehouse", "namespace": "maint_s3",
               "catalog": {"catalog_type": "sql", "uri": str(db)}, "storage": shared.s3_storage(ep)}
        variant(chk, "sql+s3: ", base / "s3", cfg,
                lambda: SqlCatalog("airbyte", uri=f"sqlite:///{db}", warehouse=f"s3://{bucket}/warehouse",
                                   **shared.s3_props(ep)), Storage(client))

    guarded(chk, "sql+s3: ", s3)
