package airbyte

import (
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

// ConfigureCommand is the `configure-catalog` helper command of our connectors: it reads the output
// of `discover` on stdin and prints a configured catalog (see Configure) on stdout, so a user without
// the Airbyte platform can run `read`:
//
//	source-clockify discover --config c.json | source-clockify configure-catalog [--streams a,b] [--generation N] > catalog.json
//
// It returns the process exit code; errors go to stderr.
func ConfigureCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("configure-catalog", flag.ContinueOnError)
	fs.SetOutput(stderr)
	streams := fs.String("streams", "", "comma-separated stream names (default: every stream)")
	generation := fs.Int64("generation", 1, "generation_id of this sync; raise it with every sync that should replace full-refresh tables")
	if err := fs.Parse(args); err != nil {
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
