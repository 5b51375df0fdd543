// Command destbench measures destination-iceberg on time-entry records: it writes N synthetic
// Clockify time entries (with a STATE every -state-every records) to a file, runs the destination
// binary's write command with that file as stdin against a fresh local warehouse, and prints
// records per second, the child's peak RSS, and what the destination logged.
//
//	go run ./bench/destbench -n 1000000
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/clockberg/clockberg/schemas"
)

func main() {
	n := flag.Int("n", 1_000_000, "time-entry records to write")
	stateEvery := flag.Int("state-every", 10_000, "records between STATE messages")
	bin := flag.String("bin", "", "destination-iceberg binary (default: go build it)")
	dir := flag.String("dir", "", "work folder (default: a temporary folder, removed afterwards)")
	mode := flag.String("mode", "append", "destination_sync_mode: append, overwrite or append_dedup")
	cfgExtra := flag.String("config", "{}", "extra config keys as a JSON object (e.g. flush settings)")
	keys := flag.Int("keys", 0, "distinct time-entry ids (default: every record has its own)")
	flag.Parse()
	if *keys > 0 {
		distinctKeys = *keys
	}
	if err := run(*n, *stateEvery, *bin, *dir, *mode, *cfgExtra); err != nil {
		fmt.Fprintln(os.Stderr, "destbench:", err)
		os.Exit(1)
	}
}

func run(n, stateEvery int, bin, dir, mode, cfgExtra string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "destbench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if bin == "" {
		bin = filepath.Join(dir, "destination-iceberg")
		out, err := exec.Command("go", "build", "-o", bin, "github.com/clockberg/clockberg/cmd/destination-iceberg").CombinedOutput()
		if err != nil {
			return fmt.Errorf("building the destination: %v\n%s", err, out)
		}
	}
	cfg := map[string]any{}
	if err := json.Unmarshal([]byte(cfgExtra), &cfg); err != nil {
		return fmt.Errorf("-config: %w", err)
	}
	cfg["warehouse"] = filepath.Join(dir, "warehouse")
	cfgPath := filepath.Join(dir, "config.json")
	if err := writeJSON(cfgPath, cfg); err != nil {
		return err
	}
	schema, ok := schemas.Get("time_entries")
	if !ok {
		return fmt.Errorf("no time_entries schema")
	}
	stream := map[string]any{"stream": map[string]any{"name": "time_entries", "json_schema": schema,
		"supported_sync_modes": []string{"full_refresh", "incremental"}},
		"sync_mode": "incremental", "destination_sync_mode": mode, "primary_key": [][]string{{"id"}},
		"cursor_field": []string{"timeInterval"}, "generation_id": 1, "minimum_generation_id": 0, "sync_id": 1}
	if mode == "overwrite" {
		stream["minimum_generation_id"] = 1
	}
	catPath := filepath.Join(dir, "catalog.json")
	if err := writeJSON(catPath, map[string]any{"streams": []any{stream}}); err != nil {
		return err
	}
	inPath := filepath.Join(dir, "input.jsonl")
	size, err := generate(inPath, n, stateEvery)
	if err != nil {
		return err
	}
	in, err := os.Open(inPath)
	if err != nil {
		return err
	}
	defer in.Close()
	var stdout bytes.Buffer
	cmd := exec.Command(bin, "write", "--config", cfgPath, "--catalog", catPath)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &stdout, os.Stderr
	start := time.Now()
	runErr := cmd.Run()
	elapsed := time.Since(start)
	if runErr != nil {
		return fmt.Errorf("destination failed: %v\n%s", runErr, tail(stdout.String()))
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	echoes := 0
	var logs []string
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, `{"type":"STATE"`):
			echoes++
		case strings.HasPrefix(l, `{"type":"LOG"`):
			logs = append(logs, l)
		}
	}
	fmt.Printf("records:        %d (%.1f MiB of input, %d states)\n", n, float64(size)/(1<<20), n/stateEvery)
	fmt.Printf("mode:           %s\n", mode)
	fmt.Printf("wall time:      %s\n", elapsed.Round(time.Millisecond))
	fmt.Printf("records/s:      %.0f\n", float64(n)/elapsed.Seconds())
	fmt.Printf("MiB/s:          %.1f\n", float64(size)/(1<<20)/elapsed.Seconds())
	fmt.Printf("peak RSS:       %.1f MiB\n", float64(ru.Maxrss)/1024)
	cpu := time.Duration(ru.Utime.Nano()) + time.Duration(ru.Stime.Nano())
	fmt.Printf("CPU user+sys:   %s (%.0f records per CPU-second; the machine's load skews wall time)\n", cpu.Round(time.Millisecond), float64(n)/cpu.Seconds())
	fmt.Printf("states echoed:  %d\n", echoes)
	for _, l := range logs {
		fmt.Println("log:", l)
	}
	return nil
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
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

// distinctKeys bounds the ids generated, to exercise deduplication; 0 means unbounded.
var distinctKeys int

// generate writes n time entries shaped like Clockify's, with a STATE every stateEvery records.
func generate(path string, n, stateEvery int) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	base := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	emitted := base.Add(400 * 24 * time.Hour).UnixMilli()
	descs := []string{"Standup", "Code review", "Customer call", "Planning \"Q3\"", "Écriture du rapport", ""}
	var size int64
	for i := 0; i < n; i++ {
		start := base.Add(time.Duration(i) * 7 * time.Minute)
		end := start.Add(time.Duration(15+i%120) * time.Minute)
		line := fmt.Sprintf(`{"type":"RECORD","record":{"stream":"time_entries","emitted_at":%d,"data":{"id":"%024x","description":%q,"userId":"%024x","workspaceId":"5e4117fe8c625f38930d57b7","projectId":"%024x","taskId":null,"tagIds":["%024x","%024x"],"billable":%t,"isLocked":false,"kioskId":null,"type":"REGULAR","timeInterval":{"start":"%s","end":"%s","duration":"PT%dM"},"customFieldValues":[{"customFieldId":"%024x","timeEntryId":"%024x","value":"Berlin","name":"Location","type":"WORKSPACE"}],"hourlyRate":{"amount":%d,"currency":"EUR"},"costRate":null}}}`+"\n",
			emitted+int64(i), id(i), descs[i%len(descs)], i%50, i%300, i%40, i%41, i%3 != 0,
			start.Format(time.RFC3339), end.Format(time.RFC3339), 15+i%120, i%7, i, 1000+i%5000)
		size += int64(len(line))
		if _, err := w.WriteString(line); err != nil {
			return 0, err
		}
		if (i+1)%stateEvery == 0 || i == n-1 {
			s := fmt.Sprintf(`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"time_entries"},"stream_state":{"cursor":%d}},"sourceStats":{"recordCount":%d.0},"id":%d}}`+"\n",
				i, stateEvery, i/stateEvery+1)
			size += int64(len(s))
			if _, err := w.WriteString(s); err != nil {
				return 0, err
			}
		}
	}
	if err := w.Flush(); err != nil {
		return 0, err
	}
	return size, f.Close()
}

func id(i int) int {
	if distinctKeys > 0 {
		return i % distinctKeys
	}
	return i
}
