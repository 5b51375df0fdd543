// Command destination-iceberg is the Airbyte destination writing Iceberg tables for Snowflake:
// spec, check and write, plus helper commands (snowflake, tables, maintain). `destination-iceberg help` lists
// them.
package main

import (
	"context"
	"io"
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

const docs = "README.md, sections \"Running by hand\" and \"Destination configuration\" (https://github.com/clockberg/clockberg#running-by-hand)"

// program lists the commands: the protocol's (spec, check, write) come from the Destination, the
// helper commands from this table; `help` derives from both. A new helper command is one row.
var program = &airbyte.Program{
	Name:        "destination-iceberg",
	Summary:     "the Airbyte destination writing Apache Iceberg tables that Snowflake can read.",
	Docs:        docs,
	Destination: destination.New(),
	Commands: []airbyte.Command{
		{Name: "snowflake", Summary: "print the Snowflake statements that make every table queryable", Run: withoutStdin(snowflake.Main)},
		{Name: "tables", Summary: "print every table's rows, data files and snapshots (--json for scripts)", Run: withoutStdin(tables)},
		{Name: "maintain", Summary: "expire snapshots, remove orphan files, compact small files and fold deletes in (--dry-run to see first)", Run: withoutStdin(maintain)},
	},
}

func withoutStdin(run func(context.Context, []string, io.Writer, io.Writer) int) func(context.Context, []string, io.Reader, io.Writer, io.Writer) int {
	return func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
		return run(ctx, args, stdout, stderr)
	}
}

func maintain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return destination.Maintain(ctx, args, stdout, stderr, docs)
}

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
	code := program.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
