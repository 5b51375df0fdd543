package source

import (
	"errors"
	"strings"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/source/clockify"
)

// checkAttempts and checkElapsed keep check well inside the platform's time budget when the
// host is down or wrong; a read uses the client's larger defaults.
const (
	checkAttempts = 3
	checkElapsed  = 30 * time.Second
)

// clientOptions are the client settings of both check and read.
func (s *settings) clientOptions() clockify.Options {
	o := clockify.Options{
		BaseURL:              s.baseURL,
		APIKey:               s.apiKey,
		RequestsPerSecond:    s.rps,
		MaxRequestsPerSecond: s.maxRPS,
	}
	if s.rps == 0 {
		o.RequestsPerSecond = clockify.Unlimited
		o.MaxRequestsPerSecond = 0
	}
	return o
}

// checkClient is the client of check: a few quick attempts and nothing logged.
func checkClient(s *settings) (*clockify.Client, error) {
	o := s.clientOptions()
	o.MaxAttempts, o.MaxElapsed = checkAttempts, checkElapsed
	return newClient(o)
}

// readClient is the client of read: the client's retry bounds, rate changes and retries logged.
func readClient(s *settings, out *airbyte.Writer, tune func(*clockify.Options)) (*clockify.Client, error) {
	o := s.clientOptions()
	o.Logf = func(level, format string, args ...any) {
		out.Log(logLevel(level), format, args...)
	}
	if tune != nil {
		tune(&o)
	}
	return newClient(o)
}

func newClient(o clockify.Options) (*clockify.Client, error) {
	c, err := clockify.New(o)
	if err != nil {
		return nil, airbyte.ConfigErrorf("cannot build the Clockify client: %v", err)
	}
	return c, nil
}

func logLevel(l string) airbyte.LogLevel {
	switch strings.ToUpper(l) {
	case "ERROR":
		return airbyte.LogError
	case "WARN", "WARNING":
		return airbyte.LogWarn
	case "DEBUG":
		return airbyte.LogDebug
	}
	return airbyte.LogInfo
}

// apiStatus returns the HTTP status of a non-retryable Clockify answer, or 0.
func apiStatus(err error) (*clockify.APIError, int) {
	var ae *clockify.APIError
	if errors.As(err, &ae) {
		return ae, ae.Status
	}
	return nil, 0
}

// namesPageSize reports whether a 400 complains about the page size, which Clockify does for a
// size above an endpoint's cap.
func namesPageSize(ae *clockify.APIError) bool {
	if ae == nil || ae.Status != 400 {
		return false
	}
	m := strings.ToLower(ae.Message)
	return strings.Contains(m, "page-size") || strings.Contains(m, "page size") || strings.Contains(m, "pagesize")
}

// classify turns a request failure into the Airbyte error a stream reports.
func classify(err error, stream string) *airbyte.Error {
	ae, status := apiStatus(err)
	var e *airbyte.Error
	switch {
	case status == 401:
		e = airbyte.ConfigErrorf("Clockify rejected the API key (HTTP 401); check api_key: %v", err)
	case status == 402 || status == 403:
		e = airbyte.ConfigErrorf("Clockify denied access (HTTP %d) while reading %s; reading other members' data needs an Admin or Owner API key: %v", status, stream, err)
	case ae != nil:
		e = airbyte.SystemErrorf("Clockify refused a request of stream %s: %v", stream, err)
	default:
		var re *clockify.RetryError
		if errors.As(err, &re) {
			e = airbyte.TransientErrorf("stream %s: %v", stream, err)
		} else {
			e = airbyte.SystemErrorf("stream %s: %v", stream, err)
		}
	}
	e.Err = err
	return e
}
