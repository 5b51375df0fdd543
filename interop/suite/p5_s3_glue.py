"""Part 5: S3 and Glue. moto's server (run.sh starts `moto_server` on loopback) is the S3 endpoint
and the Glue endpoint. The destination writes s3:// warehouses through the sql catalog (SQLite
file) and through the glue catalog; PyIceberg reads both back through the same endpoints (Glue
via boto3, data via PyArrow's S3 filesystem) and every row is compared with the emitted records."""

from __future__ import annotations

from harness import SABOTAGE, WORK, Checks, dest_write, first_data_file, java_check, say, verify_sync, write_json
import shared

BUCKET = "clockberg-interop"


def break_table(chk: Checks, cat, ns: str, s3) -> None:
    victim = first_data_file(cat.load_table((ns, "tasks")))
    key = victim.split(f"s3://{BUCKET}/", 1)[1]
    s3.delete_object(Bucket=BUCKET, Key=key)
    say(f"  self-test: deleted object {victim} of {ns}.tasks from S3")
    chk.sabotaged(f"{ns}.tasks: PyIceberg could not read")


def run(chk: Checks) -> None:
    from pyiceberg.catalog.glue import GlueCatalog
    from pyiceberg.catalog.sql import SqlCatalog

    ep = shared.service("INTEROP_S3_ENDPOINT")
    d = shared.demo()
    base = WORK / "p5"
    s3 = shared.boto("s3", ep)
    s3.create_bucket(Bucket=BUCKET)
    records = {k: [dict(r, _gen=1) for r in v] for k, v in d.read.records.items()}

    # SQL catalog (SQLite file) with an s3:// warehouse.
    ns = "clockify_s3"
    catalog_db = base / "s3-catalog.db"
    cfg = {"warehouse": f"s3://{BUCKET}/sql-warehouse", "namespace": ns,
           "catalog": {"catalog_type": "sql", "uri": str(catalog_db)}, "storage": shared.s3_storage(ep)}
    dest_write(write_json(base / "destination-sql-s3.json", cfg), d.cat_path, d.source_stdout())
    n = s3.list_objects_v2(Bucket=BUCKET, Prefix="sql-warehouse/").get("KeyCount", 0)
    say(f"  sql catalog + s3: {n} objects under s3://{BUCKET}/sql-warehouse/ (moto {ep})")
    chk.check(n > 0, "the sql+s3 sync wrote no objects to the bucket")
    cat = SqlCatalog("airbyte", uri=f"sqlite:///{catalog_db}", warehouse=f"s3://{BUCKET}/sql-warehouse",
                     **shared.s3_props(ep))
    if SABOTAGE:
        break_table(chk, cat, ns, s3)
    verify_sync(chk, cat, ns, d.configured, records, d.truth, label="sql+s3: ", truth_ids=d.truth_ids)
    java_s3 = {"io-impl": "org.apache.iceberg.aws.s3.S3FileIO", "s3.endpoint": ep, "s3.path-style-access": "true",
               "s3.access-key-id": "testing", "s3.secret-access-key": "testing", "client.region": "us-east-1"}
    counts = {s["stream"]["name"]: d.truth[s["stream"]["name"]] for s in d.configured["streams"]}
    if not SABOTAGE:
        java_check(chk, "sql+s3", ns, dict(java_s3, name="airbyte", **{"catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
                   "uri": f"jdbc:sqlite:file:{catalog_db}", "warehouse": f"s3://{BUCKET}/sql-warehouse"}), counts)

    # Glue catalog with an s3:// warehouse.
    ns = "clockify_glue"
    cfg = {"warehouse": f"s3://{BUCKET}/glue-warehouse", "namespace": ns,
           "catalog": {"catalog_type": "glue", "region": "us-east-1", "endpoint": ep,
                       "access_key_id": "testing", "secret_access_key": "testing"},
           "storage": shared.s3_storage(ep)}
    dest_write(write_json(base / "destination-glue-s3.json", cfg), d.cat_path, d.source_stdout())
    glue = shared.boto("glue", ep)
    gt = glue.get_tables(DatabaseName=ns)["TableList"]
    say(f"  glue + s3: Glue database {ns} holds {len(gt)} tables; "
        f"{s3.list_objects_v2(Bucket=BUCKET, Prefix='glue-warehouse/').get('KeyCount', 0)} objects under s3://{BUCKET}/glue-warehouse/")
    chk.check(len(gt) == len(d.configured["streams"]), f"Glue lists {len(gt)} tables, want {len(d.configured['streams'])}")
    for t in gt:
        chk.check((t.get("Parameters") or {}).get("table_type", "").upper() == "ICEBERG",
                  f"Glue table {t['Name']} has table_type {(t.get('Parameters') or {}).get('table_type')!r}, want ICEBERG")
    cat = GlueCatalog("glue", **{"glue.endpoint": ep, "glue.region": "us-east-1", "glue.access-key-id": "testing",
                                 "glue.secret-access-key": "testing"}, **shared.s3_props(ep))
    if SABOTAGE:
        break_table(chk, cat, ns, s3)
    verify_sync(chk, cat, ns, d.configured, records, d.truth, label="glue+s3: ", truth_ids=d.truth_ids)
    if not SABOTAGE:
        java_check(chk, "glue+s3", ns, dict(java_s3, name="glue", **{"catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
                   "glue.endpoint": ep, "warehouse": f"s3://{BUCKET}/glue-warehouse"}), counts)
