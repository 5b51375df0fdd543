package snowflake

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The command against a REST catalog (a local stand-in serving two tables): it lists, loads and
// prints the ICEBERG_REST integration and AUTO_REFRESH tables, and never the credential.
func TestCommandWithRESTCatalog(t *testing.T) {
	meta := func(name string) string {
		return `{"format-version":2,"table-uuid":"9c12d441-03fe-4693-9a96-a0705ddf69c1","location":"s3://bkt/wh/clockify.db/` + name + `",
		"last-sequence-number":0,"last-updated-ms":1700000000000,"last-column-id":1,"current-schema-id":0,
		"schemas":[{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"id","required":true,"type":"long"}]}],
		"default-spec-id":0,"partition-specs":[{"spec-id":0,"fields":[]}],"last-partition-id":999,
		"default-sort-order-id":0,"sort-orders":[{"order-id":0,"fields":[]}],"properties":{},
		"current-snapshot-id":-1,"snapshots":[],"snapshot-log":[],"metadata-log":[],"refs":{}}`
	}
	var sawAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch p := r.URL.Path; {
		case p == "/v1/config":
			_, _ = io.WriteString(w, `{"defaults":{},"overrides":{}}`)
		case p == "/v1/oauth/tokens":
			_, _ = io.WriteString(w, `{"access_token":"tok-from-server","token_type":"bearer","expires_in":3600}`)
		case p == "/v1/namespaces":
			sawAuth = append(sawAuth, r.Header.Get("Authorization"))
			_, _ = io.WriteString(w, `{"namespaces":[["clockify"]]}`)
		case p == "/v1/namespaces/clockify/tables":
			_, _ = io.WriteString(w, `{"identifiers":[{"namespace":["clockify"],"name":"users"},{"namespace":["clockify"],"name":"tags"}]}`)
		case strings.HasPrefix(p, "/v1/namespaces/clockify/tables/"):
			name := strings.TrimPrefix(p, "/v1/namespaces/clockify/tables/")
			_, _ = io.WriteString(w, `{"metadata-location":"s3://bkt/wh/clockify.db/`+name+`/metadata/00001-x.metadata.json","metadata":`+meta(name)+`,"config":{}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"message":"no route `+p+`","type":"NotFound","code":404}}`)
		}
	}))
	defer srv.Close()

	cfg := filepath.Join(t.TempDir(), "d.json")
	if err := os.WriteFile(cfg, []byte(`{"catalog":{"catalog_type":"rest","uri":"`+srv.URL+`","credential":"cid:VerySecretValue","warehouse":"main_wh"},
		"storage":{"storage_type":"s3","region":"us-east-1"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"--config", cfg}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	if strings.Contains(out+stderr.String(), "VerySecretValue") || strings.Contains(out+stderr.String(), "tok-from-server") {
		t.Errorf("output contains a credential:\n%s\n%s", out, stderr.String())
	}
	rows := restTableR.FindAllStringSubmatch(out, -1)
	if len(rows) != 2 || rows[0][1] != `"CLOCKIFY"."TAGS"` || mustUnquote(t, rows[0][5]) != "tags" || mustUnquote(t, rows[1][4]) != "clockify" {
		t.Errorf("table statements %v in:\n%s", rows, out)
	}
	for _, want := range []string{"CATALOG_SOURCE = ICEBERG_REST", "CATALOG_URI = '" + srv.URL + "'", "CATALOG_NAME = 'main_wh'", "STORAGE_BASE_URL = 's3://bkt/'"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(sawAuth) == 0 || sawAuth[0] != "Bearer tok-from-server" {
		t.Errorf("catalog calls not authenticated: %v", sawAuth)
	}
}
