"""The Clockify simulator (cmd/clockify-sim) as a context manager, plus its admin routes."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.request
from typing import Optional

# The simulator's fixed demo key (clockifysim.DefaultAPIKey); not a secret, and never a real key.
SIM_KEY = "sim-key-0000000000000000000000000000000000000000"


class Sim:
    """Starts clockify-sim on 127.0.0.1:0 and reads its base URL from the first stdout line."""

    def __init__(self, binary: str, args: list[str], log_path: str):
        self.binary = binary
        self.args = args
        self.log_path = log_path
        self.proc: Optional[subprocess.Popen] = None
        self.url = ""

    def __enter__(self) -> "Sim":
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--addr", "127.0.0.1:0", *self.args],
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.__exit__(None, None, None)
            raise RuntimeError(f"clockify-sim {self.args} printed {line!r} instead of its URL; see {self.log_path}")
        self.url = line
        return self

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def get(self, path: str, timeout: float = 120) -> object:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            return json.load(r)

    def post(self, path: str) -> None:
        req = urllib.request.Request(self.url + path, method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()

    def truth_counts(self) -> dict:
        return self.get("/_sim/truth")

    def truth_ids(self) -> dict:
        return self.get("/_sim/truth?ids=1")

    def stats(self) -> dict:
        return self.get("/_sim/stats")

    def reset_stats(self) -> None:
        self.post("/_sim/reset-stats")

    def info(self) -> dict:
        return self.get("/_sim/info")

    def minimum_requests(self, page_size: int, streams: tuple = ()) -> int:
        """A perfect client's requests for every stream, or for these (and their parents)."""
        extra = "".join(f"&stream={s}" for s in streams)
        return int(self.get(f"/_sim/minimum-requests?page-size={page_size}{extra}")["minimumRequests"])

    def workspace_id(self) -> str:
        ws = self.info()["workspaces"]
        if len(ws) != 1:
            raise RuntimeError(f"expected one simulated workspace, got {len(ws)}")
        return ws[0]["id"]


class StatsPoller:
    """Samples /_sim/stats every `every` seconds in a thread, so 429s can be placed in time (the
    simulator's own timeline counts requests per second but not their statuses)."""

    def __init__(self, sim: Sim, every: float = 0.25):
        self.sim = sim
        self.every = every
        self.samples: list[dict] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # Bounded by the stop event and by the run's own timeout; errors end sampling, not the run.
        while not self._stop.is_set():
            try:
                st = self.sim.stats()
            except OSError:
                break
            self.samples.append({"t": time.time(), "requests": st.get("requests", 0), "tooMany": st.get("tooMany", 0)})
            self._stop.wait(self.every)

    def __enter__(self) -> "StatsPoller":
        self._t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._t.join(timeout=5)
