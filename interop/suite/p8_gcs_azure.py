"""Part 8: Google Cloud Storage and Azure storage. run.sh starts fake-gcs-server (the GCS JSON API,
a Go module) and Azurite's blob service (Microsoft's emulator, an npm package) on loopback. The
destination writes the demo sync to a gs:// warehouse and to an abfss:// warehouse authenticated
by a SAS token (the path of issue 14's leaked signature), both through an embedded SQLite catalog.
PyIceberg reads every table back through the same emulators (GCS: PyArrow's GcsFileSystem; Azure:
the fsspec reader, adlfs, with the SAS token) and DuckDB queries PyIceberg's Arrow, every row
compared with the emitted records; Apache Iceberg Java (GCSFileIO, ADLSFileIO with the SAS token)
plans every table from its manifests. `check` with a SAS token whose signature is wrong must say
FAILED, and no byte it or the write printed, nor the catalog file or any metadata blob, may hold a
parameter of the SAS token in any encoding.

Not reachable here: PyArrow's own AzureFileSystem, which PyIceberg picks when asked for PyArrow IO
(PyIceberg 0.12 hands it container@account.dfs.core.windows.net/... paths, which it takes for a
container name, and with a SAS token and a custom blob authority PyArrow 21 puts the token into the
request path: Azurite answers 400 OutOfRangeInput)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import urllib.parse
import urllib.request

from harness import SABOTAGE, WORK, Checks, binary, dest_write, first_data_file, java_check, say, verify_sync, write_json
from harness import run as run_process
import shared

GCS_BUCKET = "clockberg-gcs"
AZ_ACCOUNT = "devstoreaccount1"
# Azurite's documented development account key (public, the same on every installation).
AZ_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZ_CONTAINER = "clockberg"
AZ_VERSION = "2022-11-02"


def account_sas(permissions: str = "rwdlacup", expiry: str = "2099-01-01T00:00:00Z") -> str:
    """An account SAS token for Azurite's account, signed as Azure specifies (HMAC-SHA256 over the
    string-to-sign of service version 2020-12-06 and later), parameters in the portal's order."""
    fields = {"sv": AZ_VERSION, "ss": "b", "srt": "sco", "sp": permissions, "se": expiry,
              "st": "2020-01-01T00:00:00Z", "spr": "https,http"}
    sts = "\n".join([AZ_ACCOUNT, fields["sp"], fields["ss"], fields["srt"], fields["st"], fields["se"], "",
                     fields["spr"], fields["sv"], ""]) + "\n"
    sig = base64.b64encode(hmac.new(base64.b64decode(AZ_KEY), sts.encode(), hashlib.sha256).digest()).decode()
    return urllib.parse.urlencode(dict(fields, sig=sig))


def sas_forms(sas: str) -> list[str]:
    """Every form a parameter of the token can take in printed text: raw, URL-encoded (both hex
    cases), JSON-escaped; for each value of 12 characters or more and for sig, the value alone."""
    out = {sas}
    for k, v in urllib.parse.parse_qsl(sas):
        enc = urllib.parse.quote(v, safe="")
        for form in (f"{k}={v}", f"{k}={enc}", v if (len(v) >= 12 or k == "sig") else None, enc if k == "sig" else None):
            if form:
                out.update({form, form.lower() if "%" in form else form, json.dumps(form)[1:-1]})
    return sorted(out, key=len, reverse=True)


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> bytes:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def read_back(chk: Checks, d, cat, ns: str, label: str, catalog_db, warehouse: str, java_io: dict) -> None:
    """PyIceberg (and DuckDB on its Arrow) compare every row; Iceberg Java plans every table through
    the same SQLite catalog with the given FileIO properties."""
    verify_sync(chk, cat, ns, d.configured, {k: [dict(r, _gen=1) for r in v] for k, v in d.read.records.items()},
                d.truth, label=f"{label}: ", truth_ids=d.truth_ids)
    if not SABOTAGE:
        java_check(chk, label, ns, dict(java_io, name="airbyte", uri=f"jdbc:sqlite:file:{catalog_db}", warehouse=warehouse,
                                        **{"catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog"}),
                   {s["stream"]["name"]: d.truth[s["stream"]["name"]] for s in d.configured["streams"]})


def run_gcs(chk: Checks, d) -> None:
    from pyiceberg.catalog.sql import SqlCatalog

    ep = shared.service("INTEROP_GCS_ENDPOINT")
    base = WORK / "p8"
    http("POST", f"{ep}/storage/v1/b", json.dumps({"name": GCS_BUCKET}).encode(), {"Content-Type": "application/json"})
    ns = "clockify_gcs"
    catalog_db = base / "gcs-catalog.db"
    cfg = {"warehouse": f"gs://{GCS_BUCKET}/warehouse", "namespace": ns,
           "catalog": {"catalog_type": "sql", "uri": str(catalog_db)},
           "storage": {"storage_type": "gcs", "endpoint": ep}}
    dest_write(write_json(base / "destination-gcs.json", cfg), d.cat_path, d.source_stdout())
    listing = json.loads(http("GET", f"{ep}/storage/v1/b/{GCS_BUCKET}/o?prefix=warehouse/"))
    n = len(listing.get("items", []))
    say(f"  gcs: {n} objects under gs://{GCS_BUCKET}/warehouse/ (fake-gcs-server {ep})")
    chk.check(n > 0, "the gcs sync wrote no objects to the bucket")
    # PyArrow's GcsFileSystem wants a token and its expiry; the emulator ignores the token.
    expires = int((dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).timestamp() * 1000)
    cat = SqlCatalog("airbyte", uri=f"sqlite:///{catalog_db}", warehouse=cfg["warehouse"],
                     **{"gcs.service.host": ep, "gcs.oauth2.token": "emulator", "gcs.oauth2.token-expires-at": str(expires)})
    if SABOTAGE:
        victim = first_data_file(cat.load_table((ns, "tasks")))
        obj = urllib.parse.quote(victim.split(f"gs://{GCS_BUCKET}/", 1)[1], safe="")
        http("DELETE", f"{ep}/storage/v1/b/{GCS_BUCKET}/o/{obj}")
        say(f"  self-test: deleted object {victim} of {ns}.tasks from fake-gcs-server")
        chk.sabotaged(f"gcs: {ns}.tasks: PyIceberg could not read")
    read_back(chk, d, cat, ns, "gcs", catalog_db, cfg["warehouse"], {
        "io-impl": "org.apache.iceberg.gcp.gcs.GCSFileIO", "gcs.service.host": ep, "gcs.no-auth": "true",
        "gcs.project-id": "clockberg"})


def run_azure(chk: Checks, d) -> None:
    from pyiceberg.catalog.sql import SqlCatalog

    ep = shared.service("INTEROP_AZURITE_ENDPOINT")
    base = WORK / "p8"
    sas = account_sas()
    http("PUT", f"{ep}/{AZ_ACCOUNT}/{AZ_CONTAINER}?restype=container&{sas}", b"",
         {"x-ms-version": AZ_VERSION, "Content-Length": "0"})
    ns = "clockify_azure"
    catalog_db = base / "azure-catalog.db"
    warehouse = f"abfss://{AZ_CONTAINER}@{AZ_ACCOUNT}.dfs.core.windows.net/warehouse"
    storage = {"storage_type": "azure", "endpoint": ep, "sas_token": sas}
    cfg = {"warehouse": warehouse, "namespace": ns, "catalog": {"catalog_type": "sql", "uri": str(catalog_db)},
           "storage": storage}
    printed = []
    w = dest_write(write_json(base / "destination-azure.json", cfg), d.cat_path, d.source_stdout())
    printed.append(("write", w.stdout + w.stderr))
    listing = http("GET", f"{ep}/{AZ_ACCOUNT}/{AZ_CONTAINER}?restype=container&comp=list&prefix=warehouse/&{sas}",
                   headers={"x-ms-version": AZ_VERSION}).decode()
    n = listing.count("<Blob>")
    say(f"  azure: {n} blobs under {warehouse} (Azurite {ep}, SAS-token auth)")
    chk.check(n > 0, "the azure sync wrote no blobs to the container")

    # The same token with a wrong signature: check must fail and print none of the token.
    parts = urllib.parse.parse_qsl(sas)
    wrong = urllib.parse.urlencode([(k, (v[:-6] + "AAAAA=" if k == "sig" else v)) for k, v in parts])
    bad_cfg = dict(cfg, storage=dict(storage, sas_token=wrong))
    r = run_process([binary("destination-iceberg"), "check", "--config", str(write_json(base / "destination-azure-badsig.json", bad_cfg))])
    status = [m["connectionStatus"] for m in r.messages() if m.get("type") == "CONNECTION_STATUS"]
    say(f"  azure: check with a wrong SAS signature: exit {r.rc}, {status[0]['status'] if status else 'no status'}")
    chk.check(r.rc == 0 and len(status) == 1 and status[0]["status"] == "FAILED",
              f"check with a wrong SAS signature: exit {r.rc}, statuses {status}")
    printed.append(("check with a wrong signature", r.stdout + r.stderr))
    # Stored files may not hold the token either (the catalog database, Iceberg metadata).
    printed.append(("catalog file", catalog_db.read_bytes()))
    for blob in sorted(set(x.split("</Name>")[0] for x in listing.split("<Name>")[1:])):
        if "/metadata/" in blob:
            printed.append((blob, http("GET", f"{ep}/{AZ_ACCOUNT}/{AZ_CONTAINER}/{urllib.parse.quote(blob)}?{sas}",
                                       headers={"x-ms-version": AZ_VERSION})))
    if SABOTAGE:
        # What the old redactor let through: the SDK's re-ordered, re-encoded query.
        reordered = urllib.parse.urlencode(sorted(urllib.parse.parse_qsl(sas)))
        printed.append(("sabotage: a line with the re-ordered token", f"PUT {ep}/x?{reordered}: 403".encode()))
        chk.sabotaged("sabotage: a line with the re-ordered token holds")
    leaks = 0
    for token in (sas, wrong):
        for what, data in printed:
            for form in sas_forms(token):
                if form.encode() in data:
                    leaks += 1
                    name = form.split("=", 1)[0] if "=" in form[:8] else "a value"
                    chk.check(False, f"azure: {what} holds {name} of the SAS token ({len(form)} characters)")
                    break
    chk.count("outputs and files grepped for every form of the SAS token", len(printed))
    chk.check(leaks == 0, f"azure: the SAS token leaked into {leaks} outputs or files")

    conn = (f"DefaultEndpointsProtocol=http;AccountName={AZ_ACCOUNT};SharedAccessSignature={sas};"
            f"BlobEndpoint={ep}/{AZ_ACCOUNT};")
    cat = SqlCatalog("airbyte", uri=f"sqlite:///{catalog_db}", warehouse=warehouse,
                     **{"adls.connection-string": conn, "adls.account-name": AZ_ACCOUNT})
    if SABOTAGE:
        victim = first_data_file(cat.load_table((ns, "tasks")))
        blob = victim.split(".dfs.core.windows.net/", 1)[1]
        http("DELETE", f"{ep}/{AZ_ACCOUNT}/{AZ_CONTAINER}/{urllib.parse.quote(blob)}?{sas}", headers={"x-ms-version": AZ_VERSION})
        say(f"  self-test: deleted blob {victim} of {ns}.tasks from Azurite")
        chk.sabotaged(f"azure: {ns}.tasks: PyIceberg could not read")
    read_back(chk, d, cat, ns, "azure", catalog_db, warehouse, {
        "io-impl": "org.apache.iceberg.azure.adlsv2.ADLSFileIO",
        f"adls.connection-string.{AZ_ACCOUNT}.dfs.core.windows.net": f"{ep}/{AZ_ACCOUNT}",
        f"adls.sas-token.{AZ_ACCOUNT}.dfs.core.windows.net": sas})


def run(chk: Checks) -> None:
    d = shared.demo()
    run_gcs(chk, d)
    run_azure(chk, d)
