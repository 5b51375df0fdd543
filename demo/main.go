// Command demo runs the whole product on one machine without a Clockify account, driving the three
// binaries the way a user would: it starts clockify-sim on a free loopback port, discovers the
// source and configures every stream (configure-catalog), pipes `source-clockify read` into
// `destination-iceberg write --state-file` on the embedded default (SQLite catalog and a local
// warehouse folder), then compares every table (`destination-iceberg tables --json`) with the
// simulator's ground truth. A second run continues from the state file: an incremental sync.
//
// It imports nothing of the destination, so `make demo` compiles Iceberg and Arrow once (for the
// destination binary). It exits non-zero if a sync fails or a table differs from the ground
// truth, so CI runs it as a test. demo/README.md says how to add steps.
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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clockberg/clockberg/airbyte"
)

// demoKey is the simulator's API key for the demo: a fixed value, not a secret.
const demoKey = "demo-api-key-0123456789abcdef"

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin", "folder holding source-clockify, destination-iceberg and clockify-sim")
	flag.StringVar(&o.dir, "dir", ".demo", "folder for configs, state and the warehouse")
	flag.BoolVar(&o.fresh, "fresh", false, "forget the previous runs' state and warehouse first")
	flag.StringVar(&o.preset, "preset", "demo", "simulator preset")
	flag.StringVar(&o.namespace, "namespace", "clockify", "Iceberg namespace")
	sourceOnly := flag.Bool("source-only", false, "run only source-clockify read against the simulator and copy its messages to stdout")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	run := runDemo
	if *sourceOnly {
		run = readOnly
	}
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

type options struct {
	bin, dir, preset, namespace string
	fresh                       bool
}

// demo is one run: its files, the binaries, the simulator and what the sync did. Steps read and
// extend it.
type demo struct {
	options
	sync int    // 1 on a fresh folder, then 2, 3, ...
	sim  string // the simulator's base URL

	sourceConfig, destConfig, catalog, state, warehouse string

	configured *airbyte.ConfiguredCatalog
	result     *syncResult
}

func (d *demo) path(name string) string { return filepath.Join(d.dir, name) }

// binary returns the path of one of the three binaries.
func (d *demo) binary(name string) string { return filepath.Join(d.bin, name) }

func (d *demo) incremental() bool { return d.sync > 1 }

func runDemo(ctx context.Context, o options) error {
	d, err := prepare(o)
	if err != nil {
		return err
	}
	stopSim, err := d.startSimulator(ctx)
	if err != nil {
		return err
	}
	defer stopSim()
	if err := d.configure(ctx); err != nil {
		return err
	}
	for _, s := range beforeSync {
		if err := d.step(ctx, s); err != nil {
			return err
		}
	}
	if err := d.syncOnce(ctx); err != nil {
		return err
	}
	if err := os.WriteFile(d.path("sync"), []byte(strconv.Itoa(d.sync)+"\n"), 0o644); err != nil {
		return err
	}
	for _, s := range afterSync {
		if err := d.step(ctx, s); err != nil {
			return err
		}
	}
	return d.verify(ctx)
}

// prepare makes the folder and finds which sync this is.
func prepare(o options) (*demo, error) {
	abs, err := filepath.Abs(o.dir)
	if err != nil {
		return nil, err
	}
	o.dir = abs
	if o.fresh {
		if err := os.RemoveAll(o.dir); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return nil, err
	}
	d := &demo{options: o}
	d.sourceConfig, d.destConfig = d.path("source.json"), d.path("destination.json")
	d.catalog, d.state, d.warehouse = d.path("catalog.json"), d.path("state.json"), d.path("warehouse")
	prev, _ := os.ReadFile(d.path("sync"))
	n, _ := strconv.Atoi(strings.TrimSpace(string(prev)))
	if !fileExists(d.state) {
		n = 0 // no state: whatever the counter says, this is a first sync
	}
	d.sync = n + 1
	return d, nil
}

func (d *demo) step(ctx context.Context, s step) error {
	if s.when != nil && !s.when(d) {
		return nil
	}
	logf("%s", s.name)
	if err := s.run(ctx, d); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

func logf(format string, a ...any) { fmt.Fprintf(os.Stderr, "demo: "+format+"\n", a...) }

// startSimulator runs clockify-sim on a free loopback port and returns how to stop it.
func (d *demo) startSimulator(ctx context.Context) (func(), error) {
	cmd := exec.CommandContext(ctx, d.binary("clockify-sim"), "--addr", "127.0.0.1:0", "--preset", d.preset, "--api-key", demoKey)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (run `make build` first): %w", cmd.Path, err)
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return nil, fmt.Errorf("the simulator printed no base URL: %w", err)
	}
	go io.Copy(io.Discard, out)
	d.sim = strings.TrimSpace(line)
	return stop, nil
}

// configure writes the two configs and the configured catalog, as the README's hand-run section does.
func (d *demo) configure(ctx context.Context) error {
	if err := writeJSON(d.sourceConfig, map[string]any{"api_key": demoKey, "api_url": d.sim}); err != nil {
		return err
	}
	if err := writeJSON(d.destConfig, map[string]any{"warehouse": d.warehouse, "namespace": d.namespace}); err != nil {
		return err
	}
	discovered, err := d.output(ctx, nil, "source-clockify", "discover", "--config", d.sourceConfig)
	if err != nil {
		return err
	}
	// The generation grows with every sync, as the platform's does for full-refresh overwrites.
	catalog, err := d.output(ctx, discovered, "source-clockify", "configure-catalog", "--generation", strconv.Itoa(d.sync))
	if err != nil {
		return err
	}
	d.configured = &airbyte.ConfiguredCatalog{}
	if err := json.Unmarshal(catalog, d.configured); err != nil {
		return fmt.Errorf("configure-catalog printed no catalog: %w", err)
	}
	if err := os.WriteFile(d.catalog, catalog, 0o644); err != nil {
		return err
	}
	if d.incremental() {
		logf("sync %d: incremental, continuing from %s", d.sync, d.state)
	} else {
		logf("sync %d: first sync of %d streams into %s", d.sync, len(d.configured.Streams), d.warehouse)
	}
	return nil
}

// output runs one of the binaries with stdin and returns its stdout; its stderr is shown only
// when it fails.
func (d *demo) output(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, d.binary(name), args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out, nil
}

// syncResult is what the destination echoed, per stream.
type syncResult struct {
	read, committed map[string]int64 // sourceStats and destinationStats of the echoed states
	took            time.Duration
}

// syncOnce pipes `source-clockify read` into `destination-iceberg write --state-file` and reads
// the echoed states. Both connectors print their own progress and summary on stderr.
func (d *demo) syncOnce(ctx context.Context) error {
	args := []string{"read", "--config", d.sourceConfig, "--catalog", d.catalog}
	if d.incremental() {
		args = append(args, "--state", d.state)
	}
	src := exec.CommandContext(ctx, d.binary("source-clockify"), args...)
	dst := exec.CommandContext(ctx, d.binary("destination-iceberg"), "write", "--config", d.destConfig, "--catalog", d.catalog, "--state-file", d.state)
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	src.Stdout, dst.Stdin = pw, pr
	src.Stderr, dst.Stderr = os.Stderr, os.Stderr
	echoes, err := dst.StdoutPipe()
	if err != nil {
		return err
	}
	started := time.Now()
	if err := dst.Start(); err != nil {
		return fmt.Errorf("starting destination-iceberg: %w", err)
	}
	if err := src.Start(); err != nil {
		dst.Process.Kill()
		dst.Wait()
		return fmt.Errorf("starting source-clockify: %w", err)
	}
	pw.Close()
	pr.Close()
	res := &syncResult{read: map[string]int64{}, committed: map[string]int64{}}
	readErr := airbyte.ReadLines(echoes, func(_ int, line []byte) error {
		var m airbyte.Message
		if json.Unmarshal(line, &m) != nil || m.Type != airbyte.TypeState || m.State == nil || m.State.Stream == nil {
			return nil
		}
		name := m.State.Stream.StreamDescriptor.Name
		if s := m.State.SourceStats; s != nil && s.RecordCount != nil {
			res.read[name] += int64(*s.RecordCount)
		}
		if s := m.State.DestinationStats; s != nil && s.RecordCount != nil {
			res.committed[name] += int64(*s.RecordCount)
		}
		return nil
	})
	srcErr, dstErr := src.Wait(), dst.Wait()
	res.took = time.Since(started)
	switch {
	case srcErr != nil:
		return fmt.Errorf("source-clockify read failed: %w", srcErr)
	case dstErr != nil:
		return fmt.Errorf("destination-iceberg write failed: %w", dstErr)
	case readErr != nil:
		return fmt.Errorf("reading the destination's output: %w", readErr)
	}
	d.result = res
	return nil
}

// tableFigures is one row of `destination-iceberg tables --json`.
type tableFigures struct {
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
	Rows       int64  `json:"rows"`
	DataFiles  int64  `json:"data_files"`
	Snapshots  int    `json:"snapshots"`
	SnapshotID *int64 `json:"snapshot_id"`
}

func (d *demo) tables(ctx context.Context) (map[string]tableFigures, error) {
	out, err := d.output(ctx, nil, "destination-iceberg", "tables", "--config", d.destConfig, "--namespace", d.namespace, "--json")
	if err != nil {
		return nil, err
	}
	var list []tableFigures
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("destination-iceberg tables --json: %w", err)
	}
	byName := map[string]tableFigures{}
	for _, t := range list {
		byName[t.Name] = t
	}
	return byName, nil
}

// groundTruth asks the simulator how many rows each stream has.
func (d *demo) groundTruth(ctx context.Context) (map[string]int64, error) {
	b, err := d.simRequest(ctx, http.MethodGet, "/_sim/truth", nil)
	if err != nil {
		return nil, err
	}
	var truth map[string]int64
	if err := json.Unmarshal(b, &truth); err != nil {
		return nil, fmt.Errorf("decoding the simulator's ground truth: %w", err)
	}
	return truth, nil
}

// simRequest calls one of the simulator's admin routes (/_sim/...) with an optional JSON body
// and returns the answer's body; a status other than 2xx is an error.
func (d *demo) simRequest(ctx context.Context, method, path string, body any) ([]byte, error) {
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		in = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.sim+path, in)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("simulator %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode/100 != 2 {
		err = fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
	}
	if err != nil {
		return nil, fmt.Errorf("simulator %s %s: %w", method, path, err)
	}
	return b, nil
}

// verify prints one row per table and fails if any differs from the ground truth.
func (d *demo) verify(ctx context.Context) error {
	figs, err := d.tables(ctx)
	if err != nil {
		return err
	}
	truth, err := d.groundTruth(ctx)
	if err != nil {
		return err
	}
	rows := [][]string{{"table", "mode", "records read", "rows in table", "ground truth", "data files", "snapshots", ""}}
	var mismatched []string
	var total int64
	for _, s := range d.configured.Streams {
		name := s.Stream.Name
		f, ok := figs[name]
		mark := "ok"
		if !ok || f.Rows != truth[name] {
			mark = "MISMATCH"
			mismatched = append(mismatched, name)
		}
		total += d.result.read[name]
		rows = append(rows, []string{d.namespace + "." + name, string(s.SyncMode) + "/" + string(s.DestinationSyncMode),
			strconv.FormatInt(d.result.read[name], 10), strconv.FormatInt(f.Rows, 10), strconv.FormatInt(truth[name], 10),
			strconv.FormatInt(f.DataFiles, 10), strconv.Itoa(f.Snapshots), mark})
	}
	fmt.Printf("\n%s", airbyte.TextTable(rows, ""))
	took := d.result.took
	fmt.Printf("\nsync %d: %d records in %s (%.0f records/s); state in %s\n", d.sync, total, took.Round(time.Millisecond),
		float64(total)/took.Seconds(), d.state)
	for _, s := range d.configured.Streams {
		if s.SyncMode == airbyte.Incremental && d.incremental() {
			fmt.Printf("incremental: %s re-read %d of %d rows (the lookback window); the full-refresh streams were read whole\n",
				s.Stream.Name, d.result.read[s.Stream.Name], truth[s.Stream.Name])
		}
	}
	sql, err := d.output(ctx, nil, "destination-iceberg", "snowflake", "--config", d.destConfig)
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.path("snowflake.sql"), sql, 0o644); err != nil {
		return err
	}
	fmt.Printf("Snowflake statements for these tables: %s (`%s snowflake --config %s` prints them at any time)\n",
		d.path("snowflake.sql"), d.binary("destination-iceberg"), d.destConfig)
	if len(mismatched) > 0 {
		return fmt.Errorf("%d table(s) differ from the simulator's ground truth: %s", len(mismatched), strings.Join(mismatched, ", "))
	}
	if !d.incremental() {
		fmt.Println("run `make demo` again for an incremental sync")
	}
	return nil
}

// readOnly runs the source alone against the simulator and copies its protocol messages to
// stdout: the quickest look at what the source emits (`make -s read`).
func readOnly(ctx context.Context, o options) error {
	o.dir = filepath.Join(o.dir, "source-only")
	d, err := prepare(o)
	if err != nil {
		return err
	}
	d.sync = 1
	stop, err := d.startSimulator(ctx)
	if err != nil {
		return err
	}
	defer stop()
	if err := d.configure(ctx); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, d.binary("source-clockify"), "read", "--config", d.sourceConfig, "--catalog", d.catalog, "--quiet")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("source-clockify read: %w", err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}
