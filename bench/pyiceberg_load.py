"""The alternative to destination-iceberg in the benchmark: a plain PyIceberg + PyArrow loader.

It reads Airbyte RECORD messages (one JSON per line) for one stream, maps the stream's JSON schema
the way destination-iceberg does (string, boolean, integer -> long, number -> double, date-time ->
timestamptz, objects/arrays/unions -> JSON text, plus the four _airbyte_* columns), and appends
batches to an Iceberg table in a PyIceberg SqlCatalog on SQLite with a local warehouse: the same
kind of catalog as destination-iceberg's embedded default. One append (one commit) per batch.

Usage: pyiceberg_load.py --input records.jsonl --catalog configured_catalog.json --stream time_entries
                          --warehouse /abs/dir [--batch-rows 100000]
Prints one JSON line of figures on stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import uuid

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog

UTC = dt.timezone.utc


def column_type(prop: dict) -> tuple[pa.DataType, str]:
    """Arrow type and converter kind for one top-level JSON-schema property."""
    t = prop.get("type", "string")
    types = [x for x in (t if isinstance(t, list) else [t]) if x != "null"]
    if len(types) != 1:
        return pa.string(), "json"
    t = types[0]
    if t == "string":
        if prop.get("format") == "date-time":
            return pa.timestamp("us", tz="UTC"), "ts"
        if prop.get("format") == "date":
            return pa.date32(), "date"
        return pa.string(), "str"
    if t == "boolean":
        return pa.bool_(), "bool"
    if t == "integer":
        return pa.int64(), "int"
    if t == "number":
        return pa.float64(), "float"
    return pa.string(), "json"


def convert(kind: str, v):
    if v is None:
        return None
    try:
        if kind == "str":
            return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
        if kind == "json":
            return json.dumps(v, separators=(",", ":"))
        if kind == "ts":
            d = dt.datetime.fromisoformat(v)
            return d if d.tzinfo else d.replace(tzinfo=UTC)
        if kind == "date":
            return dt.date.fromisoformat(v)
        if kind == "bool":
            return v if isinstance(v, bool) else None
        if kind == "int":
            return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        if kind == "float":
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
    except (TypeError, ValueError):
        return None
    return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--catalog", required=True, help="Airbyte configured catalog holding the stream's json_schema")
    ap.add_argument("--stream", required=True)
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--namespace", default="clockify")
    ap.add_argument("--batch-rows", type=int, default=100_000)
    a = ap.parse_args()

    with open(a.catalog, encoding="utf-8") as f:
        streams = {s["stream"]["name"]: s["stream"] for s in json.load(f)["streams"]}
    if a.stream not in streams:
        print(f"pyiceberg_load: stream {a.stream!r} is not in {a.catalog} (has {sorted(streams)})", file=sys.stderr)
        return 2
    props = streams[a.stream]["json_schema"].get("properties", {})

    fields = [
        pa.field("_airbyte_raw_id", pa.string(), nullable=False),
        pa.field("_airbyte_extracted_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("_airbyte_generation_id", pa.int64()),
        pa.field("_airbyte_meta", pa.string()),
    ]
    kinds = []
    for name, prop in props.items():
        typ, kind = column_type(prop)
        fields.append(pa.field(name, typ))
        kinds.append((name, kind))
    schema = pa.schema(fields)

    os.makedirs(a.warehouse, exist_ok=True)
    catalog = SqlCatalog(
        "bench",
        uri=f"sqlite:///{os.path.join(a.warehouse, 'pyiceberg_catalog.db')}",
        warehouse=f"file://{a.warehouse}",
    )
    catalog.create_namespace_if_not_exists(a.namespace)
    ident = (a.namespace, a.stream)
    if catalog.table_exists(ident):
        catalog.drop_table(ident)
    table = catalog.create_table(
        ident,
        schema=schema,
        properties={"format-version": "2", "write.parquet.compression-codec": "zstd"},
    )

    t0 = time.monotonic()
    meta = json.dumps({"changes": []})
    cols: dict = {f.name: [] for f in fields}
    rows = batches = 0

    def flush() -> None:
        nonlocal batches
        if not cols["_airbyte_raw_id"]:
            return
        arrays = [pa.array(cols[f.name], type=f.type) for f in fields]
        table.append(pa.Table.from_arrays(arrays, schema=schema))
        batches += 1
        for v in cols.values():
            v.clear()

    with open(a.input, "rb") as f:
        for line in f:
            if b'"RECORD"' not in line[:64]:
                continue
            msg = json.loads(line)
            rec = msg["record"]
            if rec.get("stream") != a.stream:
                continue
            data = rec["data"]
            cols["_airbyte_raw_id"].append(str(uuid.uuid4()))
            cols["_airbyte_extracted_at"].append(dt.datetime.fromtimestamp(rec.get("emitted_at", 0) / 1000, tz=UTC))
            cols["_airbyte_generation_id"].append(0)
            cols["_airbyte_meta"].append(meta)
            for name, kind in kinds:
                cols[name].append(convert(kind, data.get(name)))
            rows += 1
            if len(cols["_airbyte_raw_id"]) >= a.batch_rows:
                flush()
    flush()
    secs = time.monotonic() - t0
    snap = table.refresh().current_snapshot()
    total = int(snap.summary["total-records"]) if snap and snap.summary else 0
    print(json.dumps({"records": rows, "appends": batches, "seconds": secs, "table_rows": total,
                      "metadata_location": table.metadata_location}))
    return 0 if total == rows else 1


if __name__ == "__main__":
    sys.exit(main())
