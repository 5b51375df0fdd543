package snowflake

import (
	"strings"
	"testing"

	"github.com/clockberg/clockberg/destination/catalogs"
)

func TestQuoting(t *testing.T) {
	if got := QuoteIdent(`a"b`); got != `"a""b"` {
		t.Errorf("QuoteIdent = %s", got)
	}
	for _, s := range []string{"", "plain", "it's", `back\slash`, `both '\' mixed ''`, "new\nline\r\t\x01\x7f", "ünïcödé"} {
		if q := QuoteString(s); strings.ContainsAny(q, "\n\r\x01") {
			t.Errorf("QuoteString(%q) = %q holds a control character", s, q)
		}
		q := QuoteString(s)
		if strings.Count(q, "'")%2 != 0 {
			t.Errorf("QuoteString(%q) = %s has unbalanced quotes", s, q)
		}
		back, err := UnquoteString(q)
		if err != nil || back != s {
			t.Errorf("UnquoteString(QuoteString(%q)) = %q, %v", s, back, err)
		}
	}
	if got := QuoteString(`it's \n`); got != `'it''s \\n'` {
		t.Errorf("QuoteString = %s", got)
	}
	for _, bad := range []string{"", "'", "abc", "'a'b'"} {
		if _, err := UnquoteString(bad); err == nil {
			t.Errorf("UnquoteString(%q) accepted", bad)
		}
	}
}

func TestRelativePath(t *testing.T) {
	cases := []struct{ base, loc, want string }{
		{"file:///wh", "file:///wh/ns.db/t/metadata/00001-a.metadata.json", "ns.db/t/metadata/00001-a.metadata.json"},
		{"file:///w%20h/", "file:///w%20h/n%27s.db/t%22/metadata/x.json", `n's.db/t"/metadata/x.json`},
		{"/wh", "file:///wh/ns.db/t/m.json", "ns.db/t/m.json"},
		{"file:///wh", "/wh/ns.db/t/m.json", "ns.db/t/m.json"},
		{"s3://bkt/wh", "s3://bkt/wh/ns.db/t/metadata/m.json", "ns.db/t/metadata/m.json"},
		{"s3://bkt/", "s3a://bkt/wh/ns.db/t/m.json", "wh/ns.db/t/m.json"},
		{"s3://bkt", "s3://bkt/wh/m.json", "wh/m.json"},
		{"gs://b/p", "gs://b/p/x/m.json", "x/m.json"},
		{"abfss://c@a.dfs.core.windows.net/p", "abfss://c@a.dfs.core.windows.net/p/x/m.json", "x/m.json"},
	}
	for _, c := range cases {
		got, err := RelativePath(c.base, c.loc)
		if err != nil || got != c.want {
			t.Errorf("RelativePath(%q, %q) = %q, %v; want %q", c.base, c.loc, got, err, c.want)
		}
	}
	for _, c := range [][2]string{
		{"s3://bkt/wh", "s3://other/wh/m.json"},
		{"s3://bkt/wh", "s3://bkt/wh2/m.json"},
		{"s3://bkt/wh", "gs://bkt/wh/m.json"},
		{"file:///wh", "s3://bkt/wh/m.json"},
		{"abfss://c@a.dfs.core.windows.net/p", "abfss://d@a.dfs.core.windows.net/p/m.json"},
		{"s3://bkt/wh", "s3://bkt/wh/"},
	} {
		if got, err := RelativePath(c[0], c[1]); err == nil {
			t.Errorf("RelativePath(%q, %q) = %q, want an error", c[0], c[1], got)
		}
	}
}

func refs(ns string, names ...string) []TableRef {
	var out []TableRef
	for _, n := range names {
		out = append(out, TableRef{Namespace: strings.Split(ns, "."), Name: n,
			MetadataLocation: "s3://bkt/wh/" + ns + ".db/" + n + "/metadata/00003-x.metadata.json",
			Location:         "s3://bkt/wh/" + ns + ".db/" + n})
	}
	return out
}

var allSecrets = []string{"OAuthClientS3cret", "client-id-1", "BearerT0ken", "AKIDSTORAGE", "S3S3cretKey", "GlueS3cretKey", "AKIDGLUE", "hunter2"}

func assertClean(t *testing.T, sql string) {
	t.Helper()
	for _, s := range allSecrets {
		if strings.Contains(sql, s) {
			t.Errorf("statements contain the secret %q:\n%s", s, sql)
		}
	}
}

func build(t *testing.T, s catalogs.Settings, tables []TableRef, o Options) *Plan {
	t.Helper()
	p, err := Build(s, tables, o)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return p
}

func TestRESTPlan(t *testing.T) {
	s := catalogs.Settings{
		Catalog: catalogs.CatalogSettings{Type: catalogs.TypeREST, URI: "https://user:hunter2@rest.example.com/api/catalog?token=hunter2",
			Credential: "client-id-1:OAuthClientS3cret", Scope: "catalog", RESTWarehouse: "wh_name", Prefix: "p1",
			OAuth2ServerURI: "https://auth.example.com/oauth/tokens"},
		Storage: catalogs.StorageSettings{Type: catalogs.StorageS3, Region: "eu-west-1", AccessKeyID: "AKIDSTORAGE", SecretAccessKey: "S3S3cretKey"},
	}
	p := build(t, s, refs("clockify", "users", "projects"), Options{})
	sql := p.SQL()
	assertClean(t, sql)
	if p.Source != IcebergREST || p.CatalogIntegration != "clockberg_iceberg_rest" {
		t.Errorf("source %s integration %s", p.Source, p.CatalogIntegration)
	}
	for _, want := range []string{
		"CATALOG_SOURCE = ICEBERG_REST",
		"CATALOG_NAMESPACE = 'clockify'",
		"CATALOG_URI = 'https://rest.example.com/api/catalog'",
		"PREFIX = 'p1'",
		"CATALOG_NAME = 'wh_name'",
		"TYPE = OAUTH",
		"OAUTH_TOKEN_URI = 'https://auth.example.com/oauth/tokens'",
		"OAUTH_CLIENT_ID = '<oauth_client_id>'",
		"OAUTH_CLIENT_SECRET = '<oauth_client_secret>'",
		"OAUTH_ALLOWED_SCOPES = ('catalog')",
		"REFRESH_INTERVAL_SECONDS = 30",
		"STORAGE_BASE_URL = 's3://bkt/'", // no warehouse in the settings: the tables' bucket
		`CREATE ICEBERG TABLE IF NOT EXISTS "CLOCKIFY"."PROJECTS" EXTERNAL_VOLUME = 'clockberg_volume' CATALOG = 'clockberg_iceberg_rest' CATALOG_NAMESPACE = 'clockify' CATALOG_TABLE_NAME = 'projects' AUTO_REFRESH = TRUE;`,
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("REST statements lack %q:\n%s", want, sql)
		}
	}
	if strings.Contains(sql, "METADATA_FILE_PATH") || strings.Contains(sql, "REFRESH '") {
		t.Errorf("REST plan has object-store statements:\n%s", sql)
	}
	if got := restTableR.FindAllStringSubmatch(sql, -1); len(got) != 2 || got[0][1] != `"CLOCKIFY"."PROJECTS"` {
		t.Errorf("table statements %v", got)
	}

	// Bearer token and SigV4 variants.
	s.Catalog.Credential, s.Catalog.Token = "", "BearerT0ken"
	sql = build(t, s, refs("clockify", "users"), Options{}).SQL()
	assertClean(t, sql)
	if !strings.Contains(sql, "TYPE = BEARER\n    BEARER_TOKEN = '<bearer_token>'") {
		t.Errorf("bearer statements:\n%s", sql)
	}
	s.Catalog.Token, s.Catalog.SigV4, s.Catalog.SigV4Service = "", true, "glue"
	sql = build(t, s, refs("clockify", "users"), Options{}).SQL()
	if !strings.Contains(sql, "TYPE = SIGV4") || !strings.Contains(sql, "SIGV4_SIGNING_REGION = 'eu-west-1'") {
		t.Errorf("sigv4 statements:\n%s", sql)
	}
}

func TestPolarisPlanDetectedFromURI(t *testing.T) {
	s := catalogs.Settings{Catalog: catalogs.CatalogSettings{Type: catalogs.TypeREST,
		URI: "https://myorg-myacct.snowflakecomputing.com/polaris/api/catalog", Credential: "client-id-1:OAuthClientS3cret", RESTWarehouse: "open_cat"}}
	p := build(t, s, append(refs("clockify", "users"), refs("other", "t")...), Options{})
	sql := p.SQL()
	assertClean(t, sql)
	for _, want := range []string{
		"CREATE CATALOG INTEGRATION IF NOT EXISTS clockberg_polaris\n  CATALOG_SOURCE = POLARIS",
		"CATALOG_URI = 'https://myorg-myacct.snowflakecomputing.com/polaris/api/catalog'",
		"CATALOG_NAME = 'open_cat'",
		"OAUTH_ALLOWED_SCOPES = ('PRINCIPAL_ROLE:ALL')",
		`CATALOG_NAMESPACE = 'other' CATALOG_TABLE_NAME = 't' AUTO_REFRESH = TRUE;`,
		`CREATE SCHEMA IF NOT EXISTS "OTHER";`,
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("Polaris statements lack %q:\n%s", want, sql)
		}
	}
	// Two namespaces: the integration names none; each table does.
	if strings.Contains(p.Setup[1], "CATALOG_NAMESPACE") {
		t.Errorf("integration with several namespaces names one:\n%s", p.Setup[1])
	}
}

func TestGluePlan(t *testing.T) {
	s := catalogs.Settings{Warehouse: "s3://bkt/wh", Catalog: catalogs.CatalogSettings{Type: catalogs.TypeGlue, Region: "us-west-2",
		CatalogID: "123456789012", AccessKeyID: "AKIDGLUE", SecretAccessKey: "GlueS3cretKey"}}
	sql := build(t, s, refs("clockify", "users"), Options{ExternalVolume: "vol1", CatalogIntegration: "glue_int"}).SQL()
	assertClean(t, sql)
	for _, want := range []string{
		"CATALOG_SOURCE = GLUE", "GLUE_AWS_ROLE_ARN = '<glue_iam_role_arn>'", "GLUE_CATALOG_ID = '123456789012'",
		"GLUE_REGION = 'us-west-2'", "CATALOG_NAMESPACE = 'clockify'", "STORAGE_BASE_URL = 's3://bkt/wh/'",
		"STORAGE_PROVIDER = 'S3'",
		`CREATE ICEBERG TABLE IF NOT EXISTS "CLOCKIFY"."USERS" EXTERNAL_VOLUME = 'vol1' CATALOG = 'glue_int' CATALOG_NAMESPACE = 'clockify' CATALOG_TABLE_NAME = 'users' AUTO_REFRESH = TRUE;`,
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("Glue statements lack %q:\n%s", want, sql)
		}
	}
	// Without a catalog id: a placeholder.
	s.Catalog.CatalogID = ""
	if sql := build(t, s, refs("clockify", "users"), Options{}).SQL(); !strings.Contains(sql, "GLUE_CATALOG_ID = '<aws_account_id>'") {
		t.Errorf("no catalog id placeholder:\n%s", sql)
	}
	// OBJECT_STORE can be forced for any catalog: the paths come from the metadata files.
	p := build(t, s, refs("clockify", "users"), Options{Source: ObjectStore})
	if p.Tables[0].MetadataPath != "clockify.db/users/metadata/00003-x.metadata.json" {
		t.Errorf("forced OBJECT_STORE path %q", p.Tables[0].MetadataPath)
	}
}

func TestExternalVolumeForEachStore(t *testing.T) {
	sqlCat := catalogs.CatalogSettings{Type: catalogs.TypeSQL, URI: "/tmp/c.db"}
	cases := []struct {
		s    catalogs.Settings
		base string
		want []string
	}{
		{catalogs.Settings{Warehouse: "s3://bkt/wh", Catalog: sqlCat, Storage: catalogs.StorageSettings{Type: "s3", Endpoint: "http://minio.local:9000",
			AccessKeyID: "AKIDSTORAGE", SecretAccessKey: "S3S3cretKey"}}, "s3://bkt/wh",
			[]string{"STORAGE_PROVIDER = 'S3COMPAT'", "STORAGE_BASE_URL = 's3compat://bkt/wh/'", "STORAGE_ENDPOINT = 'minio.local:9000'", "AWS_KEY_ID = '<aws_key_id>'"}},
		{catalogs.Settings{Warehouse: "gs://gb/p", Catalog: sqlCat}, "gs://gb/p",
			[]string{"STORAGE_PROVIDER = 'GCS'", "STORAGE_BASE_URL = 'gcs://gb/p/'"}},
		{catalogs.Settings{Warehouse: "abfss://cont@acct.dfs.core.windows.net/p", Catalog: sqlCat}, "abfss://cont@acct.dfs.core.windows.net/p",
			[]string{"STORAGE_PROVIDER = 'AZURE'", "STORAGE_BASE_URL = 'azure://acct.blob.core.windows.net/cont/p/'", "AZURE_TENANT_ID = '<azure_tenant_id>'"}},
	}
	for _, c := range cases {
		tbl := TableRef{Namespace: []string{"ns"}, Name: "t", MetadataLocation: c.base + "/ns.db/t/metadata/1.metadata.json"}
		p := build(t, c.s, []TableRef{tbl}, Options{})
		sql := p.SQL()
		assertClean(t, sql)
		for _, w := range c.want {
			if !strings.Contains(sql, w) {
				t.Errorf("%s: statements lack %q:\n%s", c.base, w, sql)
			}
		}
		if p.Tables[0].MetadataPath != "ns.db/t/metadata/1.metadata.json" {
			t.Errorf("%s: path %q", c.base, p.Tables[0].MetadataPath)
		}
	}
}

func TestNamesAndOptions(t *testing.T) {
	s := catalogs.Settings{Warehouse: "s3://bkt/wh", Catalog: catalogs.CatalogSettings{Type: catalogs.TypeSQL, URI: "/tmp/c.db"}}
	tables := []TableRef{
		{Namespace: []string{"clockify"}, Name: "users", MetadataLocation: "s3://bkt/wh/clockify.db/users/metadata/1.metadata.json"},
		{Namespace: []string{"clockify"}, Name: "Users", MetadataLocation: "s3://bkt/wh/clockify.db/Users/metadata/1.metadata.json"},
		{Namespace: []string{"clockify"}, Name: "Time Entries", MetadataLocation: "s3://bkt/wh/clockify.db/Time%20Entries/metadata/1.metadata.json"},
		{Namespace: []string{"a", "b"}, Name: "x\nDROP TABLE y", MetadataLocation: "s3://bkt/wh/a.b.db/x/metadata/1.metadata.json"},
	}
	p := build(t, s, tables, Options{Database: "analytics"})
	names := map[string]string{}
	for _, ts := range p.Tables {
		names[ts.Ref.Name] = ts.SnowflakeName
	}
	want := map[string]string{
		"users":           `"ANALYTICS"."CLOCKIFY"."users"`, // collides with Users once upper-cased
		"Users":           `"ANALYTICS"."CLOCKIFY"."Users"`,
		"Time Entries":    `"ANALYTICS"."CLOCKIFY"."Time Entries"`,
		"x\nDROP TABLE y": `"ANALYTICS"."A_B"."x_DROP TABLE y"`,
	}
	for k, v := range want {
		if names[k] != v {
			t.Errorf("name of %q = %s, want %s", k, names[k], v)
		}
	}
	for _, ts := range p.Tables {
		if ts.Ref.Name == "Time Entries" && ts.MetadataPath != "clockify.db/Time Entries/metadata/1.metadata.json" {
			t.Errorf("decoded path %q", ts.MetadataPath)
		}
	}
	// A line break in a name stays inside quotes: no line of the script starts with DROP.
	for _, line := range strings.Split(p.SQL(), "\n") {
		if strings.HasPrefix(line, "DROP") {
			t.Errorf("a table name broke out of its line: %q\n%s", line, p.SQL())
		}
	}
	p = build(t, s, tables[:1], Options{PreserveCase: true})
	if p.Tables[0].SnowflakeName != `"clockify"."users"` {
		t.Errorf("PreserveCase name %s", p.Tables[0].SnowflakeName)
	}
	for _, o := range []Options{{ExternalVolume: "bad name"}, {CatalogIntegration: "x'y"}, {Source: "HIVE"}} {
		if _, err := Build(s, tables[:1], o); err == nil {
			t.Errorf("Build with %+v accepted", o)
		}
	}
}
