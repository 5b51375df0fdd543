package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clockberg/clockberg/airbyte"
)

const handRunMarker = "<!-- hand-run:"

// handRunBlock returns the shell block that follows the hand-run marker in README.md.
func handRunBlock(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), handRunMarker)
	if !ok {
		t.Fatalf("README.md has no %q marker", handRunMarker)
	}
	_, after, ok = strings.Cut(after, "\n```sh\n")
	block, _, closed := strings.Cut(after, "\n```\n")
	if !ok || !closed {
		t.Fatal("no ```sh block after the hand-run marker")
	}
	return block + "\n"
}

// TestREADMEHandRun runs the README's hand-run section exactly as written, in a scratch folder
// that has the freshly built binaries in bin/ as the repository root has after `make build`.
// bash stops at the first command that fails and names it.
func TestREADMEHandRun(t *testing.T) {
	block := handRunBlock(t)
	root := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(root, "bin")+"/", "./cmd/...")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/...: %v\n%s", err, out)
	}
	try := filepath.Join(root, "try")
	t.Cleanup(func() { stopPid(filepath.Join(try, "sim.pid")) })

	script := "set -euo pipefail\ntrap 'echo \"README command failed: $BASH_COMMAND\" >&2' ERR\nset -x\n" + block
	sh := exec.Command("bash", "-c", script)
	sh.Dir = root
	sh.Env = append(withoutEnv("WORKER_JOB_ID"), "HOME="+root)
	var stdout, stderr bytes.Buffer
	sh.Stdout, sh.Stderr = &stdout, &stderr
	if err := sh.Run(); err != nil {
		t.Fatalf("the README's hand-run section failed: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	t.Logf("stderr of the hand-run section:\n%s", stderr.String())

	// Every command ran: the trace shows each non-comment line of the block.
	for _, line := range commandLines(block) {
		first := strings.Fields(line)[0]
		if !strings.Contains(stderr.String(), "+ "+first) {
			t.Errorf("no trace of %q", line)
		}
	}
	// The folder the README works in is ignored by git.
	if out, err := exec.Command("git", "-C", "..", "check-ignore", "try/c.json").CombinedOutput(); err != nil {
		t.Errorf("git does not ignore try/: %v %s", err, out)
	}
	// stdout of the connectors is the protocol; progress and summaries went to stderr.
	first, second := echoedRecords(t, filepath.Join(try, "out.jsonl")), echoedRecords(t, filepath.Join(try, "out2.jsonl"))
	for _, want := range []string{"source-clockify: read ", "destination-iceberg: committed ", "source-clockify check: SUCCEEDED",
		"destination-iceberg check: SUCCEEDED"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	// The second run continued from the state file: an incremental stream read far fewer records.
	var cat airbyte.ConfiguredCatalog
	b, _ := os.ReadFile(filepath.Join(try, "cat.json"))
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatalf("cat.json: %v", err)
	}
	incremental := 0
	for _, s := range cat.Streams {
		if s.SyncMode != airbyte.Incremental {
			continue
		}
		incremental++
		n1, n2 := first[s.Stream.Name], second[s.Stream.Name]
		if n1 == 0 || n2 >= n1/2 {
			t.Errorf("stream %s: %d records in the first sync, %d in the second; the second should continue from state.json", s.Stream.Name, n1, n2)
		}
	}
	if incremental == 0 {
		t.Error("the catalog has no incremental stream to prove the state file with")
	}
	st, err := os.ReadFile(filepath.Join(try, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := airbyte.ParseStateInput(st)
	if err != nil || len(parsed.Streams) != len(cat.Streams) {
		t.Errorf("state.json holds %d stream states (%v), want %d", len(parsed.Streams), err, len(cat.Streams))
	}
	if !strings.Contains(stdout.String(), "clockify.time_entries") {
		t.Errorf("`destination-iceberg tables` printed no table:\n%s", stdout.String())
	}
	deadline := time.Now().Add(10 * time.Second)
	for pidAlive(filepath.Join(try, "sim.pid")) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if pidAlive(filepath.Join(try, "sim.pid")) {
		t.Error("the simulator still runs 10 s after the README's kill")
	}
}

// echoedRecords checks that every line of a write's stdout is a JSON message and sums the
// sourceStats of its echoed states per stream.
func echoedRecords(t *testing.T, path string) map[string]int64 {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		var m airbyte.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m.Type == "" {
			t.Errorf("%s line %d is not an Airbyte message: %.100q", path, n, sc.Bytes())
			continue
		}
		if m.Type == airbyte.TypeState && m.State != nil && m.State.Stream != nil && m.State.SourceStats != nil && m.State.SourceStats.RecordCount != nil {
			out[m.State.Stream.StreamDescriptor.Name] += int64(*m.State.SourceStats.RecordCount)
		}
	}
	return out
}

// commandLines returns the block's commands (continuations joined, comments dropped).
func commandLines(block string) []string {
	var out []string
	cur := ""
	for _, l := range strings.Split(block, "\n") {
		l = strings.TrimSpace(l)
		if cur == "" && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		out = append(out, cur+l)
		cur = ""
	}
	return out
}

func withoutEnv(name string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func pidAlive(path string) bool {
	pid := readPid(path)
	if pid <= 0 {
		return false
	}
	// A zombie awaiting its reaper counts as stopped.
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err == nil {
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			return false
		}
	}
	return syscall.Kill(pid, 0) == nil
}

func stopPid(path string) {
	if pid := readPid(path); pid > 0 && pidAlive(path) {
		syscall.Kill(pid, syscall.SIGTERM)
	}
}
