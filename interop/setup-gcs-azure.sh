#!/usr/bin/env bash
# Installs the GCS and Azure storage emulators of part 8 into interop/.tools (idempotent, pinned in
# versions.sh): fake-gcs-server with `go install` (a Go module, built from the module proxy) and
# Azurite with npm. Called by setup.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.sh
. "$here/versions.sh"
log() { echo "interop/setup: $*"; }
tools="$here/.tools"
mkdir -p "$tools/bin"

stamp="$tools/bin/.fake-gcs-server.version"
if [ -x "$tools/bin/fake-gcs-server" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$FAKE_GCS_SERVER_VERSION" ]; then
  log "fake-gcs-server $FAKE_GCS_SERVER_VERSION present"
else
  log "go install github.com/fsouza/fake-gcs-server@$FAKE_GCS_SERVER_VERSION"
  GOBIN="$tools/bin" GOFLAGS=-mod=mod go install "github.com/fsouza/fake-gcs-server@$FAKE_GCS_SERVER_VERSION"
  echo "$FAKE_GCS_SERVER_VERSION" >"$stamp"
fi

if ! command -v npm >/dev/null; then
  log "installing Debian packages: npm"
  apt-get update -q && apt-get install -y -q --no-install-recommends npm
fi
have="$("$tools/azurite/node_modules/.bin/azurite-blob" --version 2>/dev/null || true)"
if [ "$have" = "$AZURITE_VERSION" ]; then
  log "Azurite $AZURITE_VERSION present"
else
  log "npm install azurite@$AZURITE_VERSION"
  mkdir -p "$tools/azurite"
  npm install --prefix "$tools/azurite" --no-audit --no-fund --no-save --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null
fi
