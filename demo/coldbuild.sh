#!/usr/bin/env bash
# Measures what a newcomer's first `make demo` costs: the build alone on an empty Go build cache,
# then `make demo` on empty build and module caches (modules downloaded from the proxy, everything
# compiled once), then a second, warm `make demo`. Prints one JSON object on stdout, progress on
# stderr. The caches are scratch folders (mktemp -d), so the shared ~/.cache/go-build stays warm.
# The machine may be shared: the load average and the busiest other processes are recorded, and
# the CPU seconds the build used, which on an idle machine bound its time from below (CPU / cores).
#
#   bash demo/coldbuild.sh > cold.json      (part of `make bench`, section cold_build)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=$(mktemp -d)
trap 'chmod -R u+w "$scratch" 2>/dev/null || true; rm -rf "$scratch"' EXIT
say() { echo "[coldbuild] $*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
busiest() { ps -eo pcpu=,args= --sort=-pcpu | head -n 5 | cut -c1-90 | tr -d '\\"' | awk '{$1=$1; printf "%s\"%s\"", (NR>1?",":""), $0}'; }
now() { date +%s.%N; }
# cpu prints the user + system CPU seconds of every finished child so far, from bash's times (which
# must run in this shell, not in a subshell: hence the file).
cpu() {
  times >"$scratch/times"
  tail -n 1 "$scratch/times" | awk '{ split($1, a, "m"); split($2, b, "m"); printf "%.1f", a[1] * 60 + a[2] + b[1] * 60 + b[2] }' >"$scratch/cpu"
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
# heavy counts the lines of a `go ... -v` log that name iceberg-go, Arrow or a cloud SDK.
heavy() { grep -c -E '^(github.com/apache/(iceberg-go|arrow-go)|github.com/aws/|github.com/Azure/|cloud.google.com/go)' "$1" || true; }

load_start=$(load); busy_start="[$(busiest)]"
say "1/3: make build on an empty build cache (module cache as it is); load $load_start"
t0=$(now); cpu; c0=$(cat "$scratch/cpu")
GOCACHE=$scratch/cache-build make -s build BIN="$scratch/bin-build" 2>"$scratch/build.log"
t1=$(now); cpu; c1=$(cat "$scratch/cpu")
build_pkgs=$(sed -n 's/.*(\([0-9]*\) packages compiled.*/\1/p' "$scratch/build.log" | tail -n 1)

say "2/3: make demo on empty build and module caches"
busy_demo="[$(busiest)]"
t2=$(now); cpu; c2=$(cat "$scratch/cpu")
GOCACHE=$scratch/cache GOMODCACHE=$scratch/mod GOFLAGS="-modcacherw -v" \
  make -s demo BIN="$scratch/bin" DEMO_FLAGS="-dir $scratch/demo" >"$scratch/demo.out" 2>"$scratch/demo.log"
t3=$(now); cpu; c3=$(cat "$scratch/cpu")
demo_build=$(sed -n 's/^build: done in \([0-9]*\)s.*/\1/p' "$scratch/demo.log" | tail -n 1)
demo_pkgs=$(sed -n 's/.*(\([0-9]*\) packages compiled.*/\1/p' "$scratch/demo.log" | tail -n 1)
# `go run -v ./demo` lists what it compiles on stderr: nothing heavy may be among it.
run_heavy=$(heavy "$scratch/demo.log")

say "3/3: make demo again (warm caches, an incremental sync)"
t4=$(now)
GOCACHE=$scratch/cache GOMODCACHE=$scratch/mod GOFLAGS=-modcacherw \
  make -s demo BIN="$scratch/bin" DEMO_FLAGS="-dir $scratch/demo" >"$scratch/demo2.out" 2>"$scratch/demo2.log"
t5=$(now)
load_end=$(load)
cat <<JSON
{"build_alone_s": $(secs "$t0" "$t1"), "build_alone_cpu_s": $(secs "$c0" "$c1"), "build_alone_packages": ${build_pkgs:-null},
 "demo_cold_s": $(secs "$t2" "$t3"), "demo_cold_cpu_s": $(secs "$c2" "$c3"), "demo_cold_build_s": ${demo_build:-null}, "demo_cold_packages": ${demo_pkgs:-null},
 "demo_run_heavy_packages": ${run_heavy:-0}, "demo_warm_s": $(secs "$t4" "$t5"),
 "load_start": "$load_start", "load_end": "$load_end", "busiest_at_start": $busy_start, "busiest_at_demo": $busy_demo,
 "go": "$(go env GOVERSION)", "nproc": $(nproc)}
JSON
