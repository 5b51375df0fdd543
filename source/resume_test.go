package source

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
	"github.com/clockberg/clockberg/source/streams"
)

// cancelAfter is stdout that cancels the read once it has seen n STATE messages of time_entries,
// so the interruption falls in the middle of the child partitions.
type cancelAfter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if c.n > 0 {
		c.n -= bytes.Count(p, []byte(`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"time_entries"}`))
		if c.n <= 0 {
			c.cancel()
		}
	}
	return len(p), nil
}

// TestResumeAfterInterrupt stops a read part way and resumes it with the last STATE of each
// stream: together the two reads return every ground-truth id, and the second one skips the
// partitions the first finished.
func TestResumeAfterInterrupt(t *testing.T) {
	cfg := clockifysim.Acceptance()
	cfg.Latency = 3 * time.Millisecond
	s := startSim(t, cfg, nil)
	syncID := int64(77)
	cat := configuredCatalog(t, nil, &syncID)
	conf := s.config(map[string]any{"page_size": 1000, "max_concurrency": 2})
	dir := t.TempDir()
	args := []string{"read", "--config", writeJSONFile(t, dir, "c.json", conf), "--catalog", writeJSONFile(t, dir, "k.json", cat)}

	// Requests per route of an uninterrupted read, the yardstick of the resumed one.
	if r := readCmd(t, context.Background(), New(), conf, cat, nil); r.code != 0 {
		t.Fatalf("full read: exit %d", r.code)
	}
	fullRoutes := s.Stats().Routes
	s.ResetStats()

	ctx, cancel := context.WithCancel(context.Background())
	out := &cancelAfter{n: 3, cancel: cancel}
	var errb bytes.Buffer
	t0 := time.Now()
	code := airbyte.RunSource(ctx, New(), args, nil, out, &errb)
	t.Logf("first read %s", time.Since(t0))
	cancel()
	first := parseOutput(t, code, out.buf.Bytes(), errb.Bytes())
	if code == 0 {
		t.Fatal("the interrupted read exited 0")
	}
	firstReqs := s.Stats().Requests
	full := int64(s.MinimumRequests(1000))
	if firstReqs >= full {
		t.Fatalf("the read was not interrupted: %d requests of %d", firstReqs, full)
	}
	incomplete := 0
	for _, seq := range first.statuses() {
		if seq[len(seq)-1] == "INCOMPLETE" {
			incomplete++
		}
	}
	if incomplete == 0 {
		t.Fatal("no stream ended INCOMPLETE after the interruption")
	}

	s.ResetStats()
	states := first.finalStates()
	t0 = time.Now()
	second := readCmd(t, context.Background(), New(), conf, cat, states)
	t.Logf("second read %s", time.Since(t0))
	if second.code != 0 {
		t.Fatalf("resumed read: exit %d %+v", second.code, second.errors())
	}
	checkProtocol(t, second, streams.Names())
	secondStats := s.Stats()
	secondReqs := secondStats.Requests
	if firstReqs+secondReqs >= full+firstReqs {
		t.Errorf("the resumed read repeated everything: %d requests, a full read needs %d", secondReqs, full)
	}

	got := idsByStream(t, append(first.records(), second.records()...))
	second1 := idsByStream(t, second.records())
	for n, want := range s.GroundTruth() {
		if missing := missingIDs(want, got[n]); len(missing) > 0 {
			t.Errorf("stream %s lost %d records across the interruption, e.g. %v", n, len(missing), missing[:min(3, len(missing))])
		}
	}
	// Streams the first read finished are not read again in the same sync.
	for _, st := range states {
		var sm stateMsg
		json.Unmarshal(st, &sm)
		var ss streamState
		json.Unmarshal(sm.Stream.StreamState, &ss)
		if ss.SyncID == nil || *ss.SyncID != syncID {
			t.Errorf("state of %s does not carry the sync id: %s", sm.Stream.Descriptor.Name, sm.Stream.StreamState)
		}
		name := sm.Stream.Descriptor.Name
		parentOnly := name == sWorkspaces || name == sProjects || name == sWorkspaceUsers
		if reqs := secondStats.Routes[name]; ss.Done && !parentOnly && reqs > 0 {
			t.Errorf("stream %s finished in the first read but the resumed read sent %d requests for it", name, reqs)
		}
		// Each completed partition that cost a request (not plan-gated) saves at least one.
		paid := 0
		for _, k := range ss.Completed {
			if strings.Contains(k, "/") || s.Allowed(k, name) {
				paid++
			}
		}
		if !ss.Done && !parentOnly && paid > 0 {
			if reqs, all := secondStats.Routes[name], fullRoutes[name]; reqs > all-int64(paid) {
				t.Errorf("stream %s: %d partitions were complete but the resumed read sent %d of the %d requests a full read needs", name, paid, reqs, all)
			}
		}
		if ss.Done && len(second1[sm.Stream.Descriptor.Name]) > 0 {
			t.Errorf("stream %s finished in the first read but the resumed read returned %d of its records again", sm.Stream.Descriptor.Name, len(second1[sm.Stream.Descriptor.Name]))
		}
	}
	t.Logf("interrupted after %d requests with %d states; resumed with %d requests (full read %d)", firstReqs, len(states), secondReqs, full)

	// A different sync (new sync_id) does not trust the finished flags: a full read again.
	s.ResetStats()
	other := int64(78)
	t0 = time.Now()
	third := readCmd(t, context.Background(), New(), conf, configuredCatalog(t, nil, &other), second.finalStates())
	t.Logf("third read %s", time.Since(t0))
	defer func(t0 time.Time) { t.Logf("end %s", time.Since(t0)) }(time.Now())
	if third.code != 0 {
		t.Fatalf("next sync: exit %d", third.code)
	}
	thirdIDs := idsByStream(t, third.records())
	for n, want := range s.GroundTruth() {
		if d := diffIDs(want, thirdIDs[n]); d != "" {
			t.Errorf("next sync, stream %s: %s", n, d)
		}
	}
}

func missingIDs(want, got []string) []string {
	have := map[string]bool{}
	for _, id := range got {
		have[id] = true
	}
	var out []string
	for _, id := range want {
		if !have[id] {
			out = append(out, id)
		}
	}
	return out
}
