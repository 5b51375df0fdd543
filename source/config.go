package source

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/clockberg/clockberg/airbyte"
)

// Defaults of the optional config fields; the spec advertises the same values.
const (
	defaultAPIURL            = "https://api.clockify.me"
	defaultPageSize          = 5000
	defaultRequestsPerSecond = 5
	defaultMaxRequestsPerSec = 10
	defaultMaxConcurrency    = 8
	defaultLookbackDays      = 7
)

// Config is the connector configuration. Field names match Airbyte's own source-clockify so that a
// config written for it works unchanged; the extra fields are optional.
type Config struct {
	APIKey               string   `json:"api_key"`
	APIURL               string   `json:"api_url"`
	WorkspaceID          string   `json:"workspace_id"`
	WorkspaceIDs         []string `json:"workspace_ids"`
	StartDate            string   `json:"start_date"`
	PageSize             *int     `json:"page_size"`
	RequestsPerSecond    *float64 `json:"requests_per_second"`
	MaxRequestsPerSecond *float64 `json:"max_requests_per_second"`
	MaxConcurrency       *int     `json:"max_concurrency"`
	LookbackWindowDays   *int     `json:"lookback_window_days"`
}

// settings is Config after defaults and validation; the engine reads only this.
type settings struct {
	apiKey       string
	baseURL      string // scheme://host[:port][/prefix]/api/v1, no trailing slash
	workspaceIDs []string
	startDate    time.Time // zero when unset
	pageSize     int
	rps, maxRPS  float64
	concurrency  int
	lookback     time.Duration
}

func parseConfig(raw json.RawMessage) (*settings, error) {
	var c Config
	if len(raw) == 0 {
		return nil, airbyte.ConfigErrorf("config is empty")
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, airbyte.ConfigErrorf("config is not a valid source-clockify config: %v", err)
	}
	return c.settings()
}

func (c *Config) settings() (*settings, error) {
	s := &settings{
		apiKey:      strings.TrimSpace(c.APIKey),
		pageSize:    defaultPageSize,
		rps:         defaultRequestsPerSecond,
		maxRPS:      defaultMaxRequestsPerSec,
		concurrency: defaultMaxConcurrency,
		lookback:    defaultLookbackDays * 24 * time.Hour,
	}
	if s.apiKey == "" {
		return nil, airbyte.ConfigErrorf("api_key is empty")
	}
	base, err := normalizeAPIURL(c.APIURL)
	if err != nil {
		return nil, err
	}
	s.baseURL = base

	seen := map[string]bool{}
	for _, id := range append([]string{c.WorkspaceID}, c.WorkspaceIDs...) {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		if strings.ContainsAny(id, "/?#% ") {
			return nil, airbyte.ConfigErrorf("workspace id %q contains characters a Clockify id never has", id)
		}
		seen[id] = true
		s.workspaceIDs = append(s.workspaceIDs, id)
	}

	if c.StartDate != "" {
		t, err := time.Parse(time.RFC3339Nano, c.StartDate)
		if err != nil {
			return nil, airbyte.ConfigErrorf("start_date %q is not an RFC 3339 date-time such as 2024-01-01T00:00:00Z", c.StartDate)
		}
		s.startDate = t.UTC()
	}
	if c.PageSize != nil {
		if *c.PageSize < 1 {
			return nil, airbyte.ConfigErrorf("page_size must be at least 1, got %d", *c.PageSize)
		}
		s.pageSize = *c.PageSize
	}
	if c.RequestsPerSecond != nil {
		if *c.RequestsPerSecond < 0 {
			return nil, airbyte.ConfigErrorf("requests_per_second must be 0 (no limit) or positive, got %v", *c.RequestsPerSecond)
		}
		s.rps = *c.RequestsPerSecond
	}
	if c.MaxRequestsPerSecond != nil {
		if *c.MaxRequestsPerSecond <= 0 {
			return nil, airbyte.ConfigErrorf("max_requests_per_second must be positive, got %v", *c.MaxRequestsPerSecond)
		}
		s.maxRPS = *c.MaxRequestsPerSecond
	}
	// A starting rate above the ceiling would make AIMD start by breaking its own limit.
	if s.rps > 0 && s.maxRPS < s.rps {
		s.maxRPS = s.rps
	}
	if c.MaxConcurrency != nil {
		if *c.MaxConcurrency < 1 {
			return nil, airbyte.ConfigErrorf("max_concurrency must be at least 1, got %d", *c.MaxConcurrency)
		}
		s.concurrency = *c.MaxConcurrency
	}
	if c.LookbackWindowDays != nil {
		// Clockify reads the start filter in the account's time zone, so a window shorter than a
		// day could skip entries near the cursor.
		if *c.LookbackWindowDays < 1 {
			return nil, airbyte.ConfigErrorf("lookback_window_days must be at least 1 (Clockify applies the start filter in the account time zone), got %d", *c.LookbackWindowDays)
		}
		s.lookback = time.Duration(*c.LookbackWindowDays) * 24 * time.Hour
	}
	return s, nil
}

// normalizeAPIURL turns the api_url setting into the v1 API root. It accepts the host root (as
// Airbyte's connector documents) and also a URL that already ends in /api/v1.
func normalizeAPIURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		raw = defaultAPIURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", airbyte.ConfigErrorf("api_url %q is not an absolute URL such as https://api.clockify.me", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", airbyte.ConfigErrorf("api_url %q must not carry a query, fragment or user info", raw)
	}
	switch u.Scheme {
	case "https":
	case "http":
		// Plain http would send the API key in clear text; only loopback (tests, the simulator,
		// a local proxy) is allowed.
		if !isLoopback(u.Hostname()) {
			return "", airbyte.ConfigErrorf("api_url %q uses plain http; only https is allowed except for loopback hosts", raw)
		}
	default:
		return "", airbyte.ConfigErrorf("api_url %q must use https", raw)
	}
	p := strings.TrimRight(u.Path, "/")
	p = strings.TrimSuffix(p, "/api/v1")
	u.Path = p + "/api/v1"
	u.RawPath = ""
	return u.String(), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *settings) String() string {
	return fmt.Sprintf("api=%s workspaces=%v page_size=%d rps=%v..%v concurrency=%d lookback=%s",
		s.baseURL, s.workspaceIDs, s.pageSize, s.rps, s.maxRPS, s.concurrency, s.lookback)
}
