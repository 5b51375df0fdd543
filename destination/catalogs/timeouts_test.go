package catalogs

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	iceio "github.com/apache/iceberg-go/io"
)

// SilentServer accepts TCP connections on loopback and never sends a byte, like a host behind a
// broken proxy. It returns host:port.
func SilentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// shortTimeouts shrinks the connection bounds for one test.
func shortTimeouts(t *testing.T) {
	t.Helper()
	oc, oa := ConnectTimeout, AnswerTimeout
	ConnectTimeout, AnswerTimeout = 300*time.Millisecond, 500*time.Millisecond
	t.Cleanup(func() { ConnectTimeout, AnswerTimeout = oc, oa })
}

// openWithin opens the catalog of cfg and fails the test when that takes longer than limit (on a
// build without the bounds, Open never returns).
func openWithin(t *testing.T, cfg string, limit time.Duration) error {
	t.Helper()
	var s Settings
	if err := json.Unmarshal([]byte(cfg), &s); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res := make(chan error, 1)
	start := time.Now()
	go func() {
		c, err := Open(ctx, s)
		if err == nil {
			Close(c)
		}
		res <- err
	}()
	select {
	case err := <-res:
		t.Logf("Open returned after %s: %v", time.Since(start).Round(time.Millisecond), err)
		return err
	case <-time.After(limit):
		cancel()
		t.Fatalf("Open of %s did not return within %s", cfg, limit)
		return nil
	}
}

func TestOpenPostgresThatNeverAnswersTimesOut(t *testing.T) {
	shortTimeouts(t)
	addr := SilentServer(t)
	err := openWithin(t, `{"warehouse":"/tmp/wh","catalog":{"catalog_type":"sql","uri":"postgres://iceberg@`+addr+`/iceberg?sslmode=disable","password":"pgS3cret"}}`, 15*time.Second)
	if err == nil {
		t.Fatal("Open succeeded against a silent host")
	}
	for _, want := range []string{"postgres catalog database", addr, "did not answer within 1s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "pgS3cret") {
		t.Errorf("error repeats the password: %v", err)
	}
}

func TestOpenRESTThatNeverAnswersTimesOut(t *testing.T) {
	shortTimeouts(t)
	addr := SilentServer(t)
	err := openWithin(t, `{"catalog":{"catalog_type":"rest","uri":"http://`+addr+`/api/catalog"}}`, 15*time.Second)
	if err == nil {
		t.Fatal("Open succeeded against a silent host")
	}
	for _, want := range []string{"rest catalog at http://" + addr, "accepted the connection but sent no answer within 500ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// A token endpoint that never answers is named as such.
	err = openWithin(t, `{"catalog":{"catalog_type":"rest","uri":"http://`+addr+`","credential":"id:oauthS3cret"}}`, 15*time.Second)
	if err == nil || !strings.Contains(err.Error(), "OAuth2 token endpoint http://"+addr+"/v1/oauth/tokens") ||
		!strings.Contains(err.Error(), "no answer within 500ms") || strings.Contains(err.Error(), "oauthS3cret") {
		t.Errorf("silent token endpoint: %v", err)
	}
}

func TestRESTOAuthFailuresGiveTheCause(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   []string
	}{
		{"401 OAuth error", 401, `{"error":"invalid_client","error_description":"Client authentication failed"}`,
			[]string{"HTTP 401 Unauthorized", "invalid_client: Client authentication failed", "check catalog.credential"}},
		{"500 with an HTML page", 500, `<html><body><h1>Internal Server Error</h1></body></html>`,
			[]string{"HTTP 500 Internal Server Error", "Internal Server Error</h1>"}},
		{"500 without a body", 500, ``, []string{"HTTP 500 Internal Server Error", "no body"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var configCalls int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/v1/oauth/tokens":
					if tc.body != "" && tc.body[0] == '{' {
						w.Header().Set("Content-Type", "application/json")
					}
					w.WriteHeader(tc.status)
					io.WriteString(w, tc.body)
				case "/v1/config":
					configCalls++
					io.WriteString(w, `{"defaults":{},"overrides":{}}`)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			err := openWithin(t, `{"catalog":{"catalog_type":"rest","uri":"`+srv.URL+`","credential":"client:s3cr3tClientSecret"}}`, 30*time.Second)
			if err == nil {
				t.Fatal("Open succeeded with a failing token endpoint")
			}
			want := append([]string{"OAuth2 token endpoint " + srv.URL + "/v1/oauth/tokens answered"}, tc.want...)
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cr3tClientSecret") {
				t.Errorf("error repeats the client secret: %v", err)
			}
			if configCalls != 0 {
				t.Errorf("/v1/config was answered %d times without a token", configCalls)
			}
		})
	}
}

func TestIOPropsForEmulators(t *testing.T) {
	// Azurite: the endpoint's scheme becomes the protocol, its host the storage domain.
	n := mustNormalize(t, `{"warehouse":"abfss://c@devstoreaccount1.dfs.core.windows.net/wh","catalog":{"catalog_type":"sql","uri":"/tmp/x.db"},
		"storage":{"storage_type":"azure","endpoint":"http://127.0.0.1:10000","sas_token":"sv=1&sig=x"}}`)
	if p := n.IOProps(); p[iceio.ADLSEndpoint] != "127.0.0.1:10000" || p[iceio.ADLSProtocol] != "http" {
		t.Errorf("azurite props %v", p)
	}
	n = mustNormalize(t, `{"warehouse":"abfss://c@acct.dfs.core.windows.net/wh","catalog":{"catalog_type":"sql","uri":"/tmp/x.db"},
		"storage":{"storage_type":"azure","endpoint":"blob.core.chinacloudapi.cn","account_key":"a2V5"}}`)
	if p := n.IOProps(); p[iceio.ADLSEndpoint] != "blob.core.chinacloudapi.cn" || p[iceio.ADLSProtocol] != "" {
		t.Errorf("sovereign-cloud domain props %v", p)
	}
	// fake-gcs-server on loopback without a key: no credentials; a remote endpoint keeps ADC.
	n = mustNormalize(t, `{"warehouse":"gs://b/w","catalog":{"catalog_type":"sql","uri":"/tmp/x.db"},"storage":{"storage_type":"gcs","endpoint":"http://127.0.0.1:4443"}}`)
	if p := n.IOProps(); p[iceio.GCSNoAuth] != "true" {
		t.Errorf("gcs emulator props %v", p)
	}
	n = mustNormalize(t, `{"warehouse":"gs://b/w","catalog":{"catalog_type":"sql","uri":"/tmp/x.db"},"storage":{"storage_type":"gcs","endpoint":"https://storage.example.com"}}`)
	if p := n.IOProps(); p[iceio.GCSNoAuth] != "" {
		t.Errorf("remote gcs endpoint must keep credentials: %v", p)
	}
}

func TestCheckIdentifier(t *testing.T) {
	for _, ok := range [][]string{{"clockify", "time entries"}, {"ns", "zeiteinträge"}, {"ns", "a%20b"}} {
		if err := CheckIdentifier(ok); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
	for bad, want := range map[[2]string]string{
		{"clockify", "../../etc"}: `table name "../../etc" cannot be used for an Iceberg table: it contains /`,
		{"clockify", ".."}:        `table name ".." cannot be used for an Iceberg table: it is a path step`,
		{"a/b", "t"}:              `namespace "a/b" cannot be used`,
		{"ns", ""}:                `table name "" cannot be used for an Iceberg table: it is empty`,
		{"ns", "x\x01"}:           `control character`,
	} {
		err := CheckIdentifier(bad[:])
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", bad, err, want)
		}
	}
}
