package source

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/source/clockify"
)

// Defaults of the optional config fields that are the source's own; the rate defaults and the
// API URL are the client's. The spec is filled in from the same constants.
const (
	defaultPageSize       = 5000
	defaultMaxConcurrency = 8
	defaultLookbackDays   = 7
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
		rps:         clockify.DefaultRequestsPerSecond,
		maxRPS:      clockify.DefaultMaxRequestsPerSecond,
		concurrency: defaultMaxConcurrency,
		lookback:    defaultLookbackDays * 24 * time.Hour,
	}
	if s.apiKey == "" {
		return nil, airbyte.ConfigErrorf("api_key is empty")
	}
	base, err := clockify.NormalizeBaseURL(c.APIURL)
	if err != nil {
		return nil, airbyte.ConfigErrorf("api_url: %s", strings.TrimPrefix(err.Error(), "clockify: "))
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

func (s *settings) String() string {
	return fmt.Sprintf("api=%s workspaces=%v page_size=%d rps=%v..%v concurrency=%d lookback=%s",
		s.baseURL, s.workspaceIDs, s.pageSize, s.rps, s.maxRPS, s.concurrency, s.lookback)
}
