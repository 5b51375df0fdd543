package catalogs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustNormalize(t *testing.T, raw string) Settings {
	t.Helper()
	s, err := ParseSettings([]byte(raw))
	if err != nil {
		t.Fatalf("ParseSettings(%s): %v", raw, err)
	}
	n, err := s.Normalized()
	if err != nil {
		t.Fatalf("Normalized(%s): %v", raw, err)
	}
	return n
}

func TestEmptyConfigMeansLocalWarehouseWithSQLite(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cwd, _ := os.Getwd() // TempDir may be behind a symlink; Abs uses the process cwd

	for _, raw := range []string{`{}`, ``, `{"destination_namespace":"x","catalog":{"catalog_type":"sql"}}`} {
		n := mustNormalize(t, raw)
		if want := fileURI(filepath.Join(cwd, "warehouse")); n.Warehouse != want {
			t.Errorf("%q: warehouse = %q, want %q", raw, n.Warehouse, want)
		}
		if n.Catalog.Type != TypeSQL || n.Catalog.Name != DefaultCatalogName {
			t.Errorf("%q: catalog = %+v, want sql named %q", raw, n.Catalog, DefaultCatalogName)
		}
		if want := filepath.Join(cwd, "warehouse", "catalog.db"); n.Catalog.URI != want {
			t.Errorf("%q: sqlite uri = %q, want %q", raw, n.Catalog.URI, want)
		}
		if n.Storage.Type != StorageLocal {
			t.Errorf("%q: storage = %q, want local", raw, n.Storage.Type)
		}
	}
}

func TestWarehouseForms(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cwd, _ := os.Getwd()

	cases := []struct{ in, want string }{
		{"data/wh", fileURI(filepath.Join(cwd, "data", "wh"))},
		{"./data/../wh2/", fileURI(filepath.Join(cwd, "wh2"))},
		{"/srv/ice berg/wh", "file:///srv/ice%20berg/wh"},
		{"file:///srv/wh/", "file:///srv/wh"},
		{"file://localhost/srv/wh", "file:///srv/wh"},
		{"file:///srv/ice%20berg", "file:///srv/ice%20berg"},
		{"s3://bucket/prefix/", "s3://bucket/prefix"},
		{"gs://bucket/p", "gs://bucket/p"},
		{"abfss://cont@acct.dfs.core.windows.net/p", "abfss://cont@acct.dfs.core.windows.net/p"},
	}
	for _, c := range cases {
		got, err := normalizeWarehouse(c.in)
		if err != nil {
			t.Errorf("normalizeWarehouse(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("normalizeWarehouse(%q) = %q, want %q", c.in, got, c.want)
		}
	}

	// The local path round-trips, spaces included, and the SQLite file lands inside it.
	n := mustNormalize(t, `{"warehouse":"/srv/ice berg/wh"}`)
	if p, ok := LocalPath(n.Warehouse); !ok || p != "/srv/ice berg/wh" {
		t.Errorf("LocalPath(%q) = %q, %v", n.Warehouse, p, ok)
	}
	if n.Catalog.URI != "/srv/ice berg/wh/catalog.db" {
		t.Errorf("sqlite uri = %q", n.Catalog.URI)
	}
	// Storage type is taken from the scheme.
	if n := mustNormalize(t, `{"warehouse":"s3://b/w","catalog":{"catalog_type":"sql","uri":"/tmp/c.db"}}`); n.Storage.Type != StorageS3 {
		t.Errorf("s3 warehouse: storage = %q", n.Storage.Type)
	}
	if n := mustNormalize(t, `{"warehouse":"gs://b/w","catalog":{"catalog_type":"sql","uri":"/tmp/c.db"}}`); n.Storage.Type != StorageGCS {
		t.Errorf("gs warehouse: storage = %q", n.Storage.Type)
	}
	// REST needs no warehouse and does not get the local default.
	if n := mustNormalize(t, `{"catalog":{"catalog_type":"rest","uri":"http://127.0.0.1:8181"}}`); n.Warehouse != "" {
		t.Errorf("rest: warehouse = %q, want empty", n.Warehouse)
	}
}

func TestSettingsErrors(t *testing.T) {
	cases := []struct{ raw, want string }{
		{`{"catalog":{"catalog_type":"hive"}}`, `catalog_type "hive" is not supported`},
		{`{"warehouse":"ftp://x/y"}`, `scheme "ftp" is not supported`},
		{`{"warehouse":"file://host/x"}`, `absolute path`},
		{`{"warehouse":"s3://"}`, `no bucket`},
		{`{"warehouse":"abfss://acct.dfs.core.windows.net/p","catalog":{"catalog_type":"glue"}}`, `abfss://container@account`},
		{`{"warehouse":"s3://b/w"}`, `catalog.uri is required`},
		{`{"catalog":{"catalog_type":"glue"}}`, `warehouse is required for a glue catalog`},
		{`{"catalog":{"catalog_type":"rest"}}`, `catalog.uri is required for a rest catalog`},
		{`{"catalog":{"catalog_type":"rest","uri":"thrift://h:9083"}}`, `not an http(s) URL`},
		{`{"catalog":{"catalog_type":"rest","uri":"http://h","credential":"a:b","token":"t"}}`, `not both`},
		{`{"warehouse":"s3://b/w","catalog":{"catalog_type":"glue"},"storage":{"storage_type":"gcs"}}`, `does not match the warehouse`},
		{`{"warehouse":"s3://b/w","catalog":{"catalog_type":"glue"},"storage":{"storage_type":"s3","access_key_id":"AKIA"}}`, `must be given together`},
		{`{"warehouse":"s3://b/w","catalog":{"catalog_type":"glue","secret_access_key":"zz"}}`, `must be given together`},
		{`{"catalog":{"catalog_type":"sql","uri":"mysql://u@h/db"}}`, `only SQLite`},
		{`{"catalog":{"catalog_type":"sql","uri":":memory:"}}`, `in-memory`},
		{`{"catalog":{"catalog_type":"sql","uri":"sqlite://rel.db"}}`, `sqlite:///relative.db`},
		{`{"storage":{"storage_type":"tape"}}`, `storage_type "tape" is not supported`},
		{`{"warehouse":"gs://b/w","catalog":{"catalog_type":"sql","uri":"/tmp/c.db"},"storage":{"storage_type":"gcs","service_account_json":"{not json"}}`, `not valid JSON`},
		{`[1]`, `not a valid JSON object`},
	}
	for _, c := range cases {
		s, err := ParseSettings([]byte(c.raw))
		if err == nil {
			_, err = s.Normalized()
		}
		if err == nil {
			t.Errorf("%s: no error, want one containing %q", c.raw, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not contain %q", c.raw, err, c.want)
		}
	}
}

func TestParseSQLURI(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cwd, _ := os.Getwd()

	cases := []struct {
		in, path, dsnPrefix string
	}{
		{"cat.db", filepath.Join(cwd, "cat.db"), "file:" + cwd + "/cat.db?"},
		{"/a b/c.db", "/a b/c.db", "file:/a%20b/c.db?"},
		{"sqlite:////abs/c.db", "/abs/c.db", "file:/abs/c.db?"},
		{"sqlite:///rel/c.db", filepath.Join(cwd, "rel", "c.db"), "file:" + cwd + "/rel/c.db?"},
		{"file:///abs/c.db?cache=shared", "/abs/c.db", "file:/abs/c.db?cache=shared&"},
		{"file:/abs/c%3F.db", "/abs/c?.db", "file:/abs/c%3F.db?"},
	}
	for _, c := range cases {
		got, err := parseSQLURI(c.in, "")
		if err != nil {
			t.Errorf("parseSQLURI(%q): %v", c.in, err)
			continue
		}
		if got.dialect != dialectSQLite || got.driver != "sqlite" || got.path != c.path || !strings.HasPrefix(got.dsn, c.dsnPrefix) {
			t.Errorf("parseSQLURI(%q) = %+v, want path %q dsn prefix %q", c.in, got, c.path, c.dsnPrefix)
		}
		for _, p := range []string{"_pragma=busy_timeout(10000)", "_pragma=journal_mode(WAL)", "_txlock=immediate"} {
			if !strings.Contains(got.dsn, p) {
				t.Errorf("parseSQLURI(%q) dsn %q lacks %s", c.in, got.dsn, p)
			}
		}
	}

	// A pragma the user set is not doubled.
	got, err := parseSQLURI("file:/x.db?_pragma=busy_timeout(1)", "")
	if err != nil || strings.Count(got.dsn, "busy_timeout") != 1 || !strings.Contains(got.dsn, "busy_timeout(1)") {
		t.Errorf("user pragma: %q, %v", got.dsn, err)
	}

	pg, err := parseSQLURI("postgres://ice@127.0.0.1:5432/cat?sslmode=disable", "p@ss:w/rd")
	if err != nil {
		t.Fatal(err)
	}
	if pg.dialect != dialectPostgres || pg.driver != "pgx" || pg.dsn != "postgres://ice:p%40ss%3Aw%2Frd@127.0.0.1:5432/cat?sslmode=disable" {
		t.Errorf("postgres: %+v", pg)
	}
	if _, err := parseSQLURI("postgres://ice:x@h/cat", "y"); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("password twice: %v", err)
	}
	if _, err := parseSQLURI("postgresql://h/cat", "y"); err == nil || !strings.Contains(err.Error(), "user name") {
		t.Errorf("password without user: %v", err)
	}
}
