// Command clockify-sim serves the Clockify API simulator on a loopback address. The first line on
// stdout is the base URL (e.g. http://127.0.0.1:43123); requests go to {base}/api/v1/... and the
// unauthenticated admin routes to {base}/_sim/... (truth, stats, reset-stats, minimum-requests,
// time-entries, info). It stops on SIGINT/SIGTERM. `clockify-sim --help` lists the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clockberg/clockberg/clockifysim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run serves until ctx is done and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("clockify-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address; must be loopback")
	urlFile := fs.String("url-file", "", "also write the base URL to this file")
	preset := fs.String("preset", "demo", "data preset: demo | acceptance | scaled")
	timeEntries := fs.Int("time-entries", 1_000_000, "total time entries for --preset scaled")
	seed := fs.Int64("seed", 0, "seed (0 keeps the preset's)")
	rps := fs.Float64("rps", 10, "per-key rate limit in requests per second; 0 = off")
	burst := fs.Int("burst", 0, "rate-limit bucket size (0 = ceil(rps))")
	perHour := fs.Int("per-hour", 0, "instead of --rps: N requests per hour with a bucket of N (new Free workspaces: 30)")
	latency := fs.Duration("latency", 0, "latency added to every API request, e.g. 200ms")
	chaos := fs.Bool("chaos", false, "enable seeded chaos (5xx, truncated bodies, slow answers, 429 bursts)")
	chaos5xx := fs.Float64("chaos-5xx", 0.02, "chaos: probability of a 5xx")
	chaosTrunc := fs.Float64("chaos-truncate", 0.02, "chaos: probability of a body cut mid-way")
	chaosSlow := fs.Float64("chaos-slow", 0.02, "chaos: probability of a slow answer")
	chaosSlowDelay := fs.Duration("chaos-slow-delay", 2*time.Second, "chaos: delay of a slow answer")
	chaos429 := fs.Float64("chaos-429", 0.01, "chaos: probability that a burst of 429s starts")
	chaos429Len := fs.Int("chaos-429-len", 5, "chaos: length of a 429 burst")
	apiKey := fs.String("api-key", clockifysim.DefaultAPIKey, "the one accepted API key")
	gate := fs.Int("plan-gate-status", 403, "status of plan-gated routes: 403 or 402")
	retryAfter := fs.Bool("retry-after", false, "send Retry-After: 1 on 429")
	empty429 := fs.Bool("empty-429-body", false, "send 429 with an empty body")
	accountTZ := fs.Bool("account-time-zone", false, "read time-entry start/end in the owner's time zone (server quirk)")
	sourceConfig := fs.String("source-config", "", "also write a source-clockify config for this simulator (its api_url and api_key) to this file")
	background := fs.Bool("background", false, "serve from a background process and exit once it listens (with --pid-file to stop it later)")
	pidFile := fs.String("pid-file", "", "with --background: write the background process's id to this file")
	if len(args) > 0 && args[0] == "help" {
		args = []string{"--help"}
	}
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs, stdout)
			return 0
		}
		fmt.Fprintf(stderr, "Run `clockify-sim --help` for usage.\n")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "clockify-sim: unexpected arguments %q\nRun `clockify-sim --help` for usage.\n", fs.Args())
		return 2
	}

	var cfg clockifysim.Config
	switch *preset {
	case "demo":
		cfg = clockifysim.Demo()
	case "acceptance":
		cfg = clockifysim.Acceptance()
	case "scaled":
		cfg = clockifysim.Scaled(*timeEntries)
	default:
		fmt.Fprintf(stderr, "clockify-sim: unknown --preset %q (demo, acceptance, scaled)\n", *preset)
		return 2
	}
	if *seed != 0 {
		cfg.Seed = *seed
	}
	cfg.APIKey = *apiKey
	cfg.RateLimit, cfg.Burst, cfg.Latency = *rps, *burst, *latency
	if *perHour > 0 {
		cfg.RateLimit, cfg.Burst = float64(*perHour)/3600, *perHour
	}
	cfg.PlanGateStatus, cfg.RetryAfter, cfg.EmptyTooManyBody, cfg.AccountTimeZone = *gate, *retryAfter, *empty429, *accountTZ
	if *chaos {
		cfg.Chaos = clockifysim.Chaos{Error5xx: *chaos5xx, Truncate: *chaosTrunc, Slow: *chaosSlow,
			SlowDelay: *chaosSlowDelay, Burst429: *chaos429, Burst429Len: *chaos429Len}
	}
	sim, err := clockifysim.NewChecked(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "clockify-sim: %v\n", err)
		return 2
	}

	if err := checkLoopback(*addr); err != nil {
		fmt.Fprintf(stderr, "clockify-sim: %v\n", err)
		return 2
	}
	if *background && os.Getenv(foregroundEnv) == "" {
		return startBackground(ctx, args, *pidFile, stdout, stderr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "clockify-sim: listening on %s: %v\n", *addr, err)
		return 1
	}
	base := "http://" + ln.Addr().String()
	// The file first, so whoever has read the stdout line can rely on it too.
	if *urlFile != "" {
		if err := writeAtomic(*urlFile, []byte(base+"\n")); err != nil {
			fmt.Fprintf(stderr, "clockify-sim: writing --url-file %s: %v\n", *urlFile, err)
			ln.Close()
			return 1
		}
	}
	if *sourceConfig != "" {
		if err := writeAtomic(*sourceConfig, sourceConfigJSON(base, cfg.APIKey)); err != nil {
			fmt.Fprintf(stderr, "clockify-sim: writing --source-config %s: %v\n", *sourceConfig, err)
			ln.Close()
			return 1
		}
	}
	fmt.Fprintln(stdout, base)
	records := 0
	for _, n := range sim.GroundTruthCounts() {
		records += n
	}
	fmt.Fprintf(stderr, "clockify-sim: preset %s, seed %d, %d workspaces, %d records, rps %v; serving %s/api/v1\n",
		*preset, cfg.Seed, len(sim.WorkspaceIDs()), records, cfg.RateLimit, base)

	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		if !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "clockify-sim: serving: %v\n", err)
			return 1
		}
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
	return 0
}

// checkLoopback refuses anything but a loopback host: the simulator has a fixed demo key and must
// never be reachable from the network.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("bad --addr %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--addr %q is not a loopback address (use 127.0.0.1 or localhost)", addr)
	}
	return nil
}

// writeAtomic writes via a temporary file and a rename, so a poller never reads a partial URL.
func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
