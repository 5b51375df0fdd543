package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/destination/catalogs"
)

// entryChanges are what users did between the two demo syncs: entries deleted, one moved.
type entryChanges struct {
	deleted         []string
	moved, movedTo  string
	workspaceOfMove string
}

// changeEntries deletes two time entries of the lookback window and moves a third an hour later,
// through the simulator's admin routes, as users would between two syncs.
func changeEntries(ctx context.Context, simURL string) (*entryChanges, error) {
	var info struct {
		Workspaces []struct {
			ID    string   `json:"id"`
			Users []string `json:"users"`
		} `json:"workspaces"`
	}
	if err := simJSON(ctx, http.MethodGet, simURL+"/_sim/info", &info); err != nil {
		return nil, err
	}
	type cand struct{ ws, id, start string }
	var cands []cand
	for _, w := range info.Workspaces {
		for _, u := range w.Users {
			var es []struct {
				ID           string `json:"id"`
				TimeInterval struct {
					Start string  `json:"start"`
					End   *string `json:"end"`
				} `json:"timeInterval"`
			}
			path := fmt.Sprintf("%s/api/v1/workspaces/%s/user/%s/time-entries?page-size=20", simURL, w.ID, u)
			if err := apiJSON(ctx, path, &es); err != nil {
				return nil, err
			}
			if len(es) == 0 {
				continue
			}
			newest, _ := time.Parse(time.RFC3339, es[0].TimeInterval.Start)
			for _, e := range es[1:] {
				t, err := time.Parse(time.RFC3339, e.TimeInterval.Start)
				// Well inside the 7-day lookback window the state holds ids for.
				if err == nil && e.TimeInterval.End != nil && t.After(newest.Add(-6*24*time.Hour)) {
					cands = append(cands, cand{w.ID, e.ID, e.TimeInterval.Start})
				}
			}
		}
	}
	if len(cands) < 3 {
		return nil, fmt.Errorf("only %d time entries in the lookback windows to change", len(cands))
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].id < cands[j].id })
	ch := &entryChanges{}
	for _, c := range cands[:2] {
		if err := simJSON(ctx, http.MethodPost, simURL+"/_sim/time-entries/delete?workspace="+c.ws+"&id="+c.id, nil); err != nil {
			return nil, err
		}
		ch.deleted = append(ch.deleted, c.id)
	}
	mv := cands[2]
	t, _ := time.Parse(time.RFC3339, mv.start)
	ch.moved, ch.workspaceOfMove, ch.movedTo = mv.id, mv.ws, t.Add(time.Hour).UTC().Format(time.RFC3339)
	q := url.Values{"workspace": {mv.ws}, "id": {mv.id}, "start": {ch.movedTo}}
	if err := simJSON(ctx, http.MethodPost, simURL+"/_sim/time-entries/move?"+q.Encode(), nil); err != nil {
		return nil, err
	}
	return ch, nil
}

// checkChanges prints what the time_entries table holds of the changed entries and returns how
// many are not as they should be (deleted ones gone, the moved one at its new start).
func checkChanges(ctx context.Context, p paths, namespace string, ch *entryChanges) (int, error) {
	cat, err := openCatalog(ctx, p)
	if err != nil {
		return 0, err
	}
	defer catalogs.Close(cat)
	tbl, err := cat.LoadTable(ctx, catalog.ToIdentifier(namespace, "time_entries"))
	if err != nil {
		return 0, err
	}
	ids := append(slices.Clone(ch.deleted), ch.moved)
	_, recs, err := tbl.Scan(table.WithRowFilter(iceberg.IsIn(iceberg.Reference("id"), ids...)),
		table.WithSelectedFields("id", "timeInterval")).ToArrowRecords(ctx)
	if err != nil {
		return 0, err
	}
	found := map[string]string{}
	for rec, err := range recs {
		if err != nil {
			return 0, err
		}
		idCol := rec.Column(int(rec.Schema().FieldIndices("id")[0]))
		tiCol := rec.Column(int(rec.Schema().FieldIndices("timeInterval")[0]))
		for i := 0; i < int(rec.NumRows()); i++ {
			found[idCol.ValueStr(i)] = tiCol.(*array.String).Value(i)
		}
		rec.Release()
	}
	bad := 0
	fmt.Printf("\nbetween the syncs, users deleted %d time entries and moved one:\n", len(ch.deleted))
	for _, id := range ch.deleted {
		_, still := found[id]
		fmt.Printf("  deleted %s: %s\n", id, map[bool]string{true: "STILL IN THE TABLE  <- MISMATCH", false: "gone from the table"}[still])
		if still {
			bad++
		}
	}
	var ti struct {
		Start string `json:"start"`
	}
	_ = json.Unmarshal([]byte(found[ch.moved]), &ti)
	got, _ := time.Parse(time.RFC3339Nano, ti.Start)
	want, _ := time.Parse(time.RFC3339, ch.movedTo)
	mark := "the table has its new start"
	if !got.Equal(want) {
		mark = fmt.Sprintf("the table has start %q  <- MISMATCH", ti.Start)
		bad++
	}
	fmt.Printf("  moved %s to %s: %s\n", ch.moved, ch.movedTo, mark)
	return bad, nil
}

// openCatalog opens the destination's catalog, as the destination's config names it.
func openCatalog(ctx context.Context, p paths) (catalog.Catalog, error) {
	raw, _ := os.ReadFile(p.dest)
	settings, err := catalogs.ParseSettings(raw)
	if err != nil {
		return nil, err
	}
	cat, err := catalogs.Open(ctx, settings)
	if err != nil {
		return nil, fmt.Errorf("opening the catalog: %w", err)
	}
	return cat, nil
}

func apiJSON(ctx context.Context, u string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	req.Header.Set("X-Api-Key", demoKey)
	return doJSON(req, v)
}

func simJSON(ctx context.Context, method, u string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, method, u, nil)
	return doJSON(req, v)
}

func doJSON(req *http.Request, v any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("asking the simulator: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d", req.Method, req.URL.Path, resp.StatusCode)
	}
	if v == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
