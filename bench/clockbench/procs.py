"""Running one measured process: wall time, CPU seconds and peak RSS from GNU time (`/usr/bin/time -v`)."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import time
from typing import Optional, Sequence

GNU_TIME = "/usr/bin/time"


@dataclasses.dataclass
class Measured:
    """One finished process. cpu_s is user + system time of the process and its children."""

    argv: list[str]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    peak_rss_kib: int
    stdout_path: str
    stderr_path: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss_kib / 1024.0


_TIME_FIELDS = {
    "User time (seconds)": "user_s",
    "System time (seconds)": "sys_s",
    "Maximum resident set size (kbytes)": "peak_rss_kib",
    "Exit status": "exit_status",
}


def parse_gnu_time(text: str) -> dict:
    """Parses the `-v` report of GNU time. Raises ValueError naming the missing field."""
    out: dict = {}
    for line in text.splitlines():
        line = line.strip()
        for label, key in _TIME_FIELDS.items():
            if line.startswith(label + ":"):
                value = line.split(":", 1)[1].strip()
                out[key] = float(value) if key.endswith("_s") else int(value)
    for key in ("user_s", "sys_s", "peak_rss_kib"):
        if key not in out:
            raise ValueError(f"GNU time report lacks {key!r}; report was:\n{text[-2000:]}")
    return out


def run_measured(
    argv: Sequence[str],
    stdout_path: str,
    stderr_path: str,
    stdin_path: Optional[str] = None,
    timeout_s: float = 1800,
    env: Optional[dict] = None,
    cwd: Optional[str] = None,
) -> Measured:
    """Runs argv under GNU time with stdout/stderr to files. Never raises on a non-zero exit:
    a peer that fails is a result to report, not a harness crash."""
    time_path = stderr_path + ".time"
    full = [GNU_TIME, "-v", "-o", time_path, *argv]
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        with open(stdout_path, "wb") as so, open(stderr_path, "wb") as se:
            t0 = time.monotonic()
            proc = subprocess.Popen(full, stdin=stdin, stdout=so, stderr=se, env=env, cwd=cwd)
            try:
                rc = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                rc = -9
            wall = time.monotonic() - t0
    finally:
        if stdin_path:
            stdin.close()
    with open(time_path, encoding="utf-8", errors="replace") as f:
        report = f.read()
    # GNU time prefixes "Command exited with non-zero status N" but still writes the fields; a
    # process killed by the timeout may leave them too. Fall back to zeros only if they are absent.
    try:
        t = parse_gnu_time(report)
    except ValueError:
        if rc == 0:
            raise
        t = {"user_s": 0.0, "sys_s": 0.0, "peak_rss_kib": 0}
    return Measured(
        argv=list(argv),
        returncode=rc,
        wall_s=wall,
        user_s=t["user_s"],
        sys_s=t["sys_s"],
        peak_rss_kib=t["peak_rss_kib"],
        stdout_path=stdout_path,
        stderr_path=stderr_path,
    )


def tail(path: str, n: int = 20) -> str:
    """Last n lines of a file, for error messages."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 8192))
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError as e:
        return f"(cannot read {path}: {e})"


_WS = re.compile(r"\s+")


def one_line(s: str, limit: int = 300) -> str:
    s = _WS.sub(" ", s).strip()
    return s if len(s) <= limit else s[: limit - 1] + "…"
