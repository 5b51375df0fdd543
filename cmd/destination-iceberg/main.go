// Command destination-iceberg is the Airbyte destination writing Iceberg tables for Snowflake.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := airbyte.RunDestination(ctx, destination.New(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
