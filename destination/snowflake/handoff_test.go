package snowflake

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
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
	out, err := tbl.Append(ctx, rdr, nil)
	if err != nil {
		t.Fatalf("append to %v: %v", tbl.Identifier(), err)
	}
	return out
}

func scanRows(t *testing.T, ctx context.Context, tbl *table.Table) map[int64]string {
	t.Helper()
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scan %v: %v", tbl.Identifier(), err)
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

type fixture struct {
	settings catalogs.Settings
	root     string // local warehouse folder
	config   string // path of a destination config file
	tables   map[string]*table.Table
}

// Odd names exercise both quoting layers: Snowflake identifiers ("), string literals (' and \)
// and URL escaping in the table locations (space, ", \).
const (
	oddNamespace = `we'ird ns`
	oddTable     = `it's "odd" \ name`
)

// newFixture creates real tables in a SQLite catalog and a local warehouse, each with two
// commits, and a destination config file naming the warehouse (plus keys that are not ours).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "ware house")
	f := &fixture{settings: catalogs.Settings{Warehouse: root}, root: root, tables: map[string]*table.Table{}}
	cat, err := catalogs.Open(ctx, f.settings)
	if err != nil {
		t.Fatal(err)
	}
	defer catalogs.Close(cat)
	sch := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
	)
	for _, id := range [][]string{{"clockify", "users"}, {"clockify", "time_entries"}, {oddNamespace, oddTable}} {
		if ok, _ := cat.CheckNamespaceExists(ctx, id[:1]); !ok {
			if err := cat.CreateNamespace(ctx, id[:1], nil); err != nil {
				t.Fatal(err)
			}
		}
		tbl, err := cat.CreateTable(ctx, id, sch, catalog.WithProperties(iceberg.Properties{"format-version": "2"}))
		if err != nil {
			t.Fatalf("create %v: %v", id, err)
		}
		tbl = appendRows(t, ctx, tbl, []int64{1, 2}, []string{id[1] + "-a", id[1] + "-b"})
		tbl = appendRows(t, ctx, tbl, []int64{3}, []string{id[1] + "-c"})
		f.tables[strings.Join(id, ".")] = tbl
	}
	cfg, _ := json.Marshal(map[string]any{"warehouse": root, "namespace": "clockify", "flush_records": 10})
	f.config = filepath.Join(t.TempDir(), "destination.json")
	if err := os.WriteFile(f.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

var (
	lit        = `'(?:[^'\\]|''|\\.)*'`
	ident      = `"(?:[^"]|"")*"`
	qname      = ident + `(?:\.` + ident + `)*`
	createRe   = regexp.MustCompile(`(?m)^CREATE ICEBERG TABLE IF NOT EXISTS (` + qname + `) EXTERNAL_VOLUME = (` + lit + `) CATALOG = (` + lit + `) METADATA_FILE_PATH = (` + lit + `);$`)
	refreshRe  = regexp.MustCompile(`(?m)^ALTER ICEBERG TABLE (` + qname + `) REFRESH (` + lit + `);$`)
	identPart  = regexp.MustCompile(ident)
	restTableR = regexp.MustCompile(`(?m)^CREATE ICEBERG TABLE IF NOT EXISTS (` + qname + `) EXTERNAL_VOLUME = (` + lit + `) CATALOG = (` + lit + `) CATALOG_NAMESPACE = (` + lit + `) CATALOG_TABLE_NAME = (` + lit + `) AUTO_REFRESH = TRUE;$`)
)

func unquoteIdents(t *testing.T, q string) []string {
	t.Helper()
	var out []string
	for _, p := range identPart.FindAllString(q, -1) {
		out = append(out, strings.ReplaceAll(p[1:len(p)-1], `""`, `"`))
	}
	return out
}

func mustUnquote(t *testing.T, l string) string {
	t.Helper()
	s, err := UnquoteString(l)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The issue-5 check: the statements' metadata paths, joined to the warehouse root, load each
// table with iceberg-go at the same snapshot and with the same rows as the catalog's table.
func TestCommandStatementsLoadBackThroughIcebergGo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	code := Main(ctx, []string{"snowflake", "--config", f.config, "--external-volume", "my_vol", "--catalog-integration", "my_int"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("Main exit %d, stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	creates := createRe.FindAllStringSubmatch(out, -1)
	refreshes := refreshRe.FindAllStringSubmatch(out, -1)
	if len(creates) != len(f.tables) || len(refreshes) != len(f.tables) {
		t.Fatalf("%d CREATE and %d REFRESH statements for %d tables:\n%s", len(creates), len(refreshes), len(f.tables), out)
	}
	if !strings.Contains(out, "CATALOG_SOURCE = OBJECT_STORE") || !strings.Contains(out, "CREATE CATALOG INTEGRATION IF NOT EXISTS my_int") ||
		!strings.Contains(out, "CREATE EXTERNAL VOLUME IF NOT EXISTS my_vol") {
		t.Errorf("setup statements missing:\n%s", out)
	}

	wantNames := map[string]string{
		"clockify.users":              `"CLOCKIFY"."USERS"`,
		"clockify.time_entries":       `"CLOCKIFY"."TIME_ENTRIES"`,
		oddNamespace + "." + oddTable: `"we'ird ns"."it's ""odd"" \ name"`,
	}
	seen := map[string]bool{}
	for i, c := range creates {
		sfName, path := c[1], mustUnquote(t, c[4])
		if mustUnquote(t, c[2]) != "my_vol" || mustUnquote(t, c[3]) != "my_int" {
			t.Errorf("CREATE %s: volume %s catalog %s", sfName, c[2], c[3])
		}
		if r := refreshes[i]; r[1] != sfName || mustUnquote(t, r[2]) != path {
			t.Errorf("REFRESH %v does not match CREATE %s %q", r[1:], sfName, path)
		}
		if strings.HasPrefix(path, "/") || strings.Contains(path, "://") || !strings.HasSuffix(path, ".metadata.json") {
			t.Errorf("%s: METADATA_FILE_PATH %q is not a relative metadata file path", sfName, path)
		}
		parts := unquoteIdents(t, sfName)
		var key string
		for k, want := range wantNames {
			if want == sfName {
				key = k
			}
		}
		if key == "" || len(parts) != 2 {
			t.Errorf("unexpected Snowflake name %s (parts %q)", sfName, parts)
			continue
		}
		seen[key] = true
		orig := f.tables[key]

		// Join the path to the warehouse root and load the table from that metadata file alone.
		file := filepath.Join(f.root, filepath.FromSlash(path))
		loaded, err := table.NewFromLocation(ctx, orig.Identifier(), file, iceio.LoadFSFunc(nil, file), nil)
		if err != nil {
			t.Fatalf("%s: loading %s: %v", key, file, err)
		}
		if loaded.CurrentSnapshot() == nil || loaded.CurrentSnapshot().SnapshotID != orig.CurrentSnapshot().SnapshotID {
			t.Errorf("%s: snapshot from the statements' path differs from the catalog's %d", key, orig.CurrentSnapshot().SnapshotID)
		}
		if n := len(loaded.Metadata().Snapshots()); n != 2 {
			t.Errorf("%s: %d snapshots, want 2", key, n)
		}
		got, want := scanRows(t, ctx, loaded), scanRows(t, ctx, orig)
		if len(got) != 3 || len(got) != len(want) {
			t.Errorf("%s: rows %v, catalog has %v", key, got, want)
		}
		for id, v := range want {
			if got[id] != v {
				t.Errorf("%s: row %d = %q, want %q", key, id, got[id], v)
			}
		}
	}
	if len(seen) != len(f.tables) {
		t.Errorf("tables covered %v, want all of %v", seen, wantNames)
	}
	if !strings.Contains(stderr.String(), "3 table(s)") {
		t.Errorf("stderr summary: %s", stderr.String())
	}
}

// After more commits the command points REFRESH at the new metadata file.
func TestCommandFollowsNewCommits(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	run := func() map[string]string {
		var stdout, stderr bytes.Buffer
		if code := Main(ctx, []string{"--config", f.config, "--namespace", "clockify"}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		m := map[string]string{}
		for _, r := range refreshRe.FindAllStringSubmatch(stdout.String(), -1) {
			m[r[1]] = mustUnquote(t, r[2])
		}
		return m
	}
	before := run()
	if len(before) != 2 {
		t.Fatalf("--namespace clockify gave %d tables: %v", len(before), before)
	}
	cat, err := catalogs.Open(ctx, f.settings)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := cat.LoadTable(ctx, []string{"clockify", "users"})
	if err != nil {
		t.Fatal(err)
	}
	tbl = appendRows(t, ctx, tbl, []int64{4}, []string{"users-d"})
	catalogs.Close(cat)
	after := run()
	if after[`"CLOCKIFY"."USERS"`] == before[`"CLOCKIFY"."USERS"`] {
		t.Errorf("REFRESH path did not move after a commit: %s", after[`"CLOCKIFY"."USERS"`])
	}
	if want, _ := RelativePath(f.settings.Warehouse, tbl.MetadataLocation()); want == "" {
		t.Fatal("no relative path for the new metadata")
	} else if rel, _ := RelativePath(mustNormalizeWarehouse(t, f.settings), tbl.MetadataLocation()); after[`"CLOCKIFY"."USERS"`] != rel {
		t.Errorf("REFRESH %q, want %q", after[`"CLOCKIFY"."USERS"`], rel)
	}
	if after[`"CLOCKIFY"."TIME_ENTRIES"`] != before[`"CLOCKIFY"."TIME_ENTRIES"`] {
		t.Errorf("untouched table's path changed")
	}
}

func mustNormalizeWarehouse(t *testing.T, s catalogs.Settings) string {
	t.Helper()
	n, err := s.Normalized()
	if err != nil {
		t.Fatal(err)
	}
	return n.Warehouse
}

func TestCommandErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	missing := filepath.Join(dir, "nowhere")
	cfg := filepath.Join(dir, "d.json")
	_ = os.WriteFile(cfg, []byte(`{"warehouse":"`+missing+`"}`), 0o600)
	badJSON := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(badJSON, []byte(`{"warehouse":`), 0o600)
	secretCfg := filepath.Join(dir, "secret.json")
	_ = os.WriteFile(secretCfg, []byte(`{"catalog":{"catalog_type":"rest","uri":"http://127.0.0.1:1/x","token":"SuperSecretTok"}}`), 0o600)

	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{}, 2, "--config is required"},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
		{[]string{"--config", cfg, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"--config", filepath.Join(dir, "absent.json")}, 1, "reading the config"},
		{[]string{"--config", badJSON}, 1, "not a valid JSON object"},
		{[]string{"--config", cfg}, 1, "no catalog at " + filepath.Join(missing, "catalog.db")},
		{[]string{"--config", secretCfg}, 1, "connecting to the rest catalog"},
		{[]string{"--config", cfg, "--catalog-source", "HIVE"}, 1, ""},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := Main(ctx, c.args, &stdout, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("Main(%q) = %d, stderr %q; want %d containing %q", c.args, code, stderr.String(), c.code, c.want)
		}
		if strings.Contains(stderr.String()+stdout.String(), "SuperSecretTok") {
			t.Errorf("Main(%q) printed the token", c.args)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the command created the warehouse %s of a config with no catalog (err %v)", missing, err)
	}

	// An unknown namespace is an error, not an empty script.
	f := newFixture(t)
	var stdout, stderr bytes.Buffer
	if code := Main(ctx, []string{"--config", f.config, "--namespace", "nope"}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "namespace nope does not exist") {
		t.Errorf("unknown namespace: exit %d, %s", code, stderr.String())
	}
	stdout.Reset()
	if code := Main(ctx, []string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "usage: destination-iceberg snowflake") {
		t.Errorf("--help: exit %d, %s", code, stdout.String())
	}
}

// The destination's post-sync LOG: protocol LOG messages on stdout, setup first, then one
// message per touched table with its CREATE and REFRESH.
func TestLogAfterSync(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	w := airbyte.NewWriter(&buf, airbyte.NewRedactor())
	LogAfterSync(w, f.settings, []*table.Table{f.tables["clockify.users"]}, Options{})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m struct {
			Type string
			Log  struct{ Level, Message string }
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil || m.Type != "LOG" || m.Log.Level != "INFO" {
			t.Fatalf("not an INFO LOG message: %s (%v)", line, err)
		}
		msgs = append(msgs, m.Log.Message)
	}
	if len(msgs) != 2 {
		t.Fatalf("%d LOG messages, want setup + 1 table: %q", len(msgs), msgs)
	}
	if !strings.Contains(msgs[0], "CREATE CATALOG INTEGRATION IF NOT EXISTS clockberg_object_store") {
		t.Errorf("setup message: %s", msgs[0])
	}
	rel, err := RelativePath(mustNormalizeWarehouse(t, f.settings), f.tables["clockify.users"].MetadataLocation())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msgs[1], `ALTER ICEBERG TABLE "CLOCKIFY"."USERS" REFRESH `+QuoteString(rel)+";") ||
		strings.Contains(msgs[1], "TIME_ENTRIES") {
		t.Errorf("table message: %s", msgs[1])
	}

	// A table outside the storage base becomes a WARN, not a failed sync.
	buf.Reset()
	w = airbyte.NewWriter(&buf, airbyte.NewRedactor())
	LogAfterSync(w, f.settings, []*table.Table{f.tables["clockify.users"]}, Options{StorageBase: "s3://elsewhere/x"})
	_ = w.Close()
	if !strings.Contains(buf.String(), `"level":"WARN"`) || !strings.Contains(buf.String(), "not under the storage base") {
		t.Errorf("want a WARN for a path outside the storage base, got %s", buf.String())
	}
}
