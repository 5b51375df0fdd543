package source

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
	"github.com/clockberg/clockberg/source/streams"
)

func TestSmallerPageSize(t *testing.T) {
	for cur, want := range map[int]int{5000: 1000, 1000: 200, 200: 0, 3000: 1000, 700: 200, 4000: 1000} {
		if got := smallerPageSize(cur); got != want {
			t.Errorf("smallerPageSize(%d) = %d, want %d", cur, got, want)
		}
	}
}

// bodyKind names the body shapes the engine parses: a bare array (workspaces, time entries), a
// single object (user) and an envelope (expenses).
func bodyKind(r *http.Request) string {
	p := r.URL.Path
	switch {
	case p == "/api/v1/workspaces":
		return "workspaces"
	case p == "/api/v1/user":
		return "user"
	case strings.HasSuffix(p, "/time-entries"):
		return "time-entries"
	case strings.HasSuffix(p, "/expenses"):
		return "expenses"
	}
	return ""
}

// TestMalformedBodyRetried: the first 200 answer of each body shape carries a doubled comma, which
// json.Valid rejects but a walk that only tracks brackets and strings lets through. The engine's
// own parse is the client's body check, so the body must be retried, and the read must deliver
// every record once.
func TestMalformedBodyRetried(t *testing.T) {
	var mu sync.Mutex
	corrupted := map[string]bool{}
	corrupt := rewrite(func(r *http.Request) bool {
		k := bodyKind(r)
		if k == "" {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		if corrupted[k] {
			return false
		}
		corrupted[k] = true
		return true
	}, func(status int, body []byte) (int, []byte) {
		if status != 200 || !bytes.Contains(body, []byte(`,"`)) {
			panic("the simulator's answer to corrupt has no member separator: " + string(body))
		}
		return status, bytes.Replace(body, []byte(`,"`), []byte(`,,"`), 1)
	})
	s := startSim(t, clockifysim.Demo(), corrupt)
	res := readCmd(t, context.Background(), New(), s.config(map[string]any{"page_size": 50}), configuredCatalog(t, nil, nil), nil)
	if res.code != 0 {
		t.Fatalf("exit %d, errors %+v", res.code, res.errors())
	}
	for _, k := range []string{"workspaces", "user", "time-entries", "expenses"} {
		if !corrupted[k] {
			t.Errorf("no %s body was corrupted; the test does not exercise that shape", k)
		}
	}
	checkProtocol(t, res, streams.Names())
	got := idsByStream(t, res.records())
	for n, want := range s.GroundTruth() {
		if d := diffIDs(want, got[n]); d != "" {
			t.Errorf("stream %s: %s", n, d)
		}
	}
	retries := 0
	for _, l := range res.logs("WARN") {
		if strings.Contains(l, "malformed JSON body") && strings.Contains(l, "invalid JSON at offset") {
			retries++
		}
	}
	if retries != len(corrupted) {
		t.Errorf("%d retries of malformed bodies logged, want %d (one per corrupted body); WARN logs:\n%s", retries, len(corrupted), strings.Join(res.logs("WARN"), "\n"))
	}
}

// TestWrongShapeNotRetried: valid JSON that is not the list of records a stream expects fails
// the stream at once (asking again would return the same) with a system_error naming the path;
// the other streams complete.
func TestWrongShapeNotRetried(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	s := startSim(t, clockifysim.Demo(), rewrite(func(r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/clients") {
			return false
		}
		mu.Lock()
		requests++
		mu.Unlock()
		return true
	}, func(int, []byte) (int, []byte) { return 200, []byte(`{"clients":[]}`) }))
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sClients: airbyte.FullRefresh, sTags: airbyte.FullRefresh}, nil)
	res := readCmd(t, context.Background(), New(), s.config(nil), cat, nil)
	if res.code == 0 {
		t.Fatal("exit 0 although clients answered an object")
	}
	errs := res.errors()
	if len(errs) != 1 || errs[0].Error.Stream == nil || errs[0].Error.Stream.Name != sClients ||
		errs[0].Error.FailureType != string(airbyte.SystemError) ||
		!strings.Contains(errs[0].Error.Message, "/clients") || !strings.Contains(errs[0].Error.Message, "expected a JSON array of records") {
		t.Fatalf("want one system_error for clients naming the path and the shape, got %+v", errs)
	}
	if n := len(s.WorkspaceIDs()); requests != n {
		t.Errorf("%d requests to /clients for %d workspaces; a wrong shape must not be retried", requests, n)
	}
	if warn := strings.Join(res.logs("WARN"), "\n"); strings.Contains(warn, "retry") {
		t.Errorf("retries logged:\n%s", warn)
	}
	st := res.statuses()
	if last := st[sTags][len(st[sTags])-1]; last != "COMPLETE" {
		t.Errorf("tags ended %s", last)
	}
}
