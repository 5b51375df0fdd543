package airbyte

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A SAS token as the Azure portal gives it; the SDK re-orders and re-encodes its parameters.
const testSAS = "sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2030-01-01T00:00:00Z&st=2024-01-01T00:00:00Z&spr=https&sig=AbCdEf%2Bgh1J2kLmN%2FoPqRsTuVwXyZ0123456789abcd%3D"

func TestRedactorMasksEveryParameterOfASASToken(t *testing.T) {
	red := NewRedactor(testSAS)
	vals, err := url.ParseQuery(testSAS)
	if err != nil {
		t.Fatal(err)
	}
	sig := vals.Get("sig") // decoded: contains + / =
	reordered := "https://acct.blob.core.windows.net/cont/wh/x.parquet?" + vals.Encode()
	for _, text := range []string{
		"PUT " + reordered + ": 403",
		// The SDK's order, and Go's JSON encoding of & as \u0026.
		mustJSON(t, "GET "+reordered),
		"decoded signature " + sig,
		"query-escaped " + url.QueryEscape(sig),
		"lower-case escapes " + lowerHex(url.QueryEscape(sig)),
		"only some: ?se=2030-01-01T00%3A00%3A00Z&sp=rwdlacupiytfx&sv=2022-11-02",
	} {
		got := red.String(text)
		for _, leak := range []string{sig, url.QueryEscape(sig), lowerHex(url.QueryEscape(sig)), "AbCdEf",
			"2030-01-01T00", "rwdlacupiytfx", "2022-11-02", "srt=sco", "ss=bfqt"} {
			if strings.Contains(got, leak) {
				t.Errorf("%q\n  redacted to %q\n  still holds %q", text, got, leak)
			}
		}
		if !strings.Contains(got, Mask) {
			t.Errorf("%q: no mask in %q", text, got)
		}
	}
	// Short values are masked only as key=value, not wherever they occur.
	if got := red.String("spr=https and https://example.com/?spr=https"); strings.Contains(got, "spr=https") || !strings.Contains(got, "https://example.com") {
		t.Errorf("short SAS value handling: %q", got)
	}
}

func TestRedactorMasksCredentialPatternsWithoutRegisteredSecrets(t *testing.T) {
	var red *Redactor // nil: no secrets registered, the patterns still apply
	for text, leak := range map[string]string{
		"GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIAEXAMPLE%2F20240101&X-Amz-Signature=deadbeefcafe": "deadbeefcafe",
		"GET https://b.s3.amazonaws.com/k?X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE":                                                  "FwoGZXIvYXdz",
		"GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAEXAMPLE%2F20240101":                                                   "AKIAEXAMPLE",
		"https://x.blob.core.windows.net/c?sv=2022&sig=SiGnAtUrE%3D&se=2030":                                                         "SiGnAtUrE",
		`{"u":"https://x/c?sv=2022\u0026sig=SiGnAtUrE2"}`:                                                                            "SiGnAtUrE2",
		"redirect to https://h/cb?access_token=tok123456789&state=1":                                                                 "tok123456789",
		"api_url \"https://bob:hunter2pass@api.clockify.me\" must not carry user info":                                               "hunter2pass",
		"postgres://iceberg:s3cretPW@db:5432/x":                                                                                      "s3cretPW",
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig":                                                                     "eyJhbGciOiJIUzI1NiJ9",
		`token endpoint answered {"access_token":"at-0123456789","token_type":"bearer"}`:                                             "at-0123456789",
		`quoted: {\"client_secret\":\"cs-0123456789\"}`:                                                                              "cs-0123456789",
		"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsu==;":  "Eby8vdM02x",
	} {
		got := red.String(text)
		if strings.Contains(got, leak) || !strings.Contains(got, Mask) {
			t.Errorf("%q\n  redacted to %q (must hide %q)", text, got, leak)
		}
	}
	for _, text := range []string{
		"https://api.clockify.me/api/v1/workspaces?page=2&page-size=5000",
		"abfss://cont@acct.dfs.core.windows.net/wh",
		"exit code 1; HTTP 404 at http://127.0.0.1:8080/v1/config",
	} {
		if got := red.String(text); got != text {
			t.Errorf("%q was changed to %q", text, got)
		}
	}
}

func mustJSON(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sasSource is a source whose check fails with the SAS token re-ordered into a URL, in the
// status message, a LOG, a TRACE, stderr and a library log line.
type sasSource struct{ fakeSource }

// reorderedURL is a blob URL carrying the config's SAS token as an SDK re-encodes it.
func reorderedURL(cfg json.RawMessage) string {
	var c struct {
		Token string `json:"api_key"`
	}
	json.Unmarshal(cfg, &c)
	v, _ := url.ParseQuery(c.Token)
	return "https://acct.blob.core.windows.net/c/x?" + v.Encode()
}

func (sasSource) Check(_ context.Context, cfg json.RawMessage) (*ConnectionStatus, error) {
	return Failed("PUT " + reorderedURL(cfg) + ": AuthorizationFailure"), nil
}

func (sasSource) Discover(_ context.Context, cfg json.RawMessage) (*Catalog, error) {
	u := reorderedURL(cfg)
	log.Printf("retrying request %s", u) // what an SDK's retry logger does
	return nil, fmt.Errorf("GET %s: 403", u)
}

func TestRunnerRedactsReorderedSASEverywhere(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.json")
	b, _ := json.Marshal(map[string]any{"api_key": testSAS})
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	vals, _ := url.ParseQuery(testSAS)
	sig := vals.Get("sig")
	for _, cmd := range []string{"check", "discover"} {
		var out, errb bytes.Buffer
		code := RunSource(context.Background(), sasSource{}, []string{cmd, "--config", cfg}, nil, &out, &errb)
		all := out.String() + errb.String()
		for _, leak := range []string{sig, url.QueryEscape(sig), "AbCdEf", "rwdlacupiytfx"} {
			if strings.Contains(all, leak) {
				t.Errorf("%s (exit %d) printed %q:\nstdout: %s\nstderr: %s", cmd, code, leak, out.String(), errb.String())
			}
		}
		if !strings.Contains(all, Mask) {
			t.Errorf("%s: nothing masked: %s %s", cmd, out.String(), errb.String())
		}
	}
}

func TestLibraryLogsAreRedacted(t *testing.T) {
	var errb bytes.Buffer
	r := newRun("test", io.Discard, &errb, &Spec{ConnectionSpecification: fakeSpec})
	r.red.Add("libsecret-123")
	log.Printf("GET https://h/x?X-Amz-Signature=abcdef0123 with libsecret-123")
	r.finish(0)
	if s := errb.String(); strings.Contains(s, "abcdef0123") || strings.Contains(s, "libsecret-123") || !strings.Contains(s, Mask) {
		t.Fatalf("library log line not redacted: %q", s)
	}
}
