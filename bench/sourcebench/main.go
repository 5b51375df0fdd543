// Command sourcebench measures the Clockify source against the simulator and prints a table:
//
//	(a0) the HTTP client alone against a simulator enforcing 10 req/s with 200 ms latency
//	(a)  source-clockify read against the same simulator: sustained request rate after the
//	     first 10 s, 429 share, abandoned requests
//	(b)  records per second for time_entries with every limit off on loopback
//	(c)  peak RSS of the source process during (b)
//
// It builds cmd/source-clockify and cmd/clockify-sim (or uses -bin). Missed goals are printed as
// MISSED; the exit status is non-zero only when a measurement could not be taken.
//
//	go run ./bench/sourcebench [-quick] [-bin DIR] [-entries N] [-rate-seconds S]
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
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/source/clockify"
)

// simKey is the simulator's fixed demo key (clockifysim.DefaultAPIKey); not a secret.
const simKey = "sim-key-0000000000000000000000000000000000000000"

type options struct {
	quick       bool
	bin         string
	entries     int
	rateSeconds int
	ratePage    int
	keep        bool
	only        map[string]bool // runs to do: a0, a, b (b includes c); empty = all
}

func (o options) want(id string) bool { return len(o.only) == 0 || o.only[id] }

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "CI mode: 100k entries and 15 s rate runs (under a minute once built)")
	flag.StringVar(&o.bin, "bin", "", "directory holding prebuilt source-clockify and clockify-sim (default: build them)")
	flag.IntVar(&o.entries, "entries", 0, "time entries for the throughput run (default 1,000,000; quick 100,000)")
	flag.IntVar(&o.rateSeconds, "rate-seconds", 0, "length of each rate-limited run (default 40; quick 15)")
	flag.IntVar(&o.ratePage, "rate-page-size", 50, "page_size for the rate-limited source run, small so it needs many requests")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory (configs, catalogs, logs)")
	only := flag.String("only", "", "comma-separated runs to do: a0 (client alone), a (source rate), b (throughput and RSS); default all")
	flag.Parse()
	o.only = map[string]bool{}
	for _, id := range strings.Split(*only, ",") {
		switch id = strings.TrimSpace(id); id {
		case "":
		case "a0", "a", "b", "c":
			o.only[id] = true
		default:
			fmt.Fprintf(os.Stderr, "sourcebench: -only: unknown run %q (a0, a, b)\n", id)
			os.Exit(2)
		}
	}
	if o.only["c"] {
		o.only["b"] = true
	}
	if o.entries == 0 {
		o.entries = 1_000_000
		if o.quick {
			o.entries = 100_000
		}
	}
	if o.rateSeconds == 0 {
		o.rateSeconds = 40
		if o.quick {
			o.rateSeconds = 15
		}
	}
	if o.rateSeconds < 12 {
		fmt.Fprintln(os.Stderr, "sourcebench: -rate-seconds must be at least 12 (the first 10 s are warm-up)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, o))
}

// row is one line of the result table.
type row struct {
	id, figure, value, goal, verdict string
}

type bench struct {
	o        options
	dir      string
	source   string
	sim      string
	rows     []row
	failures []string
}

func (b *bench) add(id, figure, value, goal string, ok *bool) {
	v := "-"
	if ok != nil {
		v = "ok"
		if !*ok {
			v = "MISSED"
		}
	}
	b.rows = append(b.rows, row{id, figure, value, goal, v})
}

func (b *bench) fail(id, what string, err error) {
	msg := fmt.Sprintf("%s: %s: %v", id, what, err)
	b.failures = append(b.failures, msg)
	b.rows = append(b.rows, row{id, what, "not measured", "", "FAILED"})
	logf("FAILED %s", msg)
}

func run(ctx context.Context, o options) int {
	dir, err := os.MkdirTemp("", "sourcebench-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "sourcebench: %v\n", err)
		return 1
	}
	if o.keep {
		logf("work directory %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	b := &bench{o: o, dir: dir}
	started := time.Now()

	srcErr, simErr := b.binaries(ctx)
	if simErr != nil {
		b.fail("setup", "clockify-sim binary", simErr)
	}
	if srcErr != nil {
		b.fail("setup", "source-clockify binary", srcErr)
	}
	if simErr == nil {
		if o.want("a0") {
			b.clientRate(ctx, "a0", "client alone", 0, nil, true)
			// The AIMD controller earns its keep when its ceiling is above the server's limit
			// (a key on a stricter plan, a user raising max_requests_per_second): informative.
			if !o.quick {
				b.clientRate(ctx, "a0", "client alone, ceiling 15 req/s", 15, nil, false)
				b.clientRate(ctx, "a0", "client alone, sim bucket 1", 0, []string{"--burst", "1"}, false)
			}
		}
		if srcErr == nil && o.want("a") {
			b.sourceRate(ctx, "source read", nil, true)
			if !o.quick {
				// The ceiling above the server's limit makes the AIMD loop and the engine's
				// RATE_LIMITED statuses work: informative.
				b.sourceRate(ctx, "source read, max_requests_per_second 15", map[string]any{"max_requests_per_second": 15}, false)
			}
		}
		if srcErr == nil && o.want("b") {
			b.throughput(ctx)
		}
	}

	fmt.Printf("\nsourcebench: quick=%v, %d time entries, %d s rate runs, %d CPUs, %s, %s total\n\n",
		o.quick, o.entries, o.rateSeconds, runtime.NumCPU(), runtime.Version(), time.Since(started).Round(time.Second))
	tw := tabwriter.NewWriter(os.Stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tfigure\tmeasured\tgoal\tverdict")
	for _, r := range b.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.id, r.figure, r.value, r.goal, r.verdict)
	}
	tw.Flush()
	if len(b.failures) > 0 {
		fmt.Printf("\n%d measurement(s) failed:\n", len(b.failures))
		for _, f := range b.failures {
			fmt.Printf("  %s\n", f)
		}
		return 1
	}
	return 0
}

// binaries builds both programs unless -bin names a directory holding them. The errors are
// separate so the client-only run still happens when only the source fails to build.
func (b *bench) binaries(ctx context.Context) (srcErr, simErr error) {
	if b.o.bin != "" {
		b.source, b.sim = filepath.Join(b.o.bin, "source-clockify"), filepath.Join(b.o.bin, "clockify-sim")
		if _, err := os.Stat(b.source); err != nil {
			srcErr = err
		}
		if _, err := os.Stat(b.sim); err != nil {
			simErr = err
		}
		return srcErr, simErr
	}
	build := func(name string) (string, error) {
		out := filepath.Join(b.dir, name)
		logf("building ./cmd/%s", name)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/"+name)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("go build ./cmd/%s (run from the module root): %v\n%s", name, err, tail(stderr.String(), 2000))
		}
		return out, nil
	}
	b.sim, simErr = build("clockify-sim")
	b.source, srcErr = build("source-clockify")
	return srcErr, simErr
}

// --- simulator -----------------------------------------------------------------------------------

type simProc struct {
	base string
	cmd  *exec.Cmd
	log  *os.File
}

func (b *bench) startSim(ctx context.Context, name string, args ...string) (*simProc, error) {
	logPath := filepath.Join(b.dir, name+".sim.log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, b.sim, append([]string{"--addr", "127.0.0.1:0", "--api-key", simKey}, args...)...)
	cmd.Stderr = lf
	out, err := cmd.StdoutPipe()
	if err != nil {
		lf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting %s: %w", b.sim, err)
	}
	p := &simProc{cmd: cmd, log: lf}
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		s, _ := r.ReadString('\n')
		line <- strings.TrimSpace(s)
		io.Copy(io.Discard, r)
	}()
	select {
	case s := <-line:
		if !strings.HasPrefix(s, "http://") {
			p.stop()
			return nil, fmt.Errorf("clockify-sim %s printed no base URL; its log:\n%s", strings.Join(args, " "), readTail(logPath))
		}
		p.base = s
	case <-time.After(2 * time.Minute):
		p.stop()
		return nil, errors.New("clockify-sim printed no base URL within 2 minutes")
	}
	return p, nil
}

func (p *simProc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	p.log.Close()
}

type simStats struct {
	Requests   int64            `json:"requests"`
	Statuses   map[string]int64 `json:"statuses"`
	TooMany    int64            `json:"tooMany"`
	ServerErrs int64            `json:"serverErrors"`
	Timeline   []struct {
		Second   int64 `json:"second"`
		Requests int64 `json:"requests"`
	} `json:"timeline"`
}

func (p *simProc) admin(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: reading body: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, tail(string(body), 300))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: decoding: %w", method, path, err)
	}
	return nil
}

// rateFigures turns the simulator's per-second arrival counts into the sustained rate: the mean
// over whole seconds from 10 s after the first request to the last complete second.
type rateFigures struct {
	total, tooMany, serverErrs, abandoned int64
	sustained                             float64
	window                                int // seconds averaged
}

func (s *simStats) figures() (rateFigures, error) {
	f := rateFigures{total: s.Requests, tooMany: s.TooMany, serverErrs: s.ServerErrs, abandoned: s.Statuses["499"]}
	if len(s.Timeline) == 0 {
		return f, errors.New("the simulator saw no requests")
	}
	first, last := s.Timeline[0].Second, s.Timeline[len(s.Timeline)-1].Second
	from, to := first+10, last-1 // [from, to): the last second is usually partial
	if to <= from {
		return f, fmt.Errorf("requests spanned only %d s; need more than 11 s for a sustained rate", last-first+1)
	}
	var n int64
	for _, c := range s.Timeline {
		if c.Second >= from && c.Second < to {
			n += c.Requests
		}
	}
	f.window = int(to - from)
	f.sustained = float64(n) / float64(f.window)
	return f, nil
}

func (b *bench) rateRows(id, who string, f rateFigures, verdicts bool) {
	okRate := f.sustained >= 9
	share := 0.0
	if f.total > 0 {
		share = float64(f.tooMany) / float64(f.total)
	}
	okShare := share < 0.05
	pr, ps := &okRate, &okShare
	if !verdicts {
		pr, ps = nil, nil
	}
	b.add(id, who+": sustained request rate after 10 s", fmt.Sprintf("%.2f req/s over %d s", f.sustained, f.window), ">= 9 req/s", pr)
	b.add(id, who+": 429 share", fmt.Sprintf("%.2f %% (%d of %d)", 100*share, f.tooMany, f.total), "< 5 %", ps)
	b.add(id, who+": abandoned (499) / 5xx answers", fmt.Sprintf("%d / %d", f.abandoned, f.serverErrs), "", nil)
}

// --- (a0) the client alone -------------------------------------------------------------------------

// clientRate drives clockify.Client with several goroutines for the run length, so the rate
// controller is measured apart from whatever the engine does between requests.
func (b *bench) clientRate(ctx context.Context, id, who string, ceiling float64, simArgs []string, verdicts bool) {
	name := fmt.Sprintf("client-rate-%d", len(b.rows))
	sim, err := b.startSim(ctx, name, append([]string{"--preset", "demo", "--rps", "10", "--latency", "200ms"}, simArgs...)...)
	if err != nil {
		b.fail(id, who, err)
		return
	}
	defer sim.stop()
	rateLog, err := os.Create(filepath.Join(b.dir, name+".client.log"))
	if err != nil {
		b.fail(id, who, err)
		return
	}
	defer rateLog.Close()
	var mu sync.Mutex
	c, err := clockify.New(clockify.Options{BaseURL: sim.base, APIKey: simKey, MaxRequestsPerSecond: ceiling,
		Logf: func(level, format string, args ...any) {
			mu.Lock()
			fmt.Fprintf(rateLog, "%s %s %s\n", time.Now().Format("15:04:05.000"), level, fmt.Sprintf(format, args...))
			mu.Unlock()
		}})
	if err != nil {
		b.fail(id, who, err)
		return
	}
	wsResp, err := c.Get(ctx, "/workspaces", nil)
	if err != nil {
		b.fail(id, who+": listing workspaces", err)
		return
	}
	var wss []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(wsResp.Body, &wss); err != nil || len(wss) == 0 {
		b.fail(id, who+": listing workspaces", fmt.Errorf("no workspace in %q (%v)", tail(string(wsResp.Body), 200), err))
		return
	}
	if err := sim.admin(ctx, http.MethodPost, "/_sim/reset-stats", nil); err != nil {
		b.fail(id, who, err)
		return
	}
	logf("(a0) %s: %d goroutines for %d s against 10 req/s, 200 ms latency", who, 6, b.o.rateSeconds)
	runCtx, cancel := context.WithTimeout(ctx, time.Duration(b.o.rateSeconds)*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var failed sync.Map
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			ws := wss[g%len(wss)].ID
			for page := 1; runCtx.Err() == nil; page = page%3 + 1 {
				resp, err := c.Get(runCtx, "/workspaces/"+ws+"/tags", url.Values{"page": {strconv.Itoa(page)}, "page-size": {"10"}})
				if err != nil {
					// Requests cut off by the end of the run are not failures.
					if runCtx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
						failed.Store(err.Error(), true)
					}
					continue
				}
				resp.Release()
			}
		}(g)
	}
	wg.Wait()
	var st simStats
	if err := sim.admin(ctx, http.MethodGet, "/_sim/stats", &st); err != nil {
		b.fail(id, who, err)
		return
	}
	f, err := st.figures()
	if err != nil {
		b.fail(id, who, err)
		return
	}
	b.rateRows(id, who, f, verdicts)
	cs := c.Stats()
	b.add(id, who+": rate cuts / increases / final limit", fmt.Sprintf("%d / %d / %.1f req/s", cs.RateCuts, cs.RateIncreases, cs.Rate), "", nil)
	n := 0
	failed.Range(func(k, _ any) bool {
		if n < 3 {
			logf("(a0) request failed: %v", k)
		}
		n++
		return true
	})
	if n > 0 {
		var v *bool
		if verdicts {
			v = ptr(false)
		}
		b.add(id, who+": requests that gave up", strconv.Itoa(n)+" distinct errors", "0", v)
	}
}

// --- (a) the source against the rate limit ---------------------------------------------------------

func (b *bench) sourceRate(ctx context.Context, who string, extra map[string]any, verdicts bool) {
	const id = "a"
	name := fmt.Sprintf("source-rate-%d", len(b.rows))
	// Enough time entries that a small page size keeps the source busy for the whole run.
	sim, err := b.startSim(ctx, name, "--preset", "scaled", "--time-entries", "200000", "--rps", "10", "--latency", "200ms")
	if err != nil {
		b.fail(id, who, err)
		return
	}
	defer sim.stop()
	cfgExtra := map[string]any{"page_size": b.o.ratePage}
	for k, v := range extra {
		cfgExtra[k] = v
	}
	cfg, cat, err := b.prepare(ctx, sim, name, cfgExtra, nil)
	if err != nil {
		b.fail(id, who+": preparing", err)
		return
	}
	if err := sim.admin(ctx, http.MethodPost, "/_sim/reset-stats", nil); err != nil {
		b.fail(id, who, err)
		return
	}
	logf("(a) %s: page_size %d, all streams, stopped after %d s", who, b.o.ratePage, b.o.rateSeconds)
	res, err := b.read(ctx, name, cfg, cat, time.Duration(b.o.rateSeconds)*time.Second, nil)
	if err != nil {
		b.fail(id, who, err)
		return
	}
	var st simStats
	if err := sim.admin(ctx, http.MethodGet, "/_sim/stats", &st); err != nil {
		b.fail(id, who, err)
		return
	}
	f, err := st.figures()
	if err != nil {
		b.fail(id, who, fmt.Errorf("%w (source exit %d; stderr: %s)", err, res.exit, tail(res.stderr, 500)))
		return
	}
	b.rateRows(id, who, f, verdicts)
	// The harness stops the read, so one error trace saying so is expected.
	b.add(id, who+": records / RATE_LIMITED statuses / error traces", fmt.Sprintf("%d / %d / %d (1 expected: the stop)", res.records, res.rateLimited, len(res.errors)), "", nil)
	for _, e := range res.errors {
		logf("(a) %s: TRACE ERROR: %s", who, tail(e, 300))
	}
	if !res.stopped && res.exit != 0 {
		b.fail(id, who, fmt.Errorf("source-clockify exited with %d before the run length; stderr: %s", res.exit, tail(res.stderr, 1000)))
	}
}

// --- (b)+(c) throughput and memory ---------------------------------------------------------------

func (b *bench) throughput(ctx context.Context) {
	const id = "b/c"
	sim, err := b.startSim(ctx, "throughput", "--preset", "scaled", "--time-entries", strconv.Itoa(b.o.entries), "--rps", "0")
	if err != nil {
		b.fail(id, "throughput run", err)
		return
	}
	defer sim.stop()
	var truth map[string]int64
	if err := sim.admin(ctx, http.MethodGet, "/_sim/truth", &truth); err != nil {
		b.fail(id, "throughput run", err)
		return
	}
	want := truth["time_entries"]
	// The first variant is the product as configured by default and carries the verdicts; the
	// others show which knob moves the figures.
	variants := []struct {
		label string
		extra map[string]any
		env   []string
	}{
		{"defaults", nil, nil},
		{"max_concurrency 2", map[string]any{"max_concurrency": 2}, nil},
		{"defaults, GOMEMLIMIT=64MiB", nil, []string{"GOMEMLIMIT=64MiB"}},
	}
	for i, v := range variants {
		name := fmt.Sprintf("throughput-%d", i)
		extra := map[string]any{"requests_per_second": 0}
		for k, x := range v.extra {
			extra[k] = x
		}
		cfg, cat, err := b.prepare(ctx, sim, name, extra, []string{"time_entries"})
		if err != nil {
			b.fail(id, "throughput run ("+v.label+"): preparing", err)
			return
		}
		logf("(b) source read of time_entries (%d entries), limits off, %s", want, v.label)
		res, err := b.read(ctx, name, cfg, cat, 0, v.env)
		if err != nil {
			b.fail(id, "throughput run ("+v.label+")", err)
			return
		}
		if res.exit != 0 {
			b.fail(id, "throughput run ("+v.label+")", fmt.Errorf("source-clockify read exited with %d; errors %q; stderr: %s", res.exit, res.errors, tail(res.stderr, 1000)))
			return
		}
		complete := res.records == want
		rps := float64(res.records) / res.elapsed.Seconds()
		mib := float64(res.maxRSS) / (1 << 20)
		if i > 0 {
			b.add("b/c", v.label+": records/s, peak RSS, records/truth",
				fmt.Sprintf("%.0f records/s, %.1f MiB, %d/%d", rps, mib, res.records, want), "", &complete)
			continue
		}
		b.add(id, "time_entries records read / ground truth", fmt.Sprintf("%d / %d", res.records, want), "equal", &complete)
		okRPS := rps >= 100_000
		b.add("b", fmt.Sprintf("records/s, limits off (%s wall, process start to exit)", res.elapsed.Round(time.Millisecond)), fmt.Sprintf("%.0f records/s", rps), ">= 100000", &okRPS)
		if res.firstRecord > 0 {
			steady := float64(res.records) / (res.elapsed - res.firstRecord).Seconds()
			b.add("b", "records/s from the first record to exit", fmt.Sprintf("%.0f records/s", steady), "", nil)
		}
		b.add("b", "stdout volume", fmt.Sprintf("%.1f MiB (%.0f MiB/s)", float64(res.bytes)/(1<<20), float64(res.bytes)/(1<<20)/res.elapsed.Seconds()), "", nil)
		okRSS := res.maxRSS > 0 && mib < 100
		b.add("c", fmt.Sprintf("peak RSS of source-clockify, %d entries (getrusage maxrss)", want), fmt.Sprintf("%.1f MiB", mib), "< 100 MiB", &okRSS)
		if res.vmHWM > 0 {
			b.add("c", "peak RSS cross-check (last /proc VmHWM sample)", fmt.Sprintf("%.1f MiB", float64(res.vmHWM)/(1<<20)), "", nil)
		}
	}
}

// --- running the source ----------------------------------------------------------------------------

// prepare writes the source config (simulator URL, key, extra settings) and a configured catalog
// made from discover, limited to only when given.
func (b *bench) prepare(ctx context.Context, sim *simProc, name string, extra map[string]any, only []string) (cfgPath, catPath string, err error) {
	cfg := map[string]any{"api_key": simKey, "api_url": sim.base}
	for k, v := range extra {
		cfg[k] = v
	}
	cfgPath = filepath.Join(b.dir, name+".config.json")
	catPath = filepath.Join(b.dir, name+".catalog.json")
	if err := writeJSON(cfgPath, cfg); err != nil {
		return "", "", err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, b.source, "discover", "--config", cfgPath)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", "", fmt.Errorf("source-clockify discover: %v; stderr: %s; stdout: %s", err, tail(stderr.String(), 500), tail(string(out), 500))
	}
	var catalog *airbyte.Catalog
	for _, line := range bytes.Split(out, []byte("\n")) {
		var m airbyte.Message
		if json.Unmarshal(line, &m) == nil && m.Type == airbyte.TypeCatalog && m.Catalog != nil {
			catalog = m.Catalog
		}
	}
	if catalog == nil {
		return "", "", fmt.Errorf("source-clockify discover printed no CATALOG: %s", tail(string(out), 500))
	}
	cc, err := airbyte.Configure(catalog, only, 1)
	if err != nil {
		return "", "", err
	}
	// Full refresh everywhere: the benchmark reads everything, not a lookback window.
	for i := range cc.Streams {
		cc.Streams[i].SyncMode = airbyte.FullRefresh
		cc.Streams[i].CursorField = nil
	}
	return cfgPath, catPath, writeJSON(catPath, cc)
}

type readResult struct {
	records, bytes int64
	rateLimited    int64 // STREAM_STATUS traces with a RATE_LIMITED reason
	errors         []string
	elapsed        time.Duration
	firstRecord    time.Duration // since start
	exit           int
	stopped        bool // stopped by the harness after the run length
	maxRSS, vmHWM  int64
	stderr         string
}

// read runs source-clockify read, counting RECORD lines on stdout without decoding them. A
// positive limit stops the process with SIGTERM after that long; env is added to the
// inherited environment.
func (b *bench) read(ctx context.Context, name, cfg, cat string, limit time.Duration, env []string) (*readResult, error) {
	cmd := exec.CommandContext(ctx, b.source, "read", "--config", cfg, "--catalog", cat)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	stderrPath := filepath.Join(b.dir, name+".stderr")
	ef, err := os.Create(stderrPath)
	if err != nil {
		return nil, err
	}
	defer ef.Close()
	cmd.Stderr = ef
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	res := &readResult{}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting source-clockify read: %w", err)
	}
	pid := cmd.Process.Pid
	var hwm int64
	var hwmMu sync.Mutex
	pollDone := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-pollDone:
				return
			case <-t.C:
				if v := readVmHWM(pid); v > 0 {
					hwmMu.Lock()
					hwm = v
					hwmMu.Unlock()
				}
			}
		}
	}()
	var stopTimer *time.Timer
	var stopped atomic.Bool
	if limit > 0 {
		stopTimer = time.AfterFunc(limit, func() {
			stopped.Store(true)
			cmd.Process.Signal(syscall.SIGTERM)
			time.AfterFunc(15*time.Second, func() { cmd.Process.Kill() })
		})
	}
	scanErr := scanOutput(out, res, start)
	waitErr := cmd.Wait()
	res.elapsed = time.Since(start)
	close(pollDone)
	if stopTimer != nil {
		stopTimer.Stop()
	}
	res.stopped = stopped.Load()
	hwmMu.Lock()
	res.vmHWM = hwm
	hwmMu.Unlock()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	res.exit = cmd.ProcessState.ExitCode()
	ef.Sync()
	res.stderr = readTail(stderrPath)
	if scanErr != nil {
		return res, fmt.Errorf("reading source stdout: %w", scanErr)
	}
	var ee *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &ee) {
		return res, fmt.Errorf("waiting for source-clockify: %w", waitErr)
	}
	return res, nil
}

var (
	recordPrefix = []byte(`{"type":"RECORD"`)
	tracePrefix  = []byte(`{"type":"TRACE"`)
)

// scanOutput counts records by line prefix (the airbyte writer puts "type" first) and decodes only
// TRACE lines, which are rare.
func scanOutput(r io.Reader, res *readResult, start time.Time) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var line []byte // only assembled for non-record lines
	atStart, isRecord := true, false
	for {
		frag, err := br.ReadSlice('\n')
		res.bytes += int64(len(frag))
		if atStart && len(frag) > 0 {
			isRecord = bytes.HasPrefix(frag, recordPrefix)
			line = line[:0]
		}
		if !isRecord && len(frag) > 0 {
			line = append(line, frag...)
		}
		complete := len(frag) > 0 && frag[len(frag)-1] == '\n'
		if complete || (err == io.EOF && len(frag) > 0) {
			if isRecord {
				res.records++
				if res.records == 1 {
					res.firstRecord = time.Since(start)
				}
			} else if bytes.HasPrefix(line, tracePrefix) {
				inspectTrace(line, res)
			}
		}
		atStart = complete
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			return nil
		default:
			return err
		}
	}
}

func inspectTrace(line []byte, res *readResult) {
	var m struct {
		Trace struct {
			Type  string `json:"type"`
			Error *struct {
				Message string `json:"message"`
			} `json:"error"`
			StreamStatus *struct {
				Reasons []struct {
					Type string `json:"type"`
				} `json:"reasons"`
			} `json:"stream_status"`
		} `json:"trace"`
	}
	if json.Unmarshal(line, &m) != nil {
		return
	}
	if m.Trace.Error != nil {
		res.errors = append(res.errors, m.Trace.Error.Message)
	}
	if ss := m.Trace.StreamStatus; ss != nil {
		for _, r := range ss.Reasons {
			if r.Type == "RATE_LIMITED" {
				res.rateLimited++
			}
		}
	}
}

// readVmHWM returns the peak resident set of pid in bytes, or 0 once the process is gone.
func readVmHWM(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

// --- small helpers -------------------------------------------------------------------------------

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o600)
}

func readTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	return tail(string(data), 2000)
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func ptr[T any](v T) *T { return &v }

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "sourcebench: "+format+"\n", a...)
}
