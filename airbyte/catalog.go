package airbyte

import (
	"encoding/json"
	"fmt"
	"os"
)

// ConfiguredCatalog is what a sync reads (source) or writes (destination).
type ConfiguredCatalog struct {
	Streams []ConfiguredStream `json:"streams"`
}

// ConfiguredStream is one stream of a configured catalog. Nil generation fields mean a platform
// without refresh support.
type ConfiguredStream struct {
	Stream              Stream              `json:"stream"`
	SyncMode            SyncMode            `json:"sync_mode"`
	DestinationSyncMode DestinationSyncMode `json:"destination_sync_mode"`
	CursorField         []string            `json:"cursor_field,omitempty"`
	PrimaryKey          [][]string          `json:"primary_key,omitempty"`
	GenerationID        *int64              `json:"generation_id,omitempty"`
	MinimumGenerationID *int64              `json:"minimum_generation_id,omitempty"`
	SyncID              *int64              `json:"sync_id,omitempty"`
}

// Truncates reports whether the destination must replace the stream's older data at the end of a
// successful sync: legacy overwrite, or a refresh where minimum_generation_id equals generation_id.
func (s *ConfiguredStream) Truncates() bool {
	if s.DestinationSyncMode == Overwrite || s.DestinationSyncMode == OverwriteDedup {
		return true
	}
	return s.GenerationID != nil && s.MinimumGenerationID != nil &&
		*s.MinimumGenerationID == *s.GenerationID && *s.GenerationID > 0
}

// Generation returns generation_id, or 0 when absent.
func (s *ConfiguredStream) Generation() int64 {
	if s.GenerationID == nil {
		return 0
	}
	return *s.GenerationID
}

// Validate rejects catalogs no connector can run: no streams, duplicate streams, unknown modes.
func (c *ConfiguredCatalog) Validate() error {
	if len(c.Streams) == 0 {
		return ConfigErrorf("the configured catalog has no streams")
	}
	seen := map[StreamDescriptor]bool{}
	for i := range c.Streams {
		s := &c.Streams[i]
		d := s.Stream.Descriptor()
		if s.Stream.Name == "" {
			return ConfigErrorf("configured catalog stream %d has no name", i)
		}
		if seen[d] {
			return ConfigErrorf("configured catalog lists stream %q twice", d.String())
		}
		seen[d] = true
		switch s.SyncMode {
		case FullRefresh, Incremental:
		default:
			return streamConfigErrorf(d, "stream %q has unknown sync_mode %q (want full_refresh or incremental)", d.String(), s.SyncMode)
		}
		switch s.DestinationSyncMode {
		case Append, Overwrite, AppendDedup, Update, SoftDelete, OverwriteDedup:
		case "":
			// Sources ignore the field; destinations check it themselves.
		default:
			return streamConfigErrorf(d, "stream %q has unknown destination_sync_mode %q", d.String(), s.DestinationSyncMode)
		}
	}
	return nil
}

func streamConfigErrorf(d StreamDescriptor, format string, a ...any) *Error {
	e := ConfigErrorf(format, a...)
	e.Stream = &d
	return e
}

// ReadCatalog reads and validates a configured catalog file.
func ReadCatalog(path string) (*ConfiguredCatalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, ConfigErrorf("cannot read the configured catalog %s: %v", path, err)
	}
	var c ConfiguredCatalog
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, ConfigErrorf("the configured catalog %s is not valid JSON of the expected shape: %v", path, DescribeJSONError(b, err))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// String describes the stream for messages.
func (s *ConfiguredStream) String() string {
	return fmt.Sprintf("%s (%s/%s)", s.Stream.Descriptor(), s.SyncMode, s.DestinationSyncMode)
}
