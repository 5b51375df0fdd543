// Package clockify is the HTTP client of the Clockify source: one client per API key,
// an AIMD-controlled request rate shared by every goroutine, and retries with
// exponential backoff for everything a retry can fix (429, 5xx, timeouts, resets,
// truncated or malformed bodies). The API key is only ever sent as a header and is
// redacted from every error and log line the client produces.
//
// Rate control: requests are spaced evenly (rate.Limiter with burst 1, one waiter at a
// time so a rate change never schedules two requests together). The rate starts at
// Options.RequestsPerSecond and rises by 0.5 req/s per second without a 429 up to the
// ceiling. A 429 halves it (floor 1 req/s) once per congestion event: 429s answering
// requests sent before the last cut are the same event. After a cut the rate climbs
// four times faster until it is back at 90% of the rate that was cut. A Retry-After on
// a 429 also holds every other request of the client until then.
package clockify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clockberg/clockberg/retry"
)

// DefaultBaseURL is the global Clockify host.
const DefaultBaseURL = "https://api.clockify.me"

// Unlimited as Options.RequestsPerSecond turns client-side rate limiting off
// (benchmarks on loopback). 429s are still retried.
const Unlimited = -1.0

// Defaults of the zero Options fields; the source's config and spec advertise the same.
const (
	DefaultRequestsPerSecond    = 5
	DefaultMaxRequestsPerSecond = 10 // Clockify's documented per-key limit
)

const (
	// Buffers that grew beyond this are left to the GC rather than pinned in the pool.
	maxPooledBuf = 32 << 20
	// Error bodies are only read for their message.
	maxErrorBody = 64 << 10
	userAgent    = "clockberg-source-clockify"
)

// Options configures a Client. The zero value of every field selects the default
// noted on it; only APIKey is required.
type Options struct {
	// BaseURL is the host root, e.g. "https://api.clockify.me" or a regional
	// "https://euc1.clockify.me"; the client appends "/api/v1" unless the path already
	// ends with it. Plain http is accepted only for loopback hosts (127.0.0.0/8, ::1,
	// localhost). Default DefaultBaseURL.
	BaseURL string
	// APIKey is sent as X-Api-Key. It never appears in any error, log line or String().
	APIKey string
	// RequestsPerSecond is the AIMD start rate. 0 means 5; a negative value (Unlimited)
	// disables client-side limiting.
	RequestsPerSecond float64
	// MaxRequestsPerSecond is the AIMD ceiling. 0 means 10 (Clockify's documented
	// per-key limit). A start rate above it is lowered to it.
	MaxRequestsPerSecond float64
	// MaxAttempts bounds the attempts per request, the first included. 0 means 8.
	MaxAttempts int
	// MaxElapsed bounds the time per request including backoff. 0 means 5 minutes.
	MaxElapsed time.Duration
	// MaxResponseBytes bounds one response body; a larger one fails its request, naming
	// the path and the bound. 0 means 64 MiB.
	MaxResponseBytes int64
	// MaxBufferedBytes bounds the bodies held at once by all requests of the client (being
	// read, or returned and not yet released); a body that cannot get room within 10 s, or
	// while every other holder waits too, fails its attempt (retried). 0 means 160 MiB; it
	// is raised to MaxResponseBytes if below. Joining a body of unknown length into one
	// buffer may pass it briefly by that body's size.
	MaxBufferedBytes int64
	// HTTPClient is used for transport; nil means a client with dial, TLS, header and
	// overall timeouts and a keep-alive pool sized for concurrent streams. The client
	// is copied and its redirect policy replaced so the key never follows a redirect
	// to another host or to plain http.
	HTTPClient *http.Client
	// Logf receives rate changes (level "INFO" on increase, "WARN" on cut) and retries
	// ("WARN"). nil discards them. Messages never contain the key.
	Logf func(level, format string, args ...any)
}

// String hides the API key so that logging Options by accident cannot leak it.
func (o Options) String() string {
	return fmt.Sprintf("clockify.Options{BaseURL:%q APIKey:[redacted] RequestsPerSecond:%g MaxRequestsPerSecond:%g MaxAttempts:%d MaxElapsed:%s}",
		o.BaseURL, o.RequestsPerSecond, o.MaxRequestsPerSecond, o.MaxAttempts, o.MaxElapsed)
}

// GoString hides the API key from %#v as well.
func (o Options) GoString() string { return o.String() }

// Client sends GET requests to the Clockify v1 API. It is safe for concurrent use;
// all goroutines share one rate limiter because Clockify limits per API key.
type Client struct {
	base        string // scheme://host[:port]/…/api/v1, no trailing slash
	scheme      string
	host        string
	key         string
	hc          *http.Client
	aimd        *aimd // nil when unlimited
	maxAttempts int
	maxElapsed  time.Duration
	logf        func(level, format string, args ...any)

	// Tuning knobs, unexported so tests can shrink them.
	maxBody      int64
	budget       *byteBudget
	budgetWait   time.Duration
	backoffBase  time.Duration // first 5xx/network backoff cap; doubles per attempt
	backoffMax   time.Duration
	throttleBase time.Duration // first 429 wait without Retry-After; doubles per 429

	turn       chan struct{} // admits one goroutine at a time to the limiter
	pauseUntil atomic.Int64  // unix nanos; a server's Retry-After on 429 holds every request
	floorWarn  atomic.Bool
	bufs       sync.Pool

	requests, retries, throttled, serverErrors, netErrors, badBodies atomic.Int64
}

// New validates o and returns a Client.
func New(o Options) (*Client, error) {
	key := strings.TrimSpace(o.APIKey)
	if key == "" {
		return nil, errors.New("clockify: API key is empty")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x21 || c > 0x7e {
			return nil, fmt.Errorf("clockify: API key contains a byte that is not printable ASCII at position %d", i)
		}
	}
	c := &Client{
		key:          key,
		maxAttempts:  o.MaxAttempts,
		maxElapsed:   o.MaxElapsed,
		logf:         o.Logf,
		maxBody:      cmp.Or(o.MaxResponseBytes, defaultMaxResponseBytes),
		budgetWait:   budgetWait,
		backoffBase:  retry.DefaultBaseDelay,
		backoffMax:   retry.DefaultMaxDelay,
		throttleBase: time.Second,
	}
	u, err := parseBaseURL(o.BaseURL)
	if err != nil {
		return nil, errors.New(c.redact(err.Error()))
	}
	c.base, c.scheme, c.host = strings.TrimSuffix(u.String(), "/"), u.Scheme, u.Host
	c.budget = newByteBudget(max(cmp.Or(o.MaxBufferedBytes, defaultMaxBufferedBytes), c.maxBody))
	if c.maxAttempts <= 0 {
		c.maxAttempts = retry.DefaultMaxAttempts
	}
	if c.maxElapsed <= 0 {
		c.maxElapsed = retry.DefaultMaxElapsed
	}
	if math.IsNaN(o.RequestsPerSecond) || math.IsNaN(o.MaxRequestsPerSecond) || math.IsInf(o.RequestsPerSecond, 0) {
		return nil, errors.New("clockify: request rates must be finite numbers")
	}
	if o.RequestsPerSecond >= 0 {
		start, ceiling := o.RequestsPerSecond, o.MaxRequestsPerSecond
		if start == 0 {
			start = DefaultRequestsPerSecond
		}
		if ceiling <= 0 || math.IsInf(ceiling, 1) {
			ceiling = DefaultMaxRequestsPerSecond
		}
		c.aimd = newAIMD(min(start, ceiling), ceiling)
		c.turn = make(chan struct{}, 1)
	}
	if o.HTTPClient != nil {
		hc := *o.HTTPClient
		c.hc = &hc
	} else {
		c.hc = defaultHTTPClient()
	}
	c.hc.CheckRedirect = c.checkRedirect
	return c, nil
}

func defaultHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          64,
			MaxIdleConnsPerHost:   32,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
		// Covers reading the body too; a 5000-entry page is a few MiB.
		Timeout: 3 * time.Minute,
	}
}

// NormalizeBaseURL turns a configured base URL into the API root requests go to
// (scheme://host[:port][/prefix]/api/v1, no trailing slash). It accepts the host root, as
// Airbyte's connector documents it, or a URL that already ends in /api/v1; "" means
// DefaultBaseURL. Plain http is refused except for loopback hosts, since it would send the key
// in clear text.
func NormalizeBaseURL(raw string) (string, error) {
	u, err := parseBaseURL(raw)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("clockify: base URL %q is not an absolute URL like %s", raw, DefaultBaseURL)
	}
	if u.User != nil {
		return nil, errors.New("clockify: base URL must not contain user info; the API key goes in its own field")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("clockify: base URL %q must not have a query or fragment", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("clockify: base URL %q uses plain http, which is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost); use https", raw)
		}
	default:
		return nil, fmt.Errorf("clockify: base URL %q must start with https://", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(u.Path, "/api/v1") {
		u.Path += "/api/v1"
	}
	u.RawPath = ""
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var errRedirect = errors.New("redirect refused")

// checkRedirect keeps the key on the configured scheme and host: Go forwards custom
// headers such as X-Api-Key on redirects, even across hosts.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return fmt.Errorf("%w: more than 5 redirects", errRedirect)
	}
	if req.URL.Scheme != c.scheme || req.URL.Host != c.host {
		return fmt.Errorf("%w: to %s://%s, not the configured host", errRedirect, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// BaseURL is the API root requests go to (scheme, host and /api/v1 path).
func (c *Client) BaseURL() string { return c.base }

// String describes the client without its key.
func (c *Client) String() string {
	s := c.Stats()
	return fmt.Sprintf("clockify.Client{base:%s rate:%g/s}", c.base, s.Rate)
}

// Response is a successful (2xx) response whose body was read completely and passed
// the body check.
type Response struct {
	Status   int
	Body     []byte
	LastPage *bool // the Last-Page header; nil when absent or not true/false
	Header   http.Header

	buf      *[]byte // pooled backing array of Body
	pool     *sync.Pool
	budget   *byteBudget
	reserved int64 // bytes of budget held for buf
}

// Release returns the body buffer for reuse by later requests. Optional; after it,
// Body must not be used.
func (r *Response) Release() {
	if r == nil || r.buf == nil {
		return
	}
	r.budget.release(r.reserved, true)
	r.reserved = 0
	buf := r.buf
	r.buf, r.Body = nil, nil
	if cap(*buf) <= maxPooledBuf {
		*buf = (*buf)[:0]
		r.pool.Put(buf)
	}
}

// Stats are cumulative counters of a Client.
type Stats struct {
	Requests      int64   // HTTP requests sent, retries included
	Retries       int64   // attempts after a retryable failure
	Throttled     int64   // 429 responses
	ServerErrors  int64   // 5xx and 408 responses
	NetworkErrors int64   // transport failures: refused, reset, timeout
	BadBodies     int64   // 2xx bodies that were truncated or failed the body check
	BufferedPeak  int64   // most response-body bytes held at once
	RateCuts      int64   // multiplicative decreases (one per congestion event)
	RateIncreases int64   // additive increases
	Rate          float64 // current limit in requests/s; 0 when unlimited
}

// Stats returns a snapshot of the counters.
func (c *Client) Stats() Stats {
	s := Stats{
		Requests:      c.requests.Load(),
		Retries:       c.retries.Load(),
		Throttled:     c.throttled.Load(),
		ServerErrors:  c.serverErrors.Load(),
		NetworkErrors: c.netErrors.Load(),
		BadBodies:     c.badBodies.Load(),
	}
	_, s.BufferedPeak = c.budget.stats()
	if c.aimd != nil {
		s.Rate, s.RateCuts, s.RateIncreases = c.aimd.current()
	}
	return s
}

type throttleHookKey struct{}

// WithThrottleHook returns a context whose requests call fn each time they receive a
// 429 and are about to wait; quotaReset is when the retry will be sent. The engine uses
// it to emit a RATE_LIMITED stream status for the stream the request belongs to. fn
// runs on the requesting goroutine and must not block.
func WithThrottleHook(ctx context.Context, fn func(quotaReset time.Time)) context.Context {
	return context.WithValue(ctx, throttleHookKey{}, fn)
}

func throttleHook(ctx context.Context) func(time.Time) {
	fn, _ := ctx.Value(throttleHookKey{}).(func(time.Time))
	return fn
}

// Get fetches path (relative to /api/v1, starting with "/") with query q and returns a
// 2xx response whose body is complete, valid JSON. Errors are *APIError for responses
// retrying cannot fix, *RetryError when the retry bounds ran out, or the context's
// error wrapped with the path.
func (c *Client) Get(ctx context.Context, path string, q url.Values) (*Response, error) {
	return c.GetChecked(ctx, path, q, nil)
}

// GetChecked is Get with the caller's check of each 2xx response in place of
// json.Valid, so a caller that parses the body anyway scans it once. A check error
// counts as a malformed body and is retried, unless wrapped with Permanent. A nil
// check means json.Valid.
func (c *Client) GetChecked(ctx context.Context, path string, q url.Values, check func(*Response) error) (*Response, error) {
	return c.Do(ctx, Request{Path: path, Query: q}, check)
}

// Request is one read of the API. Some reads are POSTs: Clockify lists time-off requests only
// for a JSON body of filters and paging.
type Request struct {
	Method string     // "" means GET
	Path   string     // relative to /api/v1, starting with "/"
	Query  url.Values // may be nil
	Body   []byte     // sent as application/json when not nil
}

// Do sends req as GetChecked sends a GET: retried, rate limited, and checked by check.
func (c *Client) Do(ctx context.Context, req Request, check func(*Response) error) (*Response, error) {
	method, path, q := cmp.Or(req.Method, http.MethodGet), req.Path, req.Query
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("clockify: %s %q: path must start with / and carry no query (pass it as q)", method, c.redact(path))
	}
	rel := path
	if enc := q.Encode(); enc != "" {
		rel += "?" + enc
	}
	rel = c.redact(rel)
	full := c.base + path
	if len(q) > 0 {
		full += "?" + q.Encode()
	}
	at := method + " " + rel // names the request in errors and logs
	hook := throttleHook(ctx)
	attempts := c.policy().Begin()
	n429 := 0
	for {
		if err := c.waitTurn(ctx); err != nil {
			return nil, fmt.Errorf("clockify: %s: %w", at, err)
		}
		sentAt := time.Now()
		resp, status, retryAfter, err := c.do(ctx, method, full, rel, req.Body, check)
		if err == nil {
			if c.aimd != nil {
				if r := c.aimd.success(sentAt, time.Now()); r > 0 {
					c.log("INFO", "clockify: no 429 for %s; request rate raised to %.1f/s", c.aimd.interval, r)
				}
			}
			return resp, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("clockify: %s: %w", at, ctxErr)
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) {
			return nil, err
		}
		if retry.IsPermanent(err) {
			return nil, fmt.Errorf("clockify: %s: %s", at, c.redact(err.Error()))
		}

		now := time.Now()
		switch {
		case retryAfter > 0:
			err = retry.After(err, retryAfter)
		case status == http.StatusTooManyRequests:
			// Without Retry-After: equal jitter, at least half the window, so the retry does not
			// land in the same per-second quota, yet concurrent retries spread out.
			d := c.throttleBase << min(n429, 10)
			if d > c.backoffMax || d <= 0 {
				d = c.backoffMax
			}
			err = retry.After(err, d/2+rand.N(d/2+1))
		}
		if status == http.StatusTooManyRequests {
			n429++
			c.onThrottled(sentAt, now)
		}
		wait, ok := attempts.Next(err)
		if !ok {
			last := retry.Unwrap(err)
			var re *retry.Error
			if errors.As(attempts.Err(err), &re) && re.Delayed && retryAfter > 0 {
				last = fmt.Errorf("%w (the server asked to retry after %s, beyond the %s bound)", last, retryAfter.Round(time.Second), c.maxElapsed)
			}
			return nil, &RetryError{Method: method, Path: rel, Attempts: attempts.Attempt(), Elapsed: attempts.Elapsed(), Status: status, Err: last}
		}
		// Only a wait this request is willing to make holds the others; a Retry-After
		// beyond the bound fails each request quickly instead of freezing the client.
		if retryAfter > 0 && status == http.StatusTooManyRequests {
			c.pauseAll(now.Add(retryAfter))
		}
		c.retries.Add(1)
		c.log("WARN", "clockify: %s: %v; retry %d of %d in %s", at, retry.Unwrap(err), attempts.Attempt(), c.maxAttempts-1, wait.Round(time.Millisecond))
		if status == http.StatusTooManyRequests && hook != nil {
			hook(now.Add(wait))
		}
		if err := retry.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("clockify: %s: %w", at, err)
		}
	}
}

// policy is the client's retry policy: the shared one, with the client's bounds.
func (c *Client) policy() retry.Policy {
	return retry.Policy{MaxAttempts: c.maxAttempts, MaxElapsed: c.maxElapsed, BaseDelay: c.backoffBase, MaxDelay: c.backoffMax}
}

func (c *Client) onThrottled(sentAt, now time.Time) {
	c.throttled.Add(1)
	if c.aimd == nil {
		return
	}
	if from, to, cut := c.aimd.throttled(sentAt, now); cut {
		c.log("WARN", "clockify: HTTP 429 Too Many Requests; request rate cut from %.1f/s to %.1f/s", from, to)
		return
	}
	if c.aimd.atFloor() && c.floorWarn.CompareAndSwap(false, true) {
		c.log("WARN", "clockify: still rate-limited at the minimum rate of %.1f/s; newly created Free-plan workspaces are limited to 30 requests per hour", c.aimd.floor)
	}
}

func (c *Client) pauseAll(until time.Time) {
	n := until.UnixNano()
	for {
		old := c.pauseUntil.Load()
		if old >= n || c.pauseUntil.CompareAndSwap(old, n) {
			return
		}
	}
}

// waitTurn holds a request while a server-given Retry-After is pending and then takes
// a token from the shared limiter.
func (c *Client) waitTurn(ctx context.Context) error {
	if p := c.pauseUntil.Load(); p != 0 {
		if d := time.Until(time.Unix(0, p)); d > 0 {
			if err := retry.Sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	if c.aimd != nil {
		// One waiter at a time, so rate changes apply between reservations (see aimd.wait).
		select {
		case c.turn <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		err := c.aimd.wait(ctx)
		<-c.turn
		if err != nil {
			return err
		}
	}
	return ctx.Err()
}

// do sends one attempt. It returns the HTTP status (0 for transport failures) and
// the server's Retry-After, if any, alongside a retryable error, an *APIError or a
// retry.Permanent error.
func (c *Client) do(ctx context.Context, method, full, rel string, body []byte, check func(*Response) error) (*Response, int, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, full, rd)
	if err != nil {
		return nil, 0, 0, retry.Permanent(fmt.Errorf("building request: %v", err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header["X-Api-Key"] = []string{c.key}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	c.requests.Add(1)
	hr, err := c.hc.Do(req)
	if err != nil {
		c.netErrors.Add(1)
		var cve *tls.CertificateVerificationError
		if errors.Is(err, errRedirect) || errors.As(err, &cve) {
			return nil, 0, 0, retry.Permanent(errors.New(c.redact(err.Error())))
		}
		return nil, 0, 0, errors.New(c.redact(err.Error()))
	}
	defer hr.Body.Close()
	status := hr.StatusCode
	if status >= 200 && status < 300 {
		resp, err := c.readOK(hr, check)
		if err != nil {
			c.badBodies.Add(1)
		}
		return resp, status, 0, err
	}
	errBody, _ := io.ReadAll(io.LimitReader(hr.Body, maxErrorBody))
	msg, code := parseErrorBody(errBody)
	msg = c.redact(msg)
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		if status != http.StatusTooManyRequests {
			c.serverErrors.Add(1)
		}
		return nil, status, parseRetryAfter(hr.Header.Get("Retry-After"), time.Now()), &statusError{Status: status, Message: msg}
	default:
		return nil, status, 0, &APIError{Method: method, Status: status, Code: code, Message: msg, Path: rel}
	}
}

func (c *Client) readOK(hr *http.Response, check func(*Response) error) (*Response, error) {
	if hr.ContentLength > c.maxBody {
		return nil, retry.Permanent(fmt.Errorf("response body of %d bytes exceeds the %d-byte bound per response (%s)", hr.ContentLength, c.maxBody, mib(c.maxBody)))
	}
	buf, _ := c.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	resp := &Response{Status: hr.StatusCode, Header: hr.Header, buf: buf, pool: &c.bufs, budget: c.budget}
	n, err := c.readBody(hr.Request.Context(), resp, hr.Body, hr.ContentLength)
	var be *bodyError
	switch {
	case errors.Is(err, errTooLarge):
		resp.Release()
		return nil, retry.Permanent(fmt.Errorf("response body exceeds the %d-byte bound per response (%s) after %d bytes", c.maxBody, mib(c.maxBody), n))
	case errors.As(err, &be):
		resp.Release()
		return nil, be
	case err != nil && hr.ContentLength >= 0:
		resp.Release()
		return nil, &bodyError{What: fmt.Sprintf("truncated body: %d of %d bytes", n, hr.ContentLength), Err: errors.New(c.redact(err.Error()))}
	case err != nil:
		resp.Release()
		return nil, &bodyError{What: fmt.Sprintf("truncated body after %d bytes", n), Err: errors.New(c.redact(err.Error()))}
	}
	resp.Body = *buf
	if v := hr.Header.Get("Last-Page"); v != "" {
		switch {
		case strings.EqualFold(v, "true"):
			t := true
			resp.LastPage = &t
		case strings.EqualFold(v, "false"):
			f := false
			resp.LastPage = &f
		}
	}
	if check == nil {
		if !json.Valid(resp.Body) {
			resp.Release()
			return nil, &bodyError{What: fmt.Sprintf("malformed JSON body (%d bytes)", n)}
		}
		return resp, nil
	}
	if err := check(resp); err != nil {
		resp.Release()
		if retry.IsPermanent(err) {
			return nil, err
		}
		return nil, &bodyError{What: "unexpected body", Err: errors.New(c.redact(err.Error()))}
	}
	return resp, nil
}

var errTooLarge = errors.New("body too large")

// readBody reads a whole body into resp's buffer, reusing its capacity, with the buffer's
// capacity reserved in the client's budget before it is allocated. With a known length it
// allocates exactly once; growing a buffer by doubling would leave pages of up to three
// times the body size pinned in the pool. An unknown length is read by readChunked.
func (c *Client) readBody(ctx context.Context, resp *Response, body io.Reader, length int64) (int64, error) {
	buf := resp.buf
	b := (*buf)[:0]
	if cap(b) > 0 && !c.adopt(resp, int64(cap(b))) {
		b = nil // a large pooled buffer is not worth waiting for
	}
	if length >= 0 {
		if int64(cap(b)) < length {
			b = nil
		}
		if err := c.reserve(ctx, resp, max(int64(cap(b)), length)); err != nil {
			return 0, err
		}
		if b == nil {
			b = make([]byte, length)
		}
		b = b[:length]
		n, err := io.ReadFull(body, b)
		*buf = b[:n]
		return int64(n), err
	}
	return c.readChunked(ctx, resp, body, b)
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 means absent or unusable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 || math.IsNaN(secs) || secs > 24*3600 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func (c *Client) redact(s string) string {
	if c.key == "" || !strings.Contains(s, c.key) {
		return s
	}
	return strings.ReplaceAll(s, c.key, "[redacted]")
}

func (c *Client) log(level, format string, args ...any) {
	if c.logf == nil {
		return
	}
	c.logf(level, "%s", c.redact(fmt.Sprintf(format, args...)))
}
