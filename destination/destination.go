// Package destination is destination-iceberg: it writes Airbyte records into Apache Iceberg
// tables that Snowflake can read (format v2, Parquet data page v1, zstd, no equality deletes).
//
// Commits and visibility. Rows are converted to Arrow and streamed into Parquet files as they
// arrive, so memory stays bounded whatever the flush settings. Files become visible only when a
// commit adds them to a snapshot. A commit happens at a STATE once a stream's pending rows reach
// flush_records, flush_bytes or flush_interval_seconds, and at the end of input; every commit then
// covers only records received before that STATE, and the pending STATEs are echoed after it.
// Nothing after the last echoed STATE is made visible by a failed run. When the input carries
// stream statuses, a stream that ends without COMPLETE commits nothing past its last echoed STATE
// (its source stopped early and the retry sends those records again).
//
// Truncating streams (overwrite, or minimum_generation_id == generation_id) commit to a staging
// branch named airbyte_staging_gen_<generation>, which starts without main's files. Readers of main
// keep seeing the previous data. When the stream completes (STREAM_STATUS COMPLETE, or the end of
// input when the input carries no statuses), one commit on main replaces main's files with the
// branch's. An interrupted sync leaves main untouched. The branch holds exactly the rows of echoed
// STATEs, so a retry with the same generation that resumes from the last echoed state continues
// it; a retry that sends everything again replaces the earlier attempts' rows by primary key, in
// the same commits (attempts.go), so main ends with one row per record either way.
//
// Names. Stream, namespace and property names become table, namespace and column names made of
// ASCII letters, digits and '_' (names.go): a safe name stays as it is, others are transliterated,
// and collisions get a suffix hashed from the original name. The original is kept (table property
// airbyte.stream, column doc), so the mapping is the same in every later sync.
//
// Values. A value that does not reach its column as sent is recorded in the row's _airbyte_meta:
// not of the column's type (NULLED, DESTINATION_TYPECAST_ERROR), beyond its range (NULLED,
// DESTINATION_FIELD_SIZE_LIMITATION), more digits than a double holds (stored rounded, TRUNCATED,
// DESTINATION_FIELD_SIZE_LIMITATION), invalid UTF-8 replaced by U+FFFD in string and JSON columns
// (TRUNCATED, DESTINATION_SERIALIZATION_ERROR).
//
// Layout. Objects with declared properties become structs, arrays of typed items lists
// (recursively); untyped values, unions and objects without properties stay JSON text (schema.go,
// convert.go). A stream whose cursor is a date or timestamp is partitioned by its month (for time
// entries month(timeInterval.start)); the config's streams.<name>.partitioning sets any Iceberg
// transform or none (partitioning.go). Tables of the JSON-text layout keep their columns.
//
// append_dedup and overwrite_dedup keep one row per primary key, the highest cursor winning (ties
// and missing cursors going to the later arrival). A commit reads only the files whose bounds on
// the first key column hold a key of the batch, and only their key, cursor and raw-id columns; it
// then deletes the losing rows by position (merge-on-read, the default) or rewrites the files
// holding them (copy-on-write), in the same catalog commit as the batch's files (dedup.go). A
// record with _ab_cdc_deleted_at set removes its key's row and adds none.
//
// A failed commit is retried on the same base up to three times; a commit that reached the
// catalog but whose answer was lost is recognised by the airbyte.commit-id in its snapshot summary.
// Every snapshot summary also carries the last STATE the commit covers (airbyte.state and its id
// in airbyte.state.checkpoint).
package destination

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
)

// Destination implements airbyte.Destination.
type Destination struct {
	// OpenCatalog opens the catalog the config names; tests may replace it.
	OpenCatalog func(ctx context.Context, cfg *Config) (catalog.Catalog, error)
}

// New returns the destination with the catalogs package's opener.
func New() *Destination {
	return &Destination{OpenCatalog: func(ctx context.Context, cfg *Config) (catalog.Catalog, error) {
		return catalogs.Open(ctx, cfg.Settings)
	}}
}

var _ airbyte.Destination = (*Destination)(nil)

// Spec describes the config.
func (d *Destination) Spec() *airbyte.Spec {
	return &airbyte.Spec{
		DocumentationURL:        "https://github.com/clockberg/clockberg",
		ConnectionSpecification: specJSON(),
		SupportedDestinationSyncModes: []airbyte.DestinationSyncMode{
			airbyte.Append, airbyte.Overwrite, airbyte.AppendDedup,
		},
		ProtocolVersion: "0.2.0",
	}
}

func (d *Destination) open(ctx context.Context, raw json.RawMessage) (*Config, catalog.Catalog, error) {
	cfg, err := parseConfig(raw)
	if err != nil {
		return nil, nil, err
	}
	cat, err := d.openConfig(ctx, cfg)
	return cfg, cat, err
}

func (d *Destination) openConfig(ctx context.Context, cfg *Config) (catalog.Catalog, error) {
	if err := checkWritable(cfg.Settings); err != nil {
		return nil, err
	}
	cat, err := d.OpenCatalog(ctx, cfg)
	if err != nil {
		return nil, airbyte.ConfigErrorf("opening the catalog (%s): %v", cfg.Settings.Describe(), err)
	}
	return cat, nil
}

// Write stores the records of in and echoes states once their records are committed.
func (d *Destination) Write(ctx context.Context, config json.RawMessage, cc *airbyte.ConfiguredCatalog, in io.Reader, out *airbyte.Writer) error {
	if cc == nil {
		return airbyte.ConfigErrorf("no configured catalog")
	}
	if err := cc.Validate(); err != nil {
		return err
	}
	cfg, cat, err := d.open(ctx, config)
	if err != nil {
		return err
	}
	defer catalogs.Close(cat)
	s, err := newSession(cfg, cat, cc, out)
	if err != nil {
		return err
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		// Go lets the heap grow to twice what is live before it collects; a long line or a full
		// key index would then double the peak. A soft limit makes the collector work harder near
		// it instead (it is no hard cap: a sync that needs more gets more).
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(softMemoryLimit))
	}
	return s.run(ctx, in)
}

// softMemoryLimit is the Go heap size the collector aims to stay under during a write.
const softMemoryLimit = 320 << 20

// CheckTimeout bounds a whole check, well inside the 9 minutes the platform allows. Each catalog
// request is bounded on its own too (catalogs.ConnectTimeout and AnswerTimeout), so a silent host
// is named long before this.
var CheckTimeout = 4 * time.Minute

// Check creates a probe table, writes a row, reads it back and drops the table, leaving the
// catalog and the warehouse as they were. A local warehouse that does not exist yet is not
// created: check then proves that the first write can create it. A SQLite catalog that does not
// exist yet is not created either: the probe uses a temporary one.
func (d *Destination) Check(ctx context.Context, config json.RawMessage) (*airbyte.ConnectionStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	cfg, err := parseConfig(config)
	if err != nil {
		return airbyte.Failed(err.Error()), nil
	}
	st, note, cleanup, err := prepareCheck(cfg)
	defer cleanup()
	if st != nil || err != nil {
		return st, err
	}
	cat, err := d.openConfig(ctx, cfg)
	if err != nil {
		return airbyte.Failed(checkFailure(ctx, err)), nil
	}
	defer catalogs.Close(cat)
	if err := probe(ctx, cfg, cat); err != nil {
		return airbyte.Failed(fmt.Sprintf("%s: %s", cfg.Settings.Describe(), checkFailure(ctx, err))), nil
	}
	return airbyte.Succeeded(note), nil
}

// checkFailure is the text of a failed check, saying so when the check ran out of time.
func checkFailure(ctx context.Context, err error) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("the check did not finish within %s: %v", CheckTimeout, err)
	}
	return err.Error()
}

func probe(ctx context.Context, cfg *Config, cat catalog.Catalog) error {
	ns := table.Identifier{cfg.Namespace}
	ok, err := cat.CheckNamespaceExists(ctx, ns)
	if err != nil {
		return fmt.Errorf("checking namespace %q: %w", cfg.Namespace, err)
	}
	if !ok {
		if err := cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
			return fmt.Errorf("creating namespace %q: %w", cfg.Namespace, err)
		}
		// Leave no namespace behind (and, on a local warehouse, no empty folder).
		defer func() {
			if cat.DropNamespace(ctx, ns) == nil {
				if dir, ok := localWarehouse(cfg.Settings); ok {
					os.Remove(filepath.Join(dir, cfg.Namespace+".db"))
				}
			}
		}()
	}
	ident := table.Identifier{cfg.Namespace, "_airbyte_check_" + uuid.NewString()[:8]}
	sch := iceberg.NewSchema(0, iceberg.NestedField{ID: 1, Name: "probe", Type: iceberg.PrimitiveTypes.String, Required: true})
	tbl, err := cat.CreateTable(ctx, ident, sch, catalog.WithProperties(tableProps(cfg.TargetFileSizeBytes, cfg.dedupMode(airbyte.StreamDescriptor{}))))
	if err != nil {
		return fmt.Errorf("creating probe table %s.%s: %w", ident[0], ident[1], err)
	}
	drop := func() error {
		defer func() {
			if dir, ok := catalogs.LocalPath(tbl.Location()); ok {
				removeEmptyDirs(dir) // the purge removes the files, not their folders
			}
		}()
		if p, ok := cat.(catalog.PurgeableTable); ok {
			return p.PurgeTable(ctx, ident)
		}
		return cat.DropTable(ctx, ident)
	}
	asc, err := table.SchemaToArrowSchema(tbl.Schema(), nil, true, false)
	if err != nil {
		_ = drop()
		return err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, asc)
	b.Field(0).(*array.StringBuilder).Append("ok")
	rec := b.NewRecordBatch()
	b.Release()
	rdr, err := array.NewRecordReader(asc, []arrow.RecordBatch{rec})
	rec.Release()
	if err != nil {
		_ = drop()
		return err
	}
	tbl, err = tbl.Append(ctx, rdr, nil)
	rdr.Release()
	if err != nil {
		_ = drop()
		return fmt.Errorf("writing to probe table %s.%s: %w", ident[0], ident[1], err)
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		_ = drop()
		return fmt.Errorf("reading probe table %s.%s back: %w", ident[0], ident[1], err)
	}
	n := at.NumRows()
	at.Release()
	if n != 1 {
		_ = drop()
		return fmt.Errorf("probe table %s.%s read back %d rows, want 1", ident[0], ident[1], n)
	}
	if err := drop(); err != nil {
		return fmt.Errorf("dropping probe table %s.%s: %w", ident[0], ident[1], err)
	}
	return nil
}
