// Command source-clockify is the Airbyte source for Clockify: spec, check, discover and read.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/source"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := airbyte.RunSource(ctx, source.New(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
