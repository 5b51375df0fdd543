package destination

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/destination/catalogs"
)

// localPath turns a file:// data file location into a path.
func localPath(t *testing.T, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil || (u.Scheme != "file" && u.Scheme != "") {
		t.Fatalf("data file %q is not local", loc)
	}
	return u.Path
}

// assertSnowflakeReadable reads every data file of the table: each data page must be a V1 page
// and every column chunk zstd, and the table must be format v2.
func assertSnowflakeReadable(t *testing.T, h *harness, name string) {
	t.Helper()
	tbl := h.table("clockify", name)
	if v := tbl.Metadata().Version(); v != 2 {
		t.Fatalf("table %s has format version %d, want 2", name, v)
	}
	tasks, err := tbl.Scan().PlanFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) == 0 {
		t.Fatalf("table %s has no data files", name)
	}
	for _, task := range tasks {
		p := localPath(t, task.File.FilePath())
		r, err := file.OpenParquetFile(p, false)
		if err != nil {
			t.Fatalf("opening %s: %v", p, err)
		}
		pages := 0
		for g := 0; g < r.NumRowGroups(); g++ {
			rg := r.RowGroup(g)
			for c := 0; c < rg.NumColumns(); c++ {
				cc, err := r.MetaData().RowGroup(g).ColumnChunk(c)
				if err != nil {
					t.Fatal(err)
				}
				if cc.Compression() != compress.Codecs.Zstd {
					t.Errorf("%s column %d compressed with %v, want zstd", p, c, cc.Compression())
				}
				pr, err := rg.GetColumnPageReader(c)
				if err != nil {
					t.Fatal(err)
				}
				for pr.Next() {
					switch pr.Page().Type() {
					case file.PageTypeDataPageV2:
						t.Errorf("%s column %d has a V2 data page", p, c)
					case file.PageTypeDataPage:
						pages++
					}
				}
				if err := pr.Err(); err != nil {
					t.Fatalf("reading pages of %s: %v", p, err)
				}
			}
		}
		r.Close()
		if pages == 0 {
			t.Errorf("%s: no data pages read", p)
		}
	}
}

func TestSnowflakeRulesEveryMode(t *testing.T) {
	h := newHarness(t)
	h.cfg["flush_records"] = 2
	var in []string
	for i := 0; i < 10; i++ {
		in = append(in, item(i%4, fmt.Sprint("v", i), i), state("items", i, i))
	}
	for _, mode := range []string{"append", "append_dedup"} {
		cc := strings.Replace(catalogFor("items", itemsSchema, mode, "id", "ts", 1, 0), `"name":"items"`, `"name":"items_`+mode+`"`, 1)
		input := strings.ReplaceAll(lines(in...), `"items"`, `"items_`+mode+`"`)
		h.mustWrite(cc, input)
		assertSnowflakeReadable(t, h, "items_"+mode)
	}
	cc := catalogFor("items", itemsSchema, "overwrite", "", "", 2, 2)
	h.mustWrite(cc, lines(in...))
	assertSnowflakeReadable(t, h, "items")
	h.mustWrite(catalogFor("users", usersSchema, "append", "", "", 1, 0), lines(
		rec("users", `{"id":"a","updated":"2024-01-02T03:04:05Z","born":"2000-01-01","tags":[1]}`, 1), state("users", 1, 1)))
	assertSnowflakeReadable(t, h, "users")
	// Column types Snowflake maps: timestamptz for date-time, no uuid anywhere.
	sch := h.table("clockify", "users").Schema()
	for _, f := range sch.Fields() {
		if _, ok := f.Type.(iceberg.UUIDType); ok {
			t.Errorf("column %s is a uuid", f.Name)
		}
	}
	if f, _ := sch.FindFieldByName("updated"); !f.Type.Equals(iceberg.PrimitiveTypes.TimestampTz) {
		t.Errorf("updated is %s", f.Type)
	}
}

func metadataFiles(t *testing.T, h *harness, name string) int {
	t.Helper()
	tbl := h.table("clockify", name)
	dir := filepath.Dir(localPath(t, tbl.MetadataLocation()))
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".metadata.json") {
			n++
		}
	}
	return n
}

func TestSchemaEvolution(t *testing.T) {
	h := newHarness(t)
	// A table created elsewhere with int and float columns: the sync widens them.
	cfg, _ := parseConfig(h.config())
	cat, err := catalogs.Open(context.Background(), cfg.Settings)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := cat.CreateNamespace(ctx, table.Identifier{"clockify"}, nil); err != nil {
		t.Fatal(err)
	}
	fields := append(metaFields(),
		iceberg.NestedField{ID: 5, Name: "id", Type: iceberg.PrimitiveTypes.Int64},
		iceberg.NestedField{ID: 6, Name: "n", Type: iceberg.PrimitiveTypes.Int32},
		iceberg.NestedField{ID: 7, Name: "f", Type: iceberg.PrimitiveTypes.Float32},
		iceberg.NestedField{ID: 8, Name: "v", Type: iceberg.PrimitiveTypes.String})
	if _, err := cat.CreateTable(ctx, table.Identifier{"clockify", "evo"}, iceberg.NewSchema(0, fields...),
		catalog.WithProperties(iceberg.Properties{"format-version": "2"})); err != nil {
		t.Fatal(err)
	}
	catalogs.Close(cat)

	s1 := `{"type":"object","properties":{"id":{"type":"integer"},"n":{"type":"integer"},"f":{"type":"number"},"v":{"type":"string"}}}`
	h.mustWrite(catalogFor("evo", s1, "append", "", "", 1, 0), lines(
		rec("evo", `{"id":1,"n":5000000000,"f":1e300,"v":"x"}`, 1), state("evo", 1, 1)))
	sch := h.table("clockify", "evo").Schema()
	if f, _ := sch.FindFieldByName("n"); !f.Type.Equals(iceberg.PrimitiveTypes.Int64) {
		t.Errorf("n was not widened to long: %s", f.Type)
	}
	if f, _ := sch.FindFieldByName("f"); !f.Type.Equals(iceberg.PrimitiveTypes.Float64) {
		t.Errorf("f was not widened to double: %s", f.Type)
	}

	// Sync 2: a new property, and v changes from string to integer (not a widening).
	before := metadataFiles(t, h, "evo")
	snapBefore := h.table("clockify", "evo").CurrentSnapshot().SnapshotID
	s2 := `{"type":"object","properties":{"id":{"type":"integer"},"n":{"type":"integer"},"f":{"type":"number"},"v":{"type":"integer"},"added":{"type":"string","format":"date"}}}`
	h.mustWrite(catalogFor("evo", s2, "append", "", "", 1, 0), lines(
		rec("evo", `{"id":2,"n":7,"f":2.5,"v":5,"added":"2024-02-03"}`, 2),
		rec("evo", `{"id":3,"v":"still text"}`, 3), state("evo", 2, 2)))
	if after := metadataFiles(t, h, "evo"); after != before+1 {
		t.Errorf("sync 2 made %d catalog commits, want 1 (schema change with its data)", after-before)
	}
	tbl := h.table("clockify", "evo")
	snap := tbl.CurrentSnapshot()
	if snap.ParentSnapshotID == nil || *snap.ParentSnapshotID != snapBefore {
		t.Errorf("the data of sync 2 is not in the snapshot right after sync 1")
	}
	if snap.SchemaID == nil || *snap.SchemaID != tbl.Schema().ID {
		t.Errorf("the snapshot holding the new column's data has schema %v, current is %d", snap.SchemaID, tbl.Schema().ID)
	}
	if f, _ := tbl.Schema().FindFieldByName("v"); !f.Type.Equals(iceberg.PrimitiveTypes.String) {
		t.Errorf("v changed type to %s", f.Type)
	}
	got := project(h.rows("clockify", "evo", "id"), "id", "n", "f", "v", "added", "_airbyte_meta")
	want := []string{
		`1|5000000000|1e+300|x|<null>|{"sync_id":77,"changes":[]}`,
		`2|7|2.5|<null>|2024-02-03|{"sync_id":77,"changes":[{"field":"v","change":"NULLED","reason":"DESTINATION_TYPECAST_ERROR"}]}`,
		`3|<null>|<null>|still text|<null>|{"sync_id":77,"changes":[]}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n got %q\nwant %q", got, want)
	}
	if tbl.Properties()["write.parquet.page-version"] != "1" {
		t.Errorf("page version property not enforced on an existing table: %v", tbl.Properties())
	}
}
