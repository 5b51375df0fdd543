package source

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
	"github.com/clockberg/clockberg/source/streams"
)

// TestChaosFullSync: 5xx answers, bodies cut mid-way, slow answers and bursts of 429 cost retries
// but no record and no duplicate, and the sync succeeds.
func TestChaosFullSync(t *testing.T) {
	cfg := clockifysim.Demo()
	cfg.Chaos = clockifysim.Chaos{Seed: 7, Error5xx: 0.06, Truncate: 0.06, Slow: 0.03, SlowDelay: 150 * time.Millisecond, Burst429: 0.03, Burst429Len: 2}
	s := startSim(t, cfg, nil)
	res := readCmd(t, context.Background(), New(), s.config(map[string]any{"page_size": 50}), configuredCatalog(t, nil, nil), nil)
	if res.code != 0 {
		t.Fatalf("exit %d, errors %+v", res.code, res.errors())
	}
	checkProtocol(t, res, streams.Names())
	got := idsByStream(t, res.records())
	for n, want := range s.GroundTruth() {
		if d := diffIDs(want, got[n]); d != "" {
			t.Errorf("stream %s: %s", n, d)
		}
	}
	st := s.Stats()
	for _, kind := range []string{"5xx", "truncate", "burst429"} {
		if st.ChaosFaults[kind] == 0 {
			t.Errorf("chaos fault %s never happened (faults %v); the test does not exercise it", kind, st.ChaosFaults)
		}
	}
	rateLimited := 0
	for _, tr := range res.traces() {
		if tr.StreamStatus != nil && len(tr.StreamStatus.Reasons) > 0 && strings.Contains(string(tr.StreamStatus.Reasons[0]), "RATE_LIMITED") {
			rateLimited++
		}
	}
	if st.ChaosFaults["burst429"] > 0 && rateLimited == 0 {
		t.Error("429s happened but no RUNNING status with a RATE_LIMITED reason was emitted")
	}
	t.Logf("%d requests, faults %v, %d RATE_LIMITED statuses", st.Requests, st.ChaosFaults, rateLimited)
}

// TestPageSizeStepDown: an endpoint that rejects the configured page size with a 400 naming it
// is read at a smaller size, from the same offset, without losing or repeating records.
func TestPageSizeStepDown(t *testing.T) {
	cfg := clockifysim.Acceptance()
	// Tasks reject 5000; time entries reject 5000 and then, mid-partition, 1000 on page 3: the read
	// must continue at record 2000 with pages of 200.
	limit := rewrite(func(r *http.Request) bool {
		ps := r.URL.Query().Get("page-size")
		return (strings.HasSuffix(r.URL.Path, "/tasks") && ps == "5000") ||
			(strings.HasSuffix(r.URL.Path, "/time-entries") && (ps == "5000" || (ps == "1000" && r.URL.Query().Get("page") == "3")))
	}, func(int, []byte) (int, []byte) {
		return 400, []byte(`{"message":"page-size must not be greater than the endpoint maximum","code":3000}`)
	})
	s := startSim(t, cfg, limit)
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sTasks: airbyte.FullRefresh, sTimeEntries: airbyte.FullRefresh}, nil)
	// One worker makes the count of rejected requests exact: the first partition of each stream
	// learns the size, the others start with it.
	res := readCmd(t, context.Background(), New(), s.config(map[string]any{"max_concurrency": 1}), cat, nil)
	if res.code != 0 {
		t.Fatalf("exit %d, errors %+v", res.code, res.errors())
	}
	checkProtocol(t, res, []string{sTasks, sTimeEntries})
	got := idsByStream(t, res.records())
	truth := s.GroundTruth()
	for _, n := range []string{sTasks, sTimeEntries} {
		if d := diffIDs(truth[n], got[n]); d != "" {
			t.Errorf("stream %s: %s", n, d)
		}
	}
	warn := strings.Join(res.logs("WARN"), "\n")
	for _, want := range []string{"stream tasks: Clockify rejected page-size=5000", "stream time_entries: Clockify rejected page-size=1000"} {
		if !strings.Contains(warn, want) {
			t.Errorf("no warning %q in %q", want, warn)
		}
	}
	if n := strings.Count(warn, "Clockify rejected page-size"); n != 3 {
		t.Errorf("%d requests rejected, want 3; the smaller size should be remembered per endpoint", n)
	}
}

// TestRateLimitedByServer: a source configured faster than the server allows meets 429s (with
// empty bodies, no Retry-After), slows down, reports RATE_LIMITED and still returns everything.
func TestRateLimitedByServer(t *testing.T) {
	cfg := clockifysim.Demo()
	cfg.RateLimit, cfg.Burst, cfg.EmptyTooManyBody = 25, 3, true
	s := startSim(t, cfg, nil)
	res := readCmd(t, context.Background(), New(), s.config(map[string]any{"page_size": 50, "requests_per_second": 60, "max_requests_per_second": 80}), configuredCatalog(t, nil, nil), nil)
	if res.code != 0 {
		t.Fatalf("exit %d, errors %+v", res.code, res.errors())
	}
	checkProtocol(t, res, streams.Names())
	got := idsByStream(t, res.records())
	for n, want := range s.GroundTruth() {
		if d := diffIDs(want, got[n]); d != "" {
			t.Errorf("stream %s: %s", n, d)
		}
	}
	st := s.Stats()
	if st.TooMany == 0 {
		t.Fatalf("the server never answered 429; the test does not exercise rate limiting (%d requests)", st.Requests)
	}
	limited := 0
	for _, tr := range res.traces() {
		if tr.StreamStatus != nil && tr.StreamStatus.Status == "RUNNING" && len(tr.StreamStatus.Reasons) > 0 {
			limited++
		}
	}
	if limited == 0 {
		t.Error("no RATE_LIMITED status although the server answered 429")
	}
	if !strings.Contains(strings.Join(res.logs(""), "\n"), "rate") {
		t.Error("no log line about the request rate")
	}
	t.Logf("%d requests, %d answered 429, %d RATE_LIMITED statuses", st.Requests, st.TooMany, limited)
}
