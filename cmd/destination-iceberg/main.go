// Command destination-iceberg is the Airbyte destination writing Iceberg tables for Snowflake.
//
//	destination-iceberg spec | check --config C | write --config C --catalog K < records
//	destination-iceberg snowflake --config C [options]   prints the Snowflake statements
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination"
	"github.com/clockberg/clockberg/destination/snowflake"
)

// stopGrace is how long a signalled run may take to abandon its open batch. Reading stdin can
// block past the signal, and nothing uncommitted is ever acknowledged, so exiting is always safe.
const stopGrace = 5 * time.Second

// defaultMemoryLimit is the Go soft memory limit unless GOMEMLIMIT says otherwise. The append path
// lives well below it; copy-on-write deduplication of large batches would otherwise let the heap
// double between collections (measured 770 MiB peak RSS without, 480 MiB with).
const defaultMemoryLimit = 384 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		time.Sleep(stopGrace)
		os.Exit(143)
	}()
	var code int
	if len(os.Args) > 1 && os.Args[1] == "snowflake" {
		code = snowflake.Main(ctx, os.Args[2:], os.Stdout, os.Stderr)
	} else {
		code = airbyte.RunDestination(ctx, destination.New(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	}
	stop()
	os.Exit(code)
}
