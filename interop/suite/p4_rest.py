"""Part 4: the Apache Iceberg REST catalog. The REST catalog server published on Maven Central
(org.apache.iceberg:iceberg-open-api, the shaded test-fixtures runtime, run by run.sh with
`java -jar` and CATALOG_* environment variables: JDBC catalog on SQLite, local warehouse); the
destination writes through it with catalog_type rest, PyIceberg's RestCatalog reads back through
the same server, and every row is compared with the emitted records."""

from __future__ import annotations

import os

from harness import SABOTAGE, WORK, Checks, dest_write, first_data_file, say, verify_sync, write_json
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
                d.truth, label="rest: ")
