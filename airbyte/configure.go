package airbyte

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Configure turns a discovered catalog into a configured catalog for people who run connectors
// without the Airbyte platform. It picks, per stream, the mode a careful user would:
// incremental + append_dedup when the source defines a cursor and a primary key (new rows are read,
// re-read rows replace their older copies), else full_refresh + overwrite (the table mirrors the
// source after each sync). only limits the catalog to the named streams (all when empty);
// generation names the sync's generation (use a counter that grows with every sync).
func Configure(discovered *Catalog, only []string, generation int64) (*ConfiguredCatalog, error) {
	var out ConfiguredCatalog
	for _, name := range only {
		if !slices.ContainsFunc(discovered.Streams, func(s Stream) bool { return s.Name == name }) {
			var names []string
			for _, s := range discovered.Streams {
				names = append(names, s.Name)
			}
			return nil, fmt.Errorf("stream %q is not in the catalog (streams: %s)", name, strings.Join(names, ", "))
		}
	}
	for _, s := range discovered.Streams {
		if len(only) > 0 && !slices.Contains(only, s.Name) {
			continue
		}
		gen, minGen := generation, int64(0)
		cs := ConfiguredStream{Stream: s, GenerationID: &gen, MinimumGenerationID: &minGen, PrimaryKey: s.SourceDefinedPrimaryKey}
		if slices.Contains(s.SupportedSyncModes, Incremental) && s.SourceDefinedCursor && len(s.SourceDefinedPrimaryKey) > 0 {
			cs.SyncMode, cs.DestinationSyncMode, cs.CursorField = Incremental, AppendDedup, s.DefaultCursorField
		} else {
			// Like the platform, express the truncate as minimum_generation_id == generation_id.
			cs.SyncMode, cs.DestinationSyncMode, minGen = FullRefresh, Overwrite, gen
		}
		out.Streams = append(out.Streams, cs)
	}
	return &out, nil
}

// ConfigureCatalogCommand is the `configure-catalog` helper command of a source binary named
// program; see ConfigureCommand.
func ConfigureCatalogCommand(program, docs string) Command {
	return Command{
		Name:    "configure-catalog",
		Summary: "turn discover's output (stdin) into a configured catalog (stdout) for read and write",
		Run: func(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
			return configure(program, docs, args, stdin, stdout, stderr)
		},
	}
}

const configureUsage = `Usage: %[1]s configure-catalog [--streams a,b] [--generation N] < discover-output > catalog.json

Turns the output of discover (on stdin) into a configured catalog (on stdout), so that read and a
destination's write run without the Airbyte platform:

  %[1]s discover --config c.json | %[1]s configure-catalog > cat.json

Per stream it picks incremental + append_dedup where the source defines a cursor and a primary key
(new rows are read, re-read rows replace their older copies), else full_refresh + overwrite (the table
mirrors the source after each sync, expressed as minimum_generation_id = generation_id).

Flags:
`

// ConfigureCommand is the `configure-catalog` helper command of our connectors: it reads the output
// of `discover` on stdin and prints a configured catalog (see Configure) on stdout, so a user without
// the Airbyte platform can run `read`:
//
//	source-clockify discover --config c.json | source-clockify configure-catalog [--streams a,b] [--generation N] > catalog.json
//
// It returns the process exit code; errors go to stderr, -h and --help print the usage on stdout.
func ConfigureCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return configure("source", "", args, stdin, stdout, stderr)
}

func configure(program, docs string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("configure-catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	streams := fs.String("streams", "", "comma-separated stream names (default: every stream)")
	generation := fs.Int64("generation", 1, "generation_id of every stream. One catalog serves every sync: an overwrite table is "+
		"replaced at the end of each successful sync whatever its generation. After an interrupted sync, the same "+
		"generation continues the interrupted replacement (keeping the rows it committed, as the platform's "+
		"retries do); a higher one starts the replacement over")
	fs.Usage = func() {}
	usage := func() {
		var b strings.Builder
		fmt.Fprintf(&b, configureUsage, program)
		var rows [][2]string
		fs.VisitAll(func(f *flag.Flag) {
			rows = append(rows, [2]string{"--" + f.Name + " " + map[string]string{"streams": "a,b", "generation": "N"}[f.Name], f.Usage})
		})
		writeRows(&b, rows, "  ")
		if docs != "" {
			fmt.Fprintf(&b, "\nRead more: %s\n", docs)
		}
		io.WriteString(stdout, b.String())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return 0
		}
		fmt.Fprintf(stderr, "Run `%s help configure-catalog` for usage.\n", program)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "configure-catalog: unexpected argument %q (flags take the form --name value)\n", fs.Arg(0))
		return 2
	}
	var discovered *Catalog
	err := ReadLines(stdin, func(n int, line []byte) error {
		var m Message
		if json.Unmarshal(line, &m) == nil && m.Type == TypeCatalog && m.Catalog != nil && discovered == nil {
			discovered = m.Catalog
		}
		return nil
	})
	if err == nil && discovered == nil {
		err = errors.New("no CATALOG message on stdin; pipe the output of `discover --config <file>` into this command")
	}
	var only []string
	for _, s := range strings.Split(*streams, ",") {
		if s = strings.TrimSpace(s); s != "" {
			only = append(only, s)
		}
	}
	var cc *ConfiguredCatalog
	if err == nil {
		cc, err = Configure(discovered, only, *generation)
	}
	if err == nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(cc)
	}
	if err != nil {
		fmt.Fprintf(stderr, "configure-catalog: %v\n", err)
		return 1
	}
	return 0
}
