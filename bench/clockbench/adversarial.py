"""Section adversarial_source: source-clockify against a server that sends endless bodies.

A fake Clockify on loopback answers /workspaces with one workspace and every other path with a
JSON array that never ends (chunked, no Content-Length). The source must fail every stream with an
error naming its path and the per-response bound, and its peak RSS (GNU time) must stay near its
response-memory bounds (64 MiB per response, 160 MiB in flight) instead of growing with the number
of concurrent requests. Two runs: every stream of the catalog, and one stream.
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import procs

WORKSPACE = "5f0123456789abcdef012345"
CHUNK = json.dumps({"id": "0123456789abcdef01234567", "name": "x" * 200}).encode() + b","
CHUNK *= 4096  # ~900 KiB per write
# A server stops feeding one response after this many bytes: a client without a bound would stop
# there too, so the figure for such a client stays finite.
CAP = 1 << 30


class EndlessServer:
    """The fake API on 127.0.0.1 with a free port; a context manager."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                if path.endswith("/api/v1/workspaces") or path.endswith("/api/v1/user"):
                    body = json.dumps([{"id": WORKSPACE, "name": "endless"}] if "workspaces" in path
                                      else {"id": "u1", "name": "me", "activeWorkspace": WORKSPACE}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                sent = 0
                try:
                    self._chunk(b"[")
                    while sent < CAP:
                        self._chunk(CHUNK)
                        sent += len(CHUNK)
                except (BrokenPipeError, ConnectionResetError):
                    return
                self.close_connection = True

            def _chunk(self, b: bytes) -> None:
                self.wfile.write(b"%x\r\n" % len(b) + b + b"\r\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "EndlessServer":
        self.thread.start()
        return self

    def __exit__(self, *a) -> None:
        self.server.shutdown()
        self.server.server_close()


def catalog(streams: list) -> dict:
    return {"streams": [{"stream": {"name": s, "json_schema": {"type": "object"}, "supported_sync_modes": ["full_refresh"]},
                         "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for s in streams]}


def run(bench) -> None:
    src = os.path.join(bench.bin, "source-clockify")
    # The stream names come from the source itself (discover), so the section follows its catalog.
    sec = {"runs": {}}
    with EndlessServer() as srv:
        d = bench.rundir("runs", "adversarial")
        cfg = os.path.join(d, "config.json")
        with open(cfg, "w", encoding="utf-8") as f:
            json.dump({"api_key": "bench-endless-key", "api_url": srv.url, "requests_per_second": 0}, f)
        disc = procs.run_measured([src, "discover", "--config", cfg], os.path.join(d, "discover.out"), os.path.join(d, "discover.err"))
        names = []
        with open(disc.stdout_path, encoding="utf-8") as f:
            for line in f:
                m = json.loads(line)
                if m.get("type") == "CATALOG":
                    names = [s["name"] for s in m["catalog"]["streams"]]
        for label, streams in (("every stream", names), ("one stream (time_entries)", ["time_entries"])):
            cat = os.path.join(d, f"catalog-{len(streams)}.json")
            with open(cat, "w", encoding="utf-8") as f:
                json.dump(catalog(streams), f)
            tag = f"endless-{len(streams)}"
            m = procs.run_measured([src, "read", "--config", cfg, "--catalog", cat],
                                   os.path.join(d, tag + ".out"), os.path.join(d, tag + ".err"), timeout_s=600)
            bounded, errors = set(), 0
            with open(m.stdout_path, encoding="utf-8") as f:
                for line in f:
                    msg = json.loads(line)
                    t = msg.get("trace") or {}
                    if t.get("type") == "ERROR":
                        errors += 1
                        e = t.get("error", {})
                        if "bound" in e.get("message", "") and e.get("stream_descriptor"):
                            bounded.add(e["stream_descriptor"]["name"])
            sec["runs"][label] = {"streams": len(streams), "exit": m.returncode, "wall_s": m.wall_s,
                                  "peak_rss_mib": m.peak_rss_mib, "error_traces": errors,
                                  "streams_failed_naming_a_bound": len(bounded),
                                  "argv": ["source-clockify", "read", "--config", "$WORK/runs/adversarial/config.json",
                                           "--catalog", f"$WORK/runs/adversarial/{os.path.basename(cat)}"]}
    bench.results["sections"]["adversarial_source"] = sec


def render(res: dict) -> list:
    """Markdown lines of the section (empty when it did not run)."""
    sec = res.get("sections", {}).get("adversarial_source")
    if not sec:
        return []
    if "error" in sec:
        return ["## Source against endless bodies", "", f"**Section failed:** `{sec['error']}`", ""]
    rows = []
    for label, r in sec["runs"].items():
        rows.append(f"| {label} | {r['streams']} | {r['exit']} | {r['wall_s']:.1f} | {r['peak_rss_mib']:.0f} | "
                    f"{r['streams_failed_naming_a_bound']} of {r['streams']} |")
    return ["## Source against endless bodies", "",
            "A fake Clockify on loopback (`bench/clockbench/adversarial.py`) answers every stream's request with a JSON "
            "array that never ends (each response stops after 1 GiB). The source must fail each stream naming its "
            "path and a bound, with memory held near its response bounds (64 MiB per response, 160 MiB in flight) "
            "whatever the number of concurrent requests (max_concurrency 8). Peak RSS by GNU time.", "",
            "| catalog | streams | exit | wall s | peak RSS MiB | streams failed naming a bound |",
            "| --- | --- | --- | --- | --- | --- |", *rows, ""]
