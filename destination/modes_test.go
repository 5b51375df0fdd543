package destination

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/destination/catalogs"
)

const itemsSchema = `{"type":"object","properties":{"id":{"type":"integer"},"v":{"type":"string"},"ts":{"type":"integer"}}}`

func item(id int, v string, ts int) string {
	return rec("items", fmt.Sprintf(`{"id":%d,"v":%q,"ts":%d}`, id, v, ts), int64(1000+ts))
}

func TestTruncateRefreshReplacesOnlyOnComplete(t *testing.T) {
	h := newHarness(t)
	h.cfg["flush_records"] = 1 // commit at every state: several commits per sync
	gen1 := catalogFor("items", itemsSchema, "append", "", "", 1, 1)
	h.mustWrite(gen1, lines(item(1, "a", 1), state("items", 1, 1), item(2, "b", 2), state("items", 2, 2), complete("items")))
	if got := project(h.rows("clockify", "items", "id"), "id", "v", "_airbyte_generation_id"); !slices.Equal(got, []string{"1|a|1", "2|b|1"}) {
		t.Fatalf("after gen 1: %v", got)
	}

	// Generation 2, interrupted: statuses are present but no COMPLETE arrives.
	gen2 := catalogFor("items", itemsSchema, "append", "", "", 2, 2)
	started := strings.Replace(complete("items"), "COMPLETE", "STARTED", 1)
	out := h.mustWrite(gen2, lines(started, item(3, "c", 3), state("items", 3, 3), item(4, "d", 4), state("items", 4, 4)))
	if n := len(states(out)); n != 2 {
		t.Fatalf("interrupted sync echoed %d states, want 2: %v", n, out)
	}
	if got := project(h.rows("clockify", "items", "id"), "id", "v"); !slices.Equal(got, []string{"1|a", "2|b"}) {
		t.Fatalf("main changed before the refresh completed: %v", got)
	}
	tbl := h.table("clockify", "items")
	if tbl.SnapshotByName(stagingPrefix+"2") == nil {
		t.Fatalf("no staging branch after the interrupted sync; refs %v", tbl.Metadata().Refs())
	}

	// The retry of generation 2 keeps the rows of the failed attempt, then replaces main at COMPLETE.
	h.mustWrite(gen2, lines(started, item(5, "e", 5), state("items", 5, 5), complete("items")))
	got := project(h.rows("clockify", "items", "id"), "id", "v", "_airbyte_generation_id")
	if !slices.Equal(got, []string{"3|c|2", "4|d|2", "5|e|2"}) {
		t.Fatalf("after completed gen 2: %v", got)
	}
	tbl = h.table("clockify", "items")
	for name := range tbl.Metadata().Refs() {
		if name != "main" {
			t.Errorf("ref %q left behind", name)
		}
	}
	if tbl.CurrentSnapshot().Summary.Properties[SummaryCheckpoint] != "5" {
		t.Errorf("checkpoint = %v", tbl.CurrentSnapshot().Summary.Properties)
	}

	// Generation 3 with a different abandoned generation branch around: it is dropped.
	gen3 := catalogFor("items", itemsSchema, "append", "", "", 3, 3)
	h.mustWrite(gen3, lines(item(6, "f", 6), state("items", 6, 6)))
	if got := project(h.rows("clockify", "items", "id"), "id", "v"); !slices.Equal(got, []string{"6|f"}) {
		t.Fatalf("gen 3 without statuses should finalize at EOF: %v", got)
	}
}

func TestLegacyOverwriteAndEmptyRefresh(t *testing.T) {
	h := newHarness(t)
	cc := `{"streams":[{"stream":{"name":"items","json_schema":` + itemsSchema + `,"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`
	h.mustWrite(cc, lines(item(1, "a", 1), item(2, "b", 2), state("items", 1, 1)))
	h.mustWrite(cc, lines(item(3, "c", 3), state("items", 2, 2)))
	if got := project(h.rows("clockify", "items", "id"), "id"); !slices.Equal(got, []string{"3"}) {
		t.Fatalf("overwrite: %v", got)
	}
	// A clear: no records, a null state; the table becomes empty and the state is echoed.
	clear := `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"items"},"stream_state":null},"id":9}}`
	out := h.mustWrite(cc, lines(clear))
	if got := h.rows("clockify", "items", "id"); len(got) != 0 {
		t.Fatalf("clear left rows: %v", got)
	}
	if st := states(out); len(st) != 1 || !strings.Contains(st[0], `"destinationStats":{"recordCount":0.0}`) {
		t.Fatalf("clear echo: %v", out)
	}
}

func TestDedupLatestByCursorAcrossCommitsAndSyncs(t *testing.T) {
	for _, mode := range []string{DedupMergeOnRead, DedupCopyOnWrite} {
		t.Run(mode, func(t *testing.T) { testDedupLatestByCursor(t, mode) })
	}
}

func testDedupLatestByCursor(t *testing.T, mode string) {
	h := newHarness(t)
	h.cfg["flush_records"] = 2
	h.cfg["dedup"] = mode
	// The delete files the write path leaves are checked below: the commits' many small files would
	// otherwise be compacted (deletes folded in) by the maintenance at the end of the sync.
	h.cfg["maintenance"] = noMaintenance
	cc := catalogFor("items", itemsSchema, "append_dedup", "id", "ts", 1, 0)
	h.mustWrite(cc, lines(
		item(1, "a1", 10), item(2, "b1", 10), item(1, "a2", 20), state("items", 1, 1), // dupes inside one batch
		item(3, "c1", 5), item(1, "a0", 15), state("items", 2, 2), // older cursor than committed a2: loses
		item(2, "b2", 11), state("items", 3, 3), // newer than committed b1: wins
		item(3, "c2", 5), state("items", 4, 4), // tie: later arrival wins
	))
	got := project(h.rows("clockify", "items", "id"), "id", "v")
	if want := []string{"1|a2", "2|b2", "3|c2"}; !slices.Equal(got, want) {
		t.Fatalf("after sync 1: %v, want %v", got, want)
	}
	h.mustWrite(cc, lines(item(4, "d1", 1), item(2, "b3", 12), item(1, "a9", 1), state("items", 5, 5)))
	got = project(h.rows("clockify", "items", "id"), "id", "v")
	if want := []string{"1|a2", "2|b3", "3|c2", "4|d1"}; !slices.Equal(got, want) {
		t.Fatalf("after sync 2: %v, want %v", got, want)
	}
	tbl := h.table("clockify", "items")
	f, _ := tbl.Schema().FindFieldByName("id")
	if !f.Required || !slices.Contains(tbl.Schema().IdentifierFieldIDs, f.ID) {
		t.Errorf("id is not a required identifier field: %+v ids %v", f, tbl.Schema().IdentifierFieldIDs)
	}
	if mode == DedupCopyOnWrite {
		assertNoDeleteFiles(t, h, "items")
	} else if n := deleteFiles(t, h, "items"); n == 0 {
		t.Errorf("merge-on-read dedup left no position delete files")
	}
}

func TestDedupWithoutCursorByArrivalAndCompositeKey(t *testing.T) {
	h := newHarness(t)
	h.cfg["flush_records"] = 1
	schema := `{"type":"object","properties":{"org":{"type":"string"},"id":{"type":"integer"},"v":{"type":"string"}}}`
	cc := fmt.Sprintf(`{"streams":[{"stream":{"name":"m","json_schema":%s,"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append_dedup","primary_key":[["org"],["id"]]}]}`, schema)
	r := func(org string, id int, v string) string {
		return rec("m", fmt.Sprintf(`{"org":%q,"id":%d,"v":%q}`, org, id, v), 1)
	}
	h.mustWrite(cc, lines(r("x", 1, "x1"), r("y", 1, "y1"), r("x", 1, "x1b"), state("m", 1, 1), r("x", 2, "x2"), state("m", 2, 2)))
	h.mustWrite(cc, lines(r("y", 1, "y1b"), r("x", 2, "x2b"), state("m", 3, 3)))
	got := project(h.rows("clockify", "m", "v"), "org", "id", "v")
	slices.Sort(got)
	if want := []string{"x|1|x1b", "x|2|x2b", "y|1|y1b"}; !slices.Equal(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	// A null key fails the sync.
	if _, err := h.write(cc, lines(rec("m", `{"org":null,"id":1}`, 1))); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("null key: err = %v", err)
	}
}

func TestOverwriteDedup(t *testing.T) {
	h := newHarness(t)
	cc1 := catalogFor("items", itemsSchema, "append_dedup", "id", "ts", 1, 1)
	h.mustWrite(cc1, lines(item(1, "a", 1), item(2, "b", 1), state("items", 1, 1)))
	cc2 := catalogFor("items", itemsSchema, "append_dedup", "id", "ts", 2, 2)
	h.mustWrite(cc2, lines(item(2, "b2", 1), item(2, "b3", 2), item(3, "c", 1), state("items", 2, 2)))
	if got := project(h.rows("clockify", "items", "id"), "id", "v"); !slices.Equal(got, []string{"2|b3", "3|c"}) {
		t.Fatalf("rows %v", got)
	}
}

func assertNoDeleteFiles(t *testing.T, h *harness, name string) {
	t.Helper()
	tbl := h.table("clockify", name)
	tasks, err := tbl.Scan().PlanFiles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if len(task.DeleteFiles)+len(task.EqualityDeleteFiles)+len(task.DeletionVectorFiles) > 0 {
			t.Fatalf("data file %s has delete files", task.File.FilePath())
		}
	}
}

// deleteFiles counts the position delete files of the live data files of a table, and fails on
// equality deletes (never written: Snowflake cannot read them).
func deleteFiles(t *testing.T, h *harness, name string) int {
	t.Helper()
	tasks, err := h.table("clockify", name).Scan().PlanFiles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, task := range tasks {
		if len(task.EqualityDeleteFiles)+len(task.DeletionVectorFiles) > 0 {
			t.Fatalf("data file %s has equality deletes or deletion vectors", task.File.FilePath())
		}
		for _, d := range task.DeleteFiles {
			seen[d.FilePath()] = true
		}
	}
	return len(seen)
}

// A run killed after replacing main but before removing the staging branch is retried with the
// same generation: the retry must not fail on files main already holds.
func TestTruncateRetryAfterMainReplaced(t *testing.T) {
	h := newHarness(t)
	gen := catalogFor("items", itemsSchema, "append", "", "", 4, 4)
	h.mustWrite(gen, lines(item(1, "a", 1), state("items", 1, 1), complete("items")))
	// Recreate the leftover branch at main's head, as the killed run would have left it.
	tbl := h.table("clockify", "items")
	cfg, _ := parseConfig(h.config())
	cat, err := catalogs.Open(t.Context(), cfg.Settings)
	if err != nil {
		t.Fatal(err)
	}
	defer catalogs.Close(cat)
	if _, _, err := cat.CommitTable(t.Context(), tbl.Identifier(), nil, []table.Update{
		table.NewSetSnapshotRefUpdate(stagingPrefix+"4", tbl.CurrentSnapshot().SnapshotID, table.BranchRef, 0, 0, 0)}); err != nil {
		t.Fatal(err)
	}
	h.mustWrite(gen, lines(item(2, "b", 2), state("items", 2, 2), complete("items")))
	if got := project(h.rows("clockify", "items", "id"), "id"); !slices.Equal(got, []string{"1", "2"}) {
		t.Fatalf("rows %v", got)
	}
}

func TestDedupNestedSourceDefinedCursor(t *testing.T) {
	h := newHarness(t)
	h.cfg["flush_records"] = 1
	schema := `{"type":"object","properties":{"id":{"type":"string"},"v":{"type":"string"},"timeInterval":{"type":["null","object"]}}}`
	cc := fmt.Sprintf(`{"streams":[{"stream":{"name":"te","json_schema":%s,"supported_sync_modes":["incremental"],"source_defined_cursor":true,"default_cursor_field":["timeInterval","start"]},"sync_mode":"incremental","destination_sync_mode":"append_dedup","primary_key":[["id"]]}]}`, schema)
	r := func(id, v, start string) string {
		return rec("te", fmt.Sprintf(`{"id":%q,"v":%q,"timeInterval":{"start":%q,"end":null}}`, id, v, start), 1)
	}
	h.mustWrite(cc, lines(r("a", "new", "2024-05-02T00:00:00Z"), r("a", "old", "2024-05-01T00:00:00Z"), state("te", 1, 1),
		r("b", "b1", "2024-01-01T00:00:00Z"), state("te", 2, 2)))
	h.mustWrite(cc, lines(r("a", "older", "2024-04-01T00:00:00Z"), r("b", "b2", "2024-01-02T00:00:00Z"), state("te", 3, 3)))
	if got := project(h.rows("clockify", "te", "id"), "id", "v"); !slices.Equal(got, []string{"a|new", "b|b2"}) {
		t.Fatalf("rows %v", got)
	}
}
