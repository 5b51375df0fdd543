"""One simulator and one full source read shared by the parts, so the suite reads the demo data once
and every destination variant writes the same emitted records."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from harness import (WORK, PartFailed, Run, Simulator, SourceRead, configure, discover, say, source_read,
                     write_json)


@dataclass
class Demo:
    sim: Simulator
    src_cfg: Path
    catalog: dict  # discovered
    configured: dict
    cat_path: Path
    read: SourceRead
    discover_run: Run
    truth: dict
    truth_ids: dict

    def source_stdout(self) -> bytes:
        return self.read.run.stdout


_demo: Demo | None = None


def demo() -> Demo:
    """Starts the simulator (demo preset), discovers, configures (time_entries incremental +
    append_dedup, others full_refresh + overwrite) and runs one full source read."""
    global _demo
    if _demo is not None:
        return _demo
    d = WORK / "demo"
    d.mkdir(parents=True, exist_ok=True)
    sim = Simulator("demo")
    try:
        src_cfg = write_json(d / "source.json", sim.source_config())
        catalog, disc = discover(src_cfg)
        configured = configure(catalog)
        cat_path = write_json(d / "configured_catalog.json", configured)
        read = source_read(src_cfg, cat_path)
        (d / "read.jsonl").write_bytes(read.run.stdout)
        truth = sim.truth()
        truth_ids = sim.truth(ids=True)
    except Exception:
        sim.stop()
        raise
    say(f"  shared: simulator {sim.url} (demo preset); source read {sum(read.count().values())} records "
        f"in {len(read.records)} streams; ground truth {sum(truth.values())} records in {len(truth)} streams")
    _demo = Demo(sim, src_cfg, catalog, configured, cat_path, read, disc, truth, truth_ids)
    return _demo


def close() -> None:
    global _demo
    if _demo is not None:
        _demo.sim.stop()
        _demo = None


def service(name: str) -> str:
    """The address of a service run.sh started, or a failure that says why it is missing."""
    v = os.environ.get(name, "")
    if not v:
        why = os.environ.get(name + "_ERROR", "run.sh did not start it")
        raise PartFailed(f"{name} is not available: {why}")
    return v


def s3_props(endpoint: str) -> dict:
    """PyIceberg FileIO properties for the moto S3 endpoint."""
    return {
        "s3.endpoint": endpoint,
        "s3.access-key-id": "testing",
        "s3.secret-access-key": "testing",
        "s3.region": "us-east-1",
        "s3.path-style-access": "true",
    }


def s3_storage(endpoint: str) -> dict:
    """The destination's storage settings for the moto S3 endpoint."""
    return {"storage_type": "s3", "endpoint": endpoint, "region": "us-east-1",
            "access_key_id": "testing", "secret_access_key": "testing", "path_style_access": True}


def boto(service_name: str, endpoint: str):
    import boto3

    return boto3.client(service_name, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def dumps(obj) -> bytes:
    return json.dumps(obj).encode()
