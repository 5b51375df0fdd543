// Command faultbench kills destination-iceberg with SIGKILL at random moments of append,
// overwrite (a refresh over an older generation), append_dedup and overwrite_dedup (a
// deduplicated refresh, as the platform sends it: append_dedup with minimum_generation_id equal
// to generation_id) syncs, retries each sync the
// way a platform would (resuming from the last echoed state, or sending everything again), reads
// the table back with iceberg-go and counts rows lost, rows duplicated, trials in which main
// showed a partial refresh, and the files the killed runs left behind (orphans, which table
// maintenance removes).
//
//	go run ./bench/faultbench -trials 32
//
// An append sync is always retried by resuming: sending an append stream again from the start is
// a new full-refresh-append sync, which adds every row again by definition.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/destination/catalogs"
)

func main() {
	trials := flag.Int("trials", 32, "kill-and-retry trials (cycling through append, overwrite, append_dedup, overwrite_dedup)")
	records := flag.Int("records", 20000, "records per sync")
	stateEvery := flag.Int("state-every", 500, "records between STATE messages")
	flush := flag.Int("flush-records", 3000, "the destination's flush_records (commits per sync = records / this)")
	bin := flag.String("bin", "", "destination-iceberg binary (default: go build it)")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (printed, for re-running a trial)")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	flag.Parse()
	r := &runner{records: *records, stateEvery: *stateEvery, flush: *flush, rng: rand.New(rand.NewPCG(*seed, 1))}
	if err := r.run(*trials, *bin, *seed, *jsonOut); err != nil {
		fmt.Fprintln(os.Stderr, "faultbench:", err)
		os.Exit(1)
	}
}

type runner struct {
	records, stateEvery, flush int
	rng                        *rand.Rand
	bin, dir                   string
}

// trial is one kill and its retry.
type trial struct {
	Mode         string  `json:"mode"`
	Retry        string  `json:"retry"`
	KilledAfter  int     `json:"killed_after_records_sent"`
	Echoed       int     `json:"last_echoed_cursor"`
	Finished     bool    `json:"finished_before_kill"`
	Lost         int     `json:"rows_lost"`
	Duplicated   int     `json:"rows_duplicated"`
	Stale        int     `json:"rows_stale"` // wrong generation or version after the retry
	PartialMain  bool    `json:"main_partial_after_kill"`
	Orphans      int     `json:"orphan_files"`
	OrphanBytes  int64   `json:"orphan_bytes"`
	RetrySeconds float64 `json:"retry_seconds"`
}

type summary struct {
	Seed        uint64  `json:"seed"`
	Records     int     `json:"records_per_sync"`
	StateEvery  int     `json:"state_every"`
	Flush       int     `json:"flush_records"`
	Trials      []trial `json:"trials"`
	Lost        int     `json:"rows_lost"`
	Duplicated  int     `json:"rows_duplicated"`
	Stale       int     `json:"rows_stale"`
	PartialMain int     `json:"trials_main_partial"`
	Orphans     int     `json:"orphan_files"`
	OrphanBytes int64   `json:"orphan_bytes"`
	Seconds     float64 `json:"seconds"`
}

func (r *runner) run(trials int, bin string, seed uint64, jsonOut string) error {
	dir, err := os.MkdirTemp("", "faultbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	r.dir = dir
	if bin == "" {
		bin = filepath.Join(dir, "destination-iceberg")
		if out, err := exec.Command("go", "build", "-o", bin, "github.com/clockberg/clockberg/cmd/destination-iceberg").CombinedOutput(); err != nil {
			return fmt.Errorf("building the destination: %v\n%s", err, out)
		}
	} else if st, err := os.Stat(bin); err == nil && st.IsDir() {
		bin = filepath.Join(bin, "destination-iceberg")
	}
	r.bin = bin
	start := time.Now()
	sum := summary{Seed: seed, Records: r.records, StateEvery: r.stateEvery, Flush: r.flush}
	fmt.Printf("faultbench: %d trials, %d records per sync, a STATE every %d, flush_records %d, seed %d\n",
		trials, r.records, r.stateEvery, r.flush, seed)
	fmt.Printf("%-5s %-15s %-7s %8s %7s %5s %6s %5s %7s %8s\n", "trial", "mode", "retry", "killed@", "echoed", "lost", "dupes", "stale", "partial", "orphans")
	modes := []string{"append", "overwrite", "append_dedup", "overwrite_dedup"}
	for i := 0; i < trials; i++ {
		mode := modes[i%len(modes)]
		retry := "resume"
		if mode != "append" && (i/len(modes))%2 == 1 {
			retry = "re-send"
		}
		t, err := r.trial(i, mode, retry)
		if err != nil {
			return fmt.Errorf("trial %d (%s, %s): %w", i+1, mode, retry, err)
		}
		killed := strconv.Itoa(t.KilledAfter)
		if t.Finished {
			killed += "*"
		}
		fmt.Printf("%-5d %-15s %-7s %8s %7d %5d %6d %5d %7t %8d\n", i+1, mode, retry, killed, t.Echoed, t.Lost, t.Duplicated, t.Stale, t.PartialMain, t.Orphans)
		sum.Trials = append(sum.Trials, t)
		sum.Lost += t.Lost
		sum.Duplicated += t.Duplicated
		sum.Stale += t.Stale
		sum.Orphans += t.Orphans
		sum.OrphanBytes += t.OrphanBytes
		if t.PartialMain {
			sum.PartialMain++
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	fmt.Printf("trials: %d (* = the sync had finished before the kill)\n", trials)
	fmt.Printf("rows lost: %d\nrows duplicated: %d\nrows stale (old generation or version): %d\n", sum.Lost, sum.Duplicated, sum.Stale)
	fmt.Printf("trials where main showed a partial refresh after the kill: %d\n", sum.PartialMain)
	fmt.Printf("orphan files left by killed runs: %d (%d bytes; table maintenance removes them)\n", sum.Orphans, sum.OrphanBytes)
	fmt.Printf("time: %.1f s\n", sum.Seconds)
	if jsonOut != "" {
		b, err := json.MarshalIndent(sum, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	if sum.Lost+sum.Duplicated+sum.Stale+sum.PartialMain > 0 {
		return errors.New("rows were lost, duplicated or stale, or main showed a partial refresh")
	}
	return nil
}

// sync is what a trial's catalog and input look like for one mode.
type sync struct {
	mode     string
	gen      int64
	truncate bool
	ids      int // distinct ids: append_dedup sends every id twice
}

func (r *runner) syncFor(mode string) sync {
	switch mode {
	case "overwrite":
		return sync{mode: "overwrite", gen: 2, truncate: true, ids: r.records}
	case "append_dedup":
		return sync{mode: "append_dedup", gen: 1, ids: r.records / 2}
	case "overwrite_dedup":
		return sync{mode: "append_dedup", gen: 2, truncate: true, ids: r.records / 2}
	}
	return sync{mode: "append", gen: 1, ids: r.records}
}

func (s sync) catalog(gen int64) string {
	min := int64(0)
	if s.truncate {
		min = gen
	}
	syncMode := "incremental"
	if s.truncate {
		syncMode = "full_refresh"
	}
	return fmt.Sprintf(`{"streams":[{"stream":{"name":"items","json_schema":{"type":"object","properties":{"id":{"type":"integer"},"v":{"type":"string"},"ts":{"type":"integer"}}},"supported_sync_modes":["full_refresh","incremental"],"source_defined_primary_key":[["id"]]},"sync_mode":%q,"destination_sync_mode":%q,"primary_key":[["id"]],"cursor_field":["ts"],"generation_id":%d,"minimum_generation_id":%d,"sync_id":%d}]}`,
		syncMode, s.mode, gen, min, 10+gen)
}

// input is the sync's messages from record index from (1-based) to the end: records (id, the
// version v, a cursor ts = index), a STATE after every stateEvery records and at the end, COMPLETE.
func (r *runner) input(s sync, from int, v string) []string {
	out := []string{`{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1.0,"stream_status":{"stream_descriptor":{"name":"items"},"status":"STARTED"}}}`}
	for i := from; i <= r.records; i++ {
		id := (i-1)%s.ids + 1
		out = append(out, fmt.Sprintf(`{"type":"RECORD","record":{"stream":"items","data":{"id":%d,"v":"%s","ts":%d},"emitted_at":%d}}`, id, v, i, 1700000000000+int64(i)))
		if i%r.stateEvery == 0 || i == r.records {
			out = append(out, fmt.Sprintf(`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"items"},"stream_state":{"c":%d}},"sourceStats":{"recordCount":1.0},"id":%d}}`, i, i))
		}
	}
	return append(out, `{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1.0,"stream_status":{"stream_descriptor":{"name":"items"},"status":"COMPLETE"}}}`)
}

func (r *runner) trial(i int, mode, retry string) (trial, error) {
	t := trial{Mode: mode, Retry: retry}
	s := r.syncFor(mode)
	dir := filepath.Join(r.dir, fmt.Sprintf("trial%02d", i+1))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return t, err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "config.json")
	cfgJSON := fmt.Sprintf(`{"warehouse":%q,"flush_records":%d}`, filepath.Join(dir, "warehouse"), r.flush)
	if err := os.WriteFile(cfg, []byte(cfgJSON), 0o600); err != nil {
		return t, err
	}
	catalogFile := func(gen int64) (string, error) {
		p := filepath.Join(dir, fmt.Sprintf("catalog%d.json", gen))
		return p, os.WriteFile(p, []byte(s.catalog(gen)), 0o600)
	}
	if s.truncate {
		// The previous generation, complete: main must show it until the refresh completes (for
		// dedup, one row per id).
		cat1, err := catalogFile(1)
		if err != nil {
			return t, err
		}
		if _, err := r.write(cfg, cat1, r.input(s, 1, "old"), -1); err != nil {
			return t, fmt.Errorf("generation 1: %w", err)
		}
	}
	cat, err := catalogFile(s.gen)
	if err != nil {
		return t, err
	}
	in := r.input(s, 1, "new")
	t.KilledAfter = 1 + r.rng.IntN(r.records)
	res, err := r.write(cfg, cat, in, t.KilledAfter)
	if err != nil {
		return t, fmt.Errorf("the killed run: %w", err)
	}
	t.Echoed, t.Finished = res.echoed, res.finished
	if s.truncate && !res.finished {
		rows, err := readItems(cfgJSON)
		if err != nil {
			return t, err
		}
		t.PartialMain = len(rows) != s.ids || countWhere(rows, func(x row) bool { return x.v != "old" || x.gen != 1 }) > 0
	}
	from := t.Echoed + 1
	if retry == "re-send" {
		from = 1
	}
	t0 := time.Now()
	if _, err := r.write(cfg, cat, r.input(s, from, "new"), -1); err != nil {
		return t, fmt.Errorf("the retry: %w", err)
	}
	t.RetrySeconds = time.Since(t0).Seconds()
	rows, err := readItems(cfgJSON)
	if err != nil {
		return t, err
	}
	seen := map[int64]int{}
	for _, x := range rows {
		seen[x.id]++
	}
	for id := int64(1); id <= int64(s.ids); id++ {
		switch n := seen[id]; {
		case n == 0:
			t.Lost++
		case n > 1:
			t.Duplicated += n - 1
		}
	}
	// The surviving version: generation s.gen, value "new"; append_dedup keeps an id's latest
	// record (the second occurrence, ts = id + ids).
	t.Stale = countWhere(rows, func(x row) bool {
		return x.v != "new" || x.gen != s.gen || (s.ids < r.records && x.ts != x.id+int64(s.ids))
	})
	t.Orphans, t.OrphanBytes, err = orphans(cfgJSON)
	return t, err
}

type result struct {
	echoed   int
	finished bool
}

// write runs the destination on in. With killAfter >= 1 it sends lines until that many records
// went out, waits a random moment (the destination keeps working on what it has), kills it with
// SIGKILL and reports the last state it echoed; otherwise it sends everything and wants exit 0.
func (r *runner) write(cfg, cat string, in []string, killAfter int) (result, error) {
	cmd := exec.Command(r.bin, "write", "--config", cfg, "--catalog", cat)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return result{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	echoes := make(chan int, 1)
	go func() {
		last := 0
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, `{"type":"STATE"`) {
				var m struct {
					State struct {
						Stream struct {
							StreamState struct{ C int } `json:"stream_state"`
						} `json:"stream"`
					} `json:"state"`
				}
				if json.Unmarshal([]byte(l), &m) == nil {
					last = m.State.Stream.StreamState.C
				}
			}
		}
		echoes <- last
	}()
	w := bufio.NewWriter(stdin)
	sent := 0
	for _, l := range in {
		if killAfter >= 1 && strings.HasPrefix(l, `{"type":"RECORD"`) {
			if sent == killAfter {
				break
			}
			sent++
		}
		if _, err := w.WriteString(l + "\n"); err != nil {
			break // the destination exited; Wait reports why
		}
	}
	_ = w.Flush()
	if killAfter < 1 {
		stdin.Close()
		err := cmd.Wait()
		last := <-echoes
		if err != nil {
			return result{}, fmt.Errorf("destination exited with %v: %s", err, tail(stderr.String()))
		}
		return result{echoed: last}, nil
	}
	// Keep stdin open (a killed platform does not close it) and kill at a random moment while
	// the destination converts, writes files or commits what it received.
	time.Sleep(time.Duration(r.rng.IntN(400)) * time.Millisecond)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	stdin.Close()
	last := <-echoes
	return result{echoed: last, finished: last == r.records}, nil
}

type row struct {
	id, ts, gen int64
	v           string
}

func countWhere(rows []row, f func(row) bool) int {
	n := 0
	for _, x := range rows {
		if f(x) {
			n++
		}
	}
	return n
}

func loadItems(cfgJSON string) (*table.Table, func(), error) {
	s, err := catalogs.ParseSettings([]byte(cfgJSON))
	if err != nil {
		return nil, nil, err
	}
	cat, err := catalogs.Open(context.Background(), s)
	if err != nil {
		return nil, nil, err
	}
	tbl, err := cat.LoadTable(context.Background(), table.Identifier{"clockify", "items"})
	if err != nil {
		catalogs.Close(cat)
		return nil, nil, err
	}
	return tbl, func() { catalogs.Close(cat) }, nil
}

// readItems reads main of clockify.items with iceberg-go.
func readItems(cfgJSON string) ([]row, error) {
	tbl, done, err := loadItems(cfgJSON)
	if err != nil {
		return nil, err
	}
	defer done()
	_, recs, err := tbl.Scan(table.WithSelectedFields("id", "ts", "v", "_airbyte_generation_id")).ToArrowRecords(context.Background())
	if err != nil {
		return nil, err
	}
	var out []row
	for rec, err := range recs {
		if err != nil {
			return nil, err
		}
		col := func(name string) int { return rec.Schema().FieldIndices(name)[0] }
		ids, ts := rec.Column(col("id")).(*array.Int64), rec.Column(col("ts")).(*array.Int64)
		vs, gens := rec.Column(col("v")).(*array.String), rec.Column(col("_airbyte_generation_id")).(*array.Int64)
		for i := 0; i < int(rec.NumRows()); i++ {
			out = append(out, row{id: ids.Value(i), ts: ts.Value(i), gen: gens.Value(i), v: vs.Value(i)})
		}
		rec.Release()
	}
	return out, nil
}

// orphans counts the files under the table's location that no metadata references.
func orphans(cfgJSON string) (int, int64, error) {
	tbl, done, err := loadItems(cfgJSON)
	if err != nil {
		return 0, 0, err
	}
	defer done()
	res, err := tbl.DeleteOrphanFiles(context.Background(), table.WithFilesOlderThan(0), table.WithDryRun(true))
	if err != nil {
		return 0, 0, fmt.Errorf("listing orphan files: %w", err)
	}
	var size int64
	for _, f := range res.OrphanFiles {
		size += f.SizeBytes
	}
	return len(res.OrphanFiles), size, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
