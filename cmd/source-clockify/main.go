// Command source-clockify is the Airbyte source for Clockify: spec, check, discover and read, and
// configure-catalog to run it without the Airbyte platform. `source-clockify help` lists them.
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

const (
	name = "source-clockify"
	docs = "README.md, sections \"Running by hand\" and \"Source configuration\" (https://github.com/clockberg/clockberg#running-by-hand)"
)

// program lists the commands; `help` derives from it.
var program = &airbyte.Program{
	Name:    name,
	Summary: "the Airbyte source for Clockify. It reads every stream of every workspace the API key can see.",
	Docs:    docs,
	Source:  source.New(),
	Commands: []airbyte.Command{
		airbyte.ConfigureCatalogCommand(name, docs),
	},
}

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := program.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
