// Command demo runs the whole product on one machine without a Clockify account: it starts the
// Clockify simulator on a free loopback port, discovers the source, configures every stream
// (time_entries incremental + append_dedup, the others full refresh + overwrite), pipes
// `source-clockify read` into `destination-iceberg write` on the embedded default (SQLite catalog and
// a local warehouse folder), then prints one row per table and the Snowflake statements. A second
// run continues from the saved state: an incremental sync.
//
// It exits non-zero if a sync fails or if any table's row count differs from the simulator's
// ground truth, so CI runs it as a test.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
)

const demoKey = "demo-api-key-0123456789abcdef"

func main() {
	bin := flag.String("bin", "bin", "folder holding source-clockify, destination-iceberg and clockify-sim")
	dir := flag.String("dir", ".demo", "folder for configs, state and the warehouse")
	fresh := flag.Bool("fresh", false, "forget the previous run's state and warehouse first")
	preset := flag.String("preset", "demo", "simulator preset")
	namespace := flag.String("namespace", "clockify", "Iceberg namespace")
	sourceOnly := flag.Bool("source-only", false, "run only source-clockify read against the simulator and copy its messages to stdout")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	runner := run
	if *sourceOnly {
		runner = readOnly
	}
	if err := runner(ctx, *bin, *dir, *preset, *namespace, *fresh); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type paths struct{ dir, source, dest, catalog, state, generation, warehouse string }

func newPaths(dir string) (paths, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return paths{}, err
	}
	return paths{
		dir: abs, source: filepath.Join(abs, "source.json"), dest: filepath.Join(abs, "destination.json"),
		catalog: filepath.Join(abs, "catalog.json"), state: filepath.Join(abs, "state.json"),
		generation: filepath.Join(abs, "generation"), warehouse: filepath.Join(abs, "warehouse"),
	}, nil
}

func run(ctx context.Context, bin, dir, preset, namespace string, fresh bool) error {
	p, err := newPaths(dir)
	if err != nil {
		return err
	}
	if fresh {
		os.RemoveAll(p.dir)
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	binPath := func(name string) string { return filepath.Join(bin, name) }

	simURL, stopSim, err := startSimulator(ctx, binPath("clockify-sim"), preset)
	if err != nil {
		return err
	}
	defer stopSim()
	logf("simulator listening on %s (preset %s)", simURL, preset)

	if err := writeJSON(p.source, map[string]any{"api_key": demoKey, "api_url": simURL}); err != nil {
		return err
	}
	if err := writeJSON(p.dest, map[string]any{"warehouse": p.warehouse, "namespace": namespace}); err != nil {
		return err
	}

	discovered, err := discover(ctx, binPath("source-clockify"), p.source)
	if err != nil {
		return err
	}
	generation := readInt(p.generation) + 1
	configured, err := airbyte.Configure(discovered, nil, generation)
	if err != nil {
		return err
	}
	if err := writeJSON(p.catalog, configured); err != nil {
		return err
	}
	incremental := fileExists(p.state)
	if incremental {
		logf("sync %d: incremental, continuing from %s", generation, p.state)
	} else {
		logf("sync %d: first sync of %d streams", generation, len(configured.Streams))
	}

	var changes *entryChanges
	if incremental {
		if changes, err = changeEntries(ctx, simURL); err != nil {
			return err
		}
		logf("between the syncs: deleted time entries %v, moved %s to %s", changes.deleted, changes.moved, changes.movedTo)
	}
	started := time.Now()
	res, err := syncOnce(ctx, binPath("source-clockify"), binPath("destination-iceberg"), p, incremental, len(configured.Streams))
	if err != nil {
		return err
	}
	elapsed := time.Since(started)
	if err := os.WriteFile(p.generation, []byte(strconv.FormatInt(generation, 10)), 0o644); err != nil {
		return err
	}
	if err := writeStates(p.state, res.states); err != nil {
		return err
	}

	truth, err := groundTruth(ctx, simURL)
	if err != nil {
		return err
	}
	mismatches, err := report(ctx, p, namespace, configured, res, truth)
	if err != nil {
		return err
	}
	if changes != nil {
		bad, err := checkChanges(ctx, p, namespace, changes)
		if err != nil {
			return err
		}
		mismatches += bad
	}
	total := int64(0)
	for _, n := range res.records {
		total += n
	}
	fmt.Printf("\nsynced %d records in %s (%.0f records/s)\n", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds())
	if incremental {
		fmt.Printf("incremental: re-read %d of %d time entries (the lookback window); the other streams are full refresh\n",
			res.records["time_entries"], truth["time_entries"])
	} else {
		fmt.Printf("run `make demo` again for an incremental sync\n")
	}

	fmt.Printf("\nSnowflake statements (object-store catalog integration):\n\n")
	sf := exec.CommandContext(ctx, binPath("destination-iceberg"), "snowflake", "--config", p.dest)
	sf.Stdout, sf.Stderr = os.Stdout, os.Stderr
	if err := sf.Run(); err != nil {
		return fmt.Errorf("destination-iceberg snowflake: %w", err)
	}
	if mismatches > 0 {
		return fmt.Errorf("%d table(s) differ from the simulator's ground truth", mismatches)
	}
	return nil
}

// readOnly runs the source alone against the simulator, every stream full refresh, and copies its
// protocol messages to stdout: the quickest look at what the source emits.
func readOnly(ctx context.Context, bin, dir, preset, _ string, _ bool) error {
	p, err := newPaths(filepath.Join(dir, "source-only"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	source := filepath.Join(bin, "source-clockify")
	simURL, stopSim, err := startSimulator(ctx, filepath.Join(bin, "clockify-sim"), preset)
	if err != nil {
		return err
	}
	defer stopSim()
	logf("simulator listening on %s (preset %s)", simURL, preset)
	if err := writeJSON(p.source, map[string]any{"api_key": demoKey, "api_url": simURL}); err != nil {
		return err
	}
	discovered, err := discover(ctx, source, p.source)
	if err != nil {
		return err
	}
	configured, err := airbyte.Configure(discovered, nil, 1)
	if err != nil {
		return err
	}
	if err := writeJSON(p.catalog, configured); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, source, "read", "--config", p.source, "--catalog", p.catalog)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("source-clockify read: %w", err)
	}
	return nil
}

func logf(format string, a ...any) { fmt.Fprintf(os.Stderr, "demo: "+format+"\n", a...) }

// startSimulator runs clockify-sim on a free loopback port and returns its base URL.
func startSimulator(ctx context.Context, path, preset string) (string, func(), error) {
	cmd := exec.CommandContext(ctx, path, "--addr", "127.0.0.1:0", "--preset", preset, "--api-key", demoKey)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("starting %s: %w", path, err)
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("the simulator printed no base URL: %w", err)
	}
	go io.Copy(io.Discard, out)
	return strings.TrimSpace(line), stop, nil
}

func discover(ctx context.Context, source, config string) (*airbyte.Catalog, error) {
	out, err := exec.CommandContext(ctx, source, "discover", "--config", config).Output()
	if err != nil {
		return nil, fmt.Errorf("source-clockify discover: %w", err)
	}
	for _, line := range bytes.Split(out, []byte("\n")) {
		var m airbyte.Message
		if json.Unmarshal(line, &m) == nil && m.Type == airbyte.TypeCatalog && m.Catalog != nil {
			return m.Catalog, nil
		}
	}
	return nil, fmt.Errorf("source-clockify discover printed no CATALOG:\n%s", out)
}

type syncResult struct {
	records map[string]int64           // records read per stream
	states  map[string]json.RawMessage // last echoed state per stream
}

// syncOnce runs read | write with this process in the middle of the pipe, counting records and
// printing progress to stderr.
func syncOnce(ctx context.Context, source, dest string, p paths, incremental bool, streams int) (*syncResult, error) {
	args := []string{"read", "--config", p.source, "--catalog", p.catalog}
	if incremental {
		args = append(args, "--state", p.state)
	}
	src := exec.CommandContext(ctx, source, args...)
	dst := exec.CommandContext(ctx, dest, "write", "--config", p.dest, "--catalog", p.catalog)
	srcOut, err := src.StdoutPipe()
	if err != nil {
		return nil, err
	}
	dstIn, err := dst.StdinPipe()
	if err != nil {
		return nil, err
	}
	dstOut, err := dst.StdoutPipe()
	if err != nil {
		return nil, err
	}
	src.Stderr, dst.Stderr = os.Stderr, os.Stderr
	if err := dst.Start(); err != nil {
		return nil, fmt.Errorf("starting destination-iceberg: %w", err)
	}
	if err := src.Start(); err != nil {
		return nil, fmt.Errorf("starting source-clockify: %w", err)
	}

	res := &syncResult{records: map[string]int64{}, states: map[string]json.RawMessage{}}
	var mu sync.Mutex
	done, complete, failures := 0, 0, []string{}
	start := time.Now()
	var total int64
	// On a terminal the progress line rewrites itself every second; in a log, one line every 5 s.
	tty, every, eol := isTerminal(os.Stderr), 5*time.Second, "\n"
	if tty {
		every, eol = time.Second, ""
	}
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	stopProgress := make(chan struct{})
	go func() {
		for {
			select {
			case <-ticker.C:
				mu.Lock()
				if tty {
					fmt.Fprint(os.Stderr, "\r")
				}
				fmt.Fprintf(os.Stderr, "demo: %d/%d streams read, %d records, %.0f records/s   %s", done, streams, total, float64(total)/time.Since(start).Seconds(), eol)
				mu.Unlock()
			case <-stopProgress:
				return
			}
		}
	}()

	// Destination output: echoed states and logs.
	dstDone := make(chan error, 1)
	go func() {
		dstDone <- airbyte.ReadLines(dstOut, func(_ int, line []byte) error {
			var m airbyte.Message
			if err := json.Unmarshal(line, &m); err != nil {
				return nil
			}
			switch m.Type {
			case airbyte.TypeState:
				if m.State != nil && m.State.Stream != nil {
					mu.Lock()
					res.states[m.State.Stream.StreamDescriptor.Name] = append(json.RawMessage(nil), line...)
					mu.Unlock()
				}
			case airbyte.TypeLog:
				if m.Log != nil && (m.Log.Level == airbyte.LogError || m.Log.Level == airbyte.LogWarn || m.Log.Level == airbyte.LogFatal) {
					fmt.Fprintf(os.Stderr, "\ndestination %s: %s\n", m.Log.Level, m.Log.Message)
				}
			case airbyte.TypeTrace:
				if m.Trace != nil && m.Trace.Error != nil {
					fmt.Fprintf(os.Stderr, "\ndestination error: %s\n", m.Trace.Error.Message)
				}
			}
			return nil
		})
	}()

	// Source output: forward every line, count records, watch statuses.
	bw := bufio.NewWriterSize(dstIn, 1<<20)
	pipeErr := airbyte.ReadLines(srcOut, func(_ int, line []byte) error {
		if bytes.HasPrefix(line, []byte(`{"type":"RECORD"`)) {
			var m struct {
				Record struct {
					Stream string `json:"stream"`
				} `json:"record"`
			}
			if json.Unmarshal(line, &m) == nil {
				mu.Lock()
				res.records[m.Record.Stream]++
				total++
				mu.Unlock()
			}
		} else {
			var m airbyte.Message
			if json.Unmarshal(line, &m) != nil {
				m = airbyte.Message{}
			}
			switch {
			case m.Type == airbyte.TypeTrace && m.Trace != nil && m.Trace.StreamStatus != nil:
				mu.Lock()
				switch m.Trace.StreamStatus.Status {
				case airbyte.StatusComplete:
					done++
					complete++
				case airbyte.StatusIncomplete:
					done++
					failures = append(failures, m.Trace.StreamStatus.StreamDescriptor.Name)
				}
				mu.Unlock()
			case m.Type == airbyte.TypeTrace && m.Trace != nil && m.Trace.Error != nil:
				fmt.Fprintf(os.Stderr, "\nsource error: %s\n", m.Trace.Error.Message)
			case m.Type == airbyte.TypeLog && m.Log != nil && m.Log.Level == airbyte.LogWarn:
				fmt.Fprintf(os.Stderr, "\nsource WARN: %s\n", m.Log.Message)
			}
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
		return bw.WriteByte('\n')
	})
	if err := bw.Flush(); err != nil && pipeErr == nil {
		pipeErr = err
	}
	dstIn.Close()
	srcErr := src.Wait()
	// Read the destination's output to EOF before Wait, which closes the pipe.
	readErr := <-dstDone
	dstErr := dst.Wait()
	close(stopProgress)
	if tty {
		fmt.Fprint(os.Stderr, "\r")
	}
	fmt.Fprintf(os.Stderr, "demo: %d/%d streams read, %d records in %s                \n", done, streams, total, time.Since(start).Round(time.Millisecond))
	switch {
	case srcErr != nil:
		return nil, fmt.Errorf("source-clockify read failed (%v); incomplete streams: %v", srcErr, failures)
	case dstErr != nil:
		return nil, fmt.Errorf("destination-iceberg write failed: %w", dstErr)
	case pipeErr != nil:
		return nil, fmt.Errorf("piping source to destination: %w", pipeErr)
	case readErr != nil:
		return nil, fmt.Errorf("reading the destination's output: %w", readErr)
	case complete != streams:
		return nil, fmt.Errorf("only %d of %d streams completed", complete, streams)
	}
	return res, nil
}

// writeStates saves the destination's echoed states as a --state file (a JSON array of STATE
// payloads), merged over the previous file so streams absent from this run keep theirs.
func writeStates(path string, echoed map[string]json.RawMessage) error {
	prev := map[string]json.RawMessage{}
	if b, err := os.ReadFile(path); err == nil {
		var arr []json.RawMessage
		if json.Unmarshal(b, &arr) == nil {
			for _, s := range arr {
				var st airbyte.State
				if json.Unmarshal(s, &st) == nil && st.Stream != nil {
					prev[st.Stream.StreamDescriptor.Name] = s
				}
			}
		}
	}
	for name, line := range echoed {
		var m struct {
			State json.RawMessage `json:"state"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			return err
		}
		prev[name] = m.State
	}
	names := make([]string, 0, len(prev))
	for n := range prev {
		names = append(names, n)
	}
	sort.Strings(names)
	arr := make([]json.RawMessage, 0, len(names))
	for _, n := range names {
		arr = append(arr, prev[n])
	}
	return writeJSON(path, arr)
}

func groundTruth(ctx context.Context, simURL string) (map[string]int64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, simURL+"/_sim/truth", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("asking the simulator for its ground truth: %w", err)
	}
	defer resp.Body.Close()
	var truth map[string]int64
	if err := json.NewDecoder(resp.Body).Decode(&truth); err != nil {
		return nil, fmt.Errorf("decoding the simulator's ground truth: %w", err)
	}
	return truth, nil
}

// report prints one row per table and returns how many differ from the ground truth.
func report(ctx context.Context, p paths, namespace string, cc *airbyte.ConfiguredCatalog, res *syncResult, truth map[string]int64) (int, error) {
	cat, err := openCatalog(ctx, p)
	if err != nil {
		return 0, err
	}
	defer catalogs.Close(cat)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "table\tmode\trecords read\trows in table\tground truth\tdata files\tsnapshot id\t")
	mismatches := 0
	for _, s := range cc.Streams {
		name := s.Stream.Name
		rows, files, snap := int64(0), "-", "-"
		tbl, err := cat.LoadTable(ctx, catalog.ToIdentifier(namespace, name))
		if err != nil {
			return 0, fmt.Errorf("loading table %s.%s: %w", namespace, name, err)
		}
		if rows, err = countRows(ctx, tbl); err != nil {
			return 0, fmt.Errorf("scanning %s.%s: %w", namespace, name, err)
		}
		if cur := tbl.CurrentSnapshot(); cur != nil {
			snap = strconv.FormatInt(cur.SnapshotID, 10)
			if cur.Summary != nil {
				files = cur.Summary.Properties["total-data-files"]
			}
		}
		mark := ""
		if rows != truth[name] {
			mark = "  <- MISMATCH"
			mismatches++
		}
		fmt.Fprintf(tw, "%s\t%s/%s\t%d\t%d\t%d\t%s\t%s\t%s\n", name, s.SyncMode, s.DestinationSyncMode, res.records[name], rows, truth[name], files, snap, mark)
	}
	return mismatches, tw.Flush()
}

func countRows(ctx context.Context, tbl *table.Table) (int64, error) {
	if tbl.CurrentSnapshot() == nil {
		return 0, nil
	}
	_, recs, err := tbl.Scan(table.WithSelectedFields("_airbyte_raw_id")).ToArrowRecords(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	for rec, err := range recs {
		if err != nil {
			return 0, err
		}
		n += rec.NumRows()
		rec.Release()
	}
	return n, nil
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

func readInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}
