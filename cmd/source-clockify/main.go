// Command source-clockify is the Airbyte source for Clockify: spec, check, discover and read.
//
//	source-clockify spec | check --config C | discover --config C | read --config C --catalog K [--state S]
//	source-clockify configure-catalog [--streams a,b] < discover-output   prints a configured catalog
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/source"
)

// softMemoryLimit keeps the heap of a read near its working set (a few pages in flight per
// worker) instead of letting the GC double it; GOMEMLIMIT overrides it.
const softMemoryLimit = 64 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	if len(os.Args) > 1 && os.Args[1] == "configure-catalog" {
		os.Exit(airbyte.ConfigureCommand(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := airbyte.RunSource(ctx, source.New(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
