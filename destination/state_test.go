package destination

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/clockberg/clockberg/airbyte"
)

func TestStateEchoOrderAndCountsAcrossStreams(t *testing.T) {
	h := newHarness(t)
	h.cfg["flush_records"] = 2
	cc := `{"streams":[` +
		`{"stream":{"name":"a","json_schema":` + itemsSchema + `,"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"},` +
		`{"stream":{"name":"b","json_schema":` + itemsSchema + `,"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append"}]}`
	r := func(s string, id int) string { return rec(s, fmt.Sprintf(`{"id":%d}`, id), 1) }
	global := `{"type":"STATE","state":{"type":"GLOBAL","global":{"shared_state":{"x":1},"stream_states":[]},"id":"g1"}}`
	out := h.mustWrite(cc, lines(
		r("a", 1), r("b", 1), r("a", 2), state("b", 1, 101), // b: 1 record
		r("a", 3), state("a", 1, 102), // a: 3 records
		state("a", 2, 103),           // a: 0 records
		r("b", 2), r("b", 3), global, // everything since the last state: 2
	))
	st := states(out)
	want := []struct {
		id    string
		count string
	}{{`"id":101`, "1.0"}, {`"id":102`, "3.0"}, {`"id":103`, "0.0"}, {`"id":"g1"`, "2.0"}}
	if len(st) != len(want) {
		t.Fatalf("echoes %v", st)
	}
	for i, w := range want {
		if !strings.Contains(st[i], w.id) || !strings.Contains(st[i], `"destinationStats":{"recordCount":`+w.count+`}`) {
			t.Errorf("echo %d = %s, want %s with count %s", i, st[i], w.id, w.count)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(st[i]), &m); err != nil {
			t.Errorf("echo %d is not JSON: %v", i, err)
		}
	}
	if got := len(h.rows("clockify", "a", "id")); got != 3 {
		t.Errorf("stream a has %d rows", got)
	}
	if got := len(h.rows("clockify", "b", "id")); got != 3 {
		t.Errorf("stream b has %d rows", got)
	}
}

// A state arriving while rows are pending below every threshold is held back until a commit
// covers its records; thresholds by bytes and by age trigger that commit.
func TestFlushThresholds(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  map[string]any
		wait time.Duration
	}{
		{"bytes", map[string]any{"flush_bytes": 1}, 0},
		{"age", map[string]any{"flush_interval_seconds": 1}, 1100 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.cfg = c.cfg
			var cat airbyte.ConfiguredCatalog
			if err := json.Unmarshal([]byte(catalogFor("items", itemsSchema, "append", "", "", 1, 0)), &cat); err != nil {
				t.Fatal(err)
			}
			pr, pw := io.Pipe()
			outR, outW := io.Pipe()
			w := airbyte.NewWriter(outW, nil)
			done := make(chan error, 1)
			go func() { done <- New().Write(context.Background(), h.config(), &cat, pr, w) }()
			echoes := make(chan string, 16)
			go func() {
				buf := make([]byte, 1<<16)
				var acc string
				for {
					n, err := outR.Read(buf)
					acc += string(buf[:n])
					for {
						i := strings.IndexByte(acc, '\n')
						if i < 0 {
							break
						}
						if strings.HasPrefix(acc[:i], `{"type":"STATE"`) {
							echoes <- acc[:i]
						}
						acc = acc[i+1:]
					}
					if err != nil {
						close(echoes)
						return
					}
				}
			}()
			io.WriteString(pw, lines(item(1, "a", 1)))
			time.Sleep(c.wait)
			io.WriteString(pw, lines(state("items", 1, 1)))
			select {
			case e := <-echoes:
				if !strings.Contains(e, `"id":1`) {
					t.Fatalf("echo %s", e)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no echo before the end of input although the %s threshold was reached", c.name)
			}
			if got := len(h.rows("clockify", "items", "id")); got != 1 {
				t.Fatalf("%d rows visible after the echo", got)
			}
			pw.Close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			w.Close()
			outW.Close()
		})
	}
	// Below every threshold the state waits for the end of input.
	h := newHarness(t)
	var cat airbyte.ConfiguredCatalog
	json.Unmarshal([]byte(catalogFor("items", itemsSchema, "append", "", "", 1, 0)), &cat)
	pr, pw := io.Pipe()
	var out strings.Builder
	w := airbyte.NewWriter(&out, nil) // read only after Flush, which waits for the writer goroutine
	done := make(chan error, 1)
	go func() { done <- New().Write(context.Background(), h.config(), &cat, pr, w) }()
	io.WriteString(pw, lines(item(1, "a", 1), state("items", 1, 1)))
	time.Sleep(300 * time.Millisecond)
	w.Flush()
	if s := out.String(); strings.Contains(s, `"STATE"`) {
		t.Fatalf("state echoed before its records were committed: %s", s)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	w.Close()
	if !strings.Contains(out.String(), `"STATE"`) {
		t.Fatalf("state not echoed at the end: %s", out.String())
	}
}
