package destination

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
	"github.com/clockberg/clockberg/destination/maintenance"
)

// Table maintenance on real tables written by the destination (SQLite catalog, local warehouse).

// noMaintenance turns automatic maintenance off, so a test sets up the state it maintains itself.
var noMaintenance = map[string]any{"enabled": false}

// only runs the steps set here: the zero Options of the others make them no-ops.
func onlyOptions() maintenance.Options {
	return maintenance.Options{KeepSnapshots: 1 << 30, KeepHistory: 1000 * time.Hour, OrphanMinAge: 1000 * time.Hour,
		SmallFileBytes: 1, MinSmallFiles: 1 << 30, MinManifests: 1 << 30, DeleteFilesPerFile: 1 << 30}
}

func (h *harness) catalog() catalog.Catalog {
	h.t.Helper()
	cat := h.openCatalog()
	h.t.Cleanup(func() { catalogs.Close(cat) })
	return cat
}

// onDisk lists every file under the warehouse (the SQLite catalog aside), as file:// URIs.
func onDisk(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(d.Name(), "catalog.db") || strings.HasSuffix(p, ".sqlite") {
			return err
		}
		out[localURI(p)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func localURI(p string) string { return "file://" + p }

// fileURI turns a table path into the file:// form onDisk uses.
func fileURI(p string) string {
	if strings.HasPrefix(p, "file:///") {
		return p
	}
	if strings.HasPrefix(p, "file:/") {
		return "file://" + strings.TrimPrefix(p, "file:")
	}
	if strings.HasPrefix(p, "/") {
		return localURI(p)
	}
	return p
}

// referenced returns the files a snapshot needs: its manifest list, manifests, data and delete
// files.
func referenced(t *testing.T, tbl *table.Table, snap *table.Snapshot) map[string]bool {
	t.Helper()
	out := map[string]bool{fileURI(snap.ManifestList): true}
	fsys, err := tbl.FS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ms, err := snap.Manifests(fsys)
	if err != nil {
		t.Fatalf("manifests of snapshot %d: %v", snap.SnapshotID, err)
	}
	for _, m := range ms {
		out[fileURI(m.FilePath())] = true
		for e, err := range m.Entries(fsys, true) {
			if err != nil {
				t.Fatal(err)
			}
			out[fileURI(e.DataFile().FilePath())] = true
		}
	}
	return out
}

func allRows(h *harness, name, sortBy string) []string {
	var out []string
	for _, r := range h.rows("clockify", name, sortBy) {
		keys := slices.Sorted(maps.Keys(r))
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+"="+r[k])
		}
		out = append(out, strings.Join(parts, ","))
	}
	slices.Sort(out)
	return out
}

func run(t *testing.T, h *harness, name string, o maintenance.Options) maintenance.Report {
	t.Helper()
	r, _, err := maintenance.Run(t.Context(), h.catalog(), table.Identifier{"clockify", name}, o)
	if err != nil {
		t.Fatalf("maintenance of %s: %v", name, err)
	}
	t.Logf("%s%s", MaintenanceTable([]maintenance.Report{r}), r.Removed())
	return r
}

// Expiry keeps exactly the last keep_snapshots of main (and nothing older than the history), and
// removes only files no retained snapshot references: here the data files of replaced
// generations and the manifests of expired snapshots.
func TestMaintainExpiryKeepsExactlyTheRetainedSnapshots(t *testing.T) {
	h := newHarness(t)
	h.cfg["maintenance"] = noMaintenance
	for gen := int64(1); gen <= 6; gen++ {
		h.mustWrite(keyedCatalog("items", true, gen), lines(refreshInput("items", 1, 20, fmt.Sprint("g", gen), true)...))
	}
	tbl := h.table("clockify", "items")
	lookup := func(id int64) *table.Snapshot { return tbl.Metadata().SnapshotByID(id) }
	var want []int64
	keep := map[string]bool{}
	for _, s := range table.AncestorsOf(tbl.CurrentSnapshot().SnapshotID, lookup) {
		if len(want) == 3 {
			break
		}
		want = append(want, s.SnapshotID)
		maps.Copy(keep, referenced(t, tbl, &s))
	}
	before := onDisk(t, h.dir)
	rowsBefore := allRows(h, "items", "id")
	if n := len(tbl.Metadata().Snapshots()); n <= 3 {
		t.Fatalf("only %d snapshots to start with", n)
	}

	o := onlyOptions()
	o.KeepSnapshots, o.KeepHistory = 3, 0
	r := run(t, h, "items", o)

	after := h.table("clockify", "items")
	var got []int64
	for _, s := range after.Metadata().Snapshots() {
		got = append(got, s.SnapshotID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("snapshots after expiry %v, want the last 3 of main %v", got, want)
	}
	if r.ExpiredSnapshots != r.Before.Snapshots-3 || r.After.Snapshots != 3 {
		t.Errorf("report: %+v", r)
	}
	now := onDisk(t, h.dir)
	for f := range keep {
		if !now[f] {
			t.Errorf("file %s of a retained snapshot was removed", f)
		}
	}
	still := map[string]bool{}
	for _, s := range after.Metadata().Snapshots() {
		maps.Copy(still, referenced(t, after, &s))
	}
	removed := 0
	for f := range before {
		if !now[f] {
			removed++
			if still[f] {
				t.Errorf("removed %s, which the table still references", f)
			}
		}
	}
	if removed == 0 {
		t.Errorf("expiry removed no file (the replaced generations' files should go)")
	}
	if got := allRows(h, "items", "id"); !slices.Equal(got, rowsBefore) {
		t.Errorf("rows changed by expiry")
	}
	if r.After.TotalBytes >= r.Before.TotalBytes {
		t.Errorf("total bytes %d -> %d", r.Before.TotalBytes, r.After.TotalBytes)
	}
}

// The staging branch of an overwrite in flight keeps its snapshot and files, however strict the
// retention, and the retry completes the generation from it.
func TestMaintainKeepsTheStagingBranchOfAnOverwriteInFlight(t *testing.T) {
	h := newHarness(t)
	h.cfg["maintenance"] = noMaintenance
	h.cfg["flush_records"] = 10
	h.mustWrite(keyedCatalog("items", true, 1), lines(refreshInput("items", 1, 60, "old", true)...))
	out := h.mustWrite(keyedCatalog("items", true, 2), lines(refreshInput("items", 1, 45, "new", false)...))
	echoed := lastEchoedCursor(t, out)
	tbl := h.table("clockify", "items")
	branch := "airbyte_staging_gen_2"
	head := tbl.SnapshotByName(branch)
	if head == nil || echoed == 0 {
		t.Fatalf("no staging branch %s (echoed up to %d); refs: %v", branch, echoed, slices.Collect(maps.Keys(maps.Collect(tbl.Metadata().Refs()))))
	}
	need := referenced(t, tbl, head)

	o := onlyOptions()
	o.KeepSnapshots, o.KeepHistory = 1, 0
	r := run(t, h, "items", o)
	if r.ExpiredSnapshots == 0 {
		t.Fatalf("nothing expired: %+v", r)
	}
	after := h.table("clockify", "items")
	if s := after.SnapshotByName(branch); s == nil || s.SnapshotID != head.SnapshotID {
		t.Fatalf("staging branch lost or moved by maintenance: %v", s)
	}
	now := onDisk(t, h.dir)
	for f := range need {
		if !now[f] {
			t.Errorf("file %s of the staging branch was removed", f)
		}
	}
	wantExactlyOnce(t, h, "items", 60, "1|old")
	h.mustWrite(keyedCatalog("items", true, 2), lines(refreshInput("items", echoed+1, 60, "new", true)...))
	wantExactlyOnce(t, h, "items", 60, "2|new")
}

// Orphan removal takes only unreferenced files older than the threshold: young orphans stay,
// and so does every referenced file however old.
func TestMaintainOrphansOnlyOldUnreferencedFiles(t *testing.T) {
	h := newHarness(t)
	h.cfg["maintenance"] = noMaintenance
	cc := catalogFor("items", keyedSchema, "append", "", "", 1, 0)
	for i := 0; i < 3; i++ {
		h.mustWrite(cc, lines(rec("items", fmt.Sprintf(`{"id":%d,"v":"x"}`, i), 1), state("items", i, i)))
	}
	tbl := h.table("clockify", "items")
	loc, _ := catalogs.LocalPath(tbl.Location())
	old := time.Now().Add(-100 * time.Hour)
	refs := onDisk(t, loc)
	for f := range refs {
		p := strings.TrimPrefix(f, "file://")
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	write := func(rel string, mtime time.Time) string {
		p := filepath.Join(loc, rel)
		if err := os.WriteFile(p, []byte("left by a crashed writer"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return localURI(p)
	}
	oldData := write("data/00000-crashed.parquet", old)
	oldMeta := write("metadata/crashed-m0.avro", old)
	young := write("data/00001-in-flight.parquet", time.Now().Add(-2*time.Hour))
	rowsBefore := allRows(h, "items", "id")

	dry := onlyOptions()
	dry.OrphanMinAge, dry.DryRun = 72*time.Hour, true
	if r := run(t, h, "items", dry); r.OrphanFiles != 2 {
		t.Errorf("dry run found %d orphans, want 2: %+v", r.OrphanFiles, r)
	}
	if got := onDisk(t, loc); len(got) != len(refs)+3 {
		t.Fatalf("the dry run removed files: %d files, want %d", len(got), len(refs)+3)
	}

	o := onlyOptions()
	o.OrphanMinAge = 72 * time.Hour
	r := run(t, h, "items", o)
	now := onDisk(t, loc)
	if now[oldData] || now[oldMeta] {
		t.Errorf("old orphans kept: %v %v", now[oldData], now[oldMeta])
	}
	if !now[young] {
		t.Errorf("a young orphan (an in-flight write's file) was removed")
	}
	for f := range refs {
		if !now[f] {
			t.Errorf("referenced file %s removed", f)
		}
	}
	if r.OrphanFiles != 2 || r.OrphanBytes == 0 {
		t.Errorf("report: %+v", r)
	}
	if got := allRows(h, "items", "id"); !slices.Equal(got, rowsBefore) {
		t.Errorf("rows changed")
	}
}

// Compaction of a partitioned append_dedup table (merge-on-read position deletes, the default):
// the dry run changes nothing, the run keeps every row identical, leaves no delete file and fewer
// data files, and the table takes the next sync as before.
func TestMaintainCompactionFoldsPositionDeletesIn(t *testing.T) {
	h := newHarness(t)
	h.cfg["maintenance"] = noMaintenance
	months := []string{"2025-01-05T10:00:00Z", "2025-02-05T10:00:00Z", "2025-03-05T10:00:00Z"}
	var in []string
	for i := 0; i < 30; i++ {
		in = append(in, entry(fmt.Sprint("e", i), "v0", months[i%3]))
	}
	h.mustWrite(entriesCatalog("append_dedup"), lines(append(in, state("entries", 1, 1))...))
	for s := 1; s <= 4; s++ {
		var upd []string
		for i := s; i < 30; i += 4 {
			upd = append(upd, entry(fmt.Sprint("e", i), fmt.Sprint("v", s), months[i%3]))
		}
		upd = append(upd, deletion(fmt.Sprint("e", 20+s), months[(20+s)%3]))
		h.mustWrite(entriesCatalog("append_dedup"), lines(append(upd, state("entries", s+1, s+1))...))
	}
	rowsBefore := allRows(h, "entries", "id")
	tbl := h.table("clockify", "entries")
	if tbl.Spec().IsUnpartitioned() {
		t.Fatal("the entries table should be partitioned by month")
	}
	b, err := maintenance.Measure(t.Context(), tbl)
	if err != nil {
		t.Fatal(err)
	}
	if b.DeleteFiles == 0 {
		t.Fatalf("no delete files to fold: %+v", b)
	}
	filesBefore := onDisk(t, h.dir)

	o := onlyOptions()
	o.SmallFileBytes, o.MinSmallFiles, o.DeleteFilesPerFile = 32<<20, 2, 1
	o.DryRun = true
	dry := run(t, h, "entries", o)
	if dry.CompactedFiles == 0 || dry.FoldedDeletes == 0 || dry.After.DeleteFiles != 0 {
		t.Errorf("dry run plans no compaction: %+v", dry)
	}
	if h.table("clockify", "entries").MetadataLocation() != tbl.MetadataLocation() {
		t.Fatal("the dry run committed")
	}
	if got := onDisk(t, h.dir); !maps.Equal(got, filesBefore) {
		t.Fatal("the dry run changed files")
	}

	o.DryRun = false
	r := run(t, h, "entries", o)
	if r.After.DeleteFiles != 0 || r.FoldedDeletes != int(b.DeleteFiles) || r.After.DataFiles >= b.DataFiles || !r.Changed {
		t.Errorf("compaction: %+v (before %+v)", r, b)
	}
	if r.After.DataFiles != 3 {
		t.Errorf("%d data files after compaction, want one per month", r.After.DataFiles)
	}
	if got := allRows(h, "entries", "id"); !slices.Equal(got, rowsBefore) {
		t.Fatalf("rows changed by compaction:\n%v\nwant\n%v", got, rowsBefore)
	}
	assertSnowflakeReadable(t, h, "entries") // the compacted files too: v2, Parquet data page v1, zstd
	if _, withDeletes := partitions(t, h, "entries"); slices.Contains(slices.Collect(maps.Values(withDeletes)), true) {
		t.Errorf("a data file still has delete files")
	}
	h.mustWrite(entriesCatalog("append_dedup"), lines(entry("e0", "after", months[0]), deletion("e1", months[1]), state("entries", 9, 9)))
	got := map[string]string{}
	for _, row := range h.rows("clockify", "entries", "id") {
		if _, dup := got[row["id"]]; dup {
			t.Errorf("id %s twice after the next sync", row["id"])
		}
		got[row["id"]] = row["v"]
	}
	if got["e0"] != "after" || got["e1"] != "" || len(got) != 30-4-1 {
		t.Errorf("after the next sync: e0=%q, e1 present=%v, %d rows", got["e0"], got["e1"] != "", len(got))
	}
}

// Automatic maintenance runs after the sync's last state is echoed, with the config's settings;
// a failure there is a WARN and the sync succeeds.
func TestMaintenanceAfterSync(t *testing.T) {
	h := newHarness(t)
	h.cfg["maintenance"] = map[string]any{"keep_snapshots": 2, "keep_history_hours": 0, "min_small_files": 3}
	cc := catalogFor("items", keyedSchema, "append", "", "", 1, 0)
	var out []string
	for i := 1; i <= 4; i++ {
		out = h.mustWrite(cc, lines(rec("items", fmt.Sprintf(`{"id":%d,"v":"x"}`, i), 1), state("items", i, i)))
	}
	lastState, maint := -1, -1
	for i, l := range out {
		if strings.HasPrefix(l, `{"type":"STATE"`) {
			lastState = i
		}
		if strings.Contains(l, "maintenance of table clockify.items") && maint < 0 {
			maint = i
		}
	}
	if maint < 0 || lastState < 0 || maint < lastState {
		t.Fatalf("maintenance log at line %d, last STATE at %d:\n%s", maint, lastState, strings.Join(out, "\n"))
	}
	tbl := h.table("clockify", "items")
	f, err := maintenance.Measure(t.Context(), tbl)
	if err != nil {
		t.Fatal(err)
	}
	if f.Snapshots > 3 || f.DataFiles > 2 {
		t.Errorf("after 4 syncs with maintenance: %+v", f)
	}
	if ids, _ := idCounts(h, "items"); len(ids) != 4 || sum(ids) != 4 {
		t.Errorf("rows: %v", ids)
	}

	// An unreadable manifest list of a retained older snapshot makes maintenance fail (orphan
	// removal reads every snapshot); the sync itself only needs the current one.
	h.cfg["maintenance"] = map[string]any{"keep_snapshots": 10}
	h.mustWrite(cc, lines(rec("items", `{"id":5,"v":"x"}`, 1), state("items", 5, 5)))
	tbl = h.table("clockify", "items")
	snaps := tbl.Metadata().Snapshots()
	if len(snaps) < 2 {
		t.Fatalf("%d snapshots", len(snaps))
	}
	if err := os.Remove(strings.TrimPrefix(fileURI(snaps[0].ManifestList), "file://")); err != nil {
		t.Fatal(err)
	}
	out, err = h.write(cc, lines(rec("items", `{"id":6,"v":"x"}`, 1), state("items", 6, 6)))
	if err != nil {
		t.Fatalf("the sync failed because maintenance did: %v", err)
	}
	joined := strings.Join(out, "\n")
	if len(states(out)) != 1 || !strings.Contains(joined, `"level":"WARN"`) || !strings.Contains(joined, "maintenance of table clockify.items failed") {
		t.Errorf("want the state echoed and a WARN about maintenance:\n%s", joined)
	}
	if ids, _ := idCounts(h, "items"); len(ids) != 6 {
		t.Errorf("rows: %v", ids)
	}
}

// Metadata files older than every version the metadata log lists go (the table's
// delete-after-commit policy wants them gone); the log's files, the current one and a newer one
// (a commit in flight) stay.
func TestMaintainRemovesMetadataFilesTrimmedFromTheLog(t *testing.T) {
	h := newHarness(t)
	h.cfg["maintenance"] = noMaintenance
	cc := catalogFor("items", keyedSchema, "append", "", "", 1, 0)
	h.mustWrite(cc, lines(rec("items", `{"id":0,"v":"x"}`, 1), state("items", 0, 0)))
	tbl, err := h.catalog().LoadTable(t.Context(), table.Identifier{"clockify", "items"})
	if err != nil {
		t.Fatal(err)
	}
	txn := tbl.NewTransaction()
	if err := txn.SetProperties(map[string]string{"write.metadata.previous-versions-max": "3"}); err != nil {
		t.Fatal(err)
	}
	if _, err := txn.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 6; i++ {
		h.mustWrite(cc, lines(rec("items", fmt.Sprintf(`{"id":%d,"v":"x"}`, i), 1), state("items", i, i)))
	}
	tbl = h.table("clockify", "items")
	loc, _ := catalogs.LocalPath(tbl.Location())
	meta := filepath.Join(loc, "metadata")
	planted := filepath.Join(meta, "00000-planted.metadata.json")
	inFlight := filepath.Join(meta, "99999-in-flight.metadata.json")
	for _, p := range []string{planted, inFlight} {
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keep := map[string]bool{fileURI(tbl.MetadataLocation()): true}
	for e := range tbl.Metadata().PreviousFiles() {
		keep[fileURI(e.MetadataFile)] = true
	}
	if len(keep) != 4 {
		t.Fatalf("the metadata log lists %d files, want 3 and the current one", len(keep))
	}
	r := run(t, h, "items", onlyOptions())
	if r.OldMetadataFiles == 0 {
		t.Errorf("no old metadata file removed: %+v", r)
	}
	var left []string
	for f := range onDisk(t, meta) {
		if strings.HasSuffix(f, ".metadata.json") {
			left = append(left, f)
		}
	}
	if slices.Contains(left, localURI(planted)) || !slices.Contains(left, localURI(inFlight)) {
		t.Errorf("planted old file kept or in-flight file removed: %v", left)
	}
	for f := range keep {
		if !slices.Contains(left, f) {
			t.Errorf("metadata file %s of the log removed", f)
		}
	}
	if len(left) != len(keep)+1 {
		t.Errorf("%d metadata files left, want the log's %d and the in-flight one: %v", len(left), len(keep), left)
	}
	if ids, _ := idCounts(h, "items"); len(ids) != 7 {
		t.Errorf("rows: %v", ids)
	}
}

// The spec describes the maintenance settings the config accepts, and out-of-range ones are config
// errors that name the setting.
func TestMaintenanceSettingsInSpecAndConfig(t *testing.T) {
	spec := New().Spec().ConnectionSpecification
	good := `{"maintenance":{"enabled":true,"keep_snapshots":3,"keep_history_hours":0,"orphan_min_age_hours":24,"small_file_bytes":1048576,"min_small_files":2,"min_manifests":4,"delete_files_per_file":1}}`
	if err := airbyte.ValidateConfig(spec, json.RawMessage(good)); err != nil {
		t.Errorf("spec rejects %s: %v", good, err)
	}
	if unknown := airbyte.UnknownFields(spec, json.RawMessage(good)); len(unknown) > 0 {
		t.Errorf("fields the spec does not know: %v", unknown)
	}
	c, err := parseConfig(json.RawMessage(good))
	if err != nil {
		t.Fatal(err)
	}
	o := c.Maintenance.Options()
	if o.KeepSnapshots != 3 || o.KeepHistory != 0 || o.OrphanMinAge != 24*time.Hour || o.MinSmallFiles != 2 || o.DeleteFilesPerFile != 1 || !c.Maintenance.On() {
		t.Errorf("options %+v", o)
	}
	d, _ := parseConfig(json.RawMessage(`{}`))
	if o := d.Maintenance.Options(); !d.Maintenance.On() || o.KeepSnapshots != maintenance.DefaultKeepSnapshots || o.KeepHistory != 120*time.Hour || o.OrphanMinAge != 72*time.Hour {
		t.Errorf("defaults %+v", o)
	}
	for bad, name := range map[string]string{
		`{"maintenance":{"orphan_min_age_hours":0.5}}`: "orphan_min_age_hours",
		`{"maintenance":{"keep_snapshots":-1}}`:        "keep_snapshots",
		`{"maintenance":{"keep_history_hours":-2}}`:    "keep_history_hours",
	} {
		if _, err := parseConfig(json.RawMessage(bad)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// pyIceberg returns a Python interpreter with PyIceberg (the bench's or the interop suite's
// virtualenv, or $PYICEBERG_PYTHON), skipping with a message where none is installed.
func pyIceberg(t *testing.T) string {
	t.Helper()
	cands := []string{os.Getenv("PYICEBERG_PYTHON"), "../bench/.venv/bin/python", "../interop/.venv/bin/python"}
	for _, p := range cands {
		if p == "" {
			continue
		}
		if err := exec.Command(p, "-c", "import pyiceberg.catalog.sql").Run(); err == nil {
			return p
		}
	}
	t.Skip("no Python with PyIceberg (bench/.venv, interop/.venv or $PYICEBERG_PYTHON): `make bench` or `make interop-setup` installs one")
	return ""
}

// PyIceberg, an independent reader, reads the compacted table (deletes folded in) row for row as
// iceberg-go does.
func TestMaintainedTableReadByPyIceberg(t *testing.T) {
	py := pyIceberg(t)
	h := newHarness(t)
	h.cfg["maintenance"] = map[string]any{"min_small_files": 2, "delete_files_per_file": 1}
	months := []string{"2025-01-05T10:00:00Z", "2025-02-05T10:00:00Z"}
	var in []string
	for i := 0; i < 20; i++ {
		in = append(in, entry(fmt.Sprint("e", i), "v0", months[i%2]))
	}
	h.mustWrite(entriesCatalog("append_dedup"), lines(append(in, state("entries", 1, 1))...))
	h.mustWrite(entriesCatalog("append_dedup"), lines(entry("e1", "v1", months[1]), entry("e2", "v1", months[0]),
		deletion("e3", months[1]), state("entries", 2, 2)))
	f, err := maintenance.Measure(t.Context(), h.table("clockify", "entries"))
	if err != nil {
		t.Fatal(err)
	}
	if f.DeleteFiles != 0 || f.DataFiles != 2 {
		t.Fatalf("after-sync maintenance did not compact: %+v", f)
	}
	script := `import json, sys
from pyiceberg.catalog.sql import SqlCatalog
wh = sys.argv[1]
cat = SqlCatalog("airbyte", uri="sqlite:///" + wh + "/catalog.db", warehouse="file://" + wh)
rows = cat.load_table(("clockify", "entries")).scan(selected_fields=("id", "v")).to_arrow().to_pylist()
print(json.dumps(sorted(r["id"] + "|" + r["v"] for r in rows)))`
	out, err := exec.Command(py, "-c", script, h.dir).CombinedOutput()
	if err != nil {
		t.Fatalf("PyIceberg: %v\n%s", err, out)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("PyIceberg printed %s: %v", out, err)
	}
	want := project(h.rows("clockify", "entries", "id"), "id", "v")
	slices.Sort(want)
	if !slices.Equal(got, want) || len(want) != 19 {
		t.Errorf("PyIceberg reads %v\niceberg-go reads %v", got, want)
	}
}

// Metadata versions follow the snapshot retention: with two kept and no history, only the two
// newest metadata.json files stay (and a newer one a commit in flight wrote), even though the
// metadata log still lists older ones; the table loads and takes the next sync.
func TestMaintainKeepsTheMetadataVersionsTheRetentionKeeps(t *testing.T) {
	h := newHarness(t)
	h.cfg["maintenance"] = noMaintenance
	cc := catalogFor("items", keyedSchema, "append", "", "", 1, 0)
	for i := 0; i <= 6; i++ {
		h.mustWrite(cc, lines(rec("items", fmt.Sprintf(`{"id":%d,"v":"x"}`, i), 1), state("items", i, i)))
	}
	tbl := h.table("clockify", "items")
	loc, _ := catalogs.LocalPath(tbl.Location())
	meta := filepath.Join(loc, "metadata")
	inFlight := filepath.Join(meta, "99999-in-flight.metadata.json")
	if err := os.WriteFile(inFlight, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	versions := func() (names []string) {
		for f := range onDisk(t, meta) {
			if strings.HasSuffix(f, ".metadata.json") {
				names = append(names, path.Base(f))
			}
		}
		slices.Sort(names)
		return names
	}
	before := versions()
	if len(before) < 6 {
		t.Fatalf("%d metadata files after 7 syncs: %v", len(before), before)
	}
	o := onlyOptions()
	o.KeepSnapshots, o.KeepHistory = 2, 0
	r := run(t, h, "items", o)
	after := versions()
	// The expiry commit wrote one more version: it and the one before it stay.
	cur := path.Base(h.table("clockify", "items").MetadataLocation())
	if len(after) != 3 || after[1] != cur || after[2] != path.Base(inFlight) || !slices.Contains(before, after[0]) {
		t.Errorf("metadata files left %v, want the previous version, the current %s and the in-flight one", after, cur)
	}
	if r.OldMetadataFiles != len(before)-2 {
		t.Errorf("reported %d old metadata files removed, want %d", r.OldMetadataFiles, len(before)-2)
	}
	h.mustWrite(cc, lines(rec("items", `{"id":7,"v":"x"}`, 1), state("items", 7, 7)))
	if ids, _ := idCounts(h, "items"); len(ids) != 8 {
		t.Errorf("rows after the next sync: %v", ids)
	}
}
