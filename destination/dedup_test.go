package destination

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
)

// entriesSchema is a time-entries-like stream: an id and a struct holding the cursor.
const entriesSchema = `{"type":"object","properties":{"id":{"type":"string"},"v":{"type":["null","string"]},"ti":{"type":["null","object"],"properties":{"start":{"type":["null","string"],"format":"date-time"}}},"_ab_cdc_deleted_at":{"type":["null","string"],"format":"date-time"}}}`

func entriesCatalog(mode string) string {
	return fmt.Sprintf(`{"streams":[{"stream":{"name":"entries","json_schema":%s,"supported_sync_modes":["incremental"],"source_defined_cursor":true,"default_cursor_field":["ti","start"],"source_defined_primary_key":[["id"]]},"sync_mode":"incremental","destination_sync_mode":%q,"primary_key":[["id"]],"cursor_field":["ti","start"],"generation_id":1,"minimum_generation_id":0,"sync_id":5}]}`,
		entriesSchema, mode)
}

func entry(id, v, start string) string {
	return rec("entries", fmt.Sprintf(`{"id":%q,"v":%q,"ti":{"start":%q}}`, id, v, start), 1)
}

func deletion(id, start string) string {
	return rec("entries", fmt.Sprintf(`{"id":%q,"ti":{"start":%q},"_ab_cdc_deleted_at":"2026-01-01T00:00:00Z"}`, id, start), 1)
}

// partitions returns, per live data file, its partition value and whether it has delete files.
func partitions(t *testing.T, h *harness, name string) (files map[string]string, withDeletes map[string]bool) {
	t.Helper()
	tasks, err := h.table("clockify", name).Scan().PlanFiles(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	files, withDeletes = map[string]string{}, map[string]bool{}
	for _, task := range tasks {
		files[task.File.FilePath()] = fmt.Sprint(task.File.Partition())
		withDeletes[task.File.FilePath()] = len(task.DeleteFiles) > 0
	}
	return files, withDeletes
}

// The default layout of a stream with a date-time cursor: partitioned by its month; the config
// sets another transform, or none.
func TestPartitionedWrites(t *testing.T) {
	in := lines(entry("a", "1", "2025-01-05T00:00:00Z"), entry("b", "1", "2025-02-05T00:00:00Z"),
		entry("c", "1", "2025-02-06T00:00:00Z"), entry("d", "1", "2025-03-01T00:00:00Z"), state("entries", 1, 1))
	for _, c := range []struct {
		name       string
		streams    map[string]any
		spec       string
		partitions int
	}{
		{"default", nil, "ti_start_month", 3},
		{"day", map[string]any{"entries": map[string]any{"partitioning": []string{"day(ti.start)"}}}, "ti_start_day", 4},
		{"bucket", map[string]any{"entries": map[string]any{"partitioning": []string{"bucket(2, id)"}}}, "id_bucket", 2},
		{"none", map[string]any{"entries": map[string]any{"partitioning": []string{}}}, "", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if c.streams != nil {
				h.cfg["streams"] = c.streams
			}
			h.mustWrite(entriesCatalog("append_dedup"), in)
			tbl := h.table("clockify", "entries")
			spec := tbl.Spec()
			if c.spec == "" {
				if !spec.IsUnpartitioned() {
					t.Fatalf("spec %s, want unpartitioned", spec)
				}
			} else if spec.NumFields() != 1 || spec.Field(0).Name != c.spec {
				t.Fatalf("spec %s, want one field %s", spec, c.spec)
			}
			files, _ := partitions(t, h, "entries")
			distinct := map[string]bool{}
			for _, p := range files {
				distinct[p] = true
			}
			if len(distinct) != c.partitions {
				t.Errorf("%d partitions %v, want %d", len(distinct), files, c.partitions)
			}
		})
	}
	h := newHarness(t)
	h.cfg["streams"] = map[string]any{"entries": map[string]any{"partitioning": []string{"month(nope)"}}}
	if _, err := h.write(entriesCatalog("append_dedup"), in); err == nil || !strings.Contains(err.Error(), "the stream has no field nope") {
		t.Errorf("a partition on a missing field: %v", err)
	}
	h.cfg["streams"] = map[string]any{"entries": map[string]any{"partitioning": []string{"weekly(id)"}}}
	if _, err := h.write(entriesCatalog("append_dedup"), in); err == nil || !strings.Contains(err.Error(), `unknown transform "weekly"`) {
		t.Errorf("an unknown transform: %v", err)
	}
}

// Dedup across several commits and partitions touches only the partitions of the re-read keys: a
// key re-read in its month, a key whose start moved to another month, a new key, a CDC delete and
// an older version that loses. One row per key after every commit; files of untouched months are
// neither rewritten nor given delete files.
func TestDedupAcrossCommitsAndPartitions(t *testing.T) {
	for _, mode := range []string{DedupMergeOnRead, DedupCopyOnWrite} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t)
			h.cfg["dedup"] = mode
			h.cfg["flush_records"] = 1 // a commit at every STATE
			cc := entriesCatalog("append_dedup")
			h.mustWrite(cc, lines(
				entry("a", "a1", "2025-01-05T00:00:00Z"), entry("b", "b1", "2025-02-05T00:00:00Z"),
				entry("c", "c1", "2025-03-05T00:00:00Z"), entry("d", "d1", "2025-03-06T00:00:00Z"),
				entry("e", "e1", "2025-03-07T00:00:00Z"), state("entries", 1, 1)))
			before, _ := partitions(t, h, "entries")
			h.mustWrite(cc, lines(
				entry("c", "c2", "2025-03-05T00:00:00Z"), // re-read in its month
				entry("d", "d2", "2025-04-01T00:00:00Z"), // its start moved to the next month
				entry("f", "f1", "2025-04-02T00:00:00Z"), // new
				deletion("e", "2025-03-07T00:00:00Z"),    // deleted at the source
				entry("b", "b0", "2025-01-31T00:00:00Z"), // an older cursor than the table's b1: loses
				state("entries", 2, 2),
				entry("c", "c3", "2025-03-05T00:00:00Z"), // a second commit in the same sync
				state("entries", 3, 3)))
			got := project(h.rows("clockify", "entries", "id"), "id", "v")
			if want := []string{"a|a1", "b|b1", "c|c3", "d|d2", "f|f1"}; !slices.Equal(got, want) {
				t.Fatalf("rows %v, want %v", got, want)
			}
			after, _ := partitions(t, h, "entries")
			untouched := 0
			for path := range before {
				// January (a) and February (b, whose newer row stays) are not touched.
				if strings.Contains(path, "=2025-01/") || strings.Contains(path, "=2025-02/") {
					untouched++
					// (A delete file of the same month may be planned with it: Iceberg matches position
					// deletes to data files by partition; the rows it names are in the new file.)
					if _, kept := after[path]; !kept {
						t.Errorf("untouched partition file %s was rewritten", path)
					}
				}
			}
			if untouched != 2 {
				t.Errorf("want one first-sync file in each of January and February, files %v", before)
			}
			n := deleteFiles(t, h, "entries")
			if mode == DedupCopyOnWrite && n != 0 {
				t.Errorf("copy-on-write left %d delete files", n)
			}
			if mode == DedupMergeOnRead && n == 0 {
				t.Errorf("merge-on-read wrote no position delete files")
			}
			// Every commit (the last of its snapshots: one catalog commit may add several) leaves one
			// row per key.
			tbl := h.table("clockify", "entries")
			last := map[string]int64{}
			for _, s := range tbl.Metadata().Snapshots() {
				last[s.Summary.Properties[SummaryCommitID]] = s.SnapshotID
			}
			if len(last) < 3 {
				t.Errorf("want at least 3 commits, got %d", len(last))
			}
			for _, id := range last {
				ids := idsAt(t, tbl, id)
				if len(ids) != len(slices.Compact(slices.Clone(ids))) {
					t.Errorf("snapshot %d has a key twice: %v", id, ids)
				}
			}
		})
	}
}

func idsAt(t *testing.T, tbl *table.Table, snap int64) []string {
	t.Helper()
	at, err := tbl.Scan(table.WithSnapshotID(snap), table.WithSelectedFields("id")).ToArrowTable(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	var ids []string
	for i := 0; i < int(at.NumCols()); i++ {
		for _, c := range at.Column(i).Data().Chunks() {
			for r := 0; r < c.Len(); r++ {
				ids = append(ids, c.ValueStr(r))
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// In append and overwrite modes a CDC delete is a record like any other.
func TestCDCDeletionStoredOutsideDedup(t *testing.T) {
	h := newHarness(t)
	h.mustWrite(entriesCatalog("append"), lines(entry("a", "a1", "2025-01-05T00:00:00Z"), deletion("a", "2025-01-05T00:00:00Z")))
	rows := h.rows("clockify", "entries", "_airbyte_raw_id")
	if len(rows) != 2 {
		t.Fatalf("%d rows, want the record and the deletion record", len(rows))
	}
}

// A deletion that arrives for a key in the same batch as its insert removes it, and one for a row
// of the table removes it even when its cursor is older than the row's: a deletion comes after
// every version, and a cursor such as a start time is not a change time (an entry moved later and
// then deleted). A deletion of a key never seen adds nothing.
func TestCDCDeletionInDedup(t *testing.T) {
	h := newHarness(t)
	cc := entriesCatalog("append_dedup")
	h.mustWrite(cc, lines(entry("a", "a1", "2025-01-05T00:00:00Z"), entry("b", "b1", "2025-01-06T00:00:00Z"),
		entry("c", "c1", "2025-01-07T00:00:00Z"), deletion("a", "2025-01-05T00:00:00Z"), state("entries", 1, 1)))
	if got := project(h.rows("clockify", "entries", "id"), "id", "v"); !slices.Equal(got, []string{"b|b1", "c|c1"}) {
		t.Fatalf("rows %v, want b and c", got)
	}
	h.mustWrite(cc, lines(deletion("b", "2025-01-01T00:00:00Z"), deletion("zz", "2025-01-01T00:00:00Z"), state("entries", 2, 2)))
	if got := project(h.rows("clockify", "entries", "id"), "id", "v"); !slices.Equal(got, []string{"c|c1"}) {
		t.Fatalf("rows %v after deleting b with an older cursor, want c only", got)
	}
	h.mustWrite(cc, lines(deletion("c", "2025-01-07T00:00:00Z"), state("entries", 3, 3)))
	if got := h.rows("clockify", "entries", "id"); len(got) != 0 {
		t.Fatalf("rows %v after deleting c, want none", got)
	}
}

// An incremental dedup sync killed at any moment (here: several delays after its input) leaves
// the table at the previous commit or at a complete later one, with one row per key; the retry
// ends with the right rows.
func TestKilledIncrementalSyncKeepsOneRowPerKey(t *testing.T) {
	h := newHarness(t)
	cc := entriesCatalog("append_dedup")
	var full []string
	for i := 0; i < 300; i++ {
		full = append(full, entry(fmt.Sprintf("k%03d", i), "v1", fmt.Sprintf("2025-%02d-10T00:00:00Z", 1+i%6)))
	}
	h.mustWrite(cc, lines(append(full, state("entries", 1, 1))...))
	var incr []string
	for i := 250; i < 320; i++ { // 50 re-read keys, 20 new ones
		incr = append(incr, entry(fmt.Sprintf("k%03d", i), "v2", fmt.Sprintf("2025-%02d-10T00:00:00Z", 1+i%6)))
	}
	incr = append(incr, state("entries", 2, 2))
	for _, delay := range []time.Duration{0, 5 * time.Millisecond, 30 * time.Millisecond, 80 * time.Millisecond} {
		p := h.start(t, cc)
		p.send(t, incr...)
		time.Sleep(delay)
		p.kill(t)
		rows := h.rows("clockify", "entries", "id")
		ids := project(rows, "id")
		if len(ids) != len(slices.Compact(slices.Clone(ids))) {
			t.Fatalf("after a kill %v into the sync: a key appears twice", delay)
		}
		if n := len(ids); n != 300 && n != 320 {
			t.Fatalf("after a kill %v into the sync: %d rows, want the previous 300 or the complete 320", delay, n)
		}
	}
	h.mustWrite(cc, lines(incr...))
	got := project(h.rows("clockify", "entries", "id"), "id", "v")
	if len(got) != 320 || got[0] != "k000|v1" || got[260] != "k260|v2" || got[319] != "k319|v2" {
		t.Fatalf("after the retry: %d rows, %v … %v", len(got), got[:2], got[len(got)-2:])
	}
}
