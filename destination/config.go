package destination

import (
	"cmp"
	"encoding/json"
	"strings"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
	"github.com/clockberg/clockberg/destination/maintenance"
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

// DefaultMaxValueBytes bounds one string or JSON value: 16 MiB, the length Snowflake gives a
// VARCHAR declared without one, so every value kept is one Snowflake reads without a declared
// length. It also bounds memory: the Parquet writer holds about ten copies of the value it writes.
const DefaultMaxValueBytes = 16 << 20

// DefaultMaxRowBytes bounds the values one row keeps together, for the same memory reason: a row
// of many values just under max_value_bytes would otherwise cost as much as one huge value (seven
// of 16 MiB: 928 MiB). 32 MiB keeps a row under the memory goal with room for reading the next line.
const DefaultMaxRowBytes = 32 << 20

// MaxLineBytes is the longest input line (one Airbyte message) the destination reads: a longer
// one fails the sync with an error naming its stream and size. Reading a line takes up to twice its
// size (its pieces, then the joined line), next to a kept value being written: 100 MiB keeps that
// under the memory goal (512 MiB) and is five times Airbyte Cloud's 20 MB record limit.
const MaxLineBytes = 100 << 20

// Config is the destination config: the catalog/storage settings at the top level plus our own keys.
type Config struct {
	catalogs.Settings
	Namespace            string `json:"namespace,omitempty"`
	FlushRecords         int64  `json:"flush_records,omitempty"`
	FlushBytes           int64  `json:"flush_bytes,omitempty"`
	FlushIntervalSeconds int64  `json:"flush_interval_seconds,omitempty"`
	TargetFileSizeBytes  int64  `json:"target_file_size_bytes,omitempty"`
	// MaxValueBytes bounds a string or JSON value (its JSON text); a longer one is stored as null
	// and the change recorded in the row's _airbyte_meta.
	MaxValueBytes int64 `json:"max_value_bytes,omitempty"`
	// MaxRowBytes bounds the values a row keeps together (their JSON text): the largest are stored
	// as null until the rest fit.
	MaxRowBytes int64 `json:"max_row_bytes,omitempty"`
	// Dedup is how append_dedup and overwrite_dedup remove superseded rows: DedupMergeOnRead
	// (position delete files, the default) or DedupCopyOnWrite (rewrite the files holding them).
	Dedup string `json:"dedup,omitempty"`
	// Streams holds per-stream settings, keyed by stream name or namespace.name.
	Streams map[string]StreamConfig `json:"streams,omitempty"`
	// Maintenance tunes the table maintenance that runs after every sync (and the maintain
	// command): snapshot expiry, orphan removal, compaction.
	Maintenance maintenance.Settings `json:"maintenance,omitempty"`
}

// StreamConfig is the part of the config that applies to one stream.
type StreamConfig struct {
	// Partitioning is the table's partition spec as transforms of (possibly nested) fields, e.g.
	// ["month(timeInterval.start)"] or ["bucket(16, id)"]; an empty list means unpartitioned. When
	// absent, a stream whose cursor is a date or timestamp is partitioned by month of its cursor
	// and every other stream is unpartitioned.
	Partitioning *[]string `json:"partitioning,omitempty"`
	// Dedup overrides the config's dedup for this stream.
	Dedup string `json:"dedup,omitempty"`
}

// Values of Config.Dedup.
const (
	DedupMergeOnRead = "merge_on_read"
	DedupCopyOnWrite = "copy_on_write"
)

// stream returns the settings of the stream d (an entry for namespace.name wins over one for name).
func (c *Config) stream(d airbyte.StreamDescriptor) StreamConfig {
	if sc, ok := c.Streams[d.String()]; ok && d.Namespace != "" {
		return sc
	}
	return c.Streams[d.Name]
}

// dedupMode is the table property write.delete.mode of a stream's table.
func (c *Config) dedupMode(d airbyte.StreamDescriptor) string {
	if cmp.Or(c.stream(d).Dedup, c.Dedup) == DedupCopyOnWrite {
		return "copy-on-write"
	}
	return "merge-on-read"
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
	for _, d := range append([]string{c.Dedup}, dedupSettings(c.Streams)...) {
		if d != "" && d != DedupMergeOnRead && d != DedupCopyOnWrite {
			return nil, airbyte.ConfigErrorf("dedup is %q; use %q or %q", d, DedupMergeOnRead, DedupCopyOnWrite)
		}
	}
	for name, sc := range c.Streams {
		if sc.Partitioning != nil {
			if _, err := parsePartitioning(*sc.Partitioning); err != nil {
				return nil, airbyte.ConfigErrorf("streams.%s.partitioning: %v", name, err)
			}
		}
	}
	if c.TargetFileSizeBytes <= 0 {
		c.TargetFileSizeBytes = DefaultTargetFileSizeBytes
	}
	switch {
	case c.MaxValueBytes <= 0:
		c.MaxValueBytes = DefaultMaxValueBytes
	case c.MaxValueBytes > MaxLineBytes:
		return nil, airbyte.ConfigErrorf("max_value_bytes is %d; it can be at most %d, the longest input line the destination reads", c.MaxValueBytes, MaxLineBytes)
	}
	switch {
	case c.MaxRowBytes <= 0:
		c.MaxRowBytes = DefaultMaxRowBytes
	case c.MaxRowBytes > MaxLineBytes:
		return nil, airbyte.ConfigErrorf("max_row_bytes is %d; it can be at most %d, the longest input line the destination reads", c.MaxRowBytes, MaxLineBytes)
	}
	if err := c.Maintenance.Validate(); err != nil {
		return nil, airbyte.ConfigErrorf("%v", err)
	}
	return &c, nil
}

func dedupSettings(streams map[string]StreamConfig) []string {
	var out []string
	for _, sc := range streams {
		out = append(out, sc.Dedup)
	}
	return out
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
	props["dedup"] = map[string]any{
		"type": "string", "title": "How deduplication removes superseded rows", "order": n + 5,
		"enum": []string{DedupMergeOnRead, DedupCopyOnWrite}, "default": DedupMergeOnRead,
		"description": "merge_on_read writes position delete files (small writes; readers apply them; compaction folds them); copy_on_write rewrites the data files that hold superseded rows (readers never see delete files; each sync rewrites the files it touches).",
	}
	props["max_value_bytes"] = map[string]any{
		"type": "integer", "title": "Longest string or JSON value kept (bytes)", "order": n + 7, "minimum": 1, "maximum": MaxLineBytes,
		"default":     DefaultMaxValueBytes,
		"description": "A string or JSON value whose JSON text is longer is stored as null, with a NULLED change (DESTINATION_FIELD_SIZE_LIMITATION) in the row's _airbyte_meta and a WARN naming the stream and field. Primary keys and cursors are always kept.",
	}
	props["max_row_bytes"] = map[string]any{
		"type": "integer", "title": "Most value bytes one row keeps (bytes)", "order": n + 8, "minimum": 1, "maximum": MaxLineBytes,
		"default":     DefaultMaxRowBytes,
		"description": "When a record's values (their JSON text) are longer together, its largest values are stored as null until the rest fit, each with a NULLED change (DESTINATION_RECORD_SIZE_LIMITATION) in the row's _airbyte_meta and a WARN. Primary keys and cursors are always kept.",
	}
	props["streams"] = map[string]any{
		"type": "object", "title": "Per-stream settings", "order": n + 6,
		"description": `Keyed by stream name (or namespace.name): {"partitioning": ["month(timeInterval.start)"], "dedup": "copy_on_write"}. Partition transforms: identity(f) or f, year, month, day, hour, bucket(N, f), truncate(W, f); [] for none. Without an entry a stream whose cursor is a date or timestamp is partitioned by month of its cursor, the others are not partitioned.`,
		"additionalProperties": map[string]any{
			"type": "object",
			"properties": map[string]any{
				"partitioning": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
				"dedup":        map[string]any{"type": "string", "enum": []string{DedupMergeOnRead, DedupCopyOnWrite}},
			},
		},
	}
	props["maintenance"] = map[string]any{
		"type": "object", "title": "Table maintenance", "order": n + 7,
		"description": "After every sync (once its last state is echoed) and in `destination-iceberg maintain`: compact small data files and fold delete files in, merge small manifests, expire old snapshots, remove orphan files. A failure there is a warning, never a failed sync. Snowflake time travel reaches back only as far as the retention.",
		"properties": map[string]any{
			"enabled": map[string]any{"type": "boolean", "title": "Maintain after every sync", "default": true, "order": 0,
				"description": "false: no automatic maintenance (run `destination-iceberg maintain` yourself)."},
			"keep_snapshots": map[string]any{"type": "integer", "title": "Snapshots kept per branch", "minimum": 1, "default": maintenance.DefaultKeepSnapshots, "order": 1,
				"description": "The last this many snapshots of every branch stay, however old."},
			"keep_history_hours": map[string]any{"type": "number", "title": "History kept (hours)", "minimum": 0, "default": maintenance.DefaultKeepHistoryHours, "order": 2,
				"description": "Snapshots younger than this stay (time travel and Snowflake tables not refreshed since reach this far back); 0 keeps only keep_snapshots."},
			"orphan_min_age_hours": map[string]any{"type": "number", "title": "Orphan file minimum age (hours)", "minimum": maintenance.MinOrphanMinAgeHours, "default": maintenance.DefaultOrphanMinAgeHours, "order": 3,
				"description": "A file under a table's location that no snapshot references is removed only once this old (a running sync's files are unreferenced until it commits)."},
			"small_file_bytes": map[string]any{"type": "integer", "title": "Small data file size (bytes)", "minimum": 0, "default": maintenance.DefaultSmallFileBytes, "order": 4,
				"description": "Data files below this size are compacted together, per partition, up to target_file_size_bytes."},
			"min_small_files": map[string]any{"type": "integer", "title": "Small files before compacting", "minimum": 2, "default": maintenance.DefaultMinSmallFiles, "order": 5,
				"description": "A partition's small data files are compacted once it has this many."},
			"min_manifests": map[string]any{"type": "integer", "title": "Manifests before merging", "minimum": 2, "default": maintenance.DefaultMinManifests, "order": 6,
				"description": "Small data manifests are merged once a table has this many."},
			"delete_files_per_file": map[string]any{"type": "integer", "title": "Delete files before folding", "minimum": 1, "default": maintenance.DefaultDeleteFilesPerFile, "order": 7,
				"description": "A data file with this many delete files is rewritten with its deletes applied, whatever its size (1: every file with deletes)."},
		},
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
