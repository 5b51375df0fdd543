#!/usr/bin/env bash
# Installs what the interop suite needs on a fresh Debian machine, as root. Idempotent: a second
# run with nothing changed does no network work.
#   - Debian packages: PostgreSQL (server), a JDK and Maven (REST catalog fixture, Iceberg Java
#     reader), python3-venv;
#   - interop/.venv: a pip venv with the exact pins of interop/requirements.txt;
#   - the Apache Iceberg REST catalog fixture jar, fetched with Maven into the local repository;
#   - fake-gcs-server (go install) and Azurite (npm) into interop/.tools (setup-gcs-azure.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

# shellcheck source=versions.sh
. "$here/versions.sh"

log() { echo "interop/setup: $*"; }

# --- Debian packages -------------------------------------------------------------------------
missing=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
# A JDK, not only a JRE: the Iceberg Java reader runs as a single-file source program.
{ command -v java >/dev/null && command -v javac >/dev/null; } || missing+=(default-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
command -v runuser >/dev/null || missing+=(util-linux)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "Debian packages present (postgresql, java, maven, python3-venv)"
fi

# --- Python venv -----------------------------------------------------------------------------
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  log "venv up to date ($venv)"
else
  log "creating $venv from requirements.txt (pip; downloads are cached in pip's default cache)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --no-input -r "$here/requirements.txt"
  "$venv/bin/pip" check
  echo "$want" >"$stamp"
fi

# --- Iceberg REST catalog fixture jar --------------------------------------------------------
jar="$(rest_fixture_jar)"
if [ -s "$jar" ]; then
  log "REST catalog fixture present ($jar)"
else
  log "fetching $REST_FIXTURE_GAV with Maven"
  mvn -B -q dependency:get -Dartifact="$REST_FIXTURE_GAV" -Dtransitive=false
  [ -s "$jar" ] || { log "Maven reported success but $jar is missing"; exit 1; }
fi
bash "$here/setup-gcs-azure.sh"
for gav in $SPARK_JARS_GAV; do
  [ -s "$(maven_jar "$gav")" ] || { log "fetching $gav with Maven"; mvn -B -q dependency:get -Dartifact="$gav" -Dtransitive=false; }
done
log "done"
