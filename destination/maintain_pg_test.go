package destination

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// startPostgres runs a private PostgreSQL server on a free loopback port (as the postgres user,
// which initdb and postgres require when the test runs as root) and returns the URI of a fresh
// database. It skips, saying why, where no PostgreSQL server is installed.
func startPostgres(t *testing.T) string {
	t.Helper()
	bin := ""
	for _, dir := range []string{"/usr/local/bin", "/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin"} {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			bin = dir
			break
		}
	}
	if bin == "" {
		t.Skip("no PostgreSQL server installed (initdb not found): the PostgreSQL concurrency test needs one")
	}
	root, err := os.MkdirTemp("", "pgmaint")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	data, sock := filepath.Join(root, "data"), filepath.Join(root, "sock")
	for _, d := range []string{data, sock} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	asPG := func(args ...string) *exec.Cmd {
		if os.Getuid() == 0 {
			exec.Command("chown", "-R", "postgres:postgres", root).Run()
			return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
		return exec.Command(args[0], args[1:]...)
	}
	if out, err := asPG(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	opts := "-c listen_addresses=127.0.0.1 -p " + port + " -k " + sock + " -c fsync=off -c max_connections=50"
	if out, err := asPG(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(root, "log"), "-w", "-t", "60", "-o", opts, "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(root, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() { asPG(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop").Run() })
	if out, err := asPG("psql", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-qc", "CREATE DATABASE iceberg").CombinedOutput(); err != nil {
		t.Fatalf("CREATE DATABASE: %v\n%s", err, out)
	}
	return "postgres://postgres@127.0.0.1:" + port + "/iceberg?sslmode=disable"
}

// A maintain process running again and again while another process syncs (PostgreSQL catalog):
// every sync either commits or fails before echoing its state (and is then retried, as the
// platform does), no row is lost or doubled, and the table stays readable.
func TestMaintainConcurrentWithWritesOnPostgres(t *testing.T) {
	uri := startPostgres(t)
	h := newHarness(t)
	h.cfg["catalog"] = map[string]any{"catalog_type": "sql", "uri": uri}
	dir := t.TempDir()
	writeCfg := func(name string, maint map[string]any) string {
		c := map[string]any{}
		json.Unmarshal(h.config(), &c)
		c["maintenance"] = maint
		b, _ := json.Marshal(c)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	syncCfg := writeCfg("sync.json", map[string]any{"enabled": false})
	maintCfg := writeCfg("maintain.json", map[string]any{"keep_snapshots": 4, "keep_history_hours": 0, "min_small_files": 2, "delete_files_per_file": 1})
	ccPath := filepath.Join(dir, "catalog.json")
	if err := os.WriteFile(ccPath, []byte(entriesCatalog("append_dedup")), 0o600); err != nil {
		t.Fatal(err)
	}
	months := []string{"2025-01-05T10:00:00Z", "2025-02-05T10:00:00Z", "2025-03-05T10:00:00Z"}
	want := map[string]string{}
	syncInput := func(s int) string {
		var in []string
		for i := 0; i < 20; i++ { // new ids
			id := fmt.Sprintf("s%d-%d", s, i)
			in = append(in, entry(id, "v0", months[i%3]))
		}
		for i := s % 5; i < 20*s; i += 7 { // updates of earlier syncs' ids
			id := fmt.Sprintf("s%d-%d", i/20, i%20)
			in = append(in, entry(id, fmt.Sprint("u", s), months[(i%20)%3]))
		}
		return lines(append(in, state("entries", s, s))...)
	}
	apply := func(s int) {
		for i := 0; i < 20; i++ {
			want[fmt.Sprintf("s%d-%d", s, i)] = "v0"
		}
		for i := s % 5; i < 20*s; i += 7 {
			want[fmt.Sprintf("s%d-%d", i/20, i%20)] = fmt.Sprint("u", s)
		}
	}
	write := func(input string) (string, error) {
		cmd := exec.Command(binary(t), "write", "--config", syncCfg, "--catalog", ccPath)
		cmd.Stdin = strings.NewReader(input)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, lastLines(errb.String(), 3))
		}
		return out.String(), err
	}
	if _, err := write(syncInput(0)); err != nil {
		t.Fatal(err)
	}
	apply(0)

	const syncs = 8
	done := make(chan struct{})
	var wg sync.WaitGroup
	var maintRuns, maintFailed int
	var maintErrs []string
	wg.Add(1)
	go func() { // the maintainer: back to back until the writer is done (bounded)
		defer wg.Done()
		for n := 0; n < 200; n++ {
			select {
			case <-done:
				return
			default:
			}
			cmd := exec.Command(binary(t), "maintain", "--config", maintCfg)
			out, err := cmd.CombinedOutput()
			maintRuns++
			if err != nil {
				maintFailed++
				maintErrs = append(maintErrs, lastLines(string(out), 3))
			}
		}
	}()
	failedSyncs := 0
	for s := 1; s <= syncs; s++ {
		input := syncInput(s)
		var err error
		for attempt := 1; attempt <= 5; attempt++ {
			var out string
			out, err = write(input)
			if err == nil {
				if len(states(strings.Split(strings.TrimSpace(out), "\n"))) != 1 {
					t.Fatalf("sync %d succeeded without echoing its state:\n%s", s, out)
				}
				break
			}
			failedSyncs++
			if len(states(strings.Split(strings.TrimSpace(out), "\n"))) != 0 {
				t.Fatalf("sync %d failed after echoing its state: %v\n%s", s, err, out)
			}
			t.Logf("sync %d attempt %d failed (retried as the platform would): %v", s, attempt, err)
		}
		if err != nil {
			t.Fatalf("sync %d failed 5 times: %v", s, err)
		}
		apply(s)
	}
	close(done)
	wg.Wait()
	t.Logf("%d syncs (%d failed attempts, retried), %d maintain runs (%d failed) meanwhile", syncs, failedSyncs, maintRuns, maintFailed)
	if maintFailed > 0 {
		t.Errorf("maintain failed %d of %d times: %v", maintFailed, maintRuns, maintErrs)
	}
	if maintRuns < 2 {
		t.Errorf("only %d maintain runs overlapped the syncs", maintRuns)
	}

	// A last maintenance pass, then every row exactly once with its latest value.
	if out, err := exec.Command(binary(t), "maintain", "--config", maintCfg).CombinedOutput(); err != nil {
		t.Fatalf("final maintain: %v\n%s", err, out)
	} else {
		t.Logf("final maintain:\n%s", out)
	}
	got := map[string]string{}
	for _, r := range h.rows("clockify", "entries", "id") {
		if _, dup := got[r["id"]]; dup {
			t.Errorf("id %s twice", r["id"])
		}
		got[r["id"]] = r["v"]
	}
	if len(got) != len(want) {
		t.Errorf("%d rows, want %d", len(got), len(want))
	}
	for id, v := range want {
		if got[id] != v {
			t.Errorf("id %s: %q, want %q", id, got[id], v)
		}
	}
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], " | ")
}
