package source

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
)

// tombstoneMsg is a record with _ab_cdc_deleted_at set.
type tombstoneMsg struct {
	ID           string  `json:"id"`
	WorkspaceID  string  `json:"workspaceId"`
	UserID       string  `json:"userId"`
	DeletedAt    *string `json:"_ab_cdc_deleted_at"`
	TimeInterval struct {
		Start string `json:"start"`
	} `json:"timeInterval"`
}

// split sorts a read's time entries into tombstones and live entries.
func splitEntries(t testing.TB, res *result) (dead map[string]tombstoneMsg, live map[string]entry) {
	dead, live = map[string]tombstoneMsg{}, map[string]entry{}
	for _, r := range res.records() {
		if r.Stream != sTimeEntries {
			continue
		}
		var ts tombstoneMsg
		if err := json.Unmarshal(r.Data, &ts); err != nil {
			t.Fatal(err)
		}
		if ts.DeletedAt != nil {
			if _, err := time.Parse(time.RFC3339Nano, *ts.DeletedAt); err != nil {
				t.Errorf("tombstone %s: _ab_cdc_deleted_at %q is not an instant", ts.ID, *ts.DeletedAt)
			}
			dead[ts.ID] = ts
			continue
		}
		var e entry
		json.Unmarshal(r.Data, &e)
		live[e.ID] = e
	}
	return dead, live
}

// recentAndOld picks, from a member's first read, entries inside the next read's lookback window
// and entries far older than it.
func recentAndOld(t testing.TB, es []entry, userID string, lookback time.Duration) (recent, old []entry) {
	var mine []entry
	newest := time.Time{}
	for _, e := range es {
		if e.UserID == userID {
			mine = append(mine, e)
			if e.start(t).After(newest) {
				newest = e.start(t)
			}
		}
	}
	for _, e := range mine {
		switch st := e.start(t); {
		case !st.Before(newest.Add(-lookback)) && st.Before(newest):
			recent = append(recent, e)
		case st.Before(newest.Add(-10 * lookback)):
			old = append(old, e)
		}
	}
	if len(recent) < 4 || len(old) < 2 {
		t.Fatalf("member %s: %d recent and %d old entries; the preset does not fit the test", userID, len(recent), len(old))
	}
	return recent, old
}

// addRecent gives a member a few entries of the last minutes, so its lookback window holds some.
func addRecent(t testing.TB, s *sim, ws, user string) {
	t.Helper()
	if _, err := s.AddTimeEntries(ws, user, 8); err != nil {
		t.Fatal(err)
	}
}

func incrementalCatalog(t testing.TB, syncID *int64) *airbyte.ConfiguredCatalog {
	return configuredCatalog(t, map[string]airbyte.SyncMode{sTimeEntries: airbyte.Incremental}, syncID)
}

// TestDeletionsFoundByLookbackWindow: entries deleted inside the lookback window come back as
// tombstones (id, parent keys, start, _ab_cdc_deleted_at); an entry edited within the window comes
// back changed; one moved out of the window is fetched and comes back as it is now, not as deleted.
func TestDeletionsFoundByLookbackWindow(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), nil)
	ws := s.WorkspaceIDs()[1]
	user := s.UserIDs(ws)[0]
	addRecent(t, s, ws, user)
	cat := incrementalCatalog(t, nil)
	conf := s.config(map[string]any{"deletion_detection": "lookback_window"})
	first := readCmd(t, context.Background(), New(), conf, cat, nil)
	if first.code != 0 {
		t.Fatalf("read 1: exit %d %+v", first.code, first.errors())
	}
	st := lastStreamState(t, first, sTimeEntries)
	if len(st.Seen) == 0 {
		t.Fatalf("no lookback ids in the state: %+v", st)
	}
	recent, old := recentAndOld(t, entries(t, first), user, 7*24*time.Hour)
	deleted := []string{recent[0].ID, recent[1].ID, recent[2].ID}
	if n, err := s.DeleteTimeEntries(ws, deleted...); err != nil || n != 3 {
		t.Fatalf("deleting: %d, %v", n, err)
	}
	edited, movedOut := recent[3], recent[len(recent)-1]
	newStart := edited.start(t).Add(30 * time.Minute)
	if err := s.MoveTimeEntry(ws, edited.ID, newStart); err != nil {
		t.Fatal(err)
	}
	if err := s.MoveTimeEntry(ws, movedOut.ID, old[0].start(t).Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	s.ResetStats()
	second := readCmd(t, context.Background(), New(), conf, cat, first.finalStates())
	if second.code != 0 {
		t.Fatalf("read 2: exit %d %+v", second.code, second.errors())
	}
	checkProtocol(t, second, []string{sTimeEntries})
	dead, live := splitEntries(t, second)
	if len(dead) != 3 {
		t.Errorf("tombstones %v, want the 3 deleted", dead)
	}
	for _, id := range deleted {
		ts, ok := dead[id]
		want := ""
		for _, e := range recent {
			if e.ID == id {
				want = e.TimeInterval.Start
			}
		}
		if !ok || ts.WorkspaceID != ws || ts.UserID != user || !sameInstant(ts.TimeInterval.Start, want) {
			t.Errorf("tombstone of %s: %+v, want workspace %s, user %s, start %s", id, ts, ws, user, want)
		}
		if _, ok := live[id]; ok {
			t.Errorf("deleted entry %s is still listed", id)
		}
	}
	if e, ok := live[edited.ID]; !ok || !e.start(t).Equal(newStart) {
		t.Errorf("edited entry %s: %+v, want its new start %s", edited.ID, e, newStart)
	}
	if e, ok := live[movedOut.ID]; !ok || e.WorkspaceID != ws {
		t.Errorf("the entry moved out of the window came back as %+v; want it re-fetched, not deleted", e)
	}
	// Every entry the window no longer lists is checked once: 3 deleted, 1 moved out.
	if n := s.Stats().Routes["time_entries/one"]; n != 4 {
		t.Errorf("%d single-entry checks, want 4", n)
	}
	if strings.Contains(string(second.stdout), "entities/deleted") || s.Stats().Routes["time_entries/deleted"] != 0 {
		t.Error("lookback_window asked the change feed")
	}
	// The next state no longer holds the deleted ids.
	for k, v := range lastStreamState(t, second, sTimeEntries).Seen {
		es, err := unpackSeen(v)
		if err != nil {
			t.Fatalf("seen %s: %v", k, err)
		}
		for _, e := range es {
			if slices.Contains(deleted, e.id) {
				t.Errorf("deleted %s still in the lookback ids", e.id)
			}
		}
	}
}

func sameInstant(a, b string) bool {
	x, err1 := time.Parse(time.RFC3339Nano, a)
	y, err2 := time.Parse(time.RFC3339Nano, b)
	return err1 == nil && err2 == nil && x.Equal(y)
}

// TestDeletionsFoundByChangeFeed: the default reads Clockify's change feed too, so a deletion far
// older than the lookback window is found; each deletion is emitted once, and the feed is read
// from where the previous sync stopped, a little behind now (Clockify lists a deletion about a
// minute after it happens).
func TestDeletionsFoundByChangeFeed(t *testing.T) {
	cfg := clockifysim.Demo()
	cfg.DeletionDelay = 300 * time.Millisecond
	s := startSim(t, cfg, nil)
	ws := s.WorkspaceIDs()[0]
	user := s.UserIDs(ws)[1]
	addRecent(t, s, ws, user)
	src := &Source{feedLag: time.Second}
	cat := incrementalCatalog(t, nil)
	conf := s.config(nil)
	first := readCmd(t, context.Background(), src, conf, cat, nil)
	if first.code != 0 {
		t.Fatalf("read 1: exit %d %+v", first.code, first.errors())
	}
	if marks := lastStreamState(t, first, sTimeEntries).Deletions; len(marks) != len(s.WorkspaceIDs()) {
		t.Fatalf("change feed marks %v after the first read, want one per workspace", marks)
	}
	recent, old := recentAndOld(t, entries(t, first), user, 7*24*time.Hour)
	deleted := []string{recent[0].ID, old[0].ID, old[1].ID}
	if _, err := s.DeleteTimeEntries(ws, deleted...); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past the feed's delay and the source's lag
	s.ResetStats()
	second := readCmd(t, context.Background(), src, conf, cat, first.finalStates())
	if second.code != 0 {
		t.Fatalf("read 2: exit %d %+v", second.code, second.errors())
	}
	dead, _ := splitEntries(t, second)
	var got []string
	for id := range dead {
		got = append(got, id)
	}
	if d := diffIDs(deleted, got); d != "" {
		t.Errorf("tombstones: %s", d)
	}
	if ts := dead[old[0].ID]; ts.UserID != user || ts.WorkspaceID != ws || !sameInstant(ts.TimeInterval.Start, old[0].TimeInterval.Start) {
		t.Errorf("the feed's tombstone of %s is %+v", old[0].ID, ts)
	}
	if n := s.Stats().Routes["time_entries/deleted"]; n != int64(len(s.WorkspaceIDs())) {
		t.Errorf("%d change feed requests, want one per workspace", n)
	}
	// A third read lists no deletion again: the feed goes on from the second read's mark.
	third := readCmd(t, context.Background(), src, conf, cat, second.finalStates())
	if dead, _ := splitEntries(t, third); third.code != 0 || len(dead) != 0 {
		t.Errorf("read 3: exit %d, tombstones %v", third.code, dead)
	}
}

// TestDeletionsWhenChangeFeedRefused: a refused feed is a WARN, never a failure; the lookback
// window still finds recent deletions, and the feed's mark stays for the next sync.
func TestDeletionsWhenChangeFeedRefused(t *testing.T) {
	cfg := clockifysim.Demo()
	cfg.DeletedFeedStatus = 403
	cfg.DeletionDelay = -1
	s := startSim(t, cfg, nil)
	ws := s.WorkspaceIDs()[1]
	user := s.UserIDs(ws)[1]
	addRecent(t, s, ws, user)
	src := &Source{feedLag: -1}
	cat := incrementalCatalog(t, nil)
	conf := s.config(nil)
	first := readCmd(t, context.Background(), src, conf, cat, nil)
	if first.code != 0 {
		t.Fatalf("read 1: exit %d", first.code)
	}
	marks := lastStreamState(t, first, sTimeEntries).Deletions
	recent, old := recentAndOld(t, entries(t, first), user, 7*24*time.Hour)
	if _, err := s.DeleteTimeEntries(ws, recent[0].ID, old[0].ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the feed is asked in whole seconds
	second := readCmd(t, context.Background(), src, conf, cat, first.finalStates())
	if second.code != 0 {
		t.Fatalf("a refused change feed failed the read: exit %d %+v", second.code, second.errors())
	}
	checkProtocol(t, second, []string{sTimeEntries})
	warned := 0
	for _, l := range second.logs("WARN") {
		if strings.Contains(l, "change feed") && strings.Contains(l, "403") {
			warned++
		}
	}
	if warned != len(s.WorkspaceIDs()) {
		t.Errorf("%d WARNs about the refused feed, want one per workspace: %q", warned, second.logs("WARN"))
	}
	dead, _ := splitEntries(t, second)
	if _, ok := dead[recent[0].ID]; !ok || len(dead) != 1 {
		t.Errorf("tombstones %v, want only the recent %s (the old one needs the feed)", dead, recent[0].ID)
	}
	if got := lastStreamState(t, second, sTimeEntries).Deletions; fmt.Sprint(got) != fmt.Sprint(marks) {
		t.Errorf("feed marks moved from %v to %v although the feed was refused", marks, got)
	}
}

// TestDeletionsSurviveResume: a read interrupted after some windows, resumed with its last STATE
// in the same sync, emits every deletion and invents none.
func TestDeletionsSurviveResume(t *testing.T) {
	cfg := clockifysim.Acceptance()
	cfg.Latency = 2 * time.Millisecond
	s := startSim(t, cfg, nil)
	syncID := int64(5)
	cat := incrementalCatalog(t, &syncID)
	conf := s.config(map[string]any{"deletion_detection": "lookback_window", "page_size": 200, "max_concurrency": 1})
	first := readCmd(t, context.Background(), New(), conf, cat, nil)
	if first.code != 0 {
		t.Fatalf("read 1: exit %d", first.code)
	}
	var deleted []string
	es := entries(t, first)
	for _, w := range s.WorkspaceIDs() {
		for _, u := range s.UserIDs(w) {
			var mine []entry
			for _, e := range es {
				if e.UserID == u && e.WorkspaceID == w {
					mine = append(mine, e)
				}
			}
			if len(mine) < 2 {
				continue
			}
			// The second newest is inside the window.
			slices.SortFunc(mine, func(a, b entry) int { return b.start(t).Compare(a.start(t)) })
			if _, err := s.DeleteTimeEntries(w, mine[1].ID); err != nil {
				t.Fatal(err)
			}
			deleted = append(deleted, mine[1].ID)
		}
	}
	syncID2 := int64(6)
	cat2 := incrementalCatalog(t, &syncID2)
	dir := t.TempDir()
	args := []string{"read", "--config", writeJSONFile(t, dir, "c.json", conf), "--catalog", writeJSONFile(t, dir, "k.json", cat2),
		"--state", writeJSONFile(t, dir, "s.json", first.finalStates())}
	ctx, cancel := context.WithCancel(context.Background())
	out := &cancelAfter{n: 3, cancel: cancel}
	var errb bytes.Buffer
	code := airbyte.RunSource(ctx, New(), args, nil, out, &errb)
	cancel()
	interrupted := parseOutput(t, code, out.buf.Bytes(), errb.Bytes())
	if code == 0 {
		t.Fatal("the read was not interrupted")
	}
	resumed := readCmd(t, context.Background(), New(), conf, cat2, interrupted.finalStates())
	if resumed.code != 0 {
		t.Fatalf("resumed read: exit %d %+v", resumed.code, resumed.errors())
	}
	dead1, _ := splitEntries(t, interrupted)
	dead2, _ := splitEntries(t, resumed)
	t.Logf("%d deleted; tombstones before / after the interruption: %d / %d", len(deleted), len(dead1), len(dead2))
	if len(dead2) == 0 {
		t.Error("the resumed read emitted no tombstone; the interruption came too late to test resuming")
	}
	var got []string
	for id := range dead1 {
		got = append(got, id)
	}
	for id := range dead2 {
		if _, twice := dead1[id]; !twice {
			got = append(got, id)
		}
	}
	if d := diffIDs(deleted, got); d != "" {
		t.Errorf("deletions across the interruption: %s", d)
	}
}

// TestWindowBoundaryAtOneInstant: thousands of entries starting at the same second, read as two
// windows meeting exactly there (one finished in an earlier attempt of the sync, one now): the
// entries at the boundary belong to the upper window only, so none is lost or read twice.
func TestWindowBoundaryAtOneInstant(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), nil)
	ws := s.WorkspaceIDs()[0]
	user := s.UserIDs(ws)[2]
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	same, err := s.AddTimeEntriesAt(ws, user, 1234, at)
	if err != nil {
		t.Fatal(err)
	}
	syncID := int64(9)
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sTimeEntries: airbyte.FullRefresh}, &syncID)
	conf := s.config(map[string]any{"page_size": 200, "workspace_id": ws})
	key := ws + "/" + user
	read := func(done windowState) []string {
		st, _ := json.Marshal(streamState{SyncID: &syncID, Windows: map[string][]windowState{key: {done}}})
		res := readCmd(t, context.Background(), New(), conf, cat, []any{map[string]any{"type": "STREAM",
			"stream": map[string]any{"stream_descriptor": map[string]any{"name": sTimeEntries}, "stream_state": json.RawMessage(st)}}})
		if res.code != 0 {
			t.Fatalf("read: exit %d %+v", res.code, res.errors())
		}
		var ids []string
		for _, e := range entries(t, res) {
			if e.UserID == user {
				ids = append(ids, e.ID)
			}
		}
		return ids
	}
	boundary := at.Format(time.RFC3339)
	below := read(windowState{From: boundary}) // [at, ∞) finished: read (−∞, at)
	above := read(windowState{To: boundary})   // (−∞, at) finished: read [at, ∞)
	for _, id := range same {
		if slices.Contains(below, id) || !slices.Contains(above, id) {
			t.Fatalf("entry %s at the boundary: below %v, above %v; want it above only", id, slices.Contains(below, id), slices.Contains(above, id))
		}
	}
	truth := []string{}
	for _, id := range s.GroundTruth()[sTimeEntries] {
		truth = append(truth, id)
	}
	var mine []string
	for _, id := range truth {
		if slices.Contains(below, id) || slices.Contains(above, id) {
			mine = append(mine, id)
		}
	}
	if d := diffIDs(mine, append(below, above...)); d != "" {
		t.Errorf("the two windows: %s", d)
	}
	if n := len(below) + len(above); n != 15+1234 {
		t.Errorf("%d entries in the two windows, want the member's 15 + 1234", n)
	}
}

// TestSkewedMemberReadInParallel: one member holds most entries (a few with identical starts);
// with a rate limit the idle workers split its window, so several windows read at once, and still
// every entry arrives once with requests close to the minimum.
func TestSkewedMemberReadInParallel(t *testing.T) {
	cfg := clockifysim.Scaled(60_000)
	cfg.Latency = 20 * time.Millisecond
	s := startSim(t, cfg, nil)
	ws := s.WorkspaceIDs()[0]
	big := s.UserIDs(ws)[0]
	if _, err := s.AddTimeEntriesAt(ws, big, 700, time.Date(2024, 3, 3, 3, 3, 3, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sTimeEntries: airbyte.FullRefresh}, nil)
	conf := s.config(map[string]any{"page_size": 500, "requests_per_second": 200, "max_requests_per_second": 200, "max_concurrency": 6})
	res := readCmd(t, context.Background(), New(), conf, cat, nil)
	if res.code != 0 {
		t.Fatalf("exit %d %+v", res.code, res.errors())
	}
	checkProtocol(t, res, []string{sTimeEntries})
	if d := diffIDs(s.GroundTruth()[sTimeEntries], idsByStream(t, res.records())[sTimeEntries]); d != "" {
		t.Fatalf("entries: %s", d)
	}
	splits := 0
	for _, l := range res.logs("DEBUG") {
		if strings.Contains(l, "is split at") {
			splits++
		}
	}
	teMin := minimumEntryRequests(t, res, 500)
	teReqs := s.Stats().Routes[sTimeEntries]
	t.Logf("%d splits; %d time-entry requests, minimum %d", splits, teReqs, teMin)
	if splits == 0 {
		t.Error("the deep member's window was never split")
	}
	// A split costs about the part of one page below its cut, an unbounded window's first split
	// one empty page; BENCHMARKS.md section 6 holds the 3 % goal at full size.
	if over := teReqs - teMin; float64(over) > float64(splits)/2+2 {
		t.Errorf("%d time-entry requests, %d over the minimum %d for %d splits", teReqs, over, teMin, splits)
	}
}

// TestLookbackStateSize measures the state of 1,000 members with a week of entries each (five a
// day, Clockify ids, whole-second starts) after an incremental read: the ids the next read
// compares with are what makes it grow.
func TestLookbackStateSize(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 1,000 partitions")
	}
	const members, perDay = 1000, 5
	n := int(3 * 365 * perDay) // the simulator spreads a member's entries over three years
	users := make([]clockifysim.UserSpec, members)
	for i := range users {
		users[i] = clockifysim.UserSpec{TimeEntries: n}
	}
	cfg := clockifysim.Config{Seed: 3, Workspaces: []clockifysim.WorkspaceSpec{{Name: "Big team", Plan: clockifysim.PlanFree, Users: users}}}
	s := startSim(t, cfg, nil)
	// The generated entries end on 2026-01-01; from nine days before, a first read keeps a week.
	conf := s.config(map[string]any{"start_date": "2025-12-23T00:00:00Z", "max_concurrency": 16})
	res := readCmd(t, context.Background(), New(), conf, incrementalCatalog(t, nil), nil)
	if res.code != 0 {
		t.Fatalf("exit %d %+v", res.code, res.errors())
	}
	var final json.RawMessage
	for _, st := range res.states() {
		if st.Stream.Descriptor.Name == sTimeEntries {
			final = st.Stream.StreamState
		}
	}
	var st streamState
	json.Unmarshal(final, &st)
	kept := 0
	for _, v := range st.Seen {
		es, err := unpackSeen(v)
		if err != nil {
			t.Fatal(err)
		}
		kept += len(es)
	}
	noSeen := st
	noSeen.Seen = nil
	rest, _ := json.Marshal(noSeen)
	t.Logf("state of %d members: %d bytes (%.0f per member); %d entries kept (%.1f per member), %.1f bytes each; without the ids %d bytes",
		len(st.Cursors), len(final), float64(len(final))/float64(len(st.Cursors)), kept, float64(kept)/float64(len(st.Seen)),
		float64(len(final)-len(rest))/float64(kept), len(rest))
	if len(st.Seen) != members || kept < members*7*perDay*9/10 {
		t.Fatalf("%d members with ids, %d entries kept; want %d members with a week each", len(st.Seen), kept, members)
	}
	if perEntry := float64(len(final)-len(rest)) / float64(kept); perEntry > 22 {
		t.Errorf("%.1f bytes per kept entry; the packing should stay near 19", perEntry)
	}
}

// TestSplitNeverOverlapsWindows: members whose entries are dense near now (one a minute) and
// sparse before; under a rate limit idle workers split windows. A window's density may only
// count the entries inside it: counting the ones its widened end filter returns above it once
// put a cut above the window's own top, so windows overlapped or ran backwards, re-read the same
// entries again and again, and the read never ended.
func TestSplitNeverOverlapsWindows(t *testing.T) {
	cfg := clockifysim.Scaled(1200)
	cfg.Latency = 20 * time.Millisecond
	s := startSim(t, cfg, nil)
	ws := s.WorkspaceIDs()[0]
	for _, u := range s.UserIDs(ws)[1:] {
		if _, err := s.AddTimeEntries(ws, u, 540); err != nil {
			t.Fatal(err)
		}
	}
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sTimeEntries: airbyte.FullRefresh}, nil)
	conf := s.config(map[string]any{"page_size": 50, "workspace_id": ws, "requests_per_second": 100, "max_requests_per_second": 100, "max_concurrency": 8})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := readCmd(t, ctx, New(), conf, cat, nil)
	if res.code != 0 {
		t.Fatalf("exit %d %+v", res.code, res.errors())
	}
	got := idsByStream(t, res.records())[sTimeEntries]
	if d := diffIDs(s.GroundTruth()[sTimeEntries], got); d != "" {
		t.Fatalf("%d records for %d entries: %s", len(got), len(s.GroundTruth()[sTimeEntries]), d)
	}
	for _, l := range res.logs("DEBUG") {
		if i := strings.Index(l, "is split at"); i >= 0 {
			t.Log(l[i:])
		}
	}
	// Splits may add a few pages each, not re-reads.
	teMin := minimumEntryRequests(t, res, 50)
	if teReqs := s.Stats().Routes[sTimeEntries]; float64(teReqs) > 1.5*float64(teMin) {
		t.Errorf("%d time-entry requests for a minimum of %d", teReqs, teMin)
	}
}

// minimumEntryRequests is what a perfect client needs for a read's time entries: each member paged
// once, ceil(entries / pageSize) requests.
func minimumEntryRequests(t testing.TB, res *result, pageSize int64) int64 {
	perMember := map[string]int64{}
	for _, e := range entries(t, res) {
		perMember[e.UserID]++
	}
	var n int64
	for _, c := range perMember {
		n += max(1, (c+pageSize-1)/pageSize)
	}
	return n
}
