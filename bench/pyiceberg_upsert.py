"""The alternative a Python user would pick for an incremental dedup sync: PyIceberg's Table.upsert.

It reads Airbyte RECORD messages of one stream (the rows an incremental sync re-read), converts them
to the existing table's schema (whatever layout destination-iceberg gave it: JSON-text columns or
typed structs and lists, the four _airbyte_* columns), and calls Table.upsert on the key columns of
the table's identifier fields: one call, PyIceberg's own commit. The table lives in the same SQLite
SQL catalog destination-iceberg wrote.

Usage: pyiceberg_upsert.py --warehouse DIR --input records.jsonl [--namespace clockify --table time_entries]
       pyiceberg_upsert.py --warehouse DIR --rollback-to SNAPSHOT_ID
Prints one JSON line of figures on stdout. The second form sets main back to a snapshot, so that the
benchmark can run destination-iceberg's own incremental sync on the table the upsert started from.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import uuid

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.types import (BooleanType, DateType, DoubleType, FloatType, IntegerType, ListType, LongType, StringType,
                             StructType, TimestampType, TimestamptzType)

UTC = dt.timezone.utc


def convert(ftype, is_json: bool, v):
    """A JSON value as the column wants it; None where it does not fit (destination-iceberg nulls it too)."""
    if v is None:
        return None
    if is_json:
        return json.dumps(v, separators=(",", ":"))
    try:
        if isinstance(ftype, StructType):
            if not isinstance(v, dict):
                return None
            return {f.name: convert(f.field_type, "JSON text" in (f.doc or ""), v.get(f.name)) for f in ftype.fields}
        if isinstance(ftype, ListType):
            if not isinstance(v, list):
                return None
            return [convert(ftype.element_type, False, x) for x in v]
        if isinstance(ftype, StringType):
            return v if isinstance(v, str) else None
        if isinstance(ftype, BooleanType):
            return v if isinstance(v, bool) else None
        if isinstance(ftype, (LongType, IntegerType)):
            return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() else None
        if isinstance(ftype, (DoubleType, FloatType)):
            return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None
        if isinstance(ftype, (TimestamptzType, TimestampType)):
            d = dt.datetime.fromisoformat(v)
            return d if d.tzinfo else d.replace(tzinfo=UTC)
        if isinstance(ftype, DateType):
            return dt.date.fromisoformat(v[:10])
    except (TypeError, ValueError):
        return None
    return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--input")
    ap.add_argument("--rollback-to", type=int)
    ap.add_argument("--namespace", default="clockify")
    ap.add_argument("--table", default="time_entries")
    ap.add_argument("--catalog-name", default="airbyte")
    a = ap.parse_args()

    cat = SqlCatalog(a.catalog_name, uri=f"sqlite:///{a.warehouse}/catalog.db", warehouse=f"file://{a.warehouse}")
    tbl = cat.load_table((a.namespace, a.table))
    if a.rollback_to:
        tbl.manage_snapshots().set_current_snapshot(snapshot_id=a.rollback_to).commit()
        print(json.dumps({"current_snapshot": cat.load_table((a.namespace, a.table)).current_snapshot().snapshot_id}))
        return 0
    schema = tbl.schema()
    t0 = time.monotonic()
    fields = schema.fields
    cols: dict = {f.name: [] for f in fields}
    meta = json.dumps({"sync_id": None, "changes": []})
    with open(a.input, "rb") as f:
        for line in f:
            if b'"RECORD"' not in line[:64]:
                continue
            rec = json.loads(line)["record"]
            if rec.get("stream") != a.table:
                continue
            data = rec["data"]
            for fld in fields:
                if fld.name == "_airbyte_raw_id":
                    v = str(uuid.uuid4())
                elif fld.name == "_airbyte_extracted_at":
                    v = dt.datetime.fromtimestamp(rec.get("emitted_at", 0) / 1000, tz=UTC)
                elif fld.name == "_airbyte_generation_id":
                    v = 1
                elif fld.name == "_airbyte_meta":
                    v = meta
                else:
                    v = convert(fld.field_type, "JSON text" in (fld.doc or ""), data.get(fld.name))
                cols[fld.name].append(v)
    arrow_schema = schema.as_arrow()
    df = pa.Table.from_pydict(cols, schema=arrow_schema)
    t_convert = time.monotonic() - t0
    res = tbl.upsert(df)
    secs = time.monotonic() - t0
    print(json.dumps({"records": df.num_rows, "rows_updated": res.rows_updated, "rows_inserted": res.rows_inserted,
                      "seconds": secs, "convert_seconds": t_convert}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
