"""The three sources under test and how each is pointed at the simulator.

Stream names are ours (the canonical names of the simulator's ground truth); each peer maps its own
names onto them. Airbyte's connector has 7 streams, tap-clockify 7 (one of them `workspaces`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
from typing import Optional

from .sim import SIM_KEY

# Airbyte's 7 streams, by our name.
AIRBYTE_STREAMS = ["workspace_users", "projects", "clients", "tags", "groups", "time_entries", "tasks"]

AIRBYTE_NAMES = {  # ours -> Airbyte's source-clockify
    "workspace_users": "users",
    "projects": "projects",
    "clients": "clients",
    "tags": "tags",
    "groups": "user_groups",
    "time_entries": "time_entries",
    "tasks": "tasks",
}
TAP_NAMES = {  # ours -> tap-clockify (it has no user_groups)
    "workspace_users": "users",
    "projects": "projects",
    "clients": "clients",
    "tags": "tags",
    "time_entries": "time_entries",
    "tasks": "tasks",
    "workspaces": "workspaces",
}

AIRBYTE_URL_LINE = re.compile(r"^(\s*url_base:\s*)https://api\.clockify\.me/api/v1/\s*$", re.M)
TAP_URL_LINE = re.compile(r'return "https://api\.clockify\.me/api/v1"')


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _pristine(path: str) -> str:
    """Keeps the installed file as <path>.orig on first use and returns the pristine text, so every
    run patches from the original and never from an earlier patch."""
    orig = path + ".orig"
    if not os.path.exists(orig):
        with open(path, "rb") as src, open(orig, "wb") as dst:
            dst.write(src.read())
    with open(orig, encoding="utf-8") as f:
        return f.read()


@dataclasses.dataclass
class Invocation:
    argv: list[str]
    protocol: str  # "airbyte" or "singer"
    names: dict  # ours -> theirs, for the streams this invocation reads


class Ours:
    label = "clockberg source-clockify"
    key = "ours"

    def __init__(self, bin_dir: str):
        self.binary = os.path.join(bin_dir, "source-clockify")

    def version(self) -> str:
        return "this tree (" + _git_rev() + ")"

    def invocation(self, work: str, url: str, streams: list[str], workspace_id: Optional[str] = None, **cfg) -> Invocation:
        config = {"api_key": SIM_KEY, "api_url": url}
        if workspace_id:
            config["workspace_id"] = workspace_id
        config.update(cfg)
        cfg_path = _write_json(os.path.join(work, "ours-config.json"), config)
        out = subprocess.run([self.binary, "discover", "--config", cfg_path], capture_output=True, timeout=120)
        catalog = _airbyte_catalog(out.stdout, "source-clockify discover")
        by_name = {s["name"]: s for s in catalog["streams"]}
        missing = [s for s in streams if s not in by_name]
        if missing:
            raise RuntimeError(f"source-clockify discover lacks streams {missing}; it has {sorted(by_name)}")
        configured = {"streams": [_configured(by_name[s]) for s in streams]}
        cat_path = _write_json(os.path.join(work, "ours-catalog.json"), configured)
        return Invocation([self.binary, "read", "--config", cfg_path, "--catalog", cat_path], "airbyte", {s: s for s in streams})


class Airbyte:
    label = "Airbyte source-clockify"
    key = "airbyte"

    def __init__(self, venv: str):
        self.venv = venv
        self.entry = os.path.join(venv, "bin", "source-clockify")
        self.manifest = _site_file(venv, "source_clockify/manifest.yaml")

    def version(self) -> str:
        return f"airbyte-source-clockify {_dist_version(self.venv, 'airbyte-source-clockify')} on airbyte-cdk {_dist_version(self.venv, 'airbyte-cdk')}"

    def point_at(self, url: str) -> str:
        """Rewrites url_base in the installed manifest (bench venv only). Returns the one changed line."""
        text = _pristine(self.manifest)
        new, n = AIRBYTE_URL_LINE.subn(lambda m: m.group(1) + url + "/api/v1/", text)
        if n != 1:
            raise RuntimeError(f"{self.manifest}.orig: expected exactly one url_base https://api.clockify.me/api/v1/, found {n}")
        with open(self.manifest, "w", encoding="utf-8") as f:
            f.write(new)
        return f"url_base: {url}/api/v1/"

    def invocation(self, work: str, url: str, streams: list[str], workspace_id: Optional[str] = None, **_) -> Invocation:
        self.point_at(url)
        cfg_path = _write_json(
            os.path.join(work, "airbyte-config.json"), {"api_key": SIM_KEY, "workspace_id": workspace_id, "api_url": url}
        )
        out = subprocess.run([self.entry, "discover", "--config", cfg_path], capture_output=True, timeout=300)
        catalog = _airbyte_catalog(out.stdout, "Airbyte source-clockify discover")
        by_name = {s["name"]: s for s in catalog["streams"]}
        names = {s: AIRBYTE_NAMES[s] for s in streams if s in AIRBYTE_NAMES}
        configured = {"streams": [_configured(by_name[t]) for t in names.values()]}
        cat_path = _write_json(os.path.join(work, "airbyte-catalog.json"), configured)
        return Invocation([self.entry, "read", "--config", cfg_path, "--catalog", cat_path], "airbyte", names)


class Tap:
    label = "Singer tap-clockify"
    key = "tap"
    # The package installs no console script; this is what its entry point would run.
    MAIN = "import sys, tap_clockify; sys.argv = ['tap-clockify'] + sys.argv[1:]; tap_clockify.main()"

    def __init__(self, venv: str):
        self.venv = venv
        self.python = os.path.join(venv, "bin", "python")
        self.base_py = _site_file(venv, "tap_clockify/base.py")

    def version(self) -> str:
        return f"tap-clockify {_dist_version(self.venv, 'tap-clockify')} on singer-python {_dist_version(self.venv, 'singer-python')}"

    def point_at(self, url: str) -> str:
        text = _pristine(self.base_py)
        new, n = TAP_URL_LINE.subn(lambda m: f'return "{url}/api/v1"', text)
        if n != 1:
            raise RuntimeError(f"{self.base_py}.orig: expected exactly one hard-coded base URL, found {n}")
        with open(self.base_py, "w", encoding="utf-8") as f:
            f.write(new)
        return f'get_url_base: return "{url}/api/v1"'

    def invocation(self, work: str, url: str, streams: list[str], workspace_id: Optional[str] = None, **_) -> Invocation:
        self.point_at(url)
        cfg_path = _write_json(
            os.path.join(work, "tap-config.json"),
            {"api_key": SIM_KEY, "workspace": workspace_id, "start_date": "2000-01-01T00:00:00Z"},
        )
        out = subprocess.run([self.python, "-c", self.MAIN, "--config", cfg_path, "--discover"], capture_output=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"tap-clockify --discover exited {out.returncode}: {out.stderr.decode()[-2000:]}")
        catalog = json.loads(out.stdout)
        names = {s: TAP_NAMES[s] for s in streams if s in TAP_NAMES}
        wanted = set(names.values())
        for s in catalog["streams"]:
            for m in s["metadata"]:
                if m["breadcrumb"] == []:
                    m["metadata"]["selected"] = s["stream"] in wanted
        cat_path = _write_json(os.path.join(work, "tap-catalog.json"), catalog)
        return Invocation([self.python, "-c", self.MAIN, "--config", cfg_path, "--catalog", cat_path], "singer", names)


def _configured(stream: dict) -> dict:
    return {"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}


def _airbyte_catalog(stdout: bytes, what: str) -> dict:
    for line in stdout.splitlines():
        if line.startswith(b"{"):
            m = json.loads(line)
            if m.get("type") == "CATALOG":
                return m["catalog"]
    raise RuntimeError(f"{what} printed no CATALOG message; stdout ends: {stdout[-1500:]!r}")


def _write_json(path: str, obj) -> str:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f)
    return path


def _site_file(venv: str, rel: str) -> str:
    lib = os.path.join(venv, "lib")
    for d in sorted(os.listdir(lib)):
        p = os.path.join(lib, d, "site-packages", rel)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"{rel} is not installed in {venv}")


def _dist_version(venv: str, dist: str) -> str:
    lib = os.path.join(venv, "lib")
    want = dist.replace("-", "_").lower()
    for d in sorted(os.listdir(lib)):
        sp = os.path.join(lib, d, "site-packages")
        for name in os.listdir(sp):
            if name.endswith(".dist-info") and name.lower().startswith(want + "-"):
                return name[len(want) + 1 : -len(".dist-info")]
    return "unknown"


def _git_rev() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "cmd", "source", "destination", "airbyte", "schemas"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        return rev + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def python_version(python: str) -> str:
    return subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit("not a script")
