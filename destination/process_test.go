package destination

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/destination-iceberg once per test run.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "destbin")
		if err != nil {
			binErr = err
			return
		}
		binDir = dir
		binPath = filepath.Join(dir, "destination-iceberg")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/clockberg/clockberg/cmd/destination-iceberg").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is a running destination-iceberg write.
type proc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func (h *harness) start(t *testing.T, cc string) *proc {
	t.Helper()
	dir := t.TempDir()
	cfgPath, ccPath := filepath.Join(dir, "config.json"), filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(cfgPath, h.config(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ccPath, []byte(cc), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "write", "--config", cfgPath, "--catalog", ccPath)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stdin: stdin, lines: make(chan string, 1024)}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

func (p *proc) send(t *testing.T, ls ...string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, lines(ls...)); err != nil {
		t.Fatalf("writing to the destination: %v", err)
	}
}

// waitState reads output until a STATE echo arrives.
func (p *proc) waitState(t *testing.T) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatal("destination exited before echoing a state")
			}
			if strings.HasPrefix(l, `{"type":"STATE"`) {
				return l
			}
		case <-timeout:
			t.Fatal("no state echo within 60s")
		}
	}
}

// finish closes stdin and returns the exit code and all remaining output.
func (p *proc) finish(t *testing.T) (int, []string) {
	t.Helper()
	p.stdin.Close()
	var out []string
	for l := range p.lines {
		out = append(out, l)
	}
	err := p.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out
}

func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

func TestOverwriteKilledHalfwayKeepsPreviousGeneration(t *testing.T) {
	h := newHarness(t)
	h.cfg["flush_records"] = 1
	gen1 := catalogFor("items", itemsSchema, "overwrite", "", "", 1, 1)
	p := h.start(t, gen1)
	for i := 1; i <= 3; i++ {
		p.send(t, item(i, "old", i), state("items", i, i))
	}
	p.send(t, complete("items"))
	if code, out := p.finish(t); code != 0 {
		t.Fatalf("gen 1 exit %d: %v", code, out)
	}

	gen2 := catalogFor("items", itemsSchema, "overwrite", "", "", 2, 2)
	p = h.start(t, gen2)
	p.send(t, item(10, "new", 10), state("items", 10, 10))
	p.waitState(t)
	p.send(t, item(11, "new", 11), state("items", 11, 11))
	p.waitState(t)
	p.send(t, item(12, "new", 12)) // no state: must never be visible
	time.Sleep(200 * time.Millisecond)
	p.kill(t)
	if got := project(h.rows("clockify", "items", "id"), "id", "v"); !slices.Equal(got, []string{"1|old", "2|old", "3|old"}) {
		t.Fatalf("after the killed overwrite main shows %v", got)
	}

	// The next complete attempt of generation 2 replaces it; echoed rows of the killed attempt stay.
	p = h.start(t, gen2)
	p.send(t, item(13, "new", 13), state("items", 13, 13), complete("items"))
	if code, out := p.finish(t); code != 0 {
		t.Fatalf("retry exit %d: %v", code, out)
	}
	got := project(h.rows("clockify", "items", "id"), "id", "v")
	if want := []string{"10|new", "11|new", "13|new"}; !slices.Equal(got, want) {
		t.Fatalf("after the retry: %v, want %v", got, want)
	}
}

func TestKilledBetweenRecordsEchoesOnlyCommittedStates(t *testing.T) {
	h := newHarness(t)
	h.cfg["flush_records"] = 3
	cc := catalogFor("items", itemsSchema, "append", "", "", 1, 0)
	p := h.start(t, cc)
	var echoed []string
	for i := 1; i <= 20; i++ {
		p.send(t, item(i, "v", i), state("items", i, i))
		if i%3 == 0 {
			echoed = append(echoed, p.waitState(t))
		}
	}
	// The commit at state 18 is echoed as states 16..18; on a loaded machine it may come late.
	for !strings.Contains(echoed[len(echoed)-1], `"c":18`) {
		echoed = append(echoed, p.waitState(t))
	}
	p.send(t, item(21, "v", 21), item(22, "v", 22))
	time.Sleep(100 * time.Millisecond)
	p.kill(t)
	// Drain echoes that were written before the kill.
	for l := range p.lines {
		if strings.HasPrefix(l, `{"type":"STATE"`) {
			echoed = append(echoed, l)
		}
	}
	var rows []int
	for _, r := range h.rows("clockify", "items", "id") {
		var n int
		fmt.Sscan(r["id"], &n)
		rows = append(rows, n)
	}
	slices.Sort(rows)
	maxEchoed := lastEchoedCursor(t, echoed) // echoes come in the order of their states
	if maxEchoed < 18 {
		t.Fatalf("only states up to %d echoed", maxEchoed)
	}
	for i := 1; i <= maxEchoed; i++ {
		if !slices.Contains(rows, i) {
			t.Errorf("state %d was echoed but record %d is missing; rows %v", maxEchoed, i, rows)
		}
	}
	for _, r := range rows {
		if r > 20 {
			t.Errorf("record %d after the last state is visible", r)
		}
	}
}

func TestBadInput(t *testing.T) {
	cc := catalogFor("items", itemsSchema, "append", "", "", 1, 0)
	cases := []struct{ name, bad, want string }{
		{"not json", `{"type":"RECORD",`, "line 4"},
		{"unknown stream", rec("nope", `{"id":1}`, 1), `"nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.cfg["flush_records"] = 1
			p := h.start(t, cc)
			p.send(t, item(1, "a", 1), state("items", 1, 1), item(2, "b", 2), c.bad, item(3, "c", 3), state("items", 3, 3))
			code, out := p.finish(t)
			if code == 0 {
				t.Fatalf("exit 0 on bad input: %v", out)
			}
			var trace string
			for _, l := range out {
				if strings.Contains(l, `"type":"TRACE"`) && strings.Contains(l, `"ERROR"`) {
					trace = l
				}
			}
			if !strings.Contains(trace, c.want) {
				t.Fatalf("trace %q does not name %s; output %v", trace, c.want, out)
			}
			if st := states(out); len(st) != 1 || !strings.Contains(st[0], `"c":1`) {
				t.Fatalf("echoes %v", st)
			}
			if got := project(h.rows("clockify", "items", "id"), "id"); !slices.Equal(got, []string{"1"}) {
				t.Fatalf("rows after the failure: %v", got)
			}
			// The abandoned batch's files were removed: only referenced Parquet files remain.
			tasks, err := h.table("clockify", "items").Scan().PlanFiles(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			parquet, _ := filepath.Glob(filepath.Join(h.dir, "*", "items", "data", "*.parquet"))
			if len(parquet) != len(tasks) {
				t.Errorf("%d Parquet files on disk, %d referenced: %v", len(parquet), len(tasks), parquet)
			}
		})
	}
	t.Run("invalid catalog", func(t *testing.T) {
		h := newHarness(t)
		for _, bad := range []string{
			strings.Replace(cc, `"append"`, `"sideways"`, 1),
			strings.Replace(cc, `"append"`, `"soft_delete"`, 1),
			`{"streams":[]}`,
			`not json`,
		} {
			p := h.start(t, bad)
			code, out := p.finish(t)
			if code == 0 || !strings.Contains(strings.Join(out, "\n"), `"failure_type":"config_error"`) {
				t.Errorf("catalog %s: exit %d, output %v", bad, code, out)
			}
		}
	})
}

func TestLongLines(t *testing.T) {
	h := newHarness(t)
	big := strings.Repeat("x", 3<<20)
	cc := catalogFor("items", itemsSchema, "append", "", "", 1, 0)
	h.mustWrite(cc, lines(item(1, big, 1), state("items", 1, 1)))
	got := h.rows("clockify", "items", "id")
	if len(got) != 1 || got[0]["v"] != big {
		t.Fatalf("a 3 MiB value did not round-trip")
	}
}

func TestSnowflakeSubcommand(t *testing.T) {
	h := newHarness(t)
	h.mustWrite(catalogFor("items", itemsSchema, "append", "", "", 1, 0), lines(item(1, "a", 1), state("items", 1, 1)))
	cfgPath := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(cfgPath, h.config(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary(t), "snowflake", "--config", cfgPath).Output()
	if err != nil {
		t.Fatalf("snowflake subcommand: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ICEBERG TABLE") || !strings.Contains(strings.ToUpper(string(out)), "ITEMS") {
		t.Fatalf("snowflake output lacks the items table:\n%s", out)
	}
}

func TestSIGTERMStopsWithoutAcknowledging(t *testing.T) {
	h := newHarness(t)
	p := h.start(t, catalogFor("items", itemsSchema, "append", "", "", 1, 0))
	p.send(t, item(1, "a", 1), state("items", 1, 1)) // below every threshold: not committed yet
	time.Sleep(300 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("destination still running 20s after SIGTERM")
	}
	if p.cmd.ProcessState.ExitCode() == 0 {
		t.Errorf("exit 0 after SIGTERM")
	}
	for l := range p.lines {
		if strings.HasPrefix(l, `{"type":"STATE"`) {
			t.Errorf("state acknowledged after SIGTERM: %s", l)
		}
	}
}

// {} means ./warehouse with the SQLite catalog inside it, namespace clockify.
func TestEmptyConfigUsesLocalWarehouse(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog.json"), []byte(catalogFor("items", itemsSchema, "append", "", "", 1, 0)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary(t), "write", "--config", "config.json", "--catalog", "catalog.json")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(lines(item(1, "a", 1), state("items", 1, 1)))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("write with {}: %v\n%s", err, out)
	}
	if len(states(strings.Split(string(out), "\n"))) != 1 {
		t.Fatalf("no echo: %s", out)
	}
	h := &harness{t: t, dir: filepath.Join(dir, "warehouse"), cfg: map[string]any{}}
	if got := project(h.rows("clockify", "items", "id"), "id", "v"); !slices.Equal(got, []string{"1|a"}) {
		t.Fatalf("rows %v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "warehouse", "catalog.db")); err != nil {
		t.Errorf("no SQLite catalog in ./warehouse: %v", err)
	}
}
