#!/usr/bin/env bash
# The interoperability suite. Builds our three binaries, starts the third-party services on
# loopback (PostgreSQL from Debian on a private data dir and port, the Apache Iceberg REST catalog
# fixture jar with `java -jar`, moto's server as S3 and Glue), runs every part (interop/suite),
# stops the services and ends with the line `N passed, N failed`; exit status 1 if any part failed.
#
#   interop/run.sh                 all parts
#   interop/run.sh p1 p4           only these parts (p0..p10)
#   interop/run.sh --self-test     every part breaks its own subject first (a data file removed,
#                                  a message field's type changed, ...) and must FAIL; a part
#                                  "passes" the self-test when it detected the sabotage
#   INTEROP_KEEP=1 interop/run.sh  keep the scratch folder (configs, warehouses, service logs)
#   INTEROP_PREBUILT_BIN=dir       use the binaries in dir instead of building ./cmd/...
#
# Needs interop/setup.sh to have run once. Takes about 2 minutes once installed.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
# shellcheck source=versions.sh
. "$here/versions.sh"

self_test=0
parts=()
for a in "$@"; do
  case "$a" in
    --self-test) self_test=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) parts+=("$a") ;;
  esac
done

log() { echo "interop: $*"; }
py="$here/.venv/bin/python"
if [ ! -x "$py" ]; then
  log "no venv at $here/.venv: run interop/setup.sh first"
  echo "0 passed, 1 failed"
  exit 1
fi

work="$(mktemp -d /tmp/clockberg-interop.XXXXXX)"
chmod 755 "$work"
pids=()
pg_started=""
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${pids[@]}"; do
    # Bounded wait: each service gets 10 s to exit after SIGTERM, then SIGKILL.
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  if [ -n "$pg_started" ]; then
    as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate -w -t 30 stop >/dev/null 2>&1
  fi
  if [ "${INTEROP_KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_http URL SECONDS: polls until the URL answers any HTTP status (bounded).
wait_http() {
  "$py" - "$1" "$2" <<'EOF'
import sys, time, urllib.request, urllib.error
url, limit = sys.argv[1], float(sys.argv[2])
end = time.time() + limit
while time.time() < end:
    try:
        urllib.request.urlopen(url, timeout=2)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except Exception:
        time.sleep(0.3)
sys.exit(1)
EOF
}
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

t0=$(date +%s)
# --- our binaries ----------------------------------------------------------------------------
if [ -n "${INTEROP_PREBUILT_BIN:-}" ]; then
  log "using prebuilt binaries in $INTEROP_PREBUILT_BIN"
  export INTEROP_BIN="$INTEROP_PREBUILT_BIN"
else
  log "building source-clockify, destination-iceberg, clockify-sim into $work/bin"
  # Through the Makefile, so the build flags (and the Go build cache) are those of `make build`.
  if ! make -s -C "$root" build BIN="$work/bin" >"$work/build.log" 2>&1; then
    cat "$work/build.log"
    log "go build failed"
    echo "0 passed, 1 failed"
    exit 1
  fi
  export INTEROP_BIN="$work/bin"
fi
export INTEROP_WORK="$work/parts"
INTEROP_SPARK_JARS="$(for gav in $SPARK_JARS_GAV; do maven_jar "$gav"; done | paste -sd,)"; export INTEROP_SPARK_JARS
mkdir -p "$INTEROP_WORK"

# --- PostgreSQL (Debian's server, own data dir, loopback port, as the postgres user) ---------
pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
pgport="$(free_port)"
if [ -z "$pgbin" ]; then
  export INTEROP_PG_URI_ERROR="no PostgreSQL server under /usr/lib/postgresql (interop/setup.sh installs it)"
else
  mkdir -p "$work/pg/data" "$work/pg/sock"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$work/pg"
  if as_pg "$pgbin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --no-sync >"$work/pg-initdb.log" 2>&1 &&
     as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w -t 60 \
       -o "-c listen_addresses=127.0.0.1 -p $pgport -k $work/pg/sock -c fsync=off -c max_connections=50" start \
       >"$work/pg-start.log" 2>&1; then
    pg_started=1
    if as_pg "$pgbin/psql" -h 127.0.0.1 -p "$pgport" -U postgres -qc "CREATE DATABASE iceberg" >"$work/pg-createdb.log" 2>&1; then
      export INTEROP_PG_URI="postgres://postgres@127.0.0.1:$pgport/iceberg?sslmode=disable"
      log "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pgport"
    else
      export INTEROP_PG_URI_ERROR="CREATE DATABASE failed: $(tail -3 "$work/pg-createdb.log")"
    fi
  else
    export INTEROP_PG_URI_ERROR="PostgreSQL did not start: $(tail -5 "$work/pg-initdb.log" "$work/pg-start.log" "$work/pg/log" 2>/dev/null | tr '\n' ' ')"
  fi
fi

# --- moto server (S3 and Glue) ---------------------------------------------------------------
motoport="$(free_port)"
"$here/.venv/bin/moto_server" -H 127.0.0.1 -p "$motoport" >"$work/moto.log" 2>&1 &
pids+=($!)
if wait_http "http://127.0.0.1:$motoport/moto-api/" 60; then
  export INTEROP_S3_ENDPOINT="http://127.0.0.1:$motoport"
  log "moto server $("$py" -c 'import moto; print(moto.__version__)') on 127.0.0.1:$motoport (S3 and Glue)"
else
  export INTEROP_S3_ENDPOINT_ERROR="moto_server did not answer within 60 s: $(tail -5 "$work/moto.log" | tr '\n' ' ')"
fi
# --- Apache Iceberg REST catalog fixture (java -jar, CATALOG_* env, JDBC/SQLite backend) -------
# Two servers: one with a local warehouse, one with an s3:// warehouse on moto (S3FileIO).
jar="$(rest_fixture_jar)"
restport="$(free_port)"
rests3port="$(free_port)"
if [ ! -s "$jar" ]; then
  export INTEROP_REST_URI_ERROR="REST fixture jar $jar missing (interop/setup.sh fetches $REST_FIXTURE_GAV)"
  export INTEROP_REST_S3_URI_ERROR="$INTEROP_REST_URI_ERROR"
else
  export INTEROP_REST_JAR="$jar"  # also the classpath of the Iceberg Java reader
  mkdir -p "$work/rest-warehouse"
  (
    cd "$work" &&
    CATALOG_WAREHOUSE="file://$work/rest-warehouse" \
    CATALOG_URI="jdbc:sqlite:file:$work/rest-catalog.db" \
    CATALOG_JDBC_USER=user CATALOG_JDBC_PASSWORD=password \
    CATALOG_REST_PORT="$restport" \
    exec java -Xmx768m -jar "$jar"
  ) >"$work/rest.log" 2>&1 &
  pids+=($!)
  if [ -n "${INTEROP_S3_ENDPOINT:-}" ]; then
    (
      cd "$work" &&
      AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
      CATALOG_WAREHOUSE="s3://rest-s3/warehouse" \
      CATALOG_IO__IMPL=org.apache.iceberg.aws.s3.S3FileIO \
      CATALOG_S3_ENDPOINT="$INTEROP_S3_ENDPOINT" CATALOG_S3_PATH__STYLE__ACCESS=true \
      CATALOG_S3_ACCESS__KEY__ID=testing CATALOG_S3_SECRET__ACCESS__KEY=testing CATALOG_CLIENT_REGION=us-east-1 \
      CATALOG_URI="jdbc:sqlite:file:$work/rest-s3-catalog.db" \
      CATALOG_JDBC_USER=user CATALOG_JDBC_PASSWORD=password \
      CATALOG_REST_PORT="$rests3port" \
      exec java -Xmx768m -jar "$jar"
    ) >"$work/rest-s3.log" 2>&1 &
    pids+=($!)
  else
    export INTEROP_REST_S3_URI_ERROR="no moto S3 endpoint for its warehouse"
  fi
  if wait_http "http://127.0.0.1:$restport/v1/config" 120; then
    export INTEROP_REST_URI="http://127.0.0.1:$restport" INTEROP_REST_WAREHOUSE="$work/rest-warehouse"
    log "Iceberg REST catalog fixture $REST_FIXTURE_VERSION on 127.0.0.1:$restport (JDBC SQLite backend, warehouse $work/rest-warehouse)"
  else
    export INTEROP_REST_URI_ERROR="the REST fixture did not answer /v1/config within 120 s: $(tail -5 "$work/rest.log" | tr '\n' ' ')"
  fi
  if [ -n "${INTEROP_S3_ENDPOINT:-}" ]; then
    if wait_http "http://127.0.0.1:$rests3port/v1/config" 120; then
      export INTEROP_REST_S3_URI="http://127.0.0.1:$rests3port"
      log "Iceberg REST catalog fixture $REST_FIXTURE_VERSION on 127.0.0.1:$rests3port (JDBC SQLite backend, S3FileIO, warehouse s3://rest-s3/warehouse on moto)"
    else
      export INTEROP_REST_S3_URI_ERROR="the S3 REST fixture did not answer /v1/config within 120 s: $(tail -5 "$work/rest-s3.log" | tr '\n' ' ')"
    fi
  fi
fi

# shellcheck source=services-gcs-azure.sh
. "$here/services-gcs-azure.sh"

log "services up after $(($(date +%s) - t0)) s"

# --- the parts ---------------------------------------------------------------------------------
export AIRBYTE_OFFLINE_MODE=1 DO_NOT_TRACK=1 NO_LIVE_PROGRESS=1 PYTHONWARNINGS=ignore::FutureWarning
[ "$self_test" = 1 ] && export INTEROP_SABOTAGE=1
results="$work/results.json"
(cd "$work" && "$py" "$here/suite/main.py" "$results" "${parts[@]}")
rc=$?

passed=0; failed=0
if [ -s "$results" ]; then
  passed=$("$py" -c 'import json,sys; print(sum(r["ok"] for r in json.load(open(sys.argv[1]))))' "$results")
  failed=$("$py" -c 'import json,sys; print(sum(not r["ok"] for r in json.load(open(sys.argv[1]))))' "$results")
fi
if [ "$rc" -ne 0 ] || [ ! -s "$results" ]; then
  log "the suite runner exited $rc"
  failed=$((failed + 1))
fi
if [ "$failed" -gt 0 ] && [ "${INTEROP_KEEP:-0}" != 1 ]; then
  for f in rest.log rest-s3.log moto.log pg/log fake-gcs.log azurite.log; do
    [ -s "$work/$f" ] && { log "last lines of $f:"; tail -5 "$work/$f"; }
  done
fi
cleanup; trap - EXIT
log "total $(($(date +%s) - t0)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
