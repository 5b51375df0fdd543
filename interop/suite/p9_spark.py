"""Part 9: Apache Spark 3.5 (pyspark from PyPI, iceberg-spark-runtime-3.5_2.12 from Maven Central), an
engine that reads the Parquet data in Java. A demo-style sync into the embedded SQLite catalog and one
into the REST fixture, then one SparkSession (local[2]) with both catalogs configured (Iceberg's
JdbcCatalog on the same catalog.db, RESTCatalog on the same server) reads every table; every row must
equal the record the source emitted, as in part 1, and Spark SQL queries a nested field of time
entries (the struct field, or the JSON text with get_json_object on tables of the JSON layout). A
second, incremental sync of time entries (append_dedup re-reading its lookback window, delete files
if the destination writes them) is read back the same way, through a second SQLite catalog and the
REST fixture."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from pathlib import Path

from harness import (NAMESPACE, SABOTAGE, WORK, Checks, PartFailed, configure, dest_write, first_data_file,
                     parse_instant, say, source_read, states_from, table_columns, to_micros, verify_rows, write_json)
import shared

REST_NS = "clockify_spark"


def spark_session(sqlite: dict[str, Path], rest_uri: str | None):
    from pyspark.sql import SparkSession

    jars = os.environ.get("INTEROP_SPARK_JARS", "")
    missing = [j for j in jars.split(",") if not Path(j).exists()]
    if not jars or missing:
        raise PartFailed(f"Spark's Iceberg runtime or SQLite JDBC jar missing ({missing or 'INTEROP_SPARK_JARS unset'}); "
                         "run interop/setup.sh")
    b = (SparkSession.builder.master("local[2]").appName("clockberg-interop")
         .config("spark.jars", jars)
         .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
         .config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.adaptive.enabled", "false")
         .config("spark.sql.shuffle.partitions", "2")
         .config("spark.driver.memory", "1g"))
    # A JDBC catalog's Spark name must be the SQL catalog's name (rows of iceberg_tables carry it).
    for name, wh in sqlite.items():
        c = f"spark.sql.catalog.{name}"
        b = (b.config(c, "org.apache.iceberg.spark.SparkCatalog")
             .config(c + ".catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
             .config(c + ".uri", f"jdbc:sqlite:file:{wh / 'catalog.db'}")
             .config(c + ".warehouse", f"file://{wh}"))
    if rest_uri:
        b = (b.config("spark.sql.catalog.rest", "org.apache.iceberg.spark.SparkCatalog")
             .config("spark.sql.catalog.rest.type", "rest")
             .config("spark.sql.catalog.rest.uri", rest_uri)
             .config("spark.sql.catalog.rest.cache-enabled", "false"))
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def spark_rows(spark, ident: str) -> list[dict]:
    return [r.asDict(recursive=True) for r in spark.table(ident).collect()]


def verify_with_spark(chk: Checks, spark, label: str, spark_cat: str, py_cat, namespace: str, configured: dict,
                      records: dict[str, list[dict]], expected: dict[str, int]) -> None:
    """Spark reads every configured table; rows are compared with the emitted records field by field
    (column types and JSON markers from PyIceberg's view of the same schema)."""
    for cs in configured["streams"]:
        s = cs["stream"]
        name = s["name"]
        ident = f"{spark_cat}.{namespace}.{name}"
        try:
            rows = spark_rows(spark, ident)
        except Exception as e:  # noqa: BLE001 - any reader error is a failure of this table
            chk.check(False, f"{label}{namespace}.{name}: Spark could not read the table: {type(e).__name__}: "
                             f"{str(e).splitlines()[0][:300]}")
            continue
        cols = table_columns(py_cat.load_table((namespace, name)).schema())
        dedup = cs["destination_sync_mode"] in ("append_dedup", "overwrite_dedup")
        verify_rows(chk, f"{label}{namespace}.{name} (Spark)", rows, cols, s["json_schema"], records.get(name, []),
                    cs.get("primary_key") or [], dedup, cs["generation_id"], expected[name])
        chk.count("tables read by Spark")
        chk.count("rows read by Spark", len(rows))


def nested_query(chk: Checks, spark, label: str, ident: str, py_table, records: list[dict]) -> None:
    """Spark SQL on timeInterval.start: entries per month and the earliest start, against the records."""
    field = py_table.schema().find_field("timeInterval")
    start = "timeInterval.start" if "struct" in str(field.field_type) else \
        "to_timestamp(get_json_object(timeInterval, '$.start'))"
    q = (f"SELECT date_format({start}, 'yyyy-MM') AS month, count(*) AS n, min({start}) AS first "
         f"FROM {ident} GROUP BY 1 ORDER BY 1")
    got = {r["month"]: (r["n"], r["first"]) for r in spark.sql(q).collect()}
    want: dict[str, list] = {}
    latest = {r["data"]["id"]: r for r in records}  # dedup: the last emitted version of each key
    for r in latest.values():
        if r["data"].get("_ab_cdc_deleted_at") is not None:
            continue  # a tombstone: the key has no row
        s = (r["data"].get("timeInterval") or {}).get("start")
        t = parse_instant(s).astimezone(dt.timezone.utc) if s else None
        key = t.strftime("%Y-%m") if t else None
        w = want.setdefault(key, [0, None])
        w[0] += 1
        if t and (w[1] is None or t < w[1]):
            w[1] = t
    ok = chk.check(set(got) == set(want), f"{label}: Spark SQL months {sorted(set(got) ^ set(want), key=str)[:5]} differ from the records'")
    for m, (n, first) in sorted(want.items(), key=lambda kv: str(kv[0])):
        g = got.get(m)
        if g is None:
            continue
        ok &= chk.check(g[0] == n, f"{label}: Spark SQL counts {g[0]} entries starting in {m}, the records {n}")
        if first is not None:
            ok &= chk.check(g[1] is not None and to_micros(g[1]) == to_micros(first),
                            f"{label}: Spark SQL earliest start in {m} is {g[1]}, the records say {first}")
    if ok:
        say(f"  {label}: Spark SQL on {start} agrees with the records ({len(got)} months)")
    chk.count("Spark SQL queries on a nested field")


def run(chk: Checks) -> None:
    from pyiceberg.catalog.rest import RestCatalog
    from pyiceberg.catalog.sql import SqlCatalog

    # PySpark turns timestamps into naive datetimes of the Python process's zone; make that UTC.
    old_tz = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    d = shared.demo()
    base = WORK / "p9"
    t0 = time.time()
    # Every write happens before Spark starts: Iceberg's JdbcCatalog keeps a read transaction open on
    # its SQLite connection, so a session would not see a commit made after its first read. Hence two
    # SQLite warehouses: one after the full sync, one (its own catalog name) after the incremental one.
    wh1, wh2 = base / "warehouse", base / "warehouse-incremental"
    cfg1 = write_json(base / "destination.json", {"warehouse": str(wh1)})
    cfg2 = write_json(base / "destination-incremental.json", {"warehouse": str(wh2), "catalog": {"catalog_type": "sql", "name": "incremental"}})
    w1 = dest_write(cfg1, d.cat_path, d.source_stdout())
    dest_write(cfg2, d.cat_path, d.source_stdout())
    rest_uri = os.environ.get("INTEROP_REST_URI") or None
    cfg_rest = None
    if rest_uri:
        rest_wh = os.environ.get("INTEROP_REST_WAREHOUSE", str(base / "rest-warehouse"))
        cfg_rest = write_json(base / "destination-rest.json", {"warehouse": "file://" + rest_wh, "namespace": REST_NS,
                                                                "catalog": {"catalog_type": "rest", "uri": rest_uri}})
        dest_write(cfg_rest, d.cat_path, d.source_stdout())
    else:
        chk.check(False, f"REST fixture unavailable: {os.environ.get('INTEROP_REST_URI_ERROR', 'run.sh did not start it')}")
    # Sync 2: time entries incremental + append_dedup from sync 1's state (its lookback window again).
    configured2 = configure({"streams": [s for s in d.catalog["streams"] if s["name"] == "time_entries"]},
                            generation=2, sync_id=2)
    cat2_path = write_json(base / "configured_catalog_2.json", configured2)
    read2 = source_read(d.src_cfg, cat2_path, state=write_json(base / "state.json", states_from(w1)))
    dest_write(cfg2, cat2_path, read2.run.stdout)
    if cfg_rest:
        dest_write(cfg_rest, cat2_path, read2.run.stdout)
    n2 = len(read2.records.get("time_entries", []))
    chk.check(0 < n2 < d.truth["time_entries"], f"sync 2 re-read {n2} time entries, want some but fewer than all")
    say(f"  full sync into two SQLite catalogs{' and the REST fixture' if rest_uri else ''}, then an incremental sync "
        f"re-reading {n2} time entries into the second and the REST fixture ({time.time() - t0:.1f}s)")
    sqlite1 = SqlCatalog("airbyte", uri=f"sqlite:///{wh1 / 'catalog.db'}", warehouse=f"file://{wh1}")
    sqlite2 = SqlCatalog("incremental", uri=f"sqlite:///{wh2 / 'catalog.db'}", warehouse=f"file://{wh2}")
    rest_cat = RestCatalog("rest", uri=rest_uri) if rest_uri else None

    expected1 = {k: [dict(r, _gen=1) for r in v] for k, v in d.read.records.items()}
    both = dict(expected1, time_entries=expected1["time_entries"] + [dict(r, _gen=2) for r in read2.records.get("time_entries", [])])
    if SABOTAGE:
        victim = first_data_file(sqlite1.load_table((NAMESPACE, "tasks")))
        os.remove(victim.removeprefix("file://"))
        say(f"  self-test: removed data file {victim} of {NAMESPACE}.tasks")
        chk.sabotaged(f"sqlite: {NAMESPACE}.tasks: Spark could not read")
        rec = expected1["projects"][0]
        rec["data"] = dict(rec["data"], name=str(rec["data"].get("name")) + " (sabotaged)")
        say(f"  self-test: changed the name of project {rec['data']['id']} in the expected records")
        chk.sabotaged(f"sqlite: {NAMESPACE}.projects (Spark): row")

    t1 = time.time()
    spark = spark_session({"airbyte": wh1, "incremental": wh2}, rest_uri)
    try:
        say(f"  Spark {spark.version} session (local[2]) up in {time.time() - t1:.1f}s")
        truth = {s["stream"]["name"]: d.truth[s["stream"]["name"]] for s in d.configured["streams"]}
        listed = sorted(r["tableName"] for r in spark.sql(f"SHOW TABLES IN airbyte.{NAMESPACE}").collect())
        chk.check(len(listed) == len(d.configured["streams"]),
                  f"Spark lists {len(listed)} tables in airbyte.{NAMESPACE}, want {len(d.configured['streams'])}")
        verify_with_spark(chk, spark, "sqlite: ", "airbyte", sqlite1, NAMESPACE, d.configured, expected1, truth)
        nested_query(chk, spark, "sqlite", f"airbyte.{NAMESPACE}.time_entries", sqlite1.load_table((NAMESPACE, "time_entries")),
                     expected1["time_entries"])
        # The simulator's truth now: another part may have deleted time entries before sync 2.
        truth2 = dict(truth, time_entries=d.sim.truth()["time_entries"])
        verify_with_spark(chk, spark, "sqlite after sync 2: ", "incremental", sqlite2, NAMESPACE, configured2, both, truth2)
        nested_query(chk, spark, "sqlite after sync 2", f"incremental.{NAMESPACE}.time_entries",
                     sqlite2.load_table((NAMESPACE, "time_entries")), both["time_entries"])
        files = Counter(r["content"] for r in spark.sql(f"SELECT content FROM incremental.{NAMESPACE}.time_entries.files").collect())
        say(f"  time_entries after sync 2: Spark sees {files.get(0, 0)} data files, {files.get(1, 0)} position-delete "
            f"and {files.get(2, 0)} equality-delete files")
        chk.check(files.get(2, 0) == 0, f"time_entries has {files.get(2, 0)} equality-delete files (Snowflake cannot read them)")
        # The default dedup is merge-on-read: the rows compared above are what Spark makes of the
        # data files with those position deletes applied.
        chk.check(files.get(1, 0) > 0, "time_entries after the incremental sync has no position-delete file for Spark to apply")
        if rest_cat:
            verify_with_spark(chk, spark, "rest after sync 2: ", "rest", rest_cat, REST_NS, d.configured, both, truth2)
            nested_query(chk, spark, "rest after sync 2", f"rest.{REST_NS}.time_entries",
                         rest_cat.load_table((REST_NS, "time_entries")), both["time_entries"])
        say(f"  Spark read {chk.counted.get('tables read by Spark', 0)} tables in {time.time() - t1:.1f}s")
    finally:
        spark.stop()
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        time.tzset()
