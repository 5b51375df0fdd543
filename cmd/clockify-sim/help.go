package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/clockberg/clockberg/clockifysim"
)

const usageText = `clockify-sim: a faithful simulator of the Clockify API (paging, envelopes, plan gating, per-key
rate limits, chaos) for the tests, the benchmarks, the demo and trying the connectors by hand.

Usage:
  clockify-sim [flags]
  clockify-sim help     this text (also -h, --help)

It listens on a loopback address only and prints its base URL (http://127.0.0.1:PORT) as the first
line on stdout. Point source-clockify's api_url at that URL and use the --api-key value as api_key;
--source-config writes that config for you:

  clockify-sim --background --pid-file sim.pid --source-config c.json
  source-clockify check --config c.json
  kill "$(cat sim.pid)"

Routes: {base}/api/v1/... is the Clockify API (header X-Api-Key); {base}/_sim/truth (rows per
stream), /_sim/stats, /_sim/reset-stats, /_sim/minimum-requests, /_sim/time-entries and /_sim/info
need no key.

Flags:
`

func printUsage(fs *flag.FlagSet, w io.Writer) {
	var b strings.Builder
	b.WriteString(usageText)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fmt.Fprintf(&b, "\nThe default API key is %s (a fixed demo value, not a secret).\n", clockifysim.DefaultAPIKey)
	b.WriteString("Read more: README.md, section \"Running by hand\" (https://github.com/clockberg/clockberg#running-by-hand)\n")
	io.WriteString(w, b.String())
}

// sourceConfigJSON is a source-clockify config that reads this simulator.
func sourceConfigJSON(base, key string) []byte {
	b, _ := json.MarshalIndent(map[string]string{"api_key": key, "api_url": base}, "", "  ")
	return append(b, '\n')
}
