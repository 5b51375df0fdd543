# Sourced by run.sh: starts the storage emulators of part 8 on loopback, on free ports, with their
# data in the run's scratch folder, and exports their endpoints (or *_ERROR saying why not).
#   fake-gcs-server (GCS JSON API, in-memory backend)  -> INTEROP_GCS_ENDPOINT
#   Azurite blob service (loose mode, own data folder) -> INTEROP_AZURITE_ENDPOINT
# Uses run.sh's $here, $work, pids, free_port, wait_http and log.
fgcs="$here/.tools/bin/fake-gcs-server"
if [ -x "$fgcs" ]; then
  gcsport="$(free_port)"
  "$fgcs" -scheme http -host 127.0.0.1 -port "$gcsport" -backend memory -public-host "127.0.0.1:$gcsport" \
    -log-level warn >"$work/fake-gcs.log" 2>&1 &
  pids+=($!)
  if wait_http "http://127.0.0.1:$gcsport/storage/v1/b" 30; then
    export INTEROP_GCS_ENDPOINT="http://127.0.0.1:$gcsport"
    log "fake-gcs-server $FAKE_GCS_SERVER_VERSION on 127.0.0.1:$gcsport"
  else
    export INTEROP_GCS_ENDPOINT_ERROR="fake-gcs-server did not answer within 30 s: $(tail -3 "$work/fake-gcs.log" | tr '\n' ' ')"
  fi
else
  export INTEROP_GCS_ENDPOINT_ERROR="$fgcs missing (interop/setup.sh installs it)"
fi
azurite="$here/.tools/azurite/node_modules/.bin/azurite-blob"
if [ -x "$azurite" ]; then
  azport="$(free_port)"
  mkdir -p "$work/azurite"
  "$azurite" --blobHost 127.0.0.1 --blobPort "$azport" --location "$work/azurite" --silent --loose \
    --skipApiVersionCheck >"$work/azurite.log" 2>&1 &
  pids+=($!)
  if wait_http "http://127.0.0.1:$azport/devstoreaccount1?comp=list" 30; then
    export INTEROP_AZURITE_ENDPOINT="http://127.0.0.1:$azport"
    log "Azurite $AZURITE_VERSION blob service on 127.0.0.1:$azport"
  else
    export INTEROP_AZURITE_ENDPOINT_ERROR="Azurite did not answer within 30 s: $(tail -3 "$work/azurite.log" | tr '\n' ' ')"
  fi
else
  export INTEROP_AZURITE_ENDPOINT_ERROR="$azurite missing (interop/setup.sh installs it)"
fi
