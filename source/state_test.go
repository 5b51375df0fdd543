package source

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
	"github.com/clockberg/clockberg/source/streams"
)

type entry struct {
	ID           string `json:"id"`
	UserID       string `json:"userId"`
	WorkspaceID  string `json:"workspaceId"`
	TimeInterval struct {
		Start string `json:"start"`
	} `json:"timeInterval"`
}

func (e entry) start(t testing.TB) time.Time {
	ts, err := time.Parse(time.RFC3339Nano, e.TimeInterval.Start)
	if err != nil {
		t.Fatalf("entry %s start %q: %v", e.ID, e.TimeInterval.Start, err)
	}
	return ts
}

func entries(t testing.TB, res *result) []entry {
	var out []entry
	for _, r := range res.records() {
		if r.Stream != sTimeEntries {
			continue
		}
		var e entry
		if err := json.Unmarshal(r.Data, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func lastStreamState(t testing.TB, res *result, stream string) streamState {
	t.Helper()
	var st streamState
	found := false
	for _, s := range res.states() {
		if s.Stream.Descriptor.Name == stream {
			st = streamState{}
			if err := json.Unmarshal(s.Stream.StreamState, &st); err != nil {
				t.Fatal(err)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("no STATE for %s", stream)
	}
	return st
}

func TestIncrementalTimeEntries(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), nil)
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sTimeEntries: airbyte.Incremental, sTags: airbyte.FullRefresh}, nil)
	ctx := context.Background()

	first := readCmd(t, ctx, New(), s.config(nil), cat, nil)
	if first.code != 0 {
		t.Fatalf("read 1: exit %d %+v", first.code, first.errors())
	}
	checkProtocol(t, first, []string{sTimeEntries, sTags})
	e1 := entries(t, first)
	if d := diffIDs(s.GroundTruth()[sTimeEntries], idsOf(e1)); d != "" {
		t.Fatalf("first incremental read is not complete: %s", d)
	}
	st := lastStreamState(t, first, sTimeEntries)
	// The cursor of every member is the newest start read for that member.
	newest := map[string]time.Time{}
	for _, e := range e1 {
		k := e.WorkspaceID + "/" + e.UserID
		if ts := e.start(t); ts.After(newest[k]) {
			newest[k] = ts
		}
	}
	if len(st.Cursors) != len(newest) {
		t.Fatalf("state has %d cursors, read 1 saw %d members with entries: %v", len(st.Cursors), len(newest), st.Cursors)
	}
	for k, ts := range newest {
		c, err := time.Parse(time.RFC3339Nano, st.Cursors[k])
		if err != nil || !c.Equal(ts) {
			t.Errorf("cursor %s = %q, want %s", k, st.Cursors[k], ts.Format(time.RFC3339))
		}
	}

	// New work after the first sync.
	ws := s.WorkspaceIDs()[0]
	user := s.UserIDs(ws)[1]
	added, err := s.AddTimeEntries(ws, user, 3)
	if err != nil {
		t.Fatal(err)
	}
	s.ResetStats()
	second := readCmd(t, ctx, New(), s.config(nil), cat, first.finalStates())
	if second.code != 0 {
		t.Fatalf("read 2: exit %d %+v", second.code, second.errors())
	}
	checkProtocol(t, second, []string{sTimeEntries, sTags})
	lookback := 7 * 24 * time.Hour
	var want []string
	for _, e := range e1 {
		if !e.start(t).Before(newest[e.WorkspaceID+"/"+e.UserID].Add(-lookback)) {
			want = append(want, e.ID)
		}
	}
	want = append(want, added...)
	e2 := entries(t, second)
	for _, e := range e2 {
		k := e.WorkspaceID + "/" + e.UserID
		if c, ok := newest[k]; ok && e.start(t).Before(c.Add(-lookback)) {
			t.Errorf("read 2 returned %s starting %s, before cursor %s minus the lookback", e.ID, e.TimeInterval.Start, c.Format(time.RFC3339))
		}
	}
	if d := diffIDs(want, idsOf(e2)); d != "" {
		t.Errorf("read 2 returned the wrong entries: %s", d)
	}
	if len(e2) >= len(e1) {
		t.Errorf("read 2 re-read %d entries of %d; incremental did not narrow the window", len(e2), len(e1))
	}
	st2 := lastStreamState(t, second, sTimeEntries)
	if got, _ := time.Parse(time.RFC3339Nano, st2.Cursors[ws+"/"+user]); !got.After(newest[ws+"/"+user]) {
		t.Errorf("cursor of %s did not advance past the added entries: %s", user, st2.Cursors[ws+"/"+user])
	}

	// A cursor far in the future: no time entries, still a STATE.
	future := streamState{Cursors: map[string]string{}}
	for k := range st.Cursors {
		future.Cursors[k] = "2999-01-01T00:00:00Z"
	}
	for _, w := range s.WorkspaceIDs() {
		for _, u := range s.UserIDs(w) {
			future.Cursors[w+"/"+u] = "2999-01-01T00:00:00Z"
		}
	}
	fs, _ := json.Marshal(future)
	third := readCmd(t, ctx, New(), s.config(nil), cat, []any{map[string]any{
		"type": "STREAM", "stream": map[string]any{"stream_descriptor": map[string]any{"name": sTimeEntries}, "stream_state": json.RawMessage(fs)}}})
	if third.code != 0 {
		t.Fatalf("read 3: exit %d %+v", third.code, third.errors())
	}
	checkProtocol(t, third, []string{sTimeEntries, sTags})
	if n := len(entries(t, third)); n != 0 {
		t.Errorf("a far-future cursor returned %d time entries", n)
	}
	if st3 := lastStreamState(t, third, sTimeEntries); st3.Cursors[ws+"/"+user] != "2999-01-01T00:00:00Z" {
		t.Errorf("far-future cursor not kept: %v", st3.Cursors)
	}
}

func idsOf(es []entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func TestStartDateBoundsTimeEntries(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), nil)
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sTimeEntries: airbyte.FullRefresh}, nil)
	all := readCmd(t, context.Background(), New(), s.config(nil), cat, nil)
	e := entries(t, all)
	if len(e) < 10 {
		t.Fatalf("only %d entries", len(e))
	}
	// The median start splits the entries.
	starts := make([]time.Time, len(e))
	for i := range e {
		starts[i] = e[i].start(t)
	}
	mid := starts[0]
	for _, ts := range starts {
		if ts.Before(mid) {
			mid = ts
		}
	}
	var latest time.Time
	for _, ts := range starts {
		if ts.After(latest) {
			latest = ts
		}
	}
	mid = mid.Add(latest.Sub(mid) / 2).Truncate(time.Second)
	var want []string
	for i := range e {
		if !starts[i].Before(mid) {
			want = append(want, e[i].ID)
		}
	}
	for _, mode := range []airbyte.SyncMode{airbyte.FullRefresh, airbyte.Incremental} {
		c := configuredCatalog(t, map[string]airbyte.SyncMode{sTimeEntries: mode}, nil)
		res := readCmd(t, context.Background(), New(), s.config(map[string]any{"start_date": mid.Format(time.RFC3339)}), c, nil)
		if res.code != 0 {
			t.Fatalf("%s: exit %d", mode, res.code)
		}
		if d := diffIDs(want, idsOf(entries(t, res))); d != "" {
			t.Errorf("%s with start_date %s: %s", mode, mid.Format(time.RFC3339), d)
		}
	}
}

// TestStateForms feeds the same state in every form the platform writes.
func TestStateForms(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), nil)
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sTimeEntries: airbyte.Incremental}, nil)
	first := readCmd(t, context.Background(), New(), s.config(nil), cat, nil)
	total := len(entries(t, first))
	st := first.finalStates()[0]
	var sm struct {
		Stream struct {
			StreamState json.RawMessage `json:"stream_state"`
		} `json:"stream"`
	}
	json.Unmarshal(st, &sm)
	forms := map[string]any{
		"stream array":   []json.RawMessage{st},
		"wrapped":        []any{map[string]any{"type": "STATE", "state": st}},
		"global":         map[string]any{"type": "GLOBAL", "global": map[string]any{"stream_states": []any{map[string]any{"stream_descriptor": map[string]any{"name": sTimeEntries}, "stream_state": sm.Stream.StreamState}}}},
		"legacy object":  map[string]any{sTimeEntries: sm.Stream.StreamState},
		"legacy wrapped": map[string]any{"type": "LEGACY", "data": map[string]any{sTimeEntries: sm.Stream.StreamState}},
	}
	for name, form := range forms {
		res := readCmd(t, context.Background(), New(), s.config(nil), cat, form)
		if res.code != 0 {
			t.Fatalf("%s: exit %d %+v", name, res.code, res.errors())
		}
		if n := len(entries(t, res)); n == 0 || n >= total {
			t.Errorf("%s: %d entries of %d; the state was not applied", name, n, total)
		}
	}
	for _, empty := range []string{"[]", "{}", "null", ""} {
		res := readCmd(t, context.Background(), New(), s.config(nil), cat, empty)
		if res.code != 0 || len(entries(t, res)) != total {
			t.Errorf("state %q: exit %d, %d entries, want a full read of %d", empty, res.code, len(entries(t, res)), total)
		}
	}
	// A state this source cannot read is reported and ignored: a full re-read loses nothing.
	res := readCmd(t, context.Background(), New(), s.config(nil), cat, []any{map[string]any{"type": "STREAM",
		"stream": map[string]any{"stream_descriptor": map[string]any{"name": sTimeEntries}, "stream_state": map[string]any{"cursors": "not a map"}}}})
	if res.code != 0 || len(entries(t, res)) != total || !strings.Contains(strings.Join(res.logs("WARN"), "\n"), "ignoring a state") {
		t.Errorf("unreadable state: exit %d, %d entries, warnings %q", res.code, len(entries(t, res)), res.logs("WARN"))
	}
}

// TestStartFilterTimeZoneQuirk: with the server reading the start filter in the account's time
// zone (here UTC-10), start_date and incremental windows still return exactly the entries at or
// after the bound.
func TestStartFilterTimeZoneQuirk(t *testing.T) {
	for _, zone := range []string{"Pacific/Honolulu", "Pacific/Kiritimati", "Europe/Belgrade"} {
		cfg := clockifysim.Demo()
		cfg.AccountTimeZone = true
		cfg.OwnerTimeZone = zone
		s := startSim(t, cfg, nil)
		cat := configuredCatalog(t, map[string]airbyte.SyncMode{sTimeEntries: airbyte.FullRefresh}, nil)
		all := entries(t, readCmd(t, context.Background(), New(), s.config(nil), cat, nil))
		var lo, hi time.Time
		for i, e := range all {
			if ts := e.start(t); i == 0 || ts.Before(lo) {
				lo = ts
			}
			if ts := e.start(t); ts.After(hi) {
				hi = ts
			}
		}
		// The bound is an entry's own start: a filter shifted later by the zone would lose it.
		target := lo.Add(hi.Sub(lo) * 3 / 4)
		bound := hi
		for _, e := range all {
			if ts := e.start(t); !ts.Before(target) && ts.Before(bound) {
				bound = ts
			}
		}
		var want []string
		for _, e := range all {
			if !e.start(t).Before(bound) {
				want = append(want, e.ID)
			}
		}
		res := readCmd(t, context.Background(), New(), s.config(map[string]any{"start_date": bound.Format(time.RFC3339)}), cat, nil)
		if d := diffIDs(want, idsOf(entries(t, res))); d != "" {
			t.Errorf("%s: start_date %s: %s", zone, bound.Format(time.RFC3339), d)
		}
	}
}

// TestNamespaceAndWorkspaceSelection: the catalog's namespace is copied to records and states,
// and workspace_id limits the read to that workspace.
func TestNamespaceAndWorkspaceSelection(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), nil)
	ws := s.WorkspaceIDs()[1]
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sWorkspaces: airbyte.FullRefresh, sTags: airbyte.FullRefresh, sTasks: airbyte.FullRefresh}, nil)
	for i := range cat.Streams {
		cat.Streams[i].Stream.Namespace = "clockify_raw"
	}
	res := readCmd(t, context.Background(), New(), s.config(map[string]any{"workspace_id": ws}), cat, nil)
	if res.code != 0 {
		t.Fatalf("exit %d %+v", res.code, res.errors())
	}
	recs := res.records()
	if len(recs) == 0 {
		t.Fatal("no records")
	}
	for _, r := range recs {
		if r.Namespace == nil || *r.Namespace != "clockify_raw" {
			t.Fatalf("record of %s has namespace %v", r.Stream, r.Namespace)
		}
		var x struct {
			ID          string `json:"id"`
			WorkspaceID string `json:"workspaceId"`
		}
		json.Unmarshal(r.Data, &x)
		if r.Stream == sWorkspaces && x.ID != ws || r.Stream != sWorkspaces && x.WorkspaceID != ws {
			t.Fatalf("record of %s from another workspace: %.200s", r.Stream, r.Data)
		}
	}
	for _, st := range res.states() {
		if st.Stream.Descriptor.Namespace != "clockify_raw" {
			t.Fatalf("state of %s without the namespace", st.Stream.Descriptor.Name)
		}
	}
	for _, tr := range res.traces() {
		if tr.StreamStatus != nil && tr.StreamStatus.Descriptor.Namespace != "clockify_raw" {
			t.Fatalf("status of %s without the namespace", tr.StreamStatus.Descriptor.Name)
		}
	}
	if n := len(idsByStream(t, recs)[sWorkspaces]); n != 1 {
		t.Errorf("%d workspace records, want 1", n)
	}
	res = readCmd(t, context.Background(), New(), s.config(map[string]any{"workspace_ids": []string{ws, "ffffffffffffffffffffffff"}}), cat, nil)
	if res.code == 0 || len(res.errors()) == 0 || !strings.Contains(res.errors()[0].Error.Message, "ffffffffffffffffffffffff") {
		t.Errorf("an unknown workspace id: exit %d, errors %+v", res.code, res.errors())
	}
}

// TestCursorWaitsForWholeWindow: entries arrive newest first, so a member whose window fails
// half way keeps the cursor it had; the others advance.
func TestCursorWaitsForWholeWindow(t *testing.T) {
	var victim string
	s := startSim(t, clockifysim.Demo(), rewrite(func(r *http.Request) bool {
		return victim != "" && strings.Contains(r.URL.Path, "/user/"+victim+"/time-entries") && r.URL.Query().Get("page") == "2"
	}, func(int, []byte) (int, []byte) { return 400, []byte(`{"message":"Simulated refusal","code":3000}`) }))
	ws := s.WorkspaceIDs()[0]
	victim = s.UserIDs(ws)[0]
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sTimeEntries: airbyte.Incremental}, nil)
	prior := "2000-01-01T00:00:00Z"
	state := []any{map[string]any{"type": "STREAM", "stream": map[string]any{"stream_descriptor": map[string]any{"name": sTimeEntries},
		"stream_state": map[string]any{"cursors": map[string]string{ws + "/" + victim: prior}}}}}
	res := readCmd(t, context.Background(), New(), s.config(map[string]any{"page_size": 50}), cat, state)
	if res.code == 0 {
		t.Fatal("exit 0 although a window failed")
	}
	st := lastStreamState(t, res, sTimeEntries)
	if st.Cursors[ws+"/"+victim] != prior {
		t.Errorf("cursor of the failed member moved to %q, want it kept at %s", st.Cursors[ws+"/"+victim], prior)
	}
	others := 0
	for k := range st.Cursors {
		if k != ws+"/"+victim {
			others++
		}
	}
	if others == 0 {
		t.Errorf("no other member's cursor advanced: %v", st.Cursors)
	}
	var seen bool
	for _, e := range entries(t, res) {
		seen = seen || e.UserID == victim
	}
	if !seen {
		t.Error("the failed member's first page was not delivered; the test does not exercise a half-read window")
	}
}

// TestRequiredWindowStream: a stream whose endpoint requires start and end is read in one window
// per workspace, from Range.From (no cursor, no start_date) to a year ahead; incrementally from
// its cursor minus the lookback (and 14 h for the zone quirk), the cursor never past the read.
func TestRequiredWindowStream(t *testing.T) {
	const name = "scheduling_assignments"
	var mu sync.Mutex
	var queries []url.Values
	s := startSim(t, clockifysim.Demo(), func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/scheduling/assignments/all") {
				mu.Lock()
				queries = append(queries, r.URL.Query())
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	})
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{name: airbyte.Incremental}, nil)
	started := time.Now()
	first := readCmd(t, context.Background(), New(), s.config(nil), cat, nil)
	if first.code != 0 {
		t.Fatalf("read 1: exit %d %+v", first.code, first.errors())
	}
	checkProtocol(t, first, []string{name})
	if d := diffIDs(s.GroundTruth()[name], idsByStream(t, first.records())[name]); d != "" {
		t.Fatalf("read 1: %s", d)
	}
	// Only the workspace with the feature is asked, once, with the full default window.
	if len(queries) != 1 {
		t.Fatalf("%d requests, want 1 (one workspace has scheduling): %v", len(queries), queries)
	}
	r := streams.ByName(name).Range
	end, _ := time.Parse(time.RFC3339, queries[0].Get("end"))
	if queries[0].Get("start") != r.From.Add(-maxZoneOffset).Format(time.RFC3339) || end.Before(started.Add(r.Ahead-time.Minute)) {
		t.Errorf("first window %v, want from %s (less 14 h) to a year ahead", queries[0], r.From)
	}
	st := lastStreamState(t, first, name)
	if len(st.Cursors) != 1 {
		t.Fatalf("cursors %v, want one per workspace with the feature", st.Cursors)
	}
	var cursor time.Time
	for _, v := range st.Cursors {
		cursor, _ = time.Parse(time.RFC3339Nano, v)
	}
	if cursor.After(time.Now()) {
		t.Errorf("cursor %s is past the read", cursor)
	}

	queries = nil
	second := readCmd(t, context.Background(), New(), s.config(map[string]any{"lookback_window_days": 30}), cat, first.finalStates())
	if second.code != 0 {
		t.Fatalf("read 2: exit %d %+v", second.code, second.errors())
	}
	bound := cursor.Add(-30 * 24 * time.Hour)
	if len(queries) != 1 || queries[0].Get("start") != bound.Add(-maxZoneOffset).UTC().Format(time.RFC3339) {
		t.Fatalf("incremental window %v, want start %s less 14 h", queries, bound)
	}
	var want []string
	for _, rec := range first.records() {
		var a struct {
			ID     string `json:"id"`
			Period struct {
				Start time.Time `json:"start"`
			} `json:"period"`
		}
		json.Unmarshal(rec.Data, &a)
		if !a.Period.Start.Before(bound) {
			want = append(want, a.ID)
		}
	}
	if d := diffIDs(want, idsByStream(t, second.records())[name]); d != "" || len(want) == 0 {
		t.Errorf("read 2 (from %s): %s (want %d)", bound, d, len(want))
	}
}
