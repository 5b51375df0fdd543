"""Part 7: odd names and odd values (issue 14). destination-iceberg writes, on the embedded default
(SQLite catalog, local warehouse), streams named with a space, non-ASCII letters and '%' (and two
names that collide once mapped), whose properties are named "", '#', '%', 'a b' and 'a_b', with a
non-ASCII name and like a meta column, and whose values hold invalid UTF-8 (raw bytes in string and
JSON values, an unpaired surrogate escape), integers beyond 64 bits, integral numbers written as
floats, and numbers with more digits than a double holds. Then three independent readers load
every table: PyIceberg (SqlCatalog; PyArrow's full validation of every array, UTF-8 included),
DuckDB's own Parquet reader on every data file PyIceberg plans (DuckDB rejects a file with invalid
UTF-8), and Apache Iceberg Java (JdbcCatalog; plans every file and checks it exists at its path).
Every table, column, value and _airbyte_meta change must be the documented mapping."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from harness import NAMESPACE, SABOTAGE, WORK, Checks, binary, java_check, say, write_json
from harness import run as run_cmd


def h(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()[:8]


STREAMS = {"time entries": "time_entries", "zeiteinträge": "zeiteintrage", "a%20b": "a_20b",
           "a b": "a_b_" + h("a b"), "a_b": "a_b"}
PROPS = {"id": "id", "": "_" + h(""), "#": "_" + h("#"), "%": "_" + h("%"), "a b": "a_b_" + h("a b"),
         "a_b": "a_b", "Größe": "Grosse", "_airbyte_meta": "_airbyte_meta_" + h("_airbyte_meta"),
         "n": "n", "x": "x", "s": "s", "j": "j"}
SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "": {"type": "string"}, "#": {"type": "string"}, "%": {"type": "string"},
    "a b": {"type": "string"}, "a_b": {"type": "string"}, "Größe": {"type": ["null", "object"]},
    "_airbyte_meta": {"type": "string"}, "n": {"type": "integer"}, "x": {"type": "number"},
    "s": {"type": "string"}, "j": {"type": "object"}}}
META = ["_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_generation_id", "_airbyte_meta"]
FFFD = "\ufffd"

# Each case: the record's data as raw JSON bytes (invalid UTF-8 included as it would arrive), the
# values the table must hold (by property) and the _airbyte_meta changes (field, change, reason).
CASES = [
    (b'"":"empty","#":"hash","%":"pct","a b":"space","a_b":"underscore","\xc3\xa4":1,"Gr\xc3\xb6\xc3\x9fe":{"m":1},'
     b'"_airbyte_meta":"mine","n":7,"x":0.1,"s":"plain","j":{"k":[1,"v"]}',
     {"": "empty", "#": "hash", "%": "pct", "a b": "space", "a_b": "underscore", "Größe": '{"m":1}',
      "_airbyte_meta": "mine", "n": 7, "x": 0.1, "s": "plain", "j": '{"k":[1,"v"]}'}, []),
    (b'"s":"ok \xff\xfe end","j":{"k\xe9":["\xed\xa0\x80"]}',
     {"s": f"ok {FFFD} end", "j": f'{{"k{FFFD}":["{FFFD}"]}}'},
     [("s", "TRUNCATED", "DESTINATION_SERIALIZATION_ERROR"), ("j", "TRUNCATED", "DESTINATION_SERIALIZATION_ERROR")]),
    (b'"s":"lone \\ud800 surrogate","n":-9223372036854775809,"x":9007199254740993',
     {"s": f"lone {FFFD} surrogate", "n": None, "x": 9007199254740992.0},
     [("s", "TRUNCATED", "DESTINATION_SERIALIZATION_ERROR"), ("n", "NULLED", "DESTINATION_FIELD_SIZE_LIMITATION"),
      ("x", "TRUNCATED", "DESTINATION_FIELD_SIZE_LIMITATION")]),
    (b'"n":9007199254740993.0,"x":1e400', {"n": 9007199254740993, "x": None},
     [("x", "NULLED", "DESTINATION_FIELD_SIZE_LIMITATION")]),
    (b'"n":1.5,"x":-2.5e-3,"s":"kept \xef\xbf\xbd"', {"n": None, "x": -0.0025, "s": f"kept {FFFD}"},
     [("n", "NULLED", "DESTINATION_TYPECAST_ERROR")]),
]


def input_lines() -> bytes:
    out = []
    for stream in STREAMS:
        name = json.dumps(stream).encode()
        for i, (data, _, _) in enumerate(CASES, 1):
            out.append(b'{"type":"RECORD","record":{"stream":%s,"emitted_at":1700000000000,"data":{"id":%d,%s}}}'
                       % (name, i, data))
        out.append(json.dumps({"type": "STATE", "state": {"type": "STREAM", "stream": {
            "stream_descriptor": {"name": stream}, "stream_state": {"done": True}}, "id": len(out)}}).encode())
    return b"\n".join(out) + b"\n"


def catalog() -> dict:
    return {"streams": [{"stream": {"name": s, "json_schema": SCHEMA, "supported_sync_modes": ["full_refresh"]},
                         "sync_mode": "full_refresh", "destination_sync_mode": "append", "generation_id": 1,
                         "minimum_generation_id": 0, "sync_id": 7} for s in STREAMS]}


def same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b
    return a == b and type(a) is type(b)


def check_rows(chk: Checks, label: str, rows: list[dict]) -> None:
    """Every row's values (by mapped column) and _airbyte_meta changes, against CASES."""
    chk.check(len(rows) == len(CASES), f"{label}: {len(rows)} rows, want {len(CASES)}")
    by_id = {r.get("id"): r for r in rows}
    for i, (_, want, changes) in enumerate(CASES, 1):
        row = by_id.get(i)
        if not chk.check(row is not None, f"{label}: no row with id {i}"):
            continue
        for prop, v in want.items():
            got = row.get(PROPS[prop])
            chk.check(same(got, v), f"{label}: row {i} column {PROPS[prop]} (property {prop!r}) is {got!r}, want {v!r}")
        meta = json.loads(row["_airbyte_meta"])
        got = [(c["field"], c["change"], c["reason"]) for c in meta.get("changes", [])]
        chk.check(sorted(got) == sorted(changes), f"{label}: row {i} _airbyte_meta changes {got}, want {changes}")
        chk.check(meta.get("sync_id") == 7, f"{label}: row {i} _airbyte_meta sync_id {meta.get('sync_id')}")
    chk.count("odd rows compared", len(rows))


def run(chk: Checks) -> None:
    from pyiceberg.catalog.sql import SqlCatalog
    import duckdb

    base = WORK / "p7"
    warehouse = base / "warehouse"
    cfg = write_json(base / "destination.json", {"warehouse": str(warehouse)})
    cat_path = write_json(base / "catalog.json", catalog())
    w = run_cmd([binary("destination-iceberg"), "write", "--config", str(cfg), "--catalog", str(cat_path)],
                stdin=input_lines())
    chk.require(w.rc == 0, f"destination-iceberg write exited {w.rc}: {w.tail()}")
    echoes = [m for m in w.messages() if m.get("type") == "STATE"]
    chk.check(len(echoes) == len(STREAMS), f"{len(echoes)} states echoed, want {len(STREAMS)}")
    say(f"  destination-iceberg wrote {len(STREAMS)} streams × {len(CASES)} odd records into {warehouse}")

    cat = SqlCatalog("airbyte", uri=f"sqlite:///{warehouse / 'catalog.db'}", warehouse=f"file://{warehouse}")
    tables = sorted(t[1] for t in cat.list_tables(NAMESPACE))
    chk.check(tables == sorted(STREAMS.values()), f"PyIceberg lists tables {tables}, want {sorted(STREAMS.values())}")
    want_cols = META + list(PROPS.values())

    if SABOTAGE:
        victim = next(iter(cat.load_table((NAMESPACE, "zeiteintrage")).scan().plan_files())).file.file_path
        local = victim.removeprefix("file://")
        # What an encoding mismatch between metadata and storage looks like: the file under another name.
        folder, fname = os.path.split(local)
        os.rename(local, os.path.join(folder, fname.replace("-", "%2D", 1)))
        say(f"  self-test: moved data file {victim} to a percent-encoded name")
        chk.sabotaged(f"{NAMESPACE}.zeiteintrage: PyIceberg could not read", f"{NAMESPACE}.zeiteintrage: DuckDB could not read",
                      f"data files of {NAMESPACE}.zeiteintrage missing")

    for stream, name in STREAMS.items():
        label = f"{NAMESPACE}.{name}"
        try:
            tbl = cat.load_table((NAMESPACE, name))
            files = [t.file.file_path.removeprefix("file://") for t in tbl.scan().plan_files()]
        except Exception as e:  # noqa: BLE001 - any reader error fails this table
            chk.check(False, f"{label}: PyIceberg could not load the table: {type(e).__name__}: {str(e)[:300]}")
            continue
        cols = [f.name for f in tbl.schema().fields]
        chk.check(cols == want_cols, f"{label}: columns {cols}, want {want_cols}")
        chk.check(tbl.properties.get("airbyte.stream") == stream,
                  f"{label}: property airbyte.stream is {tbl.properties.get('airbyte.stream')!r}, want {stream!r}")
        docs = {f.name: f.doc or "" for f in tbl.schema().fields}
        for prop, col in PROPS.items():
            if prop != col:
                chk.check("Airbyte name: " + json.dumps(prop, ensure_ascii=False) in docs.get(col, ""),
                          f"{label}: column {col} does not record its property {prop!r} in its doc ({docs.get(col)!r})")
        try:
            arrow = tbl.scan().to_arrow()
            arrow.validate(full=True)
            check_rows(chk, f"{label} (PyIceberg)", arrow.to_pylist())
        except Exception as e:  # noqa: BLE001 - any reader error fails this table
            chk.check(False, f"{label}: PyIceberg could not read the table: {type(e).__name__}: {str(e)[:300]}")

        con = duckdb.connect()
        try:
            rel = con.execute("SELECT * FROM read_parquet(?)", [files])
            names = [d[0] for d in rel.description]
            rows = [dict(zip(names, r)) for r in rel.fetchall()]
            bad, = con.execute("SELECT count(*) FROM read_parquet(?) WHERE NOT json_valid(j) OR NOT json_valid(Grosse)",
                               [files]).fetchone()
            chk.check(bad == 0, f"{label} (DuckDB): {bad} JSON values are not valid JSON")
            chk.check(names == want_cols, f"{label} (DuckDB): Parquet columns {names}, want {want_cols}")
            check_rows(chk, f"{label} (DuckDB)", rows)
            chk.count("data files read by DuckDB's Parquet reader", len(files))
        except Exception as e:  # noqa: BLE001 - DuckDB's errors (invalid UTF-8, missing file) fail the table
            chk.check(False, f"{label}: DuckDB could not read the data files: {type(e).__name__}: {str(e)[:300]}")
        finally:
            con.close()
        chk.count("odd tables read by PyIceberg and DuckDB")

    java_props = {"name": "airbyte", "catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
                  "uri": f"jdbc:sqlite:file:{warehouse / 'catalog.db'}", "warehouse": f"file://{warehouse}"}
    seen = java_check(chk, "odd names", NAMESPACE, java_props, {name: len(CASES) for name in STREAMS.values()})
    for name, info in seen.items():
        chk.check(info.get("column_names") == want_cols,
                  f"{NAMESPACE}.{name}: Iceberg Java sees columns {info.get('column_names')}, want {want_cols}")
