// Command maintbench measures what table maintenance keeps flat (issue 11): it runs N consecutive
// incremental syncs of a growing workspace through the destination binary, twice (automatic
// maintenance on, then off), and after every -every syncs records per table the snapshots, data
// and delete files, manifests, metadata.json bytes, bytes under the table's location and the time
// of a full scan (every column, deletes applied, with iceberg-go).
//
// Each sync carries -new new time entries, re-reads the -lookback entries before them (edited,
// as the source's lookback window re-reads the last days: append_dedup, position deletes on the
// month-partitioned table) and replaces the tags table (overwrite, a new generation each sync).
//
//	go run ./bench/maintbench -bin bin -syncs 200 -json out.json
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/destination/catalogs"
	"github.com/clockberg/clockberg/destination/maintenance"
	"github.com/clockberg/clockberg/schemas"
)

type point struct {
	Sync   int                `json:"sync"`
	Tables map[string]measure `json:"tables"`
	// SyncSeconds is the wall time of the sync's process (maintenance included when on).
	SyncSeconds float64 `json:"sync_s"`
}

type measure struct {
	maintenance.Figures
	Rows        int64   `json:"rows"`
	ScanSeconds float64 `json:"scan_s"`
}

type result struct {
	Syncs       int                `json:"syncs"`
	OffSyncs    int                `json:"off_syncs"`
	Every       int                `json:"every"`
	NewPerSync  int                `json:"new_per_sync"`
	Lookback    int                `json:"lookback"`
	Tags        int                `json:"tags"`
	Maintenance map[string]any     `json:"maintenance_on_config"`
	Modes       map[string][]point `json:"modes"`
	Seconds     map[string]float64 `json:"seconds"`
}

func main() {
	bin := flag.String("bin", "bin", "folder with destination-iceberg")
	syncs := flag.Int("syncs", 200, "consecutive incremental syncs per mode")
	offSyncs := flag.Int("off-syncs", 0, "syncs with maintenance off (default: -syncs); its growth is linear, so fewer show it")
	every := flag.Int("every", 10, "measure after every this many syncs")
	newPer := flag.Int("new", 50, "new time entries per sync")
	lookback := flag.Int("lookback", 100, "earlier time entries re-read (edited) per sync")
	dir := flag.String("dir", "", "work folder (default: a temporary one, removed afterwards)")
	out := flag.String("json", "", "write the results here as JSON")
	flag.Parse()
	if *dir == "" {
		d, err := os.MkdirTemp("", "maintbench")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if *offSyncs <= 0 {
		*offSyncs = *syncs
	}
	res := result{Syncs: *syncs, OffSyncs: *offSyncs, Every: *every, NewPerSync: *newPer, Lookback: *lookback, Tags: 30,
		Maintenance: map[string]any{"keep_snapshots": 10, "keep_history_hours": 0},
		Modes:       map[string][]point{}, Seconds: map[string]float64{}}
	for _, mode := range []string{"on", "off"} {
		maint, n := res.Maintenance, *syncs
		if mode == "off" {
			maint, n = map[string]any{"enabled": false}, *offSyncs
		}
		start := time.Now()
		pts, err := series(context.Background(), filepath.Join(*dir, mode), filepath.Join(*bin, "destination-iceberg"), maint, n, &res)
		if err != nil {
			fail(fmt.Errorf("maintenance %s: %w", mode, err))
		}
		res.Modes[mode] = pts
		res.Seconds[mode] = time.Since(start).Seconds()
	}
	if *out != "" {
		b, _ := json.MarshalIndent(res, "", " ")
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "maintbench:", err)
	os.Exit(1)
}

func series(ctx context.Context, dir, bin string, maint map[string]any, syncs int, r *result) ([]point, error) {
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	warehouse := filepath.Join(dir, "warehouse")
	cfg := map[string]any{"warehouse": warehouse, "maintenance": maint}
	cfgPath := filepath.Join(dir, "config.json")
	if err := writeJSON(cfgPath, cfg); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(cfg)
	settings, err := catalogs.ParseSettings(raw)
	if err != nil {
		return nil, err
	}
	var pts []point
	for s := 1; s <= syncs; s++ {
		catPath := filepath.Join(dir, "catalog.json")
		if err := writeJSON(catPath, catalogOf(s)); err != nil {
			return nil, err
		}
		inPath := filepath.Join(dir, "input.jsonl")
		if err := input(inPath, s, r.NewPerSync, r.Lookback, r.Tags); err != nil {
			return nil, err
		}
		in, err := os.Open(inPath)
		if err != nil {
			return nil, err
		}
		cmd := exec.CommandContext(ctx, bin, "write", "--config", cfgPath, "--catalog", catPath)
		cmd.Stdin = in
		var errb strings.Builder
		cmd.Stderr = &errb
		cmd.Env = append(os.Environ(), "WORKER_JOB_ID=bench") // no progress lines
		started := time.Now()
		outb, err := cmd.Output()
		took := time.Since(started)
		in.Close()
		if err != nil {
			return nil, fmt.Errorf("sync %d: %v\n%s", s, err, tail(string(outb)+errb.String()))
		}
		if strings.Contains(string(outb), "failed (the sync's data is committed") {
			return nil, fmt.Errorf("sync %d: maintenance failed:\n%s", s, tail(string(outb)))
		}
		if s%r.Every != 0 && s != 1 {
			continue
		}
		p := point{Sync: s, Tables: map[string]measure{}, SyncSeconds: took.Seconds()}
		for _, name := range []string{"time_entries", "tags"} {
			m, err := measureTable(ctx, settings, name)
			if err != nil {
				return nil, fmt.Errorf("sync %d: %s: %w", s, name, err)
			}
			p.Tables[name] = m
		}
		te := p.Tables["time_entries"]
		fmt.Fprintf(os.Stderr, "maintbench: maintenance %v, sync %d: time_entries %d rows, %d snapshots, %d data + %d delete files, metadata %d B, %d B total, scan %.3fs\n",
			maint["enabled"] != false, s, te.Rows, te.Snapshots, te.DataFiles, te.DeleteFiles, te.MetadataBytes, te.TotalBytes, te.ScanSeconds)
		pts = append(pts, p)
	}
	return pts, nil
}

func measureTable(ctx context.Context, s catalogs.Settings, name string) (measure, error) {
	cat, err := catalogs.Open(ctx, s)
	if err != nil {
		return measure{}, err
	}
	defer catalogs.Close(cat)
	tbl, err := cat.LoadTable(ctx, table.Identifier{"clockify", name})
	if err != nil {
		return measure{}, err
	}
	f, err := maintenance.Measure(ctx, tbl)
	if err != nil {
		return measure{}, err
	}
	m := measure{Figures: f}
	start := time.Now()
	_, recs, err := tbl.Scan().ToArrowRecords(ctx)
	if err != nil {
		return m, err
	}
	for rec, err := range recs {
		if err != nil {
			return m, err
		}
		m.Rows += rec.NumRows()
		rec.Release()
	}
	m.ScanSeconds = time.Since(start).Seconds()
	return m, nil
}

func catalogOf(s int) map[string]any {
	te, _ := schemas.Get("time_entries")
	tags, _ := schemas.Get("tags")
	return map[string]any{"streams": []any{
		map[string]any{"stream": map[string]any{"name": "time_entries", "json_schema": json.RawMessage(te),
			"supported_sync_modes": []string{"full_refresh", "incremental"}},
			"sync_mode": "incremental", "destination_sync_mode": "append_dedup", "primary_key": [][]string{{"id"}},
			"cursor_field": []string{"timeInterval", "start"}, "generation_id": 1, "minimum_generation_id": 0, "sync_id": s},
		map[string]any{"stream": map[string]any{"name": "tags", "json_schema": json.RawMessage(tags),
			"supported_sync_modes": []string{"full_refresh"}},
			"sync_mode": "full_refresh", "destination_sync_mode": "overwrite", "primary_key": [][]string{{"id"}},
			"generation_id": s, "minimum_generation_id": s, "sync_id": s},
	}}
}

var base = time.Date(2025, 11, 1, 8, 0, 0, 0, time.UTC)

// input writes sync s: the lookback entries before this sync's new ones (edited), the new ones,
// a STATE, then every tag and a STATE.
func input(path string, s, newPer, lookback, tags int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	first := (s - 1) * newPer
	emitted := base.Add(time.Duration(s) * time.Hour).UnixMilli()
	for i := max(0, first-lookback); i < first+newPer; i++ {
		desc := "work item"
		if i < first {
			desc = fmt.Sprintf("edited in sync %d", s)
		}
		start := base.Add(time.Duration(i) * 7 * time.Minute)
		end := start.Add(time.Duration(15+i%120) * time.Minute)
		fmt.Fprintf(w, `{"type":"RECORD","record":{"stream":"time_entries","emitted_at":%d,"data":{"id":"%024x","description":%q,"userId":"%024x","workspaceId":"5e4117fe8c625f38930d57b7","projectId":"%024x","taskId":null,"tagIds":["%024x"],"billable":%t,"isLocked":false,"kioskId":null,"type":"REGULAR","timeInterval":{"start":"%s","end":"%s","duration":"PT%dM"},"customFieldValues":[],"hourlyRate":{"amount":%d,"currency":"EUR"},"costRate":null}}}`+"\n",
			emitted, i, desc, i%10, i%30, i%tags, i%3 != 0, start.Format(time.RFC3339), end.Format(time.RFC3339), 15+i%120, 1000+i%5000)
	}
	fmt.Fprintf(w, `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"time_entries"},"stream_state":{"sync":%d}}}}`+"\n", s)
	for i := 0; i < tags; i++ {
		fmt.Fprintf(w, `{"type":"RECORD","record":{"stream":"tags","emitted_at":%d,"data":{"id":"%024x","name":"tag %d","workspaceId":"5e4117fe8c625f38930d57b7","archived":false}}}`+"\n", emitted, i, i)
	}
	fmt.Fprintf(w, `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"tags"},"stream_state":{"sync":%d}}}}`+"\n", s)
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
