"""Part 2: Airbyte's own protocol models. Every stdout line of source spec/check/discover/read and
destination spec/check/write is parsed by the AirbyteMessage model of Airbyte's published Python
packages: airbyte-protocol-models-pdv2 (pydantic v2, strict mode) and airbyte-cdk's
airbyte_cdk.models (dataclasses + serpyco-rs). Every emitted record validates against its stream's
JSON schema with jsonschema's Draft7Validator (with format checking), and the specs and stream
schemas are valid draft-07 schemas."""

from __future__ import annotations

import json
from collections import Counter

from harness import SABOTAGE, WORK, Checks, binary, dest_write, run_ok, say, write_json
from harness import run as run_cmd
import shared


def parse_all(chk: Checks, label: str, lines: list[bytes]) -> list[dict]:
    from airbyte_cdk.models import AirbyteMessageSerializer
    from airbyte_protocol.models import AirbyteMessage

    types: Counter = Counter()
    out = []
    for i, line in enumerate(lines, 1):
        try:
            m = AirbyteMessage.model_validate_json(line, strict=True)
            types[m.type.value] += 1
        except Exception as e:  # noqa: BLE001 - pydantic's ValidationError or a JSON error
            chk.check(False, f"{label} line {i}: airbyte-protocol-models AirbyteMessage rejects it: {str(e)[:300]}")
            continue
        try:
            AirbyteMessageSerializer.load(json.loads(line))
        except Exception as e:  # noqa: BLE001
            chk.check(False, f"{label} line {i}: airbyte_cdk.models AirbyteMessage rejects it: {str(e)[:300]}")
            continue
        out.append(json.loads(line))
    chk.count("messages parsed by both AirbyteMessage models", len(out))
    say(f"  {label}: {len(lines)} lines, types {dict(types)}")
    return out


def status_of(msgs: list[dict]) -> str | None:
    for m in msgs:
        if m.get("type") == "CONNECTION_STATUS":
            return m["connectionStatus"]["status"]
    return None


def run(chk: Checks) -> None:
    from jsonschema import Draft7Validator

    d = shared.demo()
    base = WORK / "p2"
    read_lines = d.read.run.lines()
    if SABOTAGE:
        read_lines = list(read_lines)
        first = next(i for i, l in enumerate(read_lines) if b'"type":"RECORD"' in l)
        m = json.loads(read_lines[first])
        m["record"]["emitted_at"] = "yesterday"
        read_lines[first] = json.dumps(m).encode()
        te = next(i for i, l in enumerate(read_lines) if b'"stream":"time_entries"' in l and b'"RECORD"' in l)
        m = json.loads(read_lines[te])
        m["record"]["data"]["billable"] = "yes"
        read_lines[te] = json.dumps(m).encode()
        say("  self-test: first RECORD's emitted_at set to a string, a time_entries record's billable set to \"yes\"")
        chk.sabotaged(f"source read line {first + 1}: airbyte-protocol-models AirbyteMessage rejects it",
                      f"read line {te + 1}: time_entries record fails its schema: billable")

    src = binary("source-clockify")
    dst = binary("destination-iceberg")
    spec = parse_all(chk, "source spec", run_ok([src, "spec"]).lines())
    check = parse_all(chk, "source check", run_ok([src, "check", "--config", str(d.src_cfg)]).lines())
    chk.check(status_of(check) == "SUCCEEDED", f"source check status {status_of(check)}, want SUCCEEDED")
    # Failure paths print protocol messages too: a wrong API key.
    bad_cfg = write_json(base / "source-bad-key.json", dict(json.loads(d.src_cfg.read_text()), api_key="wrong-key-0000000000"))
    bad = parse_all(chk, "source check (wrong API key)", run_cmd([src, "check", "--config", str(bad_cfg)]).lines())
    chk.check(status_of(bad) == "FAILED", f"source check with a wrong key: status {status_of(bad)}, want FAILED")
    bad_read = run_cmd([src, "read", "--config", str(bad_cfg), "--catalog", str(d.cat_path)])
    bad_msgs = parse_all(chk, f"source read (wrong API key, exit {bad_read.rc})", bad_read.lines())
    chk.check(any(m.get("type") == "TRACE" and m["trace"].get("type") == "ERROR" for m in bad_msgs),
              "source read with a wrong key printed no TRACE ERROR")
    disc = parse_all(chk, "source discover", d.discover_run.lines())
    read = parse_all(chk, "source read", read_lines)

    dst_cfg = write_json(base / "destination.json", {"warehouse": str(base / "warehouse")})
    dspec = parse_all(chk, "destination spec", run_ok([dst, "spec"]).lines())
    dcheck = parse_all(chk, "destination check", run_ok([dst, "check", "--config", str(dst_cfg)]).lines())
    chk.check(status_of(dcheck) == "SUCCEEDED", f"destination check status {status_of(dcheck)}, want SUCCEEDED")
    w = dest_write(dst_cfg, d.cat_path, b"\n".join(d.read.run.lines()) + b"\n")
    wmsgs = parse_all(chk, "destination write", w.lines())
    src_states = [m for m in read if m.get("type") == "STATE"]
    echoed = [m for m in wmsgs if m.get("type") == "STATE"]
    chk.check(len(echoed) == len(src_states),
              f"the destination echoed {len(echoed)} STATE messages, the source sent {len(src_states)}")
    for m in echoed:
        chk.check(isinstance((m["state"].get("destinationStats") or {}).get("recordCount"), (int, float)),
                  f"echoed STATE without destinationStats.recordCount: {json.dumps(m)[:200]}")
    chk.count("source STATE messages echoed by the destination", len(echoed))

    # Specs and schemas are draft-07; the source config validates against the source spec.
    for label, msgs in (("source", spec), ("destination", dspec)):
        specs = [m["spec"] for m in msgs if m.get("type") == "SPEC"]
        if chk.check(len(specs) == 1, f"{label} spec printed {len(specs)} SPEC messages"):
            try:
                Draft7Validator.check_schema(specs[0]["connectionSpecification"])
                chk.count("connection specifications valid as draft-07")
            except Exception as e:  # noqa: BLE001
                chk.check(False, f"{label} connectionSpecification is not a valid draft-07 schema: {e}")
    if spec:
        cfg = json.loads(d.src_cfg.read_text())
        errs = list(Draft7Validator(spec[0]["spec"]["connectionSpecification"]).iter_errors(cfg))
        chk.check(not errs, f"source config does not validate against the source spec: {errs[:1]}")

    schemas = {}
    for m in disc:
        if m.get("type") == "CATALOG":
            for s in m["catalog"]["streams"]:
                try:
                    Draft7Validator.check_schema(s["json_schema"])
                except Exception as e:  # noqa: BLE001
                    chk.check(False, f"stream {s['name']} json_schema is not valid draft-07: {e}")
                schemas[s["name"]] = Draft7Validator(s["json_schema"], format_checker=Draft7Validator.FORMAT_CHECKER)
    # The simulator serves the source's registry: its ground truth names every stream discover must.
    chk.check(set(schemas) == set(d.truth), f"discover returned streams {sorted(schemas)}, the simulator serves {sorted(d.truth)}")
    chk.count("stream schemas valid as draft-07", len(schemas))

    # Every record validates against its stream schema (read lines that failed the models included).
    n = 0
    per: Counter = Counter()
    for i, line in enumerate(read_lines, 1):
        m = json.loads(line)
        if m.get("type") != "RECORD":
            continue
        rec = m["record"]
        v = schemas.get(rec.get("stream"))
        if not chk.check(v is not None, f"read line {i}: record of undiscovered stream {rec.get('stream')!r}"):
            continue
        errs = sorted(v.iter_errors(rec.get("data")), key=lambda e: list(e.path))
        chk.check(not errs, f"read line {i}: {rec['stream']} record fails its schema: "
                            + "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errs[:3]))
        n += 1
        per[rec["stream"]] += 1
    chk.count("records validated against their stream schema (draft-07, formats checked)", n)
    say(f"  records validated per stream: {dict(sorted(per.items()))}")
