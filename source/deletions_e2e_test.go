package source

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	icecatalog "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
	"github.com/clockberg/clockberg/destination"
	"github.com/clockberg/clockberg/destination/catalogs"
)

// TestDeletedEntriesLeaveTheDedupTable runs source and destination in-process twice on an
// append_dedup time_entries table, with entries deleted between the syncs: by the lookback window,
// by the change feed (an entry far older than the window), and with the change feed refused.
func TestDeletedEntriesLeaveTheDedupTable(t *testing.T) {
	for _, tc := range []struct {
		name      string
		detection string
		refused   bool
		oldGone   bool // the deletion older than the window reaches the table
	}{
		{"lookback window", "lookback_window", false, false},
		{"change feed", "change_feed", false, true},
		{"change feed refused", "change_feed", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := clockifysim.Demo()
			cfg.DeletionDelay = -1
			if tc.refused {
				cfg.DeletedFeedStatus = 403
			}
			s := startSim(t, cfg, nil)
			ws := s.WorkspaceIDs()[1]
			user := s.UserIDs(ws)[1]
			addRecent(t, s, ws, user)
			src := &Source{feedLag: -1}
			conf, _ := json.Marshal(s.config(map[string]any{"deletion_detection": tc.detection}))
			disc, err := src.Discover(context.Background(), conf)
			if err != nil {
				t.Fatal(err)
			}
			cc, err := airbyte.Configure(disc, []string{sTimeEntries}, 1)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Streams[0].DestinationSyncMode != airbyte.AppendDedup {
				t.Fatalf("time_entries configured %s, want append_dedup", cc.Streams[0].DestinationSyncMode)
			}
			warehouse := t.TempDir()
			dconf, _ := json.Marshal(map[string]any{"warehouse": warehouse})

			sync := func(state *airbyte.StateInput) (*result, *airbyte.StateInput) {
				var sout bytes.Buffer
				w := airbyte.NewWriter(&sout, airbyte.NewRedactor())
				if err := src.Read(context.Background(), conf, cc, state, w); err != nil {
					t.Fatalf("read: %v", err)
				}
				w.Close()
				var dout bytes.Buffer
				dw := airbyte.NewWriter(&dout, airbyte.NewRedactor())
				if err := destination.New().Write(context.Background(), dconf, cc, bytes.NewReader(sout.Bytes()), dw); err != nil {
					t.Fatalf("write: %v", err)
				}
				dw.Close()
				res := parseOutput(t, 0, sout.Bytes(), nil)
				echoed := parseOutput(t, 0, dout.Bytes(), nil)
				next := &airbyte.StateInput{Streams: map[airbyte.StreamDescriptor]json.RawMessage{}}
				for _, st := range echoed.states() {
					next.Streams[st.Stream.Descriptor] = st.Stream.StreamState
				}
				return res, next
			}
			first, state := sync(nil)
			recent, old := recentAndOld(t, entries(t, first), user, 7*24*time.Hour)
			gone := []string{recent[0].ID, old[0].ID}
			if _, err := s.DeleteTimeEntries(ws, gone...); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1100 * time.Millisecond) // the change feed is asked in whole seconds
			sync(state)

			ids := tableIDs(t, warehouse)
			if slices.Contains(ids, recent[0].ID) {
				t.Errorf("the entry deleted inside the lookback window is still in the table")
			}
			if slices.Contains(ids, old[0].ID) == tc.oldGone {
				t.Errorf("the entry deleted long before the window: in the table %v, want %v", !tc.oldGone, !tc.oldGone)
			}
			want := len(s.GroundTruth()[sTimeEntries])
			if !tc.oldGone {
				want++ // the old deletion is not seen without the feed
			}
			if len(ids) != want {
				t.Errorf("%d rows, want %d", len(ids), want)
			}
		})
	}
}

func tableIDs(t *testing.T, warehouse string) []string {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"warehouse": warehouse})
	settings, err := catalogs.ParseSettings(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cat, err := catalogs.Open(ctx, settings)
	if err != nil {
		t.Fatal(err)
	}
	defer catalogs.Close(cat)
	tbl, err := cat.LoadTable(ctx, icecatalog.ToIdentifier("clockify", sTimeEntries))
	if err != nil {
		t.Fatal(err)
	}
	_, recs, err := tbl.Scan(table.WithSelectedFields("id")).ToArrowRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rec, err := range recs {
		if err != nil {
			t.Fatal(err)
		}
		col := rec.Column(0)
		for i := 0; i < int(rec.NumRows()); i++ {
			ids = append(ids, col.ValueStr(i))
		}
		rec.Release()
	}
	return ids
}
