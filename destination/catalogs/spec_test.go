package catalogs

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/clockberg/clockberg/airbyte"
)

func specDoc(t *testing.T) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
		"additionalProperties": true, "properties": SpecProperties(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var secretWords = []string{"token", "secret", "password", "key", "credential", "connection_string"}

// Airbyte's spec rules, checked on the fragment as the destination embeds it.
func TestSpecFollowsAirbyteRules(t *testing.T) {
	var root map[string]any
	if err := json.Unmarshal(specDoc(t), &root); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, node map[string]any)
	walk = func(path string, node map[string]any) {
		for _, k := range []string{"$ref", "anyOf", "allOf", "not", "if", "then", "else", "patternProperties", "prefixItems", "dependentSchemas", "dependentRequired"} {
			if _, ok := node[k]; ok {
				t.Errorf("%s uses %s", path, k)
			}
		}
		if ap, ok := node["additionalProperties"]; ok && ap != true {
			t.Errorf("%s: additionalProperties = %v", path, ap)
		}
		if props, ok := node["properties"].(map[string]any); ok {
			orders := map[float64]string{}
			for name, p := range props {
				pm := p.(map[string]any)
				if o, ok := pm["order"].(float64); ok {
					if other, dup := orders[o]; dup {
						t.Errorf("%s: order %v used by %s and %s", path, o, other, name)
					}
					orders[o] = name
				}
				if pm["type"] == "string" {
					for _, w := range secretWords {
						if strings.Contains(name, w) && pm["airbyte_secret"] != true {
							t.Errorf("%s.%s looks like a secret but is not airbyte_secret", path, name)
						}
					}
				}
				if _, ok := pm["title"].(string); !ok {
					t.Errorf("%s.%s has no title", path, name)
				}
				walk(path+"."+name, pm)
			}
		}
		if oneOf, ok := node["oneOf"].([]any); ok {
			if node["type"] != "object" {
				t.Errorf("%s: oneOf parent type %v, want object", path, node["type"])
			}
			var constSets []map[string]string
			for i, v := range oneOf {
				vm := v.(map[string]any)
				props, ok := vm["properties"].(map[string]any)
				if !ok {
					t.Errorf("%s.oneOf[%d] has no properties", path, i)
					continue
				}
				consts := map[string]string{}
				for name, p := range props {
					if c, ok := p.(map[string]any)["const"].(string); ok {
						consts[name] = c
					}
				}
				constSets = append(constSets, consts)
				walk(fmt.Sprintf("%s.oneOf[%d]", path, i), vm)
			}
			shared := map[string]int{}
			for _, cs := range constSets {
				for name := range cs {
					shared[name]++
				}
			}
			var common []string
			for name, n := range shared {
				if n == len(oneOf) {
					common = append(common, name)
				}
			}
			if len(common) != 1 {
				t.Errorf("%s: %d shared const properties %v, want exactly 1", path, len(common), common)
			} else {
				seen := map[string]bool{}
				for _, cs := range constSets {
					if seen[cs[common[0]]] {
						t.Errorf("%s: const %s=%q repeated", path, common[0], cs[common[0]])
					}
					seen[cs[common[0]]] = true
				}
			}
		}
	}
	walk("", root)
}

func TestSpecAcceptsAndRejectsConfigs(t *testing.T) {
	spec := specDoc(t)
	good := []string{
		`{}`,
		`{"warehouse":"./wh"}`,
		`{"warehouse":"/data/wh","catalog":{"catalog_type":"sql"},"storage":{"storage_type":"local"}}`,
		`{"catalog":{"catalog_type":"sql","uri":"postgres://u@h/db","password":"pw","name":"x"}}`,
		`{"catalog":{"catalog_type":"rest","uri":"https://a.snowflakecomputing.com/polaris/api/catalog","credential":"id:s","scope":"PRINCIPAL_ROLE:ALL","warehouse":"cat"}}`,
		`{"warehouse":"s3://b/w","catalog":{"catalog_type":"glue","region":"us-east-1"},"storage":{"storage_type":"s3","path_style_access":true}}`,
		`{"warehouse":"gs://b/w","catalog":{"catalog_type":"sql","uri":"/tmp/c.db"},"storage":{"storage_type":"gcs","service_account_json":"{}"}}`,
		`{"warehouse":"abfss://c@a.dfs.core.windows.net/w","catalog":{"catalog_type":"sql","uri":"/tmp/c.db"},"storage":{"storage_type":"azure","sas_token":"sv=1"}}`,
		`{"warehouse":"./wh","namespace":"other","unknown_key":1}`,
	}
	for _, c := range good {
		if err := airbyte.ValidateConfig(spec, json.RawMessage(c)); err != nil {
			t.Errorf("valid config %s rejected: %v", c, err)
		}
	}
	bad := []string{
		`{"warehouse":5}`,
		`{"catalog":{"uri":"/x.db"}}`,
		`{"catalog":{"catalog_type":"hive"}}`,
		`{"catalog":{"catalog_type":"rest"}}`,
		`{"storage":{"storage_type":"s3","path_style_access":"yes"}}`,
		`{"catalog":"sql"}`,
	}
	for _, c := range bad {
		if err := airbyte.ValidateConfig(spec, json.RawMessage(c)); err == nil {
			t.Errorf("invalid config %s accepted", c)
		}
	}
}

// Every secret the settings hold sits under a property name the spec marks airbyte_secret, so
// the runner's redactor (which collects airbyte_secret values by name) masks all of them.
func TestSpecMarksEverySecretField(t *testing.T) {
	secretNames := map[string]bool{}
	var collect func(node any)
	collect = func(node any) {
		switch v := node.(type) {
		case map[string]any:
			if props, ok := v["properties"].(map[string]any); ok {
				for name, p := range props {
					if p.(map[string]any)["airbyte_secret"] == true {
						secretNames[name] = true
					}
				}
			}
			for _, c := range v {
				collect(c)
			}
		case []any:
			for _, c := range v {
				collect(c)
			}
		}
	}
	var root any
	_ = json.Unmarshal(specDoc(t), &root)
	collect(root)

	s := allSecretsSettings()
	raw, _ := json.Marshal(s)
	var cfg map[string]any
	_ = json.Unmarshal(raw, &cfg)
	marked := map[string]bool{}
	for _, section := range []string{"catalog", "storage"} {
		for name, v := range cfg[section].(map[string]any) {
			if str, ok := v.(string); ok && secretNames[name] {
				marked[str] = true
			}
		}
	}
	for _, field := range []string{s.Catalog.Credential, s.Catalog.Token, s.Catalog.Password, s.Catalog.SecretAccessKey,
		s.Catalog.SessionToken, s.Catalog.AccessKeyID, s.Storage.AccessKeyID, s.Storage.SecretAccessKey, s.Storage.SessionToken,
		s.Storage.ServiceAccountJSON, s.Storage.AccountKey, s.Storage.SASToken, s.Storage.ConnectionString} {
		if !marked[field] {
			t.Errorf("secret value %q is not under an airbyte_secret property", field)
		}
	}
	var names []string
	for n := range secretNames {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("airbyte_secret properties: %v", names)
}

func allSecretsSettings() Settings {
	return Settings{
		Warehouse: "s3://bkt/wh",
		Catalog: CatalogSettings{Type: TypeSQL, URI: "postgres://ice@127.0.0.1:1/cat?sslmode=disable", Password: "PgPassw0rd!",
			Credential: "client:OAuthS3cret", Token: "BearerT0ken", AccessKeyID: "AKIDCATALOG", SecretAccessKey: "GlueS3cretKey",
			SessionToken: "GlueSessi0nTok"},
		Storage: StorageSettings{Type: StorageS3, AccessKeyID: "AKIDSTORAGE", SecretAccessKey: "S3S3cretKey",
			SessionToken: "S3Sessi0nTok", ServiceAccountJSON: `{"private_key":"GcsPrivKey"}`, AccountKey: "AzAcc0untKey",
			SASToken: "sig=AzSasT0k", ConnectionString: "AccountKey=AzConnStr1ng"},
	}
}

func assertNoSecret(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s contains the secret %q: %s", what, s, text)
		}
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestSecretsNeverInErrorsOrDescriptions(t *testing.T) {
	isolateAWS(t)
	ctx := context.Background()
	all := allSecretsSettings()
	secrets := append(all.Secrets(), "OAuthS3cret", "PgPassw0rd", "hunter2")

	// PostgreSQL: unreachable server, password from the password field and inside the URI.
	pg := all
	pg.Catalog.URI = "postgres://ice@" + closedPort(t) + "/cat?sslmode=disable&connect_timeout=2"
	pg.Warehouse = t.TempDir()
	pg.Storage = StorageSettings{}
	_, err := Open(ctx, pg)
	if err == nil {
		t.Fatal("Open against a closed PostgreSQL port succeeded")
	}
	assertNoSecret(t, "postgres Open error", err.Error(), secrets...)
	if !strings.Contains(err.Error(), "connecting to the postgres catalog database") {
		t.Errorf("postgres error does not say what failed: %v", err)
	}
	pg.Catalog.Password = ""
	pg.Catalog.URI = "postgres://ice:hunter2@" + closedPort(t) + "/cat?sslmode=disable&connect_timeout=2"
	if _, err = Open(ctx, pg); err == nil {
		t.Fatal("Open against a closed PostgreSQL port succeeded")
	}
	assertNoSecret(t, "postgres Open error", err.Error(), "hunter2")
	assertNoSecret(t, "postgres Describe", pg.Describe(), "hunter2")

	// REST: the token endpoint rejects the credential and echoes it back.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad secret %s / %s"}`,
			r.PostForm.Get("client_secret"), r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	rs := all
	rs.Catalog = CatalogSettings{Type: TypeREST, URI: srv.URL, Credential: all.Catalog.Credential}
	_, err = Open(ctx, rs)
	if err == nil {
		t.Fatal("Open with a rejected credential succeeded")
	}
	assertNoSecret(t, "rest Open error", err.Error(), secrets...)
	if !strings.Contains(err.Error(), "connecting to the rest catalog at "+srv.URL) {
		t.Errorf("rest error does not say what failed: %v", err)
	}
	rs.Catalog = CatalogSettings{Type: TypeREST, URI: srv.URL, Token: all.Catalog.Token}
	if _, err = Open(ctx, rs); err == nil {
		t.Fatal("Open with a rejected token succeeded")
	}
	assertNoSecret(t, "rest Open error", err.Error(), secrets...)
	rs.Catalog.URI = "http://user:hunter2@" + closedPort(t)
	if _, err = Open(ctx, rs); err == nil {
		t.Fatal("Open against a closed port succeeded")
	}
	assertNoSecret(t, "rest Open error", err.Error(), "hunter2")

	// Descriptions of every variant.
	for _, s := range []Settings{
		all,
		{Catalog: CatalogSettings{Type: TypeREST, URI: "https://u:hunter2@h/api?token=hunter2", Credential: all.Catalog.Credential}},
		{Warehouse: "s3://b/w", Catalog: CatalogSettings{Type: TypeGlue, AccessKeyID: "AKIDCATALOG", SecretAccessKey: "GlueS3cretKey", SessionToken: "GlueSessi0nTok"},
			Storage: all.Storage},
		{Warehouse: "gs://b/w", Catalog: all.Catalog, Storage: StorageSettings{Type: StorageGCS, ServiceAccountJSON: all.Storage.ServiceAccountJSON}},
		{Warehouse: "abfss://c@acct.dfs.core.windows.net/w", Catalog: all.Catalog, Storage: StorageSettings{Type: StorageAzure, AccountKey: "AzAcc0untKey"}},
	} {
		d := s.Describe()
		assertNoSecret(t, "Describe", d, secrets...)
		if !strings.Contains(d, "catalog=") {
			t.Errorf("Describe %q has no catalog part", d)
		}
	}
	if d := (Settings{}).Describe(); !strings.Contains(d, "catalog=sql(sqlite ") || !strings.Contains(d, "catalog.db") || !strings.Contains(d, "storage=local") {
		t.Errorf("default Describe = %q", d)
	}
}
