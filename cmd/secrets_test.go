package cmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNoSecretInAnyOutputOrFile runs the real binaries through the error paths a user can reach
// with credentials in the config (servers that refuse them, servers that echo the request back,
// hosts that are down, configs that are rejected) and through successful runs, then greps every
// byte they printed (stdout and stderr) and every file they left in their working folder
// (warehouse data and metadata, catalog databases) for every secret of the configs, in every form
// it could be printed in: raw, JSON-escaped, URL-encoded (both hex cases), base64, and for a SAS
// token each of its parameters. A scenario must also reach the path it is meant for (its exit code
// and a phrase of its failure), so the grep cannot pass by running nothing.
func TestNoSecretInAnyOutputOrFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries; skipped with -short")
	}
	bins := buildBinaries(t, "source-clockify", "destination-iceberg", "clockify-sim")
	echo := httptest.NewServer(http.HandlerFunc(echoRequest))
	t.Cleanup(echo.Close)
	closed := closedPort(t)

	sec := newSecrets()
	sas := sec.sasToken()
	gcsKey := sec.gcsKey()
	storageAzure := func(endpoint string, auth map[string]any) map[string]any {
		m := map[string]any{"storage_type": "azure", "endpoint": endpoint}
		for k, v := range auth {
			m[k] = v
		}
		return m
	}
	azure := "abfss://cont@devstoreaccount1.dfs.core.windows.net/wh"
	s3 := func(endpoint string) map[string]any {
		return map[string]any{"storage_type": "s3", "endpoint": endpoint, "region": "us-east-1",
			"access_key_id": sec.get("AKIA"), "secret_access_key": sec.get("s3secret"), "session_token": sec.get("s3session"), "path_style_access": true}
	}
	dstCatalog := `{"streams":[{"stream":{"name":"users","json_schema":{"type":"object","properties":{"id":{"type":"string"},"n":{"type":"integer"}}},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite","generation_id":1,"minimum_generation_id":1}]}`
	records := `{"type":"RECORD","record":{"stream":"users","data":{"id":"a","n":1},"emitted_at":1}}` + "\n" +
		`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"c":1}}}}` + "\n"

	type scenario struct {
		name   string
		bin    string
		args   []string // after the command; --config (and --catalog) are added
		cfg    func(dir string) map[string]any
		stdin  string
		exit   int
		phrase string // must appear in the output: proof that the intended path ran
	}
	var scenarios []scenario
	dest := func(name string, cfg func(dir string) map[string]any, phrase string) {
		scenarios = append(scenarios,
			scenario{name + ", check", "destination-iceberg", []string{"check"}, cfg, "", 0, phrase},
			scenario{name + ", write", "destination-iceberg", []string{"write"}, cfg, records, 1, phrase})
	}
	dest("azure SAS token, server echoes the request", func(dir string) map[string]any {
		return map[string]any{"warehouse": azure, "catalog": map[string]any{"catalog_type": "sql", "uri": filepath.Join(dir, "cat.db")},
			"storage": storageAzure(echo.URL, map[string]any{"sas_token": sas})}
	}, "403")
	dest("azure SAS token, host down", func(dir string) map[string]any {
		return map[string]any{"warehouse": azure, "catalog": map[string]any{"catalog_type": "sql", "uri": filepath.Join(dir, "cat.db")},
			"storage": storageAzure("http://"+closed, map[string]any{"sas_token": sas})}
	}, "connection refused")
	dest("azure account key, server echoes the request", func(dir string) map[string]any {
		return map[string]any{"warehouse": azure, "catalog": map[string]any{"catalog_type": "sql", "uri": filepath.Join(dir, "cat.db")},
			"storage": storageAzure(echo.URL, map[string]any{"account_key": sec.getB64("azkey")})}
	}, "403")
	dest("azure connection string, server echoes the request", func(dir string) map[string]any {
		return map[string]any{"warehouse": azure, "catalog": map[string]any{"catalog_type": "sql", "uri": filepath.Join(dir, "cat.db")},
			"storage": map[string]any{"storage_type": "azure", "connection_string": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" +
				sec.getB64("azconn") + ";BlobEndpoint=" + echo.URL + "/devstoreaccount1;"}}
	}, "403")
	dest("s3 keys, server echoes the request", func(dir string) map[string]any {
		return map[string]any{"warehouse": "s3://bkt/wh", "catalog": map[string]any{"catalog_type": "sql", "uri": filepath.Join(dir, "cat.db")}, "storage": s3(echo.URL)}
	}, "403")
	dest("s3 keys, host down", func(dir string) map[string]any {
		return map[string]any{"warehouse": "s3://bkt/wh", "catalog": map[string]any{"catalog_type": "sql", "uri": filepath.Join(dir, "cat.db")}, "storage": s3("http://" + closed)}
	}, "connection refused")
	dest("gcs service account key, server echoes the request", func(dir string) map[string]any {
		return map[string]any{"warehouse": "gs://bkt/wh", "catalog": map[string]any{"catalog_type": "sql", "uri": filepath.Join(dir, "cat.db")},
			"storage": map[string]any{"storage_type": "gcs", "endpoint": echo.URL, "service_account_json": gcsKey}}
	}, "private key")
	dest("postgres password in the URI, host down", func(dir string) map[string]any {
		return map[string]any{"warehouse": dir, "catalog": map[string]any{"catalog_type": "sql",
			"uri": "postgres://iceberg:" + url.QueryEscape(sec.get("pgURI/?")) + "@" + closed + "/iceberg?sslmode=disable"}}
	}, "connection refused")
	dest("postgres password field, host down", func(dir string) map[string]any {
		return map[string]any{"warehouse": dir, "catalog": map[string]any{"catalog_type": "sql",
			"uri": "postgres://iceberg@" + closed + "/iceberg?sslmode=disable", "password": sec.get("pgfield")}}
	}, "connection refused")
	dest("rest OAuth2 credential, token endpoint echoes the request", func(dir string) map[string]any {
		return map[string]any{"catalog": map[string]any{"catalog_type": "rest", "uri": echo.URL, "credential": sec.get("clientid") + ":" + sec.get("clientsecret")}}
	}, "HTTP 401")
	dest("rest bearer token, server echoes the request", func(dir string) map[string]any {
		return map[string]any{"catalog": map[string]any{"catalog_type": "rest", "uri": echo.URL, "token": sec.get("bearer")}}
	}, "NotAuthorizedException")
	dest("glue keys, server echoes the request", func(dir string) map[string]any {
		return map[string]any{"warehouse": "s3://bkt/wh", "catalog": map[string]any{"catalog_type": "glue", "region": "us-east-1",
			"endpoint": echo.URL, "access_key_id": sec.get("AKIAGLUE"), "secret_access_key": sec.get("gluesecret"), "session_token": sec.get("gluesession")},
			"storage": s3(echo.URL)}
	}, "AccessDeniedException")
	// Successful runs: the local warehouse (secrets set for storage that is not used) must not
	// store them in a data file, a metadata file or the catalog database.
	okCfg := func(dir string) map[string]any {
		return map[string]any{"warehouse": filepath.Join(dir, "wh"), "catalog": map[string]any{"catalog_type": "sql", "password": sec.get("unusedpw")}}
	}
	scenarios = append(scenarios,
		scenario{"local warehouse, check", "destination-iceberg", []string{"check"}, okCfg, "", 0, "SUCCEEDED"},
		scenario{"local warehouse, write", "destination-iceberg", []string{"write"}, okCfg, records, 0, "destinationStats"},
		scenario{"snowflake statements for an azure SAS warehouse", "destination-iceberg", []string{"snowflake"}, func(dir string) map[string]any {
			return map[string]any{"warehouse": azure, "catalog": map[string]any{"catalog_type": "sql", "uri": filepath.Join(dir, "cat.db")},
				"storage": storageAzure(echo.URL, map[string]any{"sas_token": sas})}
		}, "", 1, "no catalog at"},
	)

	// The source: a rejected api_url with a password, a server that echoes the key back, a host
	// that is down, and a real read against the simulator.
	src := func(name string, cfg func(dir string) map[string]any, phrase string) {
		scenarios = append(scenarios,
			scenario{name + ", check", "source-clockify", []string{"check"}, cfg, "", 0, phrase},
			scenario{name + ", discover", "source-clockify", []string{"discover"}, cfg, "", -1, ""},
			scenario{name + ", read", "source-clockify", []string{"read"}, cfg, "", 1, ""})
	}
	src("api_url with user info", func(string) map[string]any {
		return map[string]any{"api_key": sec.get("apikey1"), "api_url": "https://bob:" + url.PathEscape(sec.get("urlpw")) + "@api.clockify.me"}
	}, "user info")
	src("server echoes the API key", func(string) map[string]any {
		return map[string]any{"api_key": sec.get("apikey2"), "api_url": echo.URL, "requests_per_second": 0}
	}, "HTTP 401")
	src("host down", func(string) map[string]any {
		return map[string]any{"api_key": sec.get("apikey3"), "api_url": "http://" + closed}
	}, "could not reach")
	simKey := sec.get("simkey")
	simURL := startSimulator(t, bins["clockify-sim"], simKey)
	simCfg := func(string) map[string]any {
		return map[string]any{"api_key": simKey, "api_url": simURL, "requests_per_second": 0}
	}
	scenarios = append(scenarios,
		scenario{"simulator, check", "source-clockify", []string{"check"}, simCfg, "", 0, "SUCCEEDED"},
		scenario{"simulator, read", "source-clockify", []string{"read"}, simCfg, "", 0, `"type":"RECORD"`})

	// Every scenario's config first (serially: this makes their secrets), then the runs at once,
	// since most of a run is an SDK's retry back-off; the checks follow, one subtest each.
	type outcome struct {
		dir, cfgPath   string
		code           int
		stdout, stderr []byte
		timedOut       bool
		took           time.Duration
	}
	outs := make([]outcome, len(scenarios))
	for i, sc := range scenarios {
		dir := t.TempDir()
		b, _ := json.Marshal(sc.cfg(dir))
		outs[i] = outcome{dir: dir, cfgPath: writeFile(t, dir, "config.json", string(b))}
	}
	forms := sec.forms()
	var wg sync.WaitGroup
	slots := make(chan struct{}, 8)
	for i, sc := range scenarios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			o := &outs[i]
			args := append(append([]string{}, sc.args...), "--config", o.cfgPath)
			switch {
			case sc.bin == "destination-iceberg" && sc.args[0] == "write":
				args = append(args, "--catalog", writeFile(t, o.dir, "catalog.json", dstCatalog))
			case sc.bin == "source-clockify" && sc.args[0] == "read":
				args = append(args, "--catalog", writeFile(t, o.dir, "catalog.json", sourceCatalog))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bins[sc.bin], args...)
			cmd.Dir = o.dir
			cmd.Stdin = strings.NewReader(sc.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			cmd.Run()
			o.took = time.Since(start)
			o.code, o.stdout, o.stderr, o.timedOut = cmd.ProcessState.ExitCode(), stdout.Bytes(), stderr.Bytes(), ctx.Err() != nil
		}()
	}
	wg.Wait()
	for i, sc := range scenarios {
		o := outs[i]
		t.Run(sc.name, func(t *testing.T) {
			if o.timedOut {
				t.Fatalf("%s %s did not end within 90 s", sc.bin, sc.args[0])
			}
			printed := string(o.stdout) + string(o.stderr)
			if sc.exit >= 0 && o.code != sc.exit {
				t.Errorf("exit %d, want %d\nstdout: %.2000s\nstderr: %.1000s", o.code, sc.exit, o.stdout, o.stderr)
			}
			if sc.phrase != "" && !strings.Contains(printed, sc.phrase) {
				t.Errorf("the run did not reach its path (no %q in its output)\nstdout: %.2000s\nstderr: %.1000s", sc.phrase, o.stdout, o.stderr)
			}
			sources := map[string][]byte{"stdout": o.stdout, "stderr": o.stderr}
			filepath.WalkDir(o.dir, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || p == o.cfgPath {
					return nil
				}
				if b, err := os.ReadFile(p); err == nil {
					rel, _ := filepath.Rel(o.dir, p)
					sources["file "+rel] = b
				}
				return nil
			})
			for where, data := range sources {
				for _, f := range forms {
					if i := bytes.Index(data, []byte(f.text)); i >= 0 {
						// The text before the leak, with every secret form masked, so a failure
						// does not print the secrets it found.
						before := string(data[max(0, i-80):i])
						for _, g := range forms {
							before = strings.ReplaceAll(before, g.text, "<"+g.what+">")
						}
						t.Errorf("%s holds %s at byte %d, after …%s", where, f.what, i, strings.ReplaceAll(before, "\n", " "))
					}
				}
			}
			t.Logf("exit %d after %s; grepped %d outputs and files for %d forms of %d secrets", o.code, o.took.Round(time.Millisecond), len(sources), len(forms), len(sec.values))
		})
	}
}

// sourceCatalog configures two streams, one of them partitioned by workspace.
const sourceCatalog = `{"streams":[
 {"stream":{"name":"workspaces","json_schema":{"type":"object"},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"},
 {"stream":{"name":"tags","json_schema":{"type":"object"},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"overwrite"}]}`

// echoRequest answers like a server that refuses the credentials and quotes the whole request
// back: URL with its query, every header, the body (an OAuth2 token request's client secret).
func echoRequest(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var hdr []string
	for k, vs := range r.Header {
		hdr = append(hdr, k+": "+strings.Join(vs, ","))
	}
	sort.Strings(hdr)
	quoted := fmt.Sprintf("%s %s | %s | %s", r.Method, r.URL.String(), strings.Join(hdr, " | "), body)
	status := http.StatusForbidden
	if strings.Contains(r.URL.Path, "/v1/") || strings.Contains(r.URL.Path, "/api/v1") {
		status = http.StatusUnauthorized
	}
	switch {
	case strings.Contains(r.Header.Get("Content-Type"), "x-amz-json"): // Glue
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "AccessDeniedException", "message": quoted})
	case r.URL.Path == "/v1/oauth/tokens":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": quoted})
	case strings.Contains(r.URL.Path, "/api/v1"): // Clockify
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"message": quoted, "code": 4003})
	case strings.HasPrefix(r.URL.Path, "/v1/"): // Iceberg REST
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": quoted, "type": "NotAuthorizedException", "code": status}})
	default: // S3, Azure, GCS: an XML or JSON error quoting the request
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>%s</Message></Error>`, xmlEscape(quoted))
	}
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

type secrets struct {
	run    string
	values map[string]string // label -> value
	sas    string
}

func newSecrets() *secrets {
	b := make([]byte, 6)
	rand.Read(b)
	return &secrets{run: hex.EncodeToString(b), values: map[string]string{}}
}

// get returns a secret unique to this run; the label only helps to read a failure.
func (s *secrets) get(label string) string {
	if v, ok := s.values[label]; ok {
		return v
	}
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, label)
	// A few characters that need escaping in JSON and URLs, where the label asks for them.
	extra := ""
	if strings.ContainsAny(label, "/?") {
		extra = `/?&"+`
	}
	v := "S3CR3T" + clean + s.run + extra + "x"
	s.values[label] = v
	return v
}

// getB64 returns a secret that is valid base64 (Azure account keys are).
func (s *secrets) getB64(label string) string {
	if v, ok := s.values[label]; ok {
		return v
	}
	raw := make([]byte, 48)
	rand.Read(raw)
	v := base64.StdEncoding.EncodeToString(raw)
	s.values[label] = v
	return v
}

// sasToken is an account SAS in the portal's parameter order with a random signature.
func (s *secrets) sasToken() string {
	sig := make([]byte, 32)
	rand.Read(sig)
	s.sas = "sv=2022-11-02&ss=b&srt=sco&sp=rwdlacupiytfx&se=2099-01-01T00:00:00Z&st=2020-01-01T00:00:00Z&spr=https&sig=" +
		url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	s.values["sas"] = s.sas
	return s.sas
}

// gcsKey is a service-account key file with a (random, invalid) private key.
func (s *secrets) gcsKey() string {
	pk := make([]byte, 600)
	rand.Read(pk)
	key := map[string]string{"type": "service_account", "project_id": "p", "private_key_id": s.get("gcskeyid"),
		"private_key":  "-----BEGIN PRIVATE KEY-----\n" + base64.StdEncoding.EncodeToString(pk) + "\n-----END PRIVATE KEY-----\n",
		"client_email": "x@p.iam.gserviceaccount.com", "token_uri": "http://127.0.0.1:1/token"}
	s.values["gcs private key"] = base64.StdEncoding.EncodeToString(pk)[:64]
	b, _ := json.Marshal(key)
	s.values["gcs key file"] = string(b)
	return string(b)
}

type form struct{ what, text string }

// forms lists every secret in every form it could be printed in.
func (s *secrets) forms() []form {
	var out []form
	seen := map[string]bool{}
	add := func(what, text string) {
		if len(text) < 8 || seen[text] {
			return
		}
		seen[text] = true
		out = append(out, form{what, text})
	}
	encodings := func(label, v string) {
		add(label, v)
		if q, err := json.Marshal(v); err == nil {
			add(label+" (JSON-escaped)", string(q[1:len(q)-1]))
		}
		for _, e := range []string{url.QueryEscape(v), url.PathEscape(v)} {
			add(label+" (URL-encoded)", e)
			add(label+" (URL-encoded, lower-case hex)", lowerHexEscapes(e))
		}
		add(label+" (base64)", base64.StdEncoding.EncodeToString([]byte(v)))
		add(label+" (base64url)", base64.RawURLEncoding.EncodeToString([]byte(v)))
	}
	for label, v := range s.values {
		encodings("secret "+label, v)
	}
	if vals, err := url.ParseQuery(s.sas); err == nil {
		for k, vs := range vals {
			for _, v := range vs {
				encodings("SAS parameter "+k+"=", k+"="+v)
				encodings("SAS parameter "+k+"=", k+"="+url.QueryEscape(v))
				if len(v) >= 12 || k == "sig" {
					encodings("SAS parameter "+k, v)
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].what < out[j].what })
	return out
}

func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = bytes.ToLower(b[i+1 : i+2])[0], bytes.ToLower(b[i+2 : i+3])[0]
		}
	}
	return string(b)
}

func buildBinaries(t *testing.T, names ...string) map[string]string {
	t.Helper()
	abs, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./cmd/"+n)
	}
	start := time.Now()
	cmd := exec.Command("go", args...)
	cmd.Dir = abs
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	t.Logf("built %v in %s", names, time.Since(start).Round(time.Millisecond))
	out := map[string]string{}
	for _, n := range names {
		out[n] = filepath.Join(dir, n)
	}
	return out
}

// startSimulator runs clockify-sim on a free loopback port with the given key; it returns the URL.
func startSimulator(t *testing.T, bin, key string) string {
	t.Helper()
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--preset", "demo", "--api-key", key)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make([]byte, 256)
	n, _ := stdout.Read(line)
	u := strings.TrimSpace(strings.SplitN(string(line[:n]), "\n", 2)[0])
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("clockify-sim printed %q", u)
	}
	go io.Copy(io.Discard, stdout)
	return u
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
