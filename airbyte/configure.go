package airbyte

import (
	"fmt"
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
