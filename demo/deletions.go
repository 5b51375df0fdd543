package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"time"
)

// From the second sync on, users delete two time entries and move a third before the sync, as they
// do between real syncs; verify then checks that time_entries followed the ground truth, which no
// longer lists the deleted ones.
func init() {
	beforeSync = append(beforeSync, step{
		name: "users delete two time entries of the lookback window and move a third an hour later",
		when: (*demo).incremental,
		run:  changeTimeEntries,
	})
	afterSync = append(afterSync, step{
		name: "what the sync did with the changed time entries",
		when: func(d *demo) bool { return d.changes != nil },
		run:  showChanges,
	})
}

// entryChanges are the changes of this run and the time_entries rows before the sync.
type entryChanges struct {
	deleted       []string
	moved, to     string
	rowsBefore    int64
	truthBefore   int64
	truthAfterDel int64
}

func changeTimeEntries(ctx context.Context, d *demo) error {
	var info struct {
		Workspaces []struct {
			ID    string   `json:"id"`
			Users []string `json:"users"`
		} `json:"workspaces"`
	}
	b, err := d.simRequest(ctx, http.MethodGet, "/_sim/info", nil)
	if err == nil {
		err = json.Unmarshal(b, &info)
	}
	if err != nil {
		return err
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
			if err := d.apiGet(ctx, fmt.Sprintf("/api/v1/workspaces/%s/user/%s/time-entries?page-size=20", w.ID, u), &es); err != nil {
				return err
			}
			if len(es) == 0 {
				continue
			}
			newest, _ := time.Parse(time.RFC3339, es[0].TimeInterval.Start)
			for _, e := range es[1:] {
				// Well inside the 7-day lookback window whose ids the state holds.
				if t, err := time.Parse(time.RFC3339, e.TimeInterval.Start); err == nil && e.TimeInterval.End != nil && t.After(newest.Add(-6*24*time.Hour)) {
					cands = append(cands, cand{w.ID, e.ID, e.TimeInterval.Start})
				}
			}
		}
	}
	if len(cands) < 3 {
		return fmt.Errorf("only %d time entries in the lookback windows to change", len(cands))
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].id < cands[j].id })
	ch := &entryChanges{}
	figs, err := d.tables(ctx)
	if err != nil {
		return err
	}
	ch.rowsBefore = figs["time_entries"].Rows
	truth, err := d.groundTruth(ctx)
	if err != nil {
		return err
	}
	ch.truthBefore = truth["time_entries"]
	for _, c := range cands[:2] {
		if _, err := d.simRequest(ctx, http.MethodPost, "/_sim/time-entries/delete?"+url.Values{"workspace": {c.ws}, "id": {c.id}}.Encode(), nil); err != nil {
			return err
		}
		ch.deleted = append(ch.deleted, c.id)
	}
	t, _ := time.Parse(time.RFC3339, cands[2].start)
	ch.moved, ch.to = cands[2].id, t.Add(time.Hour).UTC().Format(time.RFC3339)
	if _, err := d.simRequest(ctx, http.MethodPost, "/_sim/time-entries/move?"+url.Values{"workspace": {cands[2].ws}, "id": {ch.moved}, "start": {ch.to}}.Encode(), nil); err != nil {
		return err
	}
	if truth, err = d.groundTruth(ctx); err != nil {
		return err
	}
	ch.truthAfterDel = truth["time_entries"]
	logf("deleted %v; moved %s to %s", ch.deleted, ch.moved, ch.to)
	d.changes = ch
	return nil
}

func showChanges(ctx context.Context, d *demo) error {
	ch := d.changes
	figs, err := d.tables(ctx)
	if err != nil {
		return err
	}
	rows := figs["time_entries"].Rows
	fmt.Printf("\ntime entries deleted before this sync: %v\n", ch.deleted)
	fmt.Printf("  the simulator lists %d time entries, %d fewer than before; the time_entries table went from %d to %d rows\n",
		ch.truthAfterDel, ch.truthBefore-ch.truthAfterDel, ch.rowsBefore, rows)
	fmt.Printf("  (the source emitted them with _ab_cdc_deleted_at; append_dedup removed their rows)\n")
	fmt.Printf("time entry moved before this sync: %s, now starting %s; re-read by the lookback window, its row updated\n", ch.moved, ch.to)
	return nil
}

// apiGet calls the simulated Clockify API with the demo key and decodes the answer.
func (d *demo) apiGet(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.sim+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Api-Key", demoKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("simulator GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("simulator GET %s: HTTP %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
