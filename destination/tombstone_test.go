package destination

import (
	"fmt"
	"slices"
	"testing"
)

const deletableSchema = `{"type":"object","properties":{"id":{"type":"integer"},"v":{"type":"string"},"ts":{"type":"integer"},` +
	`"_ab_cdc_deleted_at":{"type":["null","string"],"format":"date-time","airbyte_type":"timestamp_with_timezone"}}}`

func tombstone(id, ts int) string {
	return rec("items", fmt.Sprintf(`{"id":%d,"ts":%d,"_ab_cdc_deleted_at":"2026-01-02T03:04:05Z"}`, id, ts), int64(5000+ts))
}

// TestTombstonesThroughTheBinary: records with _ab_cdc_deleted_at remove the row of their key in
// append_dedup, in the commit that carries them (an existing row with a later cursor included;
// a key never seen is no row either), and a record after a tombstone of its key brings the row
// back; append stores tombstones as rows.
func TestTombstonesThroughTheBinary(t *testing.T) {
	h := newHarness(t)
	dedup := catalogFor("items", deletableSchema, "append_dedup", "id", "ts", 0, 0)
	p := h.start(t, dedup)
	p.send(t, item(1, "a", 1), item(2, "b", 2), item(3, "c", 3), item(4, "d", 40), state("items", 1, 1))
	if code, out := p.finish(t); code != 0 || len(states(out)) != 1 {
		t.Fatalf("sync 1: exit %d, %v", code, out)
	}
	p = h.start(t, dedup)
	p.send(t,
		tombstone(2, 2),                   // deleted
		tombstone(9, 9),                   // never written
		item(3, "c2", 4),                  // updated
		tombstone(1, 1), item(1, "a2", 1), // deleted, then restored in the same batch
		tombstone(4, 4),                  // an existing row with a higher cursor goes too
		item(5, "e", 5), tombstone(5, 5), // written and deleted in the same batch
		state("items", 2, 2))
	if code, out := p.finish(t); code != 0 || len(states(out)) != 1 {
		t.Fatalf("sync 2: exit %d, %v", code, out)
	}
	got := project(h.rows("clockify", "items", "id"), "id", "v", "_ab_cdc_deleted_at")
	if want := []string{"1|a2|<null>", "3|c2|<null>"}; !slices.Equal(got, want) {
		t.Fatalf("append_dedup after tombstones: %v, want %v", got, want)
	}
	tbl := h.table("clockify", "items")
	if p := tbl.CurrentSnapshot().Summary.Properties; p["total-equality-deletes"] != "" && p["total-equality-deletes"] != "0" {
		t.Errorf("equality deletes in the snapshot: %v", p)
	}

	h2 := newHarness(t)
	app := catalogFor("items", deletableSchema, "append", "", "", 0, 0)
	h2.mustWrite(app, lines(item(1, "a", 1), tombstone(1, 1), state("items", 1, 1)))
	got = project(h2.rows("clockify", "items", "_airbyte_raw_id"), "id", "_ab_cdc_deleted_at")
	slices.Sort(got)
	if len(got) != 2 || got[0] != "1|2026-01-02T03:04:05Z" && got[1] != "1|2026-01-02T03:04:05Z" || got[0] != "1|<null>" && got[1] != "1|<null>" {
		t.Fatalf("append keeps a tombstone as a row: %v", got)
	}
}
