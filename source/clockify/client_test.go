package clockify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testKey = "test-key-7f3a9c1e5b"

type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) logf(level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, args...))
}

func (l *logSink) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// newTestClient builds a client against srv with millisecond backoffs. No keep-alive,
// so a broken connection is never transparently retried by net/http and every
// attempt the client counts is one the server sees.
func newTestClient(t *testing.T, srv *httptest.Server, o Options) (*Client, *logSink) {
	t.Helper()
	sink := &logSink{}
	o.BaseURL = srv.URL
	if o.APIKey == "" {
		o.APIKey = testKey
	}
	if o.RequestsPerSecond == 0 {
		o.RequestsPerSecond = 1000
		o.MaxRequestsPerSecond = 1000
	}
	o.Logf = sink.logf
	o.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	c, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.backoffBase = time.Millisecond
	c.backoffMax = 20 * time.Millisecond
	c.throttleBase = 4 * time.Millisecond
	return c, sink
}

func hijack(t *testing.T, w http.ResponseWriter) net.Conn {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return nil
	}
	return conn
}

func TestAIMDClimbsToCeilingAndStays(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "[]")
	}))
	defer srv.Close()
	c, logs := newTestClient(t, srv, Options{RequestsPerSecond: 20, MaxRequestsPerSecond: 40})
	c.aimd.interval = 20 * time.Millisecond
	c.aimd.step = 10
	ctx := context.Background()
	for i := 0; i < 200 && c.Stats().Rate < 40; i++ {
		if _, err := c.Get(ctx, "/workspaces", nil); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Stats(); s.Rate != 40 || s.RateIncreases != 2 || s.RateCuts != 0 {
		t.Fatalf("after climbing: rate %v, increases %d, cuts %d; want 40, 2, 0", s.Rate, s.RateIncreases, s.RateCuts)
	}
	for i := 0; i < 10; i++ {
		if _, err := c.Get(ctx, "/workspaces", nil); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if r := c.Stats().Rate; r != 40 {
		t.Fatalf("rate went past the ceiling: %v", r)
	}
	if l := logs.all(); !strings.Contains(l, "INFO") || !strings.Contains(l, "raised to 30.0/s") || !strings.Contains(l, "raised to 40.0/s") {
		t.Fatalf("rate increases not logged:\n%s", l)
	}
}

// All requests of one burst get 429 together; that is one congestion event and must
// halve the rate once, not once per request. A later request sent after the cut that
// still gets 429 is a new event.
func TestAIMDCutsOncePerCongestionEvent(t *testing.T) {
	const burst = 6
	var hits atomic.Int32
	allIn := make(chan struct{})
	var secondEvent atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		switch {
		case n <= burst:
			if n == burst {
				close(allIn)
			}
			select {
			case <-allIn:
			case <-time.After(5 * time.Second):
			}
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"message":"Too many requests","code":429}`)
		case r.URL.Query().Get("probe") == "1" && secondEvent.CompareAndSwap(false, true):
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			io.WriteString(w, "[]")
		}
	}))
	defer srv.Close()
	c, logs := newTestClient(t, srv, Options{RequestsPerSecond: 200, MaxRequestsPerSecond: 200})
	c.aimd.interval = time.Hour // no increases in this test
	var wg sync.WaitGroup
	errs := make(chan error, burst)
	for i := 0; i < burst; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Get(context.Background(), "/workspaces", nil); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s := c.Stats()
	if s.Throttled != burst || s.RateCuts != 1 || s.Rate != 100 {
		t.Fatalf("after one burst of %d 429s: throttled %d, cuts %d, rate %v; want %d, 1, 100", burst, s.Throttled, s.RateCuts, s.Rate, burst)
	}
	if _, err := c.Get(context.Background(), "/workspaces", url.Values{"probe": {"1"}}); err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.RateCuts != 2 || s.Rate != 50 {
		t.Fatalf("after a second congestion event: cuts %d, rate %v; want 2, 50", s.RateCuts, s.Rate)
	}
	if l := logs.all(); strings.Count(l, "request rate cut from") != 2 || !strings.Contains(l, "cut from 200.0/s to 100.0/s") {
		t.Fatalf("cuts not logged once each:\n%s", l)
	}
}

func TestAIMDFloor(t *testing.T) {
	a := newAIMD(4, 10)
	t0 := time.Now()
	for i := 1; i <= 5; i++ {
		a.throttled(t0.Add(time.Duration(2*i)*time.Second), t0.Add(time.Duration(2*i+1)*time.Second))
	}
	if r, cuts, _ := a.current(); r != 1 || cuts != 5 {
		t.Fatalf("rate %v after 5 cuts from 4, cuts %d; want floor 1", r, cuts)
	}
	b := newAIMD(0.5, 10)
	b.throttled(t0.Add(time.Second), t0.Add(2*time.Second))
	if r, _, _ := b.current(); r != 0.5 {
		t.Fatalf("start below 1 rps: rate cut to %v; want the start rate as floor", r)
	}
}

func TestRetryAfterHonouredAndHookCalled(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		n := len(arrivals)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, `{"id":"ws1"}`)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, Options{})
	var resets []time.Time
	ctx := WithThrottleHook(context.Background(), func(reset time.Time) { resets = append(resets, reset) })
	before := time.Now()
	if _, err := c.Get(ctx, "/workspaces/ws1", nil); err != nil {
		t.Fatal(err)
	}
	if len(arrivals) != 2 {
		t.Fatalf("server saw %d requests; want 2", len(arrivals))
	}
	if gap := arrivals[1].Sub(arrivals[0]); gap < time.Second {
		t.Fatalf("retried %s after a 429 with Retry-After: 1", gap)
	}
	if len(resets) != 1 {
		t.Fatalf("throttle hook called %d times; want 1", len(resets))
	}
	if d := resets[0].Sub(before); d < time.Second || d > 3*time.Second {
		t.Fatalf("hook quotaReset is %s after the request started; want about 1s", d)
	}
}

func TestThrottleHookWithoutRetryAfter(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= 2 {
			w.WriteHeader(http.StatusTooManyRequests) // empty body, as Clockify may send
			return
		}
		io.WriteString(w, `[]`)
	}))
	defer srv.Close()
	c, logs := newTestClient(t, srv, Options{})
	var calls atomic.Int32
	ctx := WithThrottleHook(context.Background(), func(reset time.Time) {
		calls.Add(1)
		if time.Until(reset) <= 0 || time.Until(reset) > time.Second {
			t.Errorf("quotaReset %s from now; want a short wait in the future", time.Until(reset))
		}
	})
	if _, err := c.Get(ctx, "/workspaces", nil); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || c.Stats().Throttled != 2 || c.Stats().Retries != 2 {
		t.Fatalf("hook calls %d, throttled %d, retries %d; want 2 each", calls.Load(), c.Stats().Throttled, c.Stats().Retries)
	}
	if !strings.Contains(logs.all(), "WARN clockify: GET /workspaces: HTTP 429; retry 1 of") {
		t.Fatalf("retry not logged:\n%s", logs.all())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 13, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"0.5":                           500 * time.Millisecond,
		"0":                             0,
		"-2":                            0,
		"soon":                          0,
		"Fri, 27 Nov 2026 13:00:07 GMT": 7 * time.Second,
		"Fri, 27 Nov 2026 12:59:00 GMT": 0,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s; want %s", in, got, want)
		}
	}
}

// One request meets every kind of transient failure in turn and still succeeds.
func TestRetriesTransientFailuresThenSucceeds(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch hits.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"message":"Service Unavailable","code":503}`)
		case 2: // connection reset before any response
			if conn := hijack(t, w); conn != nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
		case 3: // body shorter than Content-Length
			if conn := hijack(t, w); conn != nil {
				io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[{\"id\":")
				conn.Close()
			}
		case 4: // chunked body cut off mid-stream
			if conn := hijack(t, w); conn != nil {
				io.WriteString(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n[{\"id\":\r\n")
				conn.Close()
			}
		case 5: // complete but malformed
			io.WriteString(w, `[{"id":"1",}`)
		case 6:
			w.WriteHeader(http.StatusGatewayTimeout)
		default:
			w.Header().Set("Last-Page", "true")
			io.WriteString(w, `[{"id":"1"}]`)
		}
	}))
	defer srv.Close()
	c, logs := newTestClient(t, srv, Options{MaxAttempts: 10})
	resp, err := c.Get(context.Background(), "/workspaces/w/tags", url.Values{"page": {"1"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != `[{"id":"1"}]` || resp.LastPage == nil || !*resp.LastPage {
		t.Fatalf("body %q, last page %v", resp.Body, resp.LastPage)
	}
	s := c.Stats()
	if hits.Load() != 7 || s.Requests != 7 || s.Retries != 6 || s.ServerErrors != 2 || s.NetworkErrors != 1 || s.BadBodies != 3 {
		t.Fatalf("server hits %d, stats %+v; want 7 hits, 7 requests, 6 retries, 2 server errors, 1 network error, 3 bad bodies", hits.Load(), s)
	}
	l := logs.all()
	for _, want := range []string{"HTTP 503: Service Unavailable", "truncated body", "malformed JSON body", "HTTP 504"} {
		if !strings.Contains(l, want) {
			t.Errorf("log lacks %q:\n%s", want, l)
		}
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, `{"message":"upstream down","code":0}`)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, Options{MaxAttempts: 4})
	_, err := c.Get(context.Background(), "/workspaces/w1/projects", url.Values{"page": {"2"}, "page-size": {"50"}})
	var re *RetryError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v (%T); want *RetryError", err, err)
	}
	if re.Attempts != 4 || re.Status != 502 || hits.Load() != 4 {
		t.Fatalf("attempts %d, status %d, server hits %d; want 4, 502, 4", re.Attempts, re.Status, hits.Load())
	}
	msg := err.Error()
	for _, want := range []string{"GET /workspaces/w1/projects?page=2&page-size=50", "gave up after 4 attempts", "HTTP 502: upstream down"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestGivesUpAfterMaxElapsed(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, Options{MaxAttempts: 1000, MaxElapsed: 150 * time.Millisecond})
	c.backoffBase, c.backoffMax = 40*time.Millisecond, 40*time.Millisecond
	start := time.Now()
	_, err := c.Get(context.Background(), "/user", nil)
	took := time.Since(start)
	var re *RetryError
	if !errors.As(err, &re) || re.Status != 500 {
		t.Fatalf("err = %v; want *RetryError with status 500", err)
	}
	if took > 150*time.Millisecond+500*time.Millisecond || re.Attempts < 2 || re.Attempts >= 1000 {
		t.Fatalf("gave up after %s and %d attempts; want about the 150ms bound", took, re.Attempts)
	}
}

// A server-requested wait beyond MaxElapsed is not slept through: the client gives up
// at once and says why.
func TestRetryAfterBeyondBoundGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, Options{MaxElapsed: time.Minute})
	start := time.Now()
	_, err := c.Get(context.Background(), "/user", nil)
	if err == nil || time.Since(start) > 2*time.Second || !strings.Contains(err.Error(), "asked to retry after 1h0m0s") {
		t.Fatalf("after %s: err = %v; want an immediate give-up naming the 1h wait", time.Since(start), err)
	}
	// The wait nobody makes must not hold the next request either.
	start = time.Now()
	if _, err := c.Get(context.Background(), "/user", nil); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("second request after %s: err = %v; want another quick give-up", time.Since(start), err)
	}
}

func TestClientErrorsNotRetried(t *testing.T) {
	cases := []struct {
		status int
		body   string
		code   int
		want   []string
	}{
		{400, `{"message":"Bad Request","code":3000}`, 3000, []string{"HTTP 400 (code 3000): Bad Request"}},
		{400, `{"message":"Project doesn't belong to Workspace","code":501}`, 501, []string{"doesn't belong"}},
		{401, `{"message":"Api key does not exist","code":4003}`, 4003, []string{"API key was rejected", "Api key does not exist"}},
		{402, `{"message":"Feature not available","code":"5000"}`, 5000, []string{"HTTP 402", "plan"}},
		{403, `<html><body><h1>403   Forbidden</h1></body></html>`, 0, []string{"HTTP 403", "<h1>403 Forbidden</h1>"}},
		{404, `{"message":"No static resource v1/workspaces/w/balance.","code":3000}`, 3000, []string{"HTTP 404", "No static resource"}},
		{405, ``, 0, []string{"HTTP 405"}},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c, _ := newTestClient(t, srv, Options{})
			_, err := c.Get(context.Background(), "/workspaces/w/projects/p", url.Values{"hydrated": {"true"}})
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T); want *APIError", err, err)
			}
			if hits.Load() != 1 || ae.Status != tc.status || ae.Code != tc.code || ae.Path != "/workspaces/w/projects/p?hydrated=true" {
				t.Fatalf("hits %d, %+v", hits.Load(), ae)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestBaseURLRules(t *testing.T) {
	cases := []struct {
		in, want, errPart string
	}{
		{"", "https://api.clockify.me/api/v1", ""},
		{"https://euc1.clockify.me/", "https://euc1.clockify.me/api/v1", ""},
		{"https://api.clockify.me/api/v1", "https://api.clockify.me/api/v1", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/api/v1", ""},
		{"http://127.3.2.1", "http://127.3.2.1/api/v1", ""},
		{"http://localhost:9000", "http://localhost:9000/api/v1", ""},
		{"http://[::1]:9000", "http://[::1]:9000/api/v1", ""},
		{"http://api.clockify.me", "", "allowed only for loopback"},
		{"http://10.0.0.1:8080", "", "allowed only for loopback"},
		{"http://localhost.evil.com", "", "allowed only for loopback"},
		{"ftp://api.clockify.me", "", "must start with https://"},
		{"api.clockify.me", "", "not an absolute URL"},
		{"https://api.clockify.me?x=1", "", "query or fragment"},
		{"https://user:" + testKey + "@api.clockify.me", "", "user info"},
	}
	for _, tc := range cases {
		c, err := New(Options{BaseURL: tc.in, APIKey: testKey})
		if tc.errPart == "" {
			if err != nil || c.BaseURL() != tc.want {
				t.Errorf("New(%q): base %v, err %v; want %s", tc.in, c, err, tc.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.errPart) {
			t.Errorf("New(%q): err %v; want one containing %q", tc.in, err, tc.errPart)
		}
		if err != nil && strings.Contains(err.Error(), testKey) {
			t.Errorf("New(%q): error leaks the key: %v", tc.in, err)
		}
	}
	if _, err := New(Options{APIKey: "  "}); err == nil || !strings.Contains(err.Error(), "API key is empty") {
		t.Errorf("blank key: err %v", err)
	}
	if _, err := New(Options{APIKey: "abc\ndef"}); err == nil || strings.Contains(err.Error(), "abc") {
		t.Errorf("key with newline: err %v; want an error that does not echo the key", err)
	}
}

// The server echoes the key back in every kind of failure; no error or log line may
// carry it, and the key must still reach the server as X-Api-Key.
func TestKeyNeverInErrorsOrLogs(t *testing.T) {
	var seen atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := r.Header.Get("X-Api-Key")
		seen.Store(k)
		switch r.URL.Path {
		case "/api/v1/unauthorized":
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"message":"Api key %s does not exist","code":4003}`, k)
		case "/api/v1/down":
			w.WriteHeader(503)
			fmt.Fprintf(w, `{"message":"cannot serve key %s","code":1}`, k)
		case "/api/v1/html":
			w.WriteHeader(403)
			fmt.Fprintf(w, `<p>key=%s</p>`, k)
		default:
			fmt.Fprintf(w, `{"key":%q}`, k)
		}
	}))
	defer srv.Close()
	c, logs := newTestClient(t, srv, Options{MaxAttempts: 2})
	ctx := context.Background()
	var errs []error
	for _, p := range []string{"/unauthorized", "/down", "/html", "not-absolute", "/x?key=" + testKey, "/" + testKey} {
		_, err := c.Get(ctx, p, nil)
		errs = append(errs, err)
	}
	_, err := c.GetChecked(ctx, "/ok", nil, func(r *Response) error { return fmt.Errorf("bad body %s", r.Body) })
	errs = append(errs, err)
	_, err = c.GetChecked(ctx, "/ok", nil, func(r *Response) error { return Permanent(fmt.Errorf("bad body %s", r.Body)) })
	errs = append(errs, err)
	if seen.Load() != testKey {
		t.Fatalf("server received X-Api-Key %q; want the key", seen.Load())
	}
	for i, err := range errs[:5] {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
	}
	for _, err := range errs {
		if err != nil && strings.Contains(err.Error(), testKey) {
			t.Errorf("error leaks the key: %v", err)
		}
	}
	if l := logs.all(); strings.Contains(l, testKey) || !strings.Contains(l, "[redacted]") {
		t.Errorf("logs leak the key or were not redacted:\n%s", l)
	}
	o := Options{APIKey: testKey, BaseURL: srv.URL}
	for _, s := range []string{fmt.Sprint(o), fmt.Sprintf("%+v", o), fmt.Sprintf("%#v", o), c.String()} {
		if strings.Contains(s, testKey) {
			t.Errorf("formatting leaks the key: %s", s)
		}
	}
}

func TestContextCancelStopsWaits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, Options{MaxElapsed: 10 * time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, "/workspaces", nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("after %s: err = %v; want a prompt context deadline error", time.Since(start), err)
	}
	// The Retry-After also holds other requests on this key; they too must honour
	// cancellation.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	start = time.Now()
	if _, err := c.Get(ctx2, "/user", nil); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("paused request: after %s err = %v", time.Since(start), err)
	}
}

func TestRedirectToOtherHostRefused(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "" {
			leaked.Add(1)
		}
		io.WriteString(w, "[]")
	}))
	defer other.Close()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/api/v1/same" {
			http.Redirect(w, r, "/api/v1/target", http.StatusFound)
			return
		}
		if r.URL.Path == "/api/v1/target" {
			io.WriteString(w, "[1]")
			return
		}
		http.Redirect(w, r, other.URL+"/api/v1/x", http.StatusFound)
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, Options{})
	_, err := c.Get(context.Background(), "/elsewhere", nil)
	if err == nil || !strings.Contains(err.Error(), "redirect refused") || leaked.Load() != 0 || hits.Load() != 1 {
		t.Fatalf("err %v, key sent to other host %d times, hits %d; want a refused redirect, not retried", err, leaked.Load(), hits.Load())
	}
	resp, err := c.Get(context.Background(), "/same", nil)
	if err != nil || string(resp.Body) != "[1]" {
		t.Fatalf("same-host redirect: %v", err)
	}
}

func TestUnlimitedAndBufferReuse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Last-Page", "FALSE")
		fmt.Fprintf(w, `[{"page":%q}]`, r.URL.Query().Get("page"))
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, APIKey: testKey, RequestsPerSecond: Unlimited})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 1; i <= 300; i++ {
		resp, err := c.Get(context.Background(), "/x", url.Values{"page": {fmt.Sprint(i)}})
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`[{"page":"%d"}]`, i); string(resp.Body) != want || resp.LastPage == nil || *resp.LastPage {
			t.Fatalf("page %d: body %q last %v", i, resp.Body, resp.LastPage)
		}
		resp.Release()
		if resp.Body != nil {
			t.Fatal("Release left Body set")
		}
	}
	if s := c.Stats(); s.Rate != 0 || s.Requests != 300 || time.Since(start) > 10*time.Second {
		t.Fatalf("unlimited: %+v after %s", s, time.Since(start))
	}
}

func TestGetCheckedRetriesUnlessPermanent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"n":%d}`, hits.Add(1))
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, Options{})
	resp, err := c.GetChecked(context.Background(), "/x", nil, func(r *Response) error {
		if !bytes.Equal(r.Body, []byte(`{"n":3}`)) {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil || string(resp.Body) != `{"n":3}` || c.Stats().BadBodies != 2 {
		t.Fatalf("resp %v err %v stats %+v", resp, err, c.Stats())
	}
	before := hits.Load()
	_, err = c.GetChecked(context.Background(), "/x", nil, func(r *Response) error { return Permanent(errors.New("wrong envelope")) })
	if err == nil || !strings.Contains(err.Error(), "wrong envelope") || hits.Load() != before+1 {
		t.Fatalf("permanent check: err %v, hits %d→%d", err, before, hits.Load())
	}
}

func BenchmarkGetLoopback(b *testing.B) {
	var page bytes.Buffer
	page.WriteByte('[')
	for i := 0; i < 5000; i++ {
		if i > 0 {
			page.WriteByte(',')
		}
		fmt.Fprintf(&page, `{"id":"%024d","description":"work item %d","userId":"5a0ab5acb07987125438b60f","billable":true,"projectId":"5b1667790cb8797321f3d664","timeInterval":{"start":"2026-01-02T09:00:00Z","end":"2026-01-02T10:30:00Z","duration":"PT1H30M"},"workspaceId":"5a0ab5acb07987125438b60f","tagIds":["5a0ab5acb07987125438b60a"],"customFieldValues":[],"type":"REGULAR","kioskId":null,"isLocked":false}`, i, i)
	}
	page.WriteByte(']')
	body := page.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body)
	}))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL, APIKey: testKey, RequestsPerSecond: Unlimited})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp, err := c.Get(context.Background(), "/x", nil)
		if err != nil {
			b.Fatal(err)
		}
		resp.Release()
	}
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "entries/s")
}

// rate.Limiter refuses a wait that would outlast the deadline before the deadline arrives;
// callers must still be able to recognise a deadline error.
func TestLimiterWaitPastDeadlineIsDeadlineError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "[]") }))
	defer srv.Close()
	c, _ := newTestClient(t, srv, Options{RequestsPerSecond: 1, MaxRequestsPerSecond: 1})
	if _, err := c.Get(context.Background(), "/a", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, "/b", nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("after %s: err = %v; want a deadline error without waiting the full second", time.Since(start), err)
	}
}

func TestBodiesOfUnknownLengthAndTheSizeBound(t *testing.T) {
	big := `["` + strings.Repeat("x", 200_000) + `"]`
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		// Flushing first forces chunked encoding: no Content-Length.
		io.WriteString(w, big[:10])
		http.NewResponseController(w).Flush()
		io.WriteString(w, big[10:])
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, Options{})
	resp, err := c.Get(context.Background(), "/chunked", nil)
	if err != nil || string(resp.Body) != big {
		t.Fatalf("chunked body: %d bytes, err %v; want %d bytes", len(resp.Body), err, len(big))
	}
	resp.Release()
	c.maxBody = 100_000
	_, err = c.Get(context.Background(), "/chunked", nil)
	if err == nil || !strings.Contains(err.Error(), "exceeds the 100000-byte bound") || hits.Load() != 2 {
		t.Fatalf("oversized body: err %v after %d requests; want one unretried failure", err, hits.Load()-1)
	}
}

// Goroutines queued on the limiter must stay evenly spaced while the rate changes under
// them: a strict server (bucket of one) answers 429 to any two requests closer than its
// interval. A reservation taken at the old rate must not let the next request go early
// when the rate jumps. The test checks the limiter's schedule, which late timers on a
// loaded machine do not disturb.
func TestSpacingHoldsWhileRateChanges(t *testing.T) {
	c, err := New(Options{BaseURL: "http://127.0.0.1:1", APIKey: testKey, RequestsPerSecond: 5, MaxRequestsPerSecond: 40})
	if err != nil {
		t.Fatal(err)
	}
	c.aimd.interval = 150 * time.Millisecond
	c.aimd.step = 35 // one jump from 5 to 40 req/s (200ms to 25ms) while others wait
	type slot struct {
		at   time.Time
		rate float64
	}
	var mu sync.Mutex
	var slots []slot
	c.aimd.onSchedule = func(at time.Time, rate float64) {
		mu.Lock()
		slots = append(slots, slot{at, rate})
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 6; i++ {
				if err := c.waitTurn(context.Background()); err != nil {
					t.Error(err)
					return
				}
				now := time.Now()
				c.aimd.success(now, now)
			}
		}()
	}
	wg.Wait()
	if c.Stats().RateIncreases != 1 || slots[len(slots)-1].rate != 40 {
		t.Fatalf("rate increased %d times, last slot at %v/s; the test needs one jump to 40 while goroutines wait",
			c.Stats().RateIncreases, slots[len(slots)-1].rate)
	}
	for i := 1; i < len(slots); i++ {
		gap, min := slots[i].at.Sub(slots[i-1].at), time.Duration(float64(time.Second)/slots[i].rate)
		if gap < min-time.Millisecond {
			t.Fatalf("slots %d and %d are %s apart at %v req/s; want at least %s", i-1, i, gap, slots[i].rate, min)
		}
	}
}

func TestAIMDRecoversFastToJustBelowTheLastCut(t *testing.T) {
	a := newAIMD(40, 100)
	a.step, a.interval = 1, time.Second
	t0 := time.Now()
	a.throttled(t0, t0) // 40 → 20, recover to 36
	var rates []float64
	for i := 1; i <= 7; i++ {
		at := t0.Add(time.Duration(i) * time.Second)
		rates = append(rates, a.success(at, at))
	}
	want := []float64{24, 28, 32, 36, 37, 38, 39}
	if !slices.Equal(rates, want) {
		t.Fatalf("rates after a cut from 40: %v; want %v (step 4 up to 36, then 1)", rates, want)
	}
}

// TestAIMDBurstKeepsTheTargetBeforeTheBurst: three 429s in a row (the retries of one refused
// request) cut three times, but the climb back aims at the rate before the burst, not at the
// last, much lower, rate.
func TestAIMDBurstKeepsTheTargetBeforeTheBurst(t *testing.T) {
	a := newAIMD(10, 10)
	a.step, a.interval = 0.5, time.Second
	t0 := time.Now()
	for i := 0; i < 3; i++ { // 10 → 5 → 2.5 → 1.25
		at := t0.Add(time.Duration(i) * time.Second)
		if _, _, cut := a.throttled(at.Add(time.Millisecond), at.Add(2*time.Millisecond)); !cut {
			t.Fatalf("429 %d did not cut", i)
		}
		// Answers to requests sent before the cut arrive in between (other workers): they
		// are no evidence that the cut rate works.
		a.success(at, at.Add(3*time.Millisecond))
	}
	if a.recoverTo != 9 {
		t.Fatalf("recovery target %v after a burst from 10; want 9", a.recoverTo)
	}
	var secs int
	for now := t0.Add(3 * time.Second); a.rate < 9 && secs < 60; secs++ {
		now = now.Add(time.Second)
		a.success(now, now)
	}
	if secs > 5 {
		t.Errorf("took %d s to climb back from 1.25 to 9 req/s; want at most 5 (fast recovery, +2 per second)", secs)
	}
	// A later cut after successes at the recovered rate sets a new target from that rate.
	now := t0.Add(time.Minute)
	a.success(now, now)
	a.throttled(now.Add(time.Second), now.Add(time.Second))
	if a.recoverTo >= 9 || a.recoverTo < 8 {
		t.Errorf("target after a fresh congestion event at %v: %v", a.rate*2, a.recoverTo)
	}
}
