package destination

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
)

// Defaults of the flush and file tuning. A commit is due when a stream's open batch reaches any
// of the thresholds (checked at each STATE) and at the end of input. Data goes to Parquet files as
// it arrives, so these bound commit frequency, not memory.
const (
	DefaultNamespace           = "clockify"
	DefaultFlushRecords        = 1_000_000
	DefaultFlushBytes          = 256 << 20
	DefaultFlushInterval       = 10 * time.Minute
	DefaultTargetFileSizeBytes = 256 << 20
)

// Config is the destination config: the catalog/storage settings at the top level plus our own keys.
type Config struct {
	catalogs.Settings
	Namespace            string `json:"namespace,omitempty"`
	FlushRecords         int64  `json:"flush_records,omitempty"`
	FlushBytes           int64  `json:"flush_bytes,omitempty"`
	FlushIntervalSeconds int64  `json:"flush_interval_seconds,omitempty"`
	TargetFileSizeBytes  int64  `json:"target_file_size_bytes,omitempty"`
}

// parseConfig reads the config and fills the defaults.
func parseConfig(raw json.RawMessage) (*Config, error) {
	var c Config
	if len(strings.TrimSpace(string(raw))) > 0 {
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, airbyte.ConfigErrorf("the config is not a JSON object of the expected shape: %v", err)
		}
	}
	if c.Namespace = strings.TrimSpace(c.Namespace); c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	c.Namespace = safeName(c.Namespace) // see names.go
	if c.FlushRecords <= 0 {
		c.FlushRecords = DefaultFlushRecords
	}
	if c.FlushBytes <= 0 {
		c.FlushBytes = DefaultFlushBytes
	}
	if c.FlushIntervalSeconds <= 0 {
		c.FlushIntervalSeconds = int64(DefaultFlushInterval / time.Second)
	}
	if c.TargetFileSizeBytes <= 0 {
		c.TargetFileSizeBytes = DefaultTargetFileSizeBytes
	}
	return &c, nil
}

func (c *Config) flushInterval() time.Duration {
	return time.Duration(c.FlushIntervalSeconds) * time.Second
}

// specJSON is the connectionSpecification: the catalogs settings plus our keys.
func specJSON() json.RawMessage {
	props := catalogs.SpecProperties()
	n := catalogs.SpecOrderNext
	props["namespace"] = map[string]any{
		"type": "string", "title": "Default namespace", "order": n, "default": DefaultNamespace,
		"description": "Iceberg namespace for streams whose records and configured catalog name none.",
	}
	props["flush_records"] = map[string]any{
		"type": "integer", "title": "Commit after this many records", "order": n + 1, "minimum": 1,
		"default":     DefaultFlushRecords,
		"description": "A stream's rows are committed at the next STATE once this many are pending (and at the end of input).",
	}
	props["flush_bytes"] = map[string]any{
		"type": "integer", "title": "Commit after this many bytes", "order": n + 2, "minimum": 1,
		"default":     DefaultFlushBytes,
		"description": "A stream's rows are committed at the next STATE once this many bytes of record data are pending.",
	}
	props["flush_interval_seconds"] = map[string]any{
		"type": "integer", "title": "Commit after this many seconds", "order": n + 3, "minimum": 1,
		"default":     int64(DefaultFlushInterval / time.Second),
		"description": "A stream's rows are committed at the next STATE once the oldest pending row is this old.",
	}
	props["target_file_size_bytes"] = map[string]any{
		"type": "integer", "title": "Target data file size (bytes)", "order": n + 4, "minimum": 1 << 20,
		"default":     DefaultTargetFileSizeBytes,
		"description": "Parquet data files roll over at about this size.",
	}
	spec := map[string]any{
		"$schema":              "http://json-schema.org/draft-07/schema#",
		"title":                "Iceberg destination",
		"type":                 "object",
		"required":             []string{},
		"additionalProperties": true,
		"properties":           props,
	}
	b, err := json.Marshal(spec)
	if err != nil {
		panic("destination: marshalling the spec: " + err.Error())
	}
	return b
}
