"""Part 3: PyAirbyte as the client. The `airbyte` package runs source-clockify as a local executable
(ab.get_source(..., local_executable=...)) against the simulator, selects every stream and reads
them into its default cache (DuckDB, .cache/default_cache in the working directory). Per-stream
counts in the cache must equal the simulator's ground truth. Two reads are made: the default
`read()` a PyAirbyte user writes (PyAirbyte then asks for incremental on every stream) and
`read(force_full_refresh=True)`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from harness import SABOTAGE, WORK, Checks, binary, say
import shared

FILTER = """#!{python}
# Self-test wrapper: runs the real source and drops the first tags record it prints.
import subprocess, sys
p = subprocess.Popen([{real!r}] + sys.argv[1:], stdout=subprocess.PIPE)
dropped = False
for line in p.stdout:
    if not dropped and line.startswith(b'{{"type":"RECORD","record":{{"stream":"tags"'):
        dropped = True
        continue
    sys.stdout.buffer.write(line)
sys.stdout.flush()
sys.exit(p.wait())
"""


def read_counts(chk: Checks, label: str, source, truth: dict, **kw) -> None:
    try:
        res = source.read(**kw)
    except Exception as e:  # noqa: BLE001 - PyAirbyte's connector errors carry the log file
        chk.check(False, f"{label}: PyAirbyte read failed: {type(e).__name__}: {str(e)[:600]}")
        log = getattr(e, "log_file", None) or getattr(e, "context", {}) and e.context.get("log_file")
        if log and Path(str(log)).exists():
            tail = Path(str(log)).read_text(errors="replace").strip().splitlines()[-3:]
            say(f"  {label}: source log tail: " + " | ".join(t[:300] for t in tail))
        return
    cache = res.cache
    say(f"  {label}: cache {type(cache).__name__} at {getattr(cache, 'db_path', '?')}")
    got = {}
    for name in sorted(truth):
        try:
            got[name] = len(cache[name])
        except Exception as e:  # noqa: BLE001
            chk.check(False, f"{label}: stream {name} missing from the cache: {e}")
            continue
        chk.check(got[name] == truth[name], f"{label}: cache holds {got[name]} {name} rows, ground truth {truth[name]}")
    say(f"  {label}: per-stream rows in the cache: {got}")
    chk.count("streams counted in the PyAirbyte cache", len(got))


def run(chk: Checks) -> None:
    d = shared.demo()
    base = WORK / "p3"
    base.mkdir(parents=True, exist_ok=True)
    exe = binary("source-clockify")
    if SABOTAGE:
        wrapper = base / "source-clockify-dropping-a-record"
        wrapper.write_text(FILTER.format(python=sys.executable, real=exe))
        wrapper.chmod(0o755)
        exe = str(wrapper)
        say("  self-test: the local executable is a wrapper that drops the first tags record")
        chk.sabotaged(f"read(force_full_refresh=True): cache holds {d.truth['tags'] - 1} tags rows")
    old = os.getcwd()
    os.environ.setdefault("AIRBYTE_LOGGING_ROOT", str(base / "logs"))
    os.chdir(base)  # the default cache lives in ./.cache of the working directory
    try:
        import airbyte as ab  # after chdir and AIRBYTE_LOGGING_ROOT: both are read at import

        source = ab.get_source("source-clockify", config=d.sim.source_config(), local_executable=exe)
        source.check()
        streams = source.get_available_streams()
        chk.check(set(streams) == set(d.truth), f"PyAirbyte sees streams {sorted(streams)}, the simulator serves {sorted(d.truth)}")
        source.select_all_streams()
        say(f"  PyAirbyte {ab.__version__ if hasattr(ab, '__version__') else ''} discovered {len(streams)} streams via {Path(exe).name}")
        read_counts(chk, "read()", source, d.truth)
        read_counts(chk, "read(force_full_refresh=True)", source, d.truth, force_full_refresh=True)
    finally:
        os.chdir(old)
