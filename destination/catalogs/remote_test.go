package catalogs

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/iceberg-go/catalog/glue"
	iceio "github.com/apache/iceberg-go/io"
)

// Keep the AWS SDK away from the developer's files and the instance metadata service.
func isolateAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_GLUE", "AWS_S3_ENDPOINT"} {
		t.Setenv(k, "")
	}
}

func TestIOPropsS3(t *testing.T) {
	n := mustNormalize(t, `{"warehouse":"s3://bkt/wh","catalog":{"catalog_type":"sql","uri":"/tmp/x.db"},
		"storage":{"storage_type":"s3","region":"eu-west-1","endpoint":"http://127.0.0.1:9000",
		"access_key_id":"AKIDEXAMPLE","secret_access_key":"s3cr3tKEY","session_token":"sessTOK","path_style_access":true}}`)
	p := n.IOProps()
	want := map[string]string{
		"warehouse":                    "s3://bkt/wh",
		iceio.S3Region:                 "eu-west-1",
		iceio.S3EndpointURL:            "http://127.0.0.1:9000",
		iceio.S3AccessKeyID:            "AKIDEXAMPLE",
		iceio.S3SecretAccessKey:        "s3cr3tKEY",
		iceio.S3SessionToken:           "sessTOK",
		iceio.S3ForceVirtualAddressing: "false",
	}
	if len(p) != len(want) {
		t.Errorf("IOProps = %v, want %v", p, want)
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("IOProps[%s] = %q, want %q", k, p[k], v)
		}
	}
	// path_style_access false forces virtual addressing; unset leaves iceberg-go's default.
	n = mustNormalize(t, `{"warehouse":"s3://bkt/wh","catalog":{"catalog_type":"sql","uri":"/tmp/x.db"},"storage":{"storage_type":"s3","path_style_access":false}}`)
	if v := n.IOProps()[iceio.S3ForceVirtualAddressing]; v != "true" {
		t.Errorf("path_style_access=false: force-virtual = %q", v)
	}
	n = mustNormalize(t, `{"warehouse":"s3://bkt/wh","catalog":{"catalog_type":"sql","uri":"/tmp/x.db"}}`)
	if _, ok := n.IOProps()[iceio.S3ForceVirtualAddressing]; ok {
		t.Errorf("path style unset but force-virtual present: %v", n.IOProps())
	}
}

func TestIOPropsGCSAndAzure(t *testing.T) {
	n := mustNormalize(t, `{"warehouse":"gs://b/w","catalog":{"catalog_type":"sql","uri":"/tmp/x.db"},
		"storage":{"storage_type":"gcs","service_account_json":"{\"type\":\"service_account\"}","endpoint":"http://127.0.0.1:4443"}}`)
	if p := n.IOProps(); p[iceio.GCSJSONKey] != `{"type":"service_account"}` || p[iceio.GCSEndpoint] != "http://127.0.0.1:4443" {
		t.Errorf("gcs props %v", p)
	}

	const wh = `"warehouse":"abfss://cont@acct.dfs.core.windows.net/wh","catalog":{"catalog_type":"sql","uri":"/tmp/x.db"}`
	n = mustNormalize(t, `{`+wh+`,"storage":{"storage_type":"azure","account_key":"a2V5"}}`)
	if p := n.IOProps(); p[iceio.ADLSSharedKeyAccountName] != "acct" || p[iceio.ADLSSharedKeyAccountKey] != "a2V5" {
		t.Errorf("azure shared key props %v", p)
	}
	n = mustNormalize(t, `{`+wh+`,"storage":{"storage_type":"azure","sas_token":"sv=2024&sig=abc"}}`)
	if p := n.IOProps(); p[iceio.ADLSSasTokenPrefix+"acct.dfs.core.windows.net"] != "sv=2024&sig=abc" {
		t.Errorf("azure sas props %v", p)
	}
	n = mustNormalize(t, `{`+wh+`,"storage":{"storage_type":"azure","connection_string":"DefaultEndpointsProtocol=https;AccountName=acct"}}`)
	if p := n.IOProps(); p[iceio.ADLSConnectionStringPrefix+"acct"] == "" {
		t.Errorf("azure connection string props %v", p)
	}
}

func TestGluePropsFallBackToCatalogKeys(t *testing.T) {
	n := mustNormalize(t, `{"warehouse":"s3://bkt/wh","catalog":{"catalog_type":"glue","region":"us-west-2",
		"catalog_id":"123456789012","access_key_id":"AKIDGLUE","secret_access_key":"glueSECRET","endpoint":"http://127.0.0.1:5000"}}`)
	p := n.GlueProps()
	want := map[string]string{
		"warehouse": "s3://bkt/wh", glue.CatalogIdKey: "123456789012", glue.Region: "us-west-2",
		glue.Endpoint: "http://127.0.0.1:5000", glue.AccessKeyID: "AKIDGLUE", glue.SecretAccessKey: "glueSECRET",
		iceio.S3Region: "us-west-2", iceio.S3AccessKeyID: "AKIDGLUE", iceio.S3SecretAccessKey: "glueSECRET",
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("GlueProps[%s] = %q, want %q", k, p[k], v)
		}
	}
	// Storage keys win over the Glue ones for S3.
	n = mustNormalize(t, `{"warehouse":"s3://bkt/wh","catalog":{"catalog_type":"glue","access_key_id":"AKIDGLUE","secret_access_key":"glueSECRET"},
		"storage":{"storage_type":"s3","region":"eu-central-1","access_key_id":"AKIDS3","secret_access_key":"s3SECRET"}}`)
	p = n.GlueProps()
	if p[iceio.S3AccessKeyID] != "AKIDS3" || p[iceio.S3SecretAccessKey] != "s3SECRET" || p[iceio.S3Region] != "eu-central-1" {
		t.Errorf("storage keys not preferred: %v", p)
	}
}

func TestGlueAWSConfig(t *testing.T) {
	isolateAWS(t)
	ctx := context.Background()
	n := mustNormalize(t, `{"warehouse":"s3://bkt/wh","catalog":{"catalog_type":"glue","region":"us-west-2",
		"access_key_id":"AKIDGLUE","secret_access_key":"glueSECRET","session_token":"glueTOKEN","endpoint":"http://127.0.0.1:5000"}}`)
	cfg, err := n.glueAWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-west-2" || cfg.BaseEndpoint == nil || *cfg.BaseEndpoint != "http://127.0.0.1:5000" ||
		creds.AccessKeyID != "AKIDGLUE" || creds.SecretAccessKey != "glueSECRET" || creds.SessionToken != "glueTOKEN" {
		t.Errorf("aws config: region %q endpoint %v creds %+v", cfg.Region, cfg.BaseEndpoint, creds)
	}
	// Without keys the default chain is used: here the environment.
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "envSECRET")
	n = mustNormalize(t, `{"warehouse":"s3://bkt/wh","catalog":{"catalog_type":"glue","region":"us-east-1"}}`)
	cfg, err = n.glueAWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if creds, err := cfg.Credentials.Retrieve(ctx); err != nil || creds.AccessKeyID != "AKIDENV" {
		t.Errorf("default chain: %+v, %v", creds, err)
	}
}

// A local stand-in for the Glue API (JSON 1.1 over HTTP) shows that Open sends requests to the
// configured endpoint, signed with the configured keys, for the configured catalog id.
func TestOpenGlueAgainstLocalEndpoint(t *testing.T) {
	isolateAWS(t)
	var mu sync.Mutex
	var targets, auths []string
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		targets = append(targets, r.Header.Get("X-Amz-Target"))
		auths = append(auths, r.Header.Get("Authorization"))
		bodies = append(bodies, m)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = io.WriteString(w, `{"DatabaseList":[{"Name":"clockify"},{"Name":"other"}]}`)
	}))
	defer srv.Close()

	s := Settings{Warehouse: "s3://bkt/wh", Catalog: CatalogSettings{Type: TypeGlue, Region: "us-west-2",
		CatalogID: "123456789012", AccessKeyID: "AKIDGLUE", SecretAccessKey: "glueSECRET", Endpoint: srv.URL}}
	cat, err := Open(context.Background(), s)
	if err != nil {
		t.Fatalf("Open glue: %v", err)
	}
	defer Close(cat)
	nss, err := cat.ListNamespaces(context.Background(), nil)
	if err != nil {
		t.Fatalf("ListNamespaces: %v", err)
	}
	if len(nss) != 2 || nss[0][0] != "clockify" {
		t.Errorf("namespaces %v", nss)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(targets) == 0 || targets[0] != "AWSGlue.GetDatabases" {
		t.Fatalf("targets %v", targets)
	}
	if !strings.Contains(auths[0], "Credential=AKIDGLUE/") || !strings.Contains(auths[0], "/us-west-2/glue/") {
		t.Errorf("authorization %q not signed with the configured key/region", auths[0])
	}
	if bodies[0]["CatalogId"] != "123456789012" {
		t.Errorf("request body %v lacks the catalog id", bodies[0])
	}
}

// A local stand-in for an Iceberg REST server checks what Open sends: the warehouse on
// /v1/config, the OAuth2 client-credentials exchange with the scope, the bearer token and the
// prefix on catalog calls.
func TestOpenRESTWithCredential(t *testing.T) {
	var mu sync.Mutex
	var log []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/catalog/v1/config":
			log = append(log, "config warehouse="+r.URL.Query().Get("warehouse"))
			_, _ = io.WriteString(w, `{"defaults":{},"overrides":{}}`)
		case r.URL.Path == "/api/catalog/v1/oauth/tokens":
			_ = r.ParseForm()
			log = append(log, "token "+r.PostForm.Get("grant_type")+" "+r.PostForm.Get("client_id")+" "+
				r.PostForm.Get("client_secret")+" "+r.PostForm.Get("scope"))
			_, _ = io.WriteString(w, `{"access_token":"issued-token","token_type":"bearer","expires_in":3600}`)
		case r.URL.Path == "/api/catalog/v1/pfx/namespaces":
			log = append(log, "namespaces auth="+r.Header.Get("Authorization"))
			_, _ = io.WriteString(w, `{"namespaces":[["clockify"]]}`)
		default:
			log = append(log, "unexpected "+r.Method+" "+r.URL.Path)
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"message":"not found","type":"NoSuchEndpoint","code":404}}`)
		}
	}))
	defer srv.Close()

	s := Settings{Catalog: CatalogSettings{Type: TypeREST, URI: srv.URL + "/api/catalog", Credential: "client-id:client-secret",
		Scope: "PRINCIPAL_ROLE:ALL", RESTWarehouse: "my_catalog", Prefix: "pfx"}}
	cat, err := Open(context.Background(), s)
	if err != nil {
		t.Fatalf("Open rest: %v", err)
	}
	defer Close(cat)
	nss, err := cat.ListNamespaces(context.Background(), nil)
	if err != nil {
		t.Fatalf("ListNamespaces: %v", err)
	}
	if len(nss) != 1 || nss[0][0] != "clockify" {
		t.Errorf("namespaces %v", nss)
	}
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(log, "\n")
	for _, want := range []string{
		"config warehouse=my_catalog",
		"token client_credentials client-id client-secret PRINCIPAL_ROLE:ALL",
		"namespaces auth=Bearer issued-token",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("server log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "unexpected") {
		t.Errorf("unexpected requests:\n%s", got)
	}
}

func TestOpenRESTWithStaticToken(t *testing.T) {
	var auth []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/config") {
			_, _ = io.WriteString(w, `{"defaults":{},"overrides":{}}`)
			return
		}
		_, _ = io.WriteString(w, `{"namespaces":[]}`)
	}))
	defer srv.Close()
	cat, err := Open(context.Background(), Settings{Catalog: CatalogSettings{Type: TypeREST, URI: srv.URL, Token: "static-tok"}})
	if err != nil {
		t.Fatal(err)
	}
	defer Close(cat)
	if _, err := cat.ListNamespaces(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) < 2 || auth[0] != "/v1/config Bearer static-tok" || auth[1] != "/v1/namespaces Bearer static-tok" {
		t.Errorf("requests %v", auth)
	}
}

// S3 storage props reach the REST catalog as client properties, which iceberg-go uses for the
// FileIO of every table it loads: a table loaded through the catalog reads its files from the
// configured endpoint (path style), signed with the configured key and region.
func TestRESTTablesUseStorageProps(t *testing.T) {
	isolateAWS(t)
	const meta = `{"format-version":2,"table-uuid":"9c12d441-03fe-4693-9a96-a0705ddf69c1","location":"s3://bkt/wh/ns.db/t",
		"last-sequence-number":0,"last-updated-ms":1700000000000,"last-column-id":1,"current-schema-id":0,
		"schemas":[{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"id","required":true,"type":"long"}]}],
		"default-spec-id":0,"partition-specs":[{"spec-id":0,"fields":[]}],"last-partition-id":999,
		"default-sort-order-id":0,"sort-orders":[{"order-id":0,"fields":[]}],"properties":{},
		"current-snapshot-id":-1,"snapshots":[],"snapshot-log":[],"metadata-log":[],"refs":{}}`
	var mu sync.Mutex
	var s3reqs []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v1/config":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"defaults":{},"overrides":{}}`)
		case r.URL.Path == "/v1/namespaces/ns/tables/t":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"metadata-location":"s3://bkt/wh/ns.db/t/metadata/00000-9c12d441-03fe-4693-9a96-a0705ddf69c1.metadata.json","metadata":`+meta+`,"config":{}}`)
		case strings.HasPrefix(r.URL.Path, "/bkt/"):
			mu.Lock()
			s3reqs = append(s3reqs, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
			mu.Unlock()
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>nope</Message></Error>`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	n := mustNormalize(t, `{"catalog":{"catalog_type":"rest","uri":"`+srv.URL+`"},
		"storage":{"storage_type":"s3","region":"eu-west-1","endpoint":"`+srv.URL+`","access_key_id":"AKIDS3","secret_access_key":"s3SECRET"}}`)
	ctx := context.Background()
	cat, err := Open(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	defer Close(cat)
	tbl, err := cat.LoadTable(ctx, []string{"ns", "t"})
	if err != nil {
		t.Fatalf("LoadTable: %v", err)
	}
	fsys, err := tbl.FS(ctx)
	if err != nil {
		t.Fatalf("table FileIO: %v", err)
	}
	if _, err := fsys.Open("s3://bkt/wh/ns.db/t/data/missing.parquet"); err == nil {
		t.Fatal("opening a missing object succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(s3reqs) == 0 {
		t.Fatal("no S3 request reached the configured endpoint")
	}
	if r := s3reqs[0]; !strings.Contains(r, "/bkt/wh/ns.db/t/data/missing.parquet") ||
		!strings.Contains(r, "Credential=AKIDS3/") || !strings.Contains(r, "/eu-west-1/s3/") {
		t.Errorf("S3 request %q: want path style, key AKIDS3, region eu-west-1", r)
	}
}

func TestIOPropsBeforeNormalizing(t *testing.T) {
	s := Settings{Warehouse: "s3://b/w", Storage: StorageSettings{Region: "us-east-2", AccessKeyID: "AK", SecretAccessKey: "SK"}}
	if p := s.IOProps(); p[iceio.S3Region] != "us-east-2" || p[iceio.S3AccessKeyID] != "AK" {
		t.Errorf("IOProps of raw settings: %v", p)
	}
}
