package source

import (
	"strconv"
	"strings"

	"github.com/clockberg/clockberg/source/clockify"
)

// connectionSpecification keeps Airbyte's source-clockify field names (api_key, api_url,
// workspace_id) so existing configs validate. Written as JSON text so key order, and hence the
// SPEC output, is stable; the defaults are filled in from the constants the config applies.
var connectionSpecification = strings.NewReplacer(
	"{defaultAPIURL}", strconv.Quote(clockify.DefaultBaseURL),
	"{defaultPageSize}", strconv.Itoa(defaultPageSize),
	"{defaultRequestsPerSecond}", strconv.Itoa(clockify.DefaultRequestsPerSecond),
	"{defaultMaxRequestsPerSecond}", strconv.Itoa(clockify.DefaultMaxRequestsPerSecond),
	"{defaultMaxConcurrency}", strconv.Itoa(defaultMaxConcurrency),
	"{defaultLookbackDays}", strconv.Itoa(defaultLookbackDays),
).Replace(specTemplate)

const specTemplate = `{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Clockify Source Spec",
  "type": "object",
  "required": ["api_key"],
  "additionalProperties": true,
  "properties": {
    "api_key": {
      "type": "string",
      "title": "API Key",
      "description": "Clockify personal API key (Profile settings → API). An Admin or Owner key is needed to read other members' data.",
      "airbyte_secret": true,
      "order": 0
    },
    "api_url": {
      "type": "string",
      "title": "API URL",
      "description": "Base URL of the Clockify API without /api/v1, e.g. https://euc1.clockify.me for a regional workspace. Plain http is accepted only for loopback hosts.",
      "default": {defaultAPIURL},
      "pattern": "^https?://",
      "examples": ["https://api.clockify.me", "https://euc1.clockify.me"],
      "order": 1
    },
    "workspace_id": {
      "type": "string",
      "title": "Workspace ID",
      "description": "One workspace to read (as in Airbyte's connector). Leave this and Workspace IDs empty to read every workspace the key can see.",
      "order": 2
    },
    "workspace_ids": {
      "type": "array",
      "title": "Workspace IDs",
      "description": "Workspaces to read. Leave this and Workspace ID empty to read every workspace the key can see.",
      "items": {"type": "string"},
      "order": 3
    },
    "start_date": {
      "type": "string",
      "title": "Start Date",
      "description": "Only time entries starting at or after this instant (RFC 3339) are read on the first sync.",
      "format": "date-time",
      "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
      "examples": ["2024-01-01T00:00:00Z"],
      "order": 4
    },
    "page_size": {
      "type": "integer",
      "title": "Page Size",
      "description": "Records per request; clamped to each endpoint's cap (5000 for most; Clockify caps a few lower).",
      "default": {defaultPageSize},
      "minimum": 1,
      "order": 5
    },
    "requests_per_second": {
      "type": "number",
      "title": "Requests per Second",
      "description": "Starting request rate for the API key; raised while Clockify does not answer 429. 0 turns client-side limiting off (for a local simulator).",
      "default": {defaultRequestsPerSecond},
      "minimum": 0,
      "order": 6
    },
    "max_requests_per_second": {
      "type": "number",
      "title": "Maximum Requests per Second",
      "description": "Ceiling of the adaptive request rate (Clockify allows about 10 per second per key).",
      "default": {defaultMaxRequestsPerSecond},
      "exclusiveMinimum": 0,
      "order": 7
    },
    "max_concurrency": {
      "type": "integer",
      "title": "Maximum Concurrency",
      "description": "Requests in flight at once across all streams.",
      "default": {defaultMaxConcurrency},
      "minimum": 1,
      "maximum": 256,
      "order": 8
    },
    "lookback_window_days": {
      "type": "integer",
      "title": "Lookback Window (days)",
      "description": "Incremental time entries re-read this many days before the saved cursor, to catch edits and running timers.",
      "default": {defaultLookbackDays},
      "minimum": 1,
      "order": 9
    }
  }
}`

const documentationURL = "https://github.com/clockberg/clockberg#source-clockify"
