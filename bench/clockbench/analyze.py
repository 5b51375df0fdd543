"""Reading what a source printed: records per stream, ids against the ground truth, errors."""

from __future__ import annotations

import collections
import dataclasses
import json
import re
from typing import Optional

_STREAM = re.compile(rb'"stream"\s*:\s*"([^"]+)"')


@dataclasses.dataclass
class Output:
    records: dict  # their stream name -> records emitted
    ids: dict  # their stream name -> list of ids (only when asked)
    types: dict  # message type -> count
    errors: list  # TRACE ERROR messages / Singer CRITICAL lines
    logs: list  # LOG message texts (Airbyte protocol only)
    bad_lines: int  # stdout lines that are not JSON


def read_output(path: str, protocol: str, want_ids: bool, keep_logs: bool = False) -> Output:
    records: collections.Counter = collections.Counter()
    ids: dict = collections.defaultdict(list)
    types: collections.Counter = collections.Counter()
    errors: list = []
    logs: list = []
    bad = 0
    with open(path, "rb") as f:
        for line in f:
            if not line.strip():
                continue
            is_record = b'"RECORD"' in line[:64] or (protocol == "singer" and b'"RECORD"' in line[:200])
            if is_record and not want_ids:
                m = _STREAM.search(line)
                records[m.group(1).decode() if m else "?"] += 1
                types["RECORD"] += 1
                continue
            try:
                msg = json.loads(line)
            except ValueError:
                bad += 1
                continue
            t = msg.get("type", "?")
            types[t] += 1
            if t == "RECORD":
                if protocol == "airbyte":
                    stream, data = msg["record"]["stream"], msg["record"]["data"]
                else:
                    stream, data = msg["stream"], msg["record"]
                records[stream] += 1
                if want_ids:
                    ids[stream].append(data.get("id"))
            elif t == "TRACE" and msg.get("trace", {}).get("type") == "ERROR":
                errors.append(msg["trace"]["error"].get("message", ""))
            elif t == "LOG" and keep_logs:
                logs.append(msg["log"].get("message", ""))
    return Output(dict(records), dict(ids), dict(types), errors, logs, bad)


def singer_errors(stderr_path: str) -> list:
    """Singer taps report failure on stderr with CRITICAL lines."""
    out = []
    with open(stderr_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("CRITICAL"):
                out.append(line.strip())
    return out


def against_truth(out: Output, names: dict, truth_ids: dict) -> dict:
    """Per stream (our name): truth, emitted, duplicates, missing, unexpected. `names` maps our
    stream names to the peer's."""
    res = {}
    for ours, theirs in names.items():
        got = out.ids.get(theirs, [])
        truth = set(truth_ids.get(ours, []))
        uniq = set(got)
        res[ours] = {
            "truth": len(truth),
            "emitted": len(got),
            "duplicates": len(got) - len(uniq),
            "missing": len(truth - uniq),
            "unexpected": len(uniq - truth),
        }
    return res


def total(per_stream: dict, key: str) -> int:
    return sum(v[key] for v in per_stream.values())


_RAISED = re.compile(r"request rate raised to ([0-9.]+)/s")
_CUT = re.compile(r"request rate cut from ([0-9.]+)/s to ([0-9.]+)/s")


def rate_event(text: str) -> Optional[tuple]:
    """('raise', new) or ('cut', new) from one of our source's LOG lines, else None."""
    m = _RAISED.search(text)
    if m:
        return ("raise", float(m.group(1)))
    m = _CUT.search(text)
    if m:
        return ("cut", float(m.group(2)))
    return None
