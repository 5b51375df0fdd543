package clockify

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clockberg/clockberg/retry"
)

// APIError is a response the client does not retry: any 4xx other than 408 and 429
// (Clockify answers 400 for unknown ids and bad parameters, 401 for a bad key,
// 402/403 for plan-gated features, 404/405 for unknown routes).
type APIError struct {
	Method  string // "" means GET
	Status  int    // HTTP status
	Code    int    // Clockify "code" from the body; 0 when absent
	Message string // Clockify "message" (or the start of a non-JSON body), key redacted
	Path    string // request path and query relative to /api/v1; never holds the key
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "clockify: %s %s: HTTP %d", cmp.Or(e.Method, "GET"), e.Path, e.Status)
	if e.Code != 0 {
		fmt.Fprintf(&b, " (code %d)", e.Code)
	}
	switch e.Status {
	case 401:
		b.WriteString(": the Clockify API key was rejected")
	case 402, 403:
		b.WriteString(": access denied (the key's user may lack the role, or the workspace plan may lack the feature)")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// RetryError reports a request that kept failing with retryable errors (429, 5xx,
// network errors, truncated or malformed bodies) until MaxAttempts or MaxElapsed ran
// out. Callers treat it as a transient failure.
type RetryError struct {
	Method   string // "" means GET
	Path     string // request path and query relative to /api/v1
	Attempts int
	Elapsed  time.Duration
	Status   int   // last HTTP status; 0 when the last failure was not an HTTP status
	Err      error // last failure
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("clockify: %s %s: gave up after %d attempts in %s: %v",
		cmp.Or(e.Method, "GET"), e.Path, e.Attempts, e.Elapsed.Round(time.Millisecond), e.Err)
}

func (e *RetryError) Unwrap() error { return e.Err }

// statusError is one retryable HTTP failure (429, 5xx, 408).
type statusError struct {
	Status  int
	Message string
}

func (e *statusError) Error() string {
	if e.Message == "" {
		return "HTTP " + strconv.Itoa(e.Status)
	}
	return "HTTP " + strconv.Itoa(e.Status) + ": " + e.Message
}

// bodyError is a 2xx whose body could not be read completely or is not what the caller
// expects.
type bodyError struct {
	What string
	Err  error
}

func (e *bodyError) Error() string {
	if e.Err == nil {
		return e.What
	}
	return e.What + ": " + e.Err.Error()
}

func (e *bodyError) Unwrap() error { return e.Err }

// Permanent wraps an error returned by a GetChecked check function so that the client
// returns it at once instead of retrying the request (retry.Permanent).
func Permanent(err error) error { return retry.Permanent(err) }

// parseErrorBody extracts Clockify's {"message","code"} body; other bodies (HTML
// from a proxy, plain text) are reduced to a short single-line excerpt.
func parseErrorBody(body []byte) (msg string, code int) {
	var eb struct {
		Message string          `json:"message"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(body, &eb) == nil && (eb.Message != "" || len(eb.Code) > 0) {
		code, _ = strconv.Atoi(strings.Trim(string(eb.Code), `"`))
		return excerpt(eb.Message), code
	}
	return excerpt(string(body)), 0
}

const maxExcerpt = 300

func excerpt(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxExcerpt {
		return s
	}
	cut := maxExcerpt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
