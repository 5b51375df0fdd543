"""Part 6: PostgreSQL. Debian's PostgreSQL server (run.sh starts it on a private data dir and
loopback port as the postgres user) holds the SQL catalog. Two destination processes write
different streams of one namespace at the same time (each commits every 50 records, so their
namespace creation and commits interleave); afterwards PyIceberg's SqlCatalog on the same
database (SQLAlchemy + psycopg2) must find every table complete, row for row."""

from __future__ import annotations

import subprocess
import time
from urllib.parse import urlsplit

from harness import (PROC_TIMEOUT, SABOTAGE, WORK, Checks, binary, filter_lines, say, verify_sync, write_json)
import shared

NS = "clockify_pg"


def run(chk: Checks) -> None:
    import psycopg2
    from pyiceberg.catalog.sql import SqlCatalog

    uri = shared.service("INTEROP_PG_URI")
    d = shared.demo()
    base = WORK / "p6"
    warehouse = base / "warehouse"
    names = [s["stream"]["name"] for s in d.configured["streams"]]
    halves = [set(names[0::2]), set(names[1::2])]
    procs = []
    t0 = time.time()
    for i, half in enumerate(halves):
        cat = {"streams": [s for s in d.configured["streams"] if s["stream"]["name"] in half]}
        cat_path = write_json(base / f"catalog-{i}.json", cat)
        cfg = write_json(base / f"destination-{i}.json", {
            "warehouse": str(warehouse), "namespace": NS, "flush_records": 50,
            "catalog": {"catalog_type": "sql", "uri": uri}})
        stdin = filter_lines(d.read.run.lines(), half)
        p = subprocess.Popen([binary("destination-iceberg"), "write", "--config", str(cfg), "--catalog", str(cat_path)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append((p, stdin, half))
    # Feed both at once from threads so neither finishes before the other starts.
    import threading

    outs: list = [None, None]
    ended: list = [0.0, 0.0]
    started = time.monotonic()  # both processes exist (Popen above) before either gets input

    def feed(i: int) -> None:
        p, stdin, _ = procs[i]
        outs[i] = p.communicate(stdin, timeout=PROC_TIMEOUT)
        ended[i] = time.monotonic()

    threads = [threading.Thread(target=feed, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (p, _, half) in enumerate(procs):
        states = outs[i][0].count(b'"type":"STATE"')
        say(f"  destination process {i + 1}: {len(half)} streams ({', '.join(sorted(half))}), exit {p.returncode}, "
            f"{states} states echoed")
        chk.check(p.returncode == 0, f"destination process {i + 1} exited {p.returncode}: {outs[i][1].decode(errors='replace')[-800:]}")
    say(f"  both writes finished in {time.time() - t0:.1f}s (process 1 ended {ended[0] - started:.2f}s, "
        f"process 2 {ended[1] - started:.2f}s after both were running)")

    u = urlsplit(uri)
    conn = psycopg2.connect(host=u.hostname, port=u.port, user=u.username, dbname=u.path.lstrip("/"))
    conn.autocommit = True
    with conn.cursor() as cur:
        if SABOTAGE:
            cur.execute("DELETE FROM iceberg_tables WHERE table_namespace = %s AND table_name = 'tags'", (NS,))
            say(f"  self-test: deleted the catalog row of {NS}.tags from PostgreSQL")
            chk.sabotaged(f"postgres: {NS}.tags: PyIceberg could not read")
        cur.execute("SELECT catalog_name, count(*) FROM iceberg_tables WHERE table_namespace = %s GROUP BY 1", (NS,))
        rows = cur.fetchall()
    conn.close()
    say(f"  PostgreSQL iceberg_tables rows for {NS}: {rows}")
    chk.check(rows == [("airbyte", len(names))], f"iceberg_tables holds {rows} for {NS}, want [('airbyte', {len(names)})]")

    cat = SqlCatalog("airbyte", uri=f"postgresql+psycopg2://{u.username}@{u.hostname}:{u.port}{u.path}",
                     warehouse=f"file://{warehouse}")
    verify_sync(chk, cat, NS, d.configured, {k: [dict(r, _gen=1) for r in v] for k, v in d.read.records.items()},
                d.truth, label="postgres: ", truth_ids=d.truth_ids)
