"""Shared machinery of the interop parts: results, processes of our binaries, the simulator, syncs
and the field-by-field comparison of Iceberg rows with the records the source emitted.

Nothing here is a stand-in for a third-party component: readers are PyIceberg and DuckDB, the
protocol models are Airbyte's, the catalogs and stores are the real servers started by run.sh.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

BIN = Path(os.environ.get("INTEROP_BIN", "bin"))
WORK = Path(os.environ.get("INTEROP_WORK", "/tmp/clockberg-interop"))
SABOTAGE = os.environ.get("INTEROP_SABOTAGE") == "1"
NAMESPACE = "clockify"
DEDUP_STREAM = "time_entries"
PROC_TIMEOUT = 300  # seconds for any one connector command


def say(msg: str) -> None:
    print(msg, flush=True)


class PartFailed(Exception):
    """A check of a part failed; the message says what was compared with what."""


@dataclass
class Checks:
    """Collects the failures of a part so that one part reports every mismatch, not the first."""

    part: str
    failures: list[str] = field(default_factory=list)
    counted: dict[str, int] = field(default_factory=dict)
    # Self-test: substrings that the failures must contain for the sabotage to count as detected
    # (so that a part failing for another reason does not pass its self-test).
    sabotage_markers: list[str] = field(default_factory=list)

    def sabotaged(self, *markers: str) -> None:
        self.sabotage_markers.extend(markers)

    def check(self, ok: bool, msg: str) -> bool:
        if not ok:
            self.failures.append(msg)
            if len(self.failures) <= 25:
                say(f"  MISMATCH: {msg}")
            elif len(self.failures) == 26:
                say("  (further mismatches not printed)")
        return ok

    def count(self, what: str, n: int = 1) -> None:
        self.counted[what] = self.counted.get(what, 0) + n

    def require(self, ok: bool, msg: str) -> None:
        if not ok:
            raise PartFailed(msg)


# --- processes ------------------------------------------------------------------------------

def binary(name: str) -> str:
    p = BIN / name
    if not p.exists():
        raise PartFailed(f"binary {p} does not exist (did `go build -o {BIN}/ ./cmd/...` fail?)")
    return str(p)


@dataclass
class Run:
    args: list[str]
    rc: int
    stdout: bytes
    stderr: bytes

    def lines(self) -> list[bytes]:
        return [l for l in self.stdout.split(b"\n") if l.strip()]

    def messages(self) -> list[dict]:
        out = []
        for i, l in enumerate(self.lines()):
            try:
                out.append(json.loads(l))
            except ValueError as e:
                raise PartFailed(f"{self.args[0]} {self.args[1]}: stdout line {i + 1} is not JSON ({e}): {l[:200]!r}")
        return out

    def tail(self) -> str:
        return self.stderr.decode(errors="replace")[-1500:]


def run(args: list[str], stdin: bytes | None = None, cwd: Path | None = None, env: dict | None = None) -> Run:
    p = subprocess.run(args, input=stdin if stdin is not None else b"", capture_output=True,
                       timeout=PROC_TIMEOUT, cwd=cwd, env=env)
    return Run([Path(args[0]).name] + args[1:], p.returncode, p.stdout, p.stderr)


def run_ok(args: list[str], stdin: bytes | None = None, **kw) -> Run:
    r = run(args, stdin=stdin, **kw)
    if r.rc != 0:
        raise PartFailed(f"{' '.join(r.args[:2])} exited {r.rc}; stderr tail:\n{r.tail()}\nstdout tail:\n"
                         f"{r.stdout.decode(errors='replace')[-1500:]}")
    return r


def write_json(path: Path, obj: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1))
    os.chmod(path, 0o600)
    return path


class Simulator:
    """clockify-sim on a free loopback port with a fresh random API key."""

    def __init__(self, preset: str = "demo") -> None:
        self.key = "interop-" + secrets.token_hex(16)
        self.proc = subprocess.Popen(
            [binary("clockify-sim"), "--addr", "127.0.0.1:0", "--preset", preset, "--api-key", self.key],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.stop()
            raise PartFailed(f"clockify-sim printed {line!r} instead of its base URL")
        self.url = line

    def truth(self, ids: bool = False) -> dict:
        with urllib.request.urlopen(self.url + "/_sim/truth" + ("?ids=1" if ids else ""), timeout=30) as r:
            return json.load(r)

    def source_config(self) -> dict:
        return {"api_key": self.key, "api_url": self.url}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> "Simulator":
        return self

    def __exit__(self, *a) -> None:
        self.stop()


# --- catalogs and syncs ---------------------------------------------------------------------

def discover(src_cfg: Path) -> tuple[dict, Run]:
    r = run_ok([binary("source-clockify"), "discover", "--config", str(src_cfg)])
    for m in r.messages():
        if m.get("type") == "CATALOG":
            return m["catalog"], r
    raise PartFailed("source-clockify discover printed no CATALOG message")


def configure(catalog: dict, generation: int = 1, sync_id: int = 1,
              modes: dict[str, tuple[str, str]] | None = None) -> dict:
    """A configured catalog built from discover output the way an Airbyte platform would: time_entries
    incremental + append_dedup on its source-defined cursor and key, the others full_refresh + overwrite
    (or the modes given per stream)."""
    streams = []
    for s in catalog["streams"]:
        name = s["name"]
        if modes and name in modes:
            sync, dest = modes[name]
        elif name == DEDUP_STREAM:
            sync, dest = "incremental", "append_dedup"
        else:
            sync, dest = "full_refresh", "overwrite"
        if sync not in s.get("supported_sync_modes", []):
            raise PartFailed(f"stream {name} does not list {sync} in supported_sync_modes {s.get('supported_sync_modes')}")
        truncating = dest in ("overwrite", "overwrite_dedup")
        streams.append({
            "stream": s,
            "sync_mode": sync,
            "destination_sync_mode": dest,
            "cursor_field": s.get("default_cursor_field") or [] if sync == "incremental" else [],
            "primary_key": s.get("source_defined_primary_key") or [],
            "generation_id": generation,
            "minimum_generation_id": generation if truncating else 0,
            "sync_id": sync_id,
        })
    return {"streams": streams}


@dataclass
class SourceRead:
    run: Run
    records: dict[str, list[dict]]  # stream -> record messages' "record" objects, in order

    def count(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.records.items()}


def source_read(src_cfg: Path, cat_path: Path, state: Path | None = None) -> SourceRead:
    args = [binary("source-clockify"), "read", "--config", str(src_cfg), "--catalog", str(cat_path)]
    if state:
        args += ["--state", str(state)]
    r = run_ok(args)
    recs: dict[str, list[dict]] = {}
    for m in r.messages():
        if m.get("type") == "RECORD":
            recs.setdefault(m["record"]["stream"], []).append(m["record"])
    return SourceRead(r, recs)


def dest_write(dst_cfg: Path, cat_path: Path, stdin: bytes) -> Run:
    return run_ok([binary("destination-iceberg"), "write", "--config", str(dst_cfg), "--catalog", str(cat_path)],
                  stdin=stdin)


def states_from(write: Run) -> list[dict]:
    """The destination's echoed STATE payloads as a --state file (last one per stream)."""
    last: dict[str, dict] = {}
    for m in write.messages():
        if m.get("type") == "STATE":
            st = m["state"]
            key = json.dumps(st.get("stream", {}).get("stream_descriptor", {}), sort_keys=True)
            last[key] = {k: v for k, v in st.items() if k not in ("destinationStats", "sourceStats", "id")}
    return list(last.values())


def filter_lines(lines: Iterable[bytes], streams: set[str]) -> bytes:
    """Source output reduced to the RECORD/STATE/TRACE lines of the given streams (LOG lines dropped)."""
    out = []
    for l in lines:
        m = json.loads(l)
        t = m.get("type")
        name = None
        if t == "RECORD":
            name = m["record"]["stream"]
        elif t == "STATE" and m["state"].get("type") == "STREAM":
            name = m["state"]["stream"]["stream_descriptor"]["name"]
        elif t == "TRACE" and m["trace"].get("type") == "STREAM_STATUS":
            name = m["trace"]["stream_status"]["stream_descriptor"]["name"]
        if name in streams:
            out.append(l)
    return b"\n".join(out) + b"\n"


# --- comparing rows with records -------------------------------------------------------------

def parse_instant(s: str) -> dt.datetime:
    t = s.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    # Python < 3.11 rejects some fractions; 3.11 fromisoformat takes RFC 3339 with any digits.
    v = dt.datetime.fromisoformat(t)
    if v.tzinfo is None:
        raise ValueError(f"date-time {s!r} has no offset")
    return v


def to_micros(v: dt.datetime) -> int:
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.timezone.utc)
    return round((v - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) / dt.timedelta(microseconds=1))


def nested_fields(itype) -> list[tuple[str, str, Any, bool]]:
    """(column name, original property name, type, JSON text) of a PyIceberg struct type's fields."""
    out = []
    for f in itype.fields:
        doc = f.doc or ""
        orig = f.name
        if "Airbyte name: " in doc:
            orig = json.JSONDecoder().raw_decode(doc[doc.index("Airbyte name: ") + len("Airbyte name: "):])[0]
        out.append((f.name, orig, f.field_type, "JSON text" in doc))
    return out


def expected_cell(ftype: str, is_json: bool, raw: Any, itype: Any = None) -> tuple[bool, Any]:
    """(fits, value) for a record value under the documented mapping; fits False means the destination
    must null it and record a change in _airbyte_meta. Structs and lists (itype, PyIceberg's type)
    map field by field, recursively: a nested value that does not fit is expected as null (its
    change names the dotted path); properties the struct does not declare are dropped."""
    if raw is None:
        return True, None
    if is_json:
        return True, raw
    if ftype.startswith("struct<"):
        if not isinstance(raw, dict):
            return False, None
        return True, {col: expected_cell(str(t), j, raw.get(orig), t)[1] for col, orig, t, j in nested_fields(itype)}
    if ftype.startswith("list<"):
        if not isinstance(raw, list):
            return False, None
        et = itype.element_type
        return True, [expected_cell(str(et), False, x, et)[1] for x in raw]
    try:
        if ftype == "string":
            return (True, raw) if isinstance(raw, str) else (False, None)
        if ftype == "boolean":
            return (True, raw) if isinstance(raw, bool) else (False, None)
        if ftype == "long":
            if isinstance(raw, bool):
                return False, None
            if isinstance(raw, int):
                return True, raw
            if isinstance(raw, float) and raw.is_integer():
                return True, int(raw)
            return False, None
        if ftype == "double":
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                return False, None
            return True, float(raw)
        if ftype == "date":
            return True, dt.date.fromisoformat(raw[:10]) if isinstance(raw, str) and len(raw) >= 10 else (False, None)
        if ftype == "timestamptz":
            return True, to_micros(parse_instant(raw))
        if ftype == "timestamp":
            t = dt.datetime.fromisoformat(raw.replace("Z", ""))
            return True, to_micros(t.replace(tzinfo=None))
    except (ValueError, TypeError, AttributeError):
        return False, None
    raise PartFailed(f"no comparison rule for Iceberg type {ftype}")


def actual_cell(ftype: str, is_json: bool, cell: Any, itype: Any = None) -> Any:
    if cell is None:
        return None
    if is_json:
        return json.loads(cell)
    if ftype.startswith("struct<"):
        if not isinstance(cell, dict):
            raise PartFailed(f"struct cell is {type(cell).__name__}")
        return {col: actual_cell(str(t), j, cell.get(col), t) for col, _, t, j in nested_fields(itype)}
    if ftype.startswith("list<"):
        et = itype.element_type
        return [actual_cell(str(et), False, x, et) for x in cell]
    if ftype in ("timestamptz", "timestamp"):
        if isinstance(cell, dt.datetime):
            return to_micros(cell)
        raise PartFailed(f"timestamp cell is {type(cell).__name__}")
    if ftype == "date" and isinstance(cell, dt.datetime):
        return cell.date()
    return cell


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


@dataclass
class Column:
    name: str
    ftype: str  # pyiceberg's str(type): string, long, boolean, double, date, timestamptz, timestamp
    is_json: bool
    required: bool
    itype: Any = None  # PyIceberg's type (structs and lists are compared field by field)


META_COLUMNS = ["_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_generation_id", "_airbyte_meta"]


def table_columns(schema) -> list[Column]:
    cols = []
    for f in schema.fields:
        cols.append(Column(f.name, str(f.field_type), "JSON text" in (f.doc or ""), f.required, f.field_type))
    return cols


def pk_value(rec: dict, pk: list[list[str]]) -> tuple:
    vals = []
    for path in pk:
        v: Any = rec
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        vals.append(json.dumps(v, sort_keys=True))
    return tuple(vals)


def verify_rows(chk: Checks, label: str, rows: list[dict], columns: list[Column], stream_schema: dict,
                records: list[dict], pk: list[list[str]], dedup: bool, generation: int,
                expected_rows: int) -> None:
    """Every row equals the record the source emitted, field by field after the documented mapping."""
    props = list((stream_schema.get("properties") or {}).keys())
    names = [c.name for c in columns]
    chk.check(names[:4] == META_COLUMNS, f"{label}: first columns are {names[:4]}, want {META_COLUMNS}")
    chk.check(sorted(names[4:]) == sorted(props),
              f"{label}: data columns {sorted(set(names[4:]) ^ set(props))} differ between table and stream schema")
    chk.check(len(rows) == expected_rows, f"{label}: {len(rows)} rows, want {expected_rows}")
    raw_ids = [r.get("_airbyte_raw_id") for r in rows]
    chk.check(len(set(raw_ids)) == len(raw_ids), f"{label}: _airbyte_raw_id not unique")

    if pk:
        by_key: dict[tuple, list[dict]] = {}
        for rec in records:
            by_key.setdefault(pk_value(rec["data"], pk), []).append(rec)
        if dedup:
            # A key whose last record is a tombstone (_ab_cdc_deleted_at set) has no row.
            by_key = {k: v for k, v in by_key.items() if v[-1]["data"].get("_ab_cdc_deleted_at") is None}
        row_keys = [pk_value(r, pk) for r in rows]
        if dedup:
            chk.check(len(set(row_keys)) == len(row_keys),
                      f"{label}: {len(row_keys) - len(set(row_keys))} duplicate keys in a dedup table")
        chk.check(set(row_keys) == set(by_key),
                  f"{label}: keys in table and emitted records differ by {len(set(row_keys) ^ set(by_key))}")
    else:
        by_key = {}

    data_cols = [c for c in columns if c.name not in META_COLUMNS]
    compared = 0
    for row in rows:
        key = pk_value(row, pk) if pk else None
        cands = by_key.get(key, []) if pk else records
        if not cands:
            chk.check(False, f"{label}: row with key {key} matches no emitted record")
            continue
        # A dedup table keeps the last emitted version of a key; an append table any of them.
        want = cands[-1] if dedup else None
        pool = [want] if want else cands
        errs: list[str] = []
        matched = False
        for rec in pool:
            errs = compare_row(row, rec, data_cols, generation)
            if not errs:
                matched = True
                break
        if chk.check(matched, f"{label}: row {key}: " + "; ".join(errs[:4])):
            compared += 1
    chk.count("rows compared field by field", compared)
    chk.count("cells compared", compared * len(columns))


def compare_row(row: dict, rec: dict, data_cols: list[Column], generation: int) -> list[str]:
    errs = []
    data = rec["data"]
    meta = json.loads(row["_airbyte_meta"])
    nulled = {c.get("field") for c in meta.get("changes", []) if c.get("change") == "NULLED"}
    gen = rec.get("_gen", generation)
    if row["_airbyte_generation_id"] != gen:
        errs.append(f"_airbyte_generation_id {row['_airbyte_generation_id']} != {gen}")
    ext = row["_airbyte_extracted_at"]
    if not isinstance(ext, dt.datetime) or to_micros(ext) != rec["emitted_at"] * 1000:
        errs.append(f"_airbyte_extracted_at {ext} != emitted_at {rec['emitted_at']} ms")
    for c in data_cols:
        fits, want = expected_cell(c.ftype, c.is_json, data.get(c.name), c.itype)
        got = actual_cell(c.ftype, c.is_json, row.get(c.name), c.itype)
        if not fits:
            if got is not None or c.name not in nulled:
                errs.append(f"{c.name}: value {data.get(c.name)!r} does not fit {c.ftype}; want null + NULLED change, got {got!r}")
            continue
        if not same(want, got):
            errs.append(f"{c.name}: table {got!r} != record {want!r} ({c.ftype}{' JSON' if c.is_json else ''})")
    return errs


def duckdb_check(chk: Checks, label: str, arrow_table, columns: list[Column], stream_schema: dict,
                 records: list[dict], pk: list[list[str]], dedup: bool, generation: int,
                 expected_rows: int) -> None:
    """DuckDB queries the same rows (PyIceberg's Arrow output registered as a DuckDB view): its own
    SQL aggregates, its JSON parser on the JSON columns, and its own conversion of every row to
    Python values, compared field by field with the emitted records like PyIceberg's rows."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        con.register("t", arrow_table)
        n, = con.execute("SELECT count(*) FROM t").fetchone()
        chk.check(n == expected_rows, f"{label} (DuckDB): count(*) {n}, want {expected_rows}")
        queries = 1
        if dedup and len(pk) == 1 and len(pk[0]) == 1:
            d, = con.execute(f'SELECT count(DISTINCT "{pk[0][0]}") FROM t').fetchone()
            chk.check(d == n, f"{label} (DuckDB): {n - d} duplicate {pk[0][0]} values in a dedup table")
            queries += 1
        for c in columns:
            if c.is_json:
                bad, = con.execute(f'SELECT count(*) FROM t WHERE "{c.name}" IS NOT NULL AND NOT json_valid("{c.name}")').fetchone()
                chk.check(bad == 0, f"{label} (DuckDB): {bad} values of JSON column {c.name} are not valid JSON")
                queries += 1
        cur = con.execute("SELECT * FROM t")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
        queries += 1
        sub = Checks(chk.part)
        verify_rows(sub, f"{label} (DuckDB)", rows, columns, stream_schema, records, pk, dedup, generation, expected_rows)
        for f in sub.failures:
            chk.failures.append(f)
        chk.count("DuckDB queries", queries)
        chk.count("DuckDB rows compared field by field", sub.counted.get("rows compared field by field", 0))
    finally:
        con.close()


def read_all(table) -> tuple[list[dict], Any]:
    arrow = table.scan().to_arrow()
    return arrow.to_pylist(), arrow


def verify_sync(chk: Checks, cat, namespace: str, configured: dict, records: dict[str, list[dict]],
                truth: dict[str, int], expected: Callable[[str, str], int] | None = None,
                duck: bool = True, label: str = "", truth_ids: dict | None = None) -> None:
    """Loads every configured table through a PyIceberg catalog, reads every row, compares them with
    the emitted records, the ground truth and (optionally) DuckDB's view of the same rows."""
    for cs in configured["streams"]:
        s = cs["stream"]
        name = s["name"]
        try:
            tbl = cat.load_table((namespace, name))
            rows, arrow = read_all(tbl)
        except Exception as e:  # noqa: BLE001 - any reader error is a failure of this table
            chk.check(False, f"{label}{namespace}.{name}: PyIceberg could not read the table: {type(e).__name__}: {e}")
            continue
        n_expected = expected(name, cs["destination_sync_mode"]) if expected else truth.get(name, -1)
        dedup = cs["destination_sync_mode"] in ("append_dedup", "overwrite_dedup")
        pk = cs.get("primary_key") or []
        verify_rows(chk, f"{label}{namespace}.{name}", rows, table_columns(tbl.schema()), s["json_schema"],
                    records.get(name, []), pk, dedup, cs["generation_id"], n_expected)
        if truth_ids is not None and expected is None and pk == [["id"]]:
            want_ids = Counter(truth_ids.get(name, []))
            got_ids = Counter(r.get("id") for r in rows)
            chk.check(got_ids == want_ids, f"{label}{namespace}.{name}: ids differ from the simulator's ground-truth ids "
                                           f"(missing {sorted((want_ids - got_ids).elements())[:3]}, extra {sorted((got_ids - want_ids).elements())[:3]})")
            chk.count("tables whose ids equal the ground-truth ids")
        if duck:
            duckdb_check(chk, f"{label}{namespace}.{name}", arrow, table_columns(tbl.schema()), s["json_schema"],
                         records.get(name, []), pk, dedup, cs["generation_id"], n_expected)
        chk.count("tables read")
        chk.count("rows read", len(rows))


def first_data_file(table) -> str:
    """The path of one live data file of a table (used by the self-test to break it)."""
    for task in table.scan().plan_files():
        return task.file.file_path
    raise PartFailed("table has no data files to break")


def elapsed(t0: float) -> str:
    return f"{time.time() - t0:.1f}s"


JAVA_READER = Path(__file__).resolve().parent.parent / "java" / "ReadIceberg.java"


def java_check(chk: Checks, label: str, namespace: str, props: dict[str, str], expected: dict[str, int]) -> dict:
    """Apache Iceberg Java (the classes of the REST fixture jar) loads every table of the namespace
    through the same catalog and plans every file of the current snapshot; per table, the record
    count from the manifests less the rows its position delete files name must equal the expected
    rows and the snapshot summary, with format v2 and no equality deletes."""
    jar = os.environ.get("INTEROP_REST_JAR", "")
    if not jar or not Path(jar).exists():
        chk.check(False, f"{label}: Iceberg Java unavailable: fixture jar {jar!r} missing")
        return {}
    env = dict(os.environ, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
    args = ["java", "-Xmx512m", "-cp", jar, str(JAVA_READER), namespace] + [f"{k}={v}" for k, v in props.items()]
    r = run(args, env=env)
    if not chk.check(r.rc == 0, f"{label}: Iceberg Java failed (exit {r.rc}): "
                                f"{[l for l in r.stderr.decode(errors='replace').splitlines() if 'Exception' in l or 'ERROR' in l][:3]}"):
        return {}
    seen = {}
    for line in r.lines():
        info = json.loads(line)
        seen[info["table"]] = info
    chk.check(set(seen) == set(expected), f"{label}: Iceberg Java lists tables {sorted(set(seen) ^ set(expected))} differently")
    for name, want in sorted(expected.items()):
        info = seen.get(name)
        if info is None:
            continue
        # Rows live = data rows in the manifests - rows named by position delete files (the
        # destination deletes each superseded row once, so no position is named twice).
        live = info["rows"] - info.get("position_deletes", 0)
        chk.check(live == want, f"{label}: Iceberg Java counts {info['rows']} rows in {namespace}.{name} from its manifests "
                                f"and {info.get('position_deletes', 0)} position deletes: {live} live, want {want}")
        summary_live = int(info["summary_total_records"] or 0) - int(info.get("summary_position_deletes") or 0)
        chk.check(summary_live == want,
                  f"{label}: {namespace}.{name} snapshot summary total-records {info['summary_total_records']!r} - "
                  f"total-position-deletes {info.get('summary_position_deletes')!r} = {summary_live}, want {want}")
        chk.check(info["format_version"] == 2, f"{label}: {namespace}.{name} is format v{info['format_version']}")
        chk.check(info.get("equality_delete_files", 0) == 0,
                  f"{label}: {namespace}.{name} has {info.get('equality_delete_files')} equality delete files (Snowflake cannot read them)")
        chk.check(info.get("missing_files", 0) == 0,
                  f"{label}: Iceberg Java finds {info.get('missing_files')} data files of {namespace}.{name} missing at their paths")
    chk.count("tables planned by Apache Iceberg Java (manifest lists + manifests)", len(seen))
    say(f"  {label}: Apache Iceberg Java planned {len(seen)} tables, {sum(i['data_files'] for i in seen.values())} data files, "
        f"{sum(i['rows'] for i in seen.values())} rows by its manifests")
    return seen
