#!/usr/bin/env bash
# Benchmarks against the alternatives (issue 7). Installs its peers itself, builds our three programs,
# runs every measurement and writes BENCHMARKS.md, bench/results.json and bench/plots/*.png.
#
#   bash bench/run.sh            full run (< 30 minutes on 2 cores)
#   bash bench/run.sh --quick    small sizes, single runs, every code path (< 5 minutes; CI)
#   bash bench/run.sh --report-only   redo BENCHMARKS.md and plots from bench/results.json
#
# Virtualenvs (not committed): bench/.venv (harness, matplotlib, PyIceberg loader),
# bench/.venv-airbyte (airbyte-source-clockify, Python 3.10), bench/.venv-tap (tap-clockify).
# Work files: bench/.work (removed at the end unless BENCH_KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
B=$ROOT/bench
WORK=$B/.work
mkdir -p "$WORK"

quick=""
report_only=""
for a in "$@"; do
  case "$a" in
    --quick) quick="--quick" ;;
    --report-only) report_only=1 ;;
    *) echo "bench/run.sh: unknown argument $a (use --quick or --report-only)" >&2; exit 2 ;;
  esac
done

say() { echo "[bench] $*" >&2; }

# venv DIR PYTHON REQUIREMENTS: (re)creates DIR when the pinned requirements changed.
venv() {
  local dir=$1 py=$2 req=$3 stamp
  stamp=$(sha256sum "$req" | cut -c1-64)
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  say "installing $(basename "$dir") from $(basename "$req") with $("$py" --version 2>&1)"
  rm -rf "$dir"
  "$py" -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$stamp" > "$dir/.requirements.sha256"
}

# find_python MAJOR.MINOR...: the first interpreter of one of these versions that really runs.
find_python() {
  local v p
  for v in "$@"; do
    for p in "python$v" "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")/versions/$v"*/bin/"python$v" \
        /usr/bin/"python$v" /usr/local/bin/"python$v"; do
      if [ -x "$(command -v "$p" 2>/dev/null || echo "$p")" ] && "$p" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        command -v "$p" 2>/dev/null || echo "$p"
        return 0
      fi
    done
  done
  return 1
}

if [ -z "$report_only" ]; then
  if [ ! -x /usr/bin/time ]; then
    say "installing GNU time (apt-get install time)"
    apt-get update -qq >/dev/null && apt-get install -y -qq time >/dev/null
  fi

  PY=$(find_python 3.11 3.12 3.10) || { echo "bench/run.sh: no Python 3.10-3.12 found" >&2; exit 1; }
  venv "$B/.venv" "$PY" "$B/requirements.txt"
  say "harness self-tests"
  PYTHONPATH="$B" "$B/.venv/bin/python" -m unittest discover -s "$B/tests"

  # Peers: a failure to install is a result to report, not a reason to stop the other measurements.
  status="{"
  # airbyte-cdk 0.80.0 (pinned by airbyte-source-clockify 0.3.13) does not import on Python 3.11+.
  if PY_AB=$(find_python 3.10 3.9) && venv "$B/.venv-airbyte" "$PY_AB" "$B/requirements-airbyte.txt" >"$WORK/install-airbyte.log" 2>&1 \
      && "$B/.venv-airbyte/bin/source-clockify" spec >/dev/null 2>>"$WORK/install-airbyte.log"; then
    status+='"airbyte-source-clockify": {"status": "ok"},'
  else
    say "airbyte-source-clockify did not install; see $WORK/install-airbyte.log"
    detail=$(tail -n 3 "$WORK/install-airbyte.log" 2>/dev/null | tr '\n"\\' '  /' | cut -c1-400)
    status+="\"airbyte-source-clockify\": {\"status\": \"failed\", \"detail\": \"${detail:-no Python 3.10 or 3.9 found}\"},"
    rm -rf "$B/.venv-airbyte"
  fi
  if venv "$B/.venv-tap" "$PY" "$B/requirements-tap.txt" >"$WORK/install-tap.log" 2>&1 \
      && "$B/.venv-tap/bin/python" -c 'import tap_clockify' 2>>"$WORK/install-tap.log"; then
    status+='"tap-clockify": {"status": "ok"}'
  else
    say "tap-clockify did not install; see $WORK/install-tap.log"
    detail=$(tail -n 3 "$WORK/install-tap.log" | tr '\n"\\' '  /' | cut -c1-400)
    status+="\"tap-clockify\": {\"status\": \"failed\", \"detail\": \"$detail\"}"
    rm -rf "$B/.venv-tap"
  fi
  echo "${status%,}}" > "$WORK/peer-install.json"

  say "building clockify-sim, source-clockify, destination-iceberg"
  mkdir -p "$WORK/bin"
  for c in clockify-sim source-clockify destination-iceberg; do
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$WORK/bin/$c" "./cmd/$c" \
      || say "cmd/$c does not build; the sections that need it will report the failure"
  done
fi

cmd="make bench"; [ -n "$quick" ] && cmd="make bench-quick"
args=(--bin "$WORK/bin" --work "$WORK" --results "$B/results.json" --markdown "$ROOT/BENCHMARKS.md" --plots "$B/plots" --command "$cmd")
if [ -n "$quick" ]; then
  # A quick run must not overwrite the committed full-run figures.
  args=(--bin "$WORK/bin" --work "$WORK" --results "$WORK/quick/results.json" --markdown "$WORK/quick/BENCHMARKS.md"
        --plots "$WORK/quick/plots" --command "$cmd" --quick)
  mkdir -p "$WORK/quick"
fi
[ -n "$report_only" ] && args+=(--report-only)
PYTHONPATH="$B" exec "$B/.venv/bin/python" -m clockbench "${args[@]}"
