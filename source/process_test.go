package source

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clockberg/clockberg/clockifysim"
	"github.com/clockberg/clockberg/source/streams"
)

// buildBinary builds cmd/source-clockify once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "source-clockify")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/clockberg/clockberg/cmd/source-clockify")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runBinary(t *testing.T, bin string, args ...string) *result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return parseOutput(t, code, out.Bytes(), errb.Bytes())
}

// TestBinaryOverPipes runs the built connector as a real process: spec, check, discover, a read,
// and a read killed with SIGKILL part way and resumed from the last STATE it wrote.
func TestBinaryOverPipes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildBinary(t)
	cfg := clockifysim.Acceptance()
	cfg.Latency = 2 * time.Millisecond
	s := startSim(t, cfg, nil)
	dir := t.TempDir()
	conf := writeJSONFile(t, dir, "config.json", s.config(map[string]any{"page_size": 1000, "max_concurrency": 2}))

	if r := runBinary(t, bin, "spec"); r.code != 0 || len(r.ofType("SPEC")) != 1 {
		t.Fatalf("spec: exit %d, stdout %.300s", r.code, r.stdout)
	}
	if r := runBinary(t, bin, "check", "--config", conf); r.code != 0 || !bytes.Contains(r.stdout, []byte(`"status":"SUCCEEDED"`)) {
		t.Fatalf("check: exit %d, stdout %.300s", r.code, r.stdout)
	}
	disc := runBinary(t, bin, "discover", "--config", conf)
	if disc.code != 0 || len(disc.ofType("CATALOG")) != 1 {
		t.Fatalf("discover: exit %d", disc.code)
	}
	// Build the configured catalog from the process's own discover output.
	var cat struct {
		Streams []json.RawMessage `json:"streams"`
	}
	json.Unmarshal(disc.ofType("CATALOG")[0]["catalog"], &cat)
	var configured []map[string]any
	for _, st := range cat.Streams {
		configured = append(configured, map[string]any{"stream": st, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite", "sync_id": 5, "generation_id": 1, "minimum_generation_id": 1})
	}
	catPath := writeJSONFile(t, dir, "catalog.json", map[string]any{"streams": configured})
	if r := runBinary(t, bin, "read", "--config", conf, "--unknown-flag", "x"); r.code == 0 || len(r.errors()) == 0 {
		t.Errorf("an unknown flag was accepted: exit %d", r.code)
	}

	full := runBinary(t, bin, "read", "--config", conf, "--catalog", catPath)
	if full.code != 0 {
		t.Fatalf("read: exit %d %+v\n%s", full.code, full.errors(), full.stderr)
	}
	checkProtocol(t, full, streams.Names())
	truth := s.GroundTruth()
	got := idsByStream(t, full.records())
	for n, want := range truth {
		if d := diffIDs(want, got[n]); d != "" {
			t.Errorf("read, stream %s: %s", n, d)
		}
	}

	// Kill the process at the first STATE after 12,000 records, keeping only complete lines, as
	// the platform would.
	cmd := exec.Command(bin, "read", "--config", conf, "--catalog", catPath)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var killedOut bytes.Buffer
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	states, records := 0, 0
	for sc.Scan() {
		killedOut.Write(sc.Bytes())
		killedOut.WriteByte('\n')
		if bytes.HasPrefix(sc.Bytes(), []byte(`{"type":"RECORD"`)) {
			records++
		}
		if bytes.HasPrefix(sc.Bytes(), []byte(`{"type":"STATE"`)) {
			if states++; records >= 12000 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
	}
	cmd.Wait()
	killed := parseOutput(t, -1, killedOut.Bytes(), nil)
	last := killed.finalStates()
	if len(last) == 0 {
		t.Fatal("the killed read wrote no STATE")
	}
	resumed := runBinary(t, bin, "read", "--config", conf, "--catalog", catPath, "--state", writeJSONFile(t, dir, "state.json", last))
	if resumed.code != 0 {
		t.Fatalf("resumed read: exit %d %+v", resumed.code, resumed.errors())
	}
	union := idsByStream(t, append(killed.records(), resumed.records()...))
	for n, want := range truth {
		if m := missingIDs(want, union[n]); len(m) > 0 {
			t.Errorf("stream %s lost %d records across the kill", n, len(m))
		}
	}
	if len(resumed.records()) >= len(full.records())-5000 {
		t.Errorf("the resumed read re-read everything (%d records, a full read has %d)", len(resumed.records()), len(full.records()))
	}
	if strings.Contains(string(full.stdout)+string(full.stderr), s.APIKey()) {
		t.Error("the API key appears in the output")
	}
	t.Logf("full read %d records; killed after %d records and %d states; resumed with %d records",
		len(full.records()), len(killed.records()), states, len(resumed.records()))
}
