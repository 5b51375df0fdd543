"""Part 4: the Apache Iceberg REST catalog. The REST catalog server published on Maven Central
(org.apache.iceberg:iceberg-open-api, the shaded test-fixtures runtime, run by run.sh with
`java -jar` and CATALOG_* environment variables: JDBC catalog on SQLite, local warehouse); the
destination writes through it with catalog_type rest, PyIceberg's RestCatalog reads back through
the same server, and every row is compared with the emitted records. A second fixture server keeps
its warehouse on S3 (moto, the server's own S3FileIO): the destination writes data files there with
its S3 storage settings and PyIceberg reads them back through the server and moto."""

from __future__ import annotations

import os

from harness import SABOTAGE, WORK, Checks, dest_write, first_data_file, java_check, say, verify_sync, write_json
import shared

NS = "clockify_rest"


def run(chk: Checks) -> None:
    from pyiceberg.catalog.rest import RestCatalog

    uri = shared.service("INTEROP_REST_URI")
    d = shared.demo()
    base = WORK / "p4"
    cfg = {"warehouse": "file://" + os.environ.get("INTEROP_REST_WAREHOUSE", str(base / "warehouse")),
           "namespace": NS, "catalog": {"catalog_type": "rest", "uri": uri}}
    dst_cfg = write_json(base / "destination.json", cfg)
    dest_write(dst_cfg, d.cat_path, d.source_stdout())

    cat = RestCatalog("rest", uri=uri)
    tables = sorted(t[1] for t in cat.list_tables(NS))
    say(f"  REST catalog {uri} lists {len(tables)} tables in {NS}")
    chk.check(len(tables) == len(d.configured["streams"]), f"REST catalog lists {len(tables)} tables, want {len(d.configured['streams'])}")
    loc = cat.load_table((NS, "tasks")).metadata_location
    say(f"  table metadata written by the server: {loc}")
    if SABOTAGE:
        victim = first_data_file(cat.load_table((NS, "tasks")))
        os.remove(victim.removeprefix("file://"))
        say(f"  self-test: removed data file {victim} of {NS}.tasks")
        chk.sabotaged(f"rest: {NS}.tasks: PyIceberg could not read")
    verify_sync(chk, cat, NS, d.configured, {k: [dict(r, _gen=1) for r in v] for k, v in d.read.records.items()},
                d.truth, label="rest: ", truth_ids=d.truth_ids)
    counts = {s["stream"]["name"]: d.truth[s["stream"]["name"]] for s in d.configured["streams"]}
    if not SABOTAGE:
        java_check(chk, "rest", NS, {"name": "rest", "catalog-impl": "org.apache.iceberg.rest.RESTCatalog", "uri": uri}, counts)

    # REST catalog whose warehouse is s3:// on moto.
    uri = shared.service("INTEROP_REST_S3_URI")
    ep = shared.service("INTEROP_S3_ENDPOINT")
    s3 = shared.boto("s3", ep)
    s3.create_bucket(Bucket="rest-s3")
    ns = "clockify_rest_s3"
    cfg = {"warehouse": "s3://rest-s3/warehouse", "namespace": ns,
           "catalog": {"catalog_type": "rest", "uri": uri}, "storage": shared.s3_storage(ep)}
    dest_write(write_json(base / "destination-s3.json", cfg), d.cat_path, d.source_stdout())
    n = s3.list_objects_v2(Bucket="rest-s3", Prefix="warehouse/").get("KeyCount", 0)
    cat = RestCatalog("rest_s3", uri=uri, **shared.s3_props(ep))
    tables = sorted(t[1] for t in cat.list_tables(ns))
    say(f"  REST catalog {uri} (S3 warehouse) lists {len(tables)} tables in {ns}; {n} objects under s3://rest-s3/warehouse/")
    chk.check(len(tables) == len(d.configured["streams"]), f"S3 REST catalog lists {len(tables)} tables, want {len(d.configured['streams'])}")
    if SABOTAGE:
        victim = first_data_file(cat.load_table((ns, "tasks")))
        s3.delete_object(Bucket="rest-s3", Key=victim.split("s3://rest-s3/", 1)[1])
        say(f"  self-test: deleted object {victim} of {ns}.tasks from S3")
        chk.sabotaged(f"rest+s3: {ns}.tasks: PyIceberg could not read")
    verify_sync(chk, cat, ns, d.configured, {k: [dict(r, _gen=1) for r in v] for k, v in d.read.records.items()},
                d.truth, label="rest+s3: ", truth_ids=d.truth_ids)
    if not SABOTAGE:
        java_check(chk, "rest+s3", ns, {"name": "rest_s3", "catalog-impl": "org.apache.iceberg.rest.RESTCatalog", "uri": uri,
                                        "io-impl": "org.apache.iceberg.aws.s3.S3FileIO", "s3.endpoint": ep,
                                        "s3.path-style-access": "true", "s3.access-key-id": "testing",
                                        "s3.secret-access-key": "testing", "client.region": "us-east-1"}, counts)
