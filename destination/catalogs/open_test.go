package catalogs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
)

func appendRows(t *testing.T, ctx context.Context, tbl *table.Table, ids []int64, names []string) *table.Table {
	t.Helper()
	asc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, asc)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues(ids, nil)
	b.Field(1).(*array.StringBuilder).AppendValues(names, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, err := array.NewRecordReader(asc, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	out, err := tbl.Append(ctx, rdr, iceberg.Properties{"test.batch": names[0]})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return out
}

func scanRows(t *testing.T, ctx context.Context, tbl *table.Table) map[int64]string {
	t.Helper()
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	defer at.Release()
	rows := map[int64]string{}
	tr := array.NewTableReader(at, 1024)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		ids := rec.Column(0).(*array.Int64)
		names := rec.Column(1).(*array.String)
		for i := 0; i < int(rec.NumRows()); i++ {
			rows[ids.Value(i)] = names.Value(i)
		}
	}
	return rows
}

// A real SQLite catalog round-trip through Open: the warehouse folder (with a space in its
// name) is created, catalog.db lands inside it, and a second Open sees the committed data.
func TestSQLiteCatalogRoundTrip(t *testing.T) {
	ctx := context.Background()
	wh := filepath.Join(t.TempDir(), "my warehouse")
	settings := Settings{Warehouse: wh}

	cat, err := Open(ctx, settings)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := os.Stat(filepath.Join(wh, "catalog.db")); err != nil {
		t.Fatalf("catalog.db not inside the warehouse: %v", err)
	}
	ns := table.Identifier{"clockify"}
	if err := cat.CreateNamespace(ctx, ns, nil); err != nil {
		t.Fatalf("CreateNamespace: %v", err)
	}
	if err := cat.CreateNamespace(ctx, ns, nil); !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		t.Fatalf("second CreateNamespace: %v, want ErrNamespaceAlreadyExists", err)
	}
	sch := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
	)
	ident := catalog.ToIdentifier("clockify", "users")
	tbl, err := cat.CreateTable(ctx, ident, sch, catalog.WithProperties(iceberg.Properties{"format-version": "2"}))
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	if want := fileURI(filepath.Join(wh, "clockify.db", "users")); tbl.Location() != want {
		t.Errorf("table location %q, want %q", tbl.Location(), want)
	}
	tbl = appendRows(t, ctx, tbl, []int64{1, 2}, []string{"ann", "bob"})
	tbl = appendRows(t, ctx, tbl, []int64{3}, []string{"cy"})
	snap := tbl.CurrentSnapshot()
	if err := Close(cat); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// A fresh Open (same settings) loads the table and its data.
	cat2, err := Open(ctx, settings)
	if err != nil {
		t.Fatalf("re-Open: %v", err)
	}
	defer Close(cat2)
	got, err := cat2.LoadTable(ctx, ident)
	if err != nil {
		t.Fatalf("LoadTable: %v", err)
	}
	if got.CurrentSnapshot().SnapshotID != snap.SnapshotID || len(got.Metadata().Snapshots()) != 2 {
		t.Errorf("snapshot %d (of %d), want %d (of 2)", got.CurrentSnapshot().SnapshotID, len(got.Metadata().Snapshots()), snap.SnapshotID)
	}
	if b := got.CurrentSnapshot().Summary.Properties["test.batch"]; b != "cy" {
		t.Errorf("snapshot property test.batch = %q, want cy", b)
	}
	rows := scanRows(t, ctx, got)
	want := map[int64]string{1: "ann", 2: "bob", 3: "cy"}
	if len(rows) != len(want) {
		t.Fatalf("rows %v, want %v", rows, want)
	}
	for k, v := range want {
		if rows[k] != v {
			t.Errorf("row %d = %q, want %q", k, rows[k], v)
		}
	}
	var names []string
	for id, err := range cat2.ListTables(ctx, ns) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.Join(id, "."))
	}
	if len(names) != 1 || names[0] != "clockify.users" {
		t.Errorf("ListTables = %v", names)
	}
}

// Two catalogs on one SQLite file committing to different tables at once must both succeed
// (WAL + busy_timeout + immediate write transactions).
func TestSQLiteConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	settings := Settings{Warehouse: t.TempDir()}
	cats := make([]catalog.Catalog, 2)
	for i := range cats {
		c, err := Open(ctx, settings)
		if err != nil {
			t.Fatal(err)
		}
		defer Close(c)
		cats[i] = c
	}
	if err := cats[0].CreateNamespace(ctx, table.Identifier{"ns"}, nil); err != nil {
		t.Fatal(err)
	}
	sch := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
	)
	errs := make(chan error, 2)
	for i, c := range cats {
		go func() {
			ident := catalog.ToIdentifier("ns", "t"+string(rune('a'+i)))
			tbl, err := c.CreateTable(ctx, ident, sch)
			if err != nil {
				errs <- err
				return
			}
			for j := 0; j < 5; j++ {
				asc, _ := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
				b := array.NewRecordBuilder(memory.DefaultAllocator, asc)
				b.Field(0).(*array.Int64Builder).Append(int64(j))
				b.Field(1).(*array.StringBuilder).Append("x")
				rec := b.NewRecordBatch()
				rdr, _ := array.NewRecordReader(asc, []arrow.RecordBatch{rec})
				tbl, err = tbl.Append(ctx, rdr, nil)
				rdr.Release()
				rec.Release()
				b.Release()
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range cats {
		if err := <-errs; err != nil {
			t.Errorf("concurrent writer: %v", err)
		}
	}
	for _, name := range []string{"ta", "tb"} {
		tbl, err := cats[0].LoadTable(ctx, catalog.ToIdentifier("ns", name))
		if err != nil {
			t.Fatal(err)
		}
		if n := len(tbl.Metadata().Snapshots()); n != 5 {
			t.Errorf("%s: %d snapshots, want 5", name, n)
		}
	}
}
