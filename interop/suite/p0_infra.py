"""Part 0: the third-party peers themselves, before any of our binaries is involved. PyIceberg 0.12
writes a small table through each catalog (SQLite SQL catalog, the REST fixture, Glue + S3 on moto,
SQL catalog on PostgreSQL) and reads it back through the same catalog; DuckDB queries the Arrow
result; Airbyte's protocol models parse a sample message; PyAirbyte imports. A failure here means
the environment, not our code, is broken."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from harness import SABOTAGE, WORK, Checks, first_data_file, say
import shared

ROWS = [{"id": i, "name": f"row {i}", "payload": '{"k": %d}' % i} for i in range(100)]


def roundtrip(chk: Checks, label: str, cat, ns: str, location: str | None = None, break_it=None) -> None:
    import duckdb
    import pyarrow as pa

    arrow = pa.Table.from_pylist(ROWS, schema=pa.schema([("id", pa.int64()), ("name", pa.string()), ("payload", pa.string())]))
    if (ns,) not in cat.list_namespaces():
        cat.create_namespace(ns)
    kw = {"location": location} if location else {}
    tbl = cat.create_table((ns, "roundtrip"), schema=arrow.schema, **kw)
    tbl.append(arrow)
    if break_it:
        break_it(cat.load_table((ns, "roundtrip")))
    try:
        back = cat.load_table((ns, "roundtrip")).scan().to_arrow()
    except Exception as e:  # noqa: BLE001
        chk.check(False, f"{label}: PyIceberg could not read back its own table: {type(e).__name__}: {e}")
        return
    con = duckdb.connect()
    con.register("t", back)
    n, s = con.execute("SELECT count(*), sum(id) FROM t").fetchone()
    ok = chk.check(sorted(back.to_pylist(), key=lambda r: r["id"]) == ROWS and n == 100 and s == sum(range(100)),
                   f"{label}: read back {back.num_rows} rows (DuckDB count {n}, sum {s}), want the 100 written")
    if ok:
        say(f"  {label}: PyIceberg wrote and read back 100 rows; DuckDB agrees")
        chk.count("catalog round trips")


def run(chk: Checks) -> None:
    import duckdb
    import pyiceberg
    from airbyte_protocol.models import AirbyteMessage
    from pyiceberg.catalog.glue import GlueCatalog
    from pyiceberg.catalog.rest import RestCatalog
    from pyiceberg.catalog.sql import SqlCatalog

    base = WORK / "p0"
    base.mkdir(parents=True, exist_ok=True)
    say(f"  PyIceberg {pyiceberg.__version__}, DuckDB {duckdb.__version__}")
    # DuckDB's own Iceberg reader would be downloaded from DuckDB's extension host (not a registry
    # this machine reaches), so it is only reported, never installed; DuckDB reads Arrow instead.
    ext = duckdb.connect().execute(
        "SELECT installed, loaded FROM duckdb_extensions() WHERE extension_name = 'iceberg'").fetchall()
    say(f"  DuckDB iceberg extension (installed, loaded): {ext[0] if ext else 'unknown to this build'}")

    def remove_file(tbl) -> None:
        f = first_data_file(tbl)
        os.remove(f.removeprefix("file://"))
        say(f"  self-test: removed {f}")
        chk.sabotaged("sql (SQLite) + local: PyIceberg could not read")

    # SQL catalog on SQLite, local warehouse.
    wh = base / "sqlite-warehouse"
    wh.mkdir(parents=True, exist_ok=True)
    roundtrip(chk, "sql (SQLite) + local", SqlCatalog("p0", uri=f"sqlite:///{base / 'catalog.db'}", warehouse=f"file://{wh}"),
              "p0", break_it=remove_file if SABOTAGE else None)

    # The REST fixture.
    try:
        roundtrip(chk, "rest fixture + local", RestCatalog("rest", uri=shared.service("INTEROP_REST_URI")), "p0")
    except Exception as e:  # noqa: BLE001
        chk.check(False, f"rest: {type(e).__name__}: {e}")

    # Glue + S3 on moto.
    try:
        ep = shared.service("INTEROP_S3_ENDPOINT")
        shared.boto("s3", ep).create_bucket(Bucket="p0-infra")
        glue = GlueCatalog("glue", **{"glue.endpoint": ep, "glue.region": "us-east-1", "glue.access-key-id": "testing",
                                      "glue.secret-access-key": "testing"}, **shared.s3_props(ep))
        roundtrip(chk, "glue + s3 (moto)", glue, "p0", location="s3://p0-infra/glue/roundtrip")
    except Exception as e:  # noqa: BLE001
        chk.check(False, f"glue + s3: {type(e).__name__}: {e}")

    # SQL catalog on PostgreSQL.
    try:
        u = urlsplit(shared.service("INTEROP_PG_URI"))
        pg = SqlCatalog("p0", uri=f"postgresql+psycopg2://{u.username}@{u.hostname}:{u.port}{u.path}",
                        warehouse=f"file://{base / 'pg-warehouse'}")
        roundtrip(chk, "sql (PostgreSQL) + local", pg, "p0")
    except Exception as e:  # noqa: BLE001
        chk.check(False, f"sql (PostgreSQL): {type(e).__name__}: {e}")

    m = AirbyteMessage.model_validate_json(
        '{"type":"RECORD","record":{"stream":"s","data":{"a":1},"emitted_at":1700000000000}}', strict=True)
    chk.check(m.record.data == {"a": 1}, "airbyte-protocol-models parsed a sample RECORD wrongly")
    import airbyte  # noqa: F401 - PyAirbyte must import offline
    import airbyte_cdk.models  # noqa: F401
    say("  airbyte-protocol-models-pdv2, airbyte_cdk.models and PyAirbyte import; a sample RECORD parses")
