package destination

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
)

// runEnv is what a stream uses of the run it belongs to: the catalog, the destination config and
// the output for LOG messages. A stream holds no reference to the session that drives it.
type runEnv struct {
	cat catalog.Catalog
	cfg *Config
	out *airbyte.Writer
}

// stream is the destination side of one configured stream: its table and its open (uncommitted)
// batch of data files.
type stream struct {
	run      runEnv
	cfg      *airbyte.ConfiguredStream
	desc     airbyte.StreamDescriptor
	ident    table.Identifier
	names    []string // candidate table names, the first preferred (see names.go)
	props    []property
	pk       []string // top-level primary key properties (append_dedup only)
	recordID []string // top-level properties that identify a record across attempts (truncating streams)
	cursor   string   // top-level cursor property, "" when deduplicating by arrival
	inner    []string // path inside a JSON cursor column (e.g. timeInterval.start)
	dedup    bool
	truncate bool
	branch   string // table.MainBranch, or the staging branch of a truncating stream
	gen      int64
	// partition is the partitioning a new table gets; explicit when the config set it.
	partition  []partitionField
	explicit   bool
	sortBy     []string // column path of the sort order of a new table (the typed cursor)
	deleteMode string   // the table's write.delete.mode (Config.Dedup)

	tbl        *table.Table
	open       *batch
	inh        *inheritance      // rows of this generation that earlier attempts committed (attempts.go)
	firstState string            // digest of this run's first STATE of the stream that followed records
	complete   bool              // a STREAM_STATUS COMPLETE arrived
	finalized  bool              // older data replaced (truncate) after completion
	committed  int64             // rows committed in this sync
	received   int64             // rows since the previous STATE of this stream
	warnedLong map[sizeNote]bool // fields already named in a WARN for a value nulled for its size
}

// newStream prepares a configured stream; names are its table's candidate names in namespace.
func newStream(run runEnv, cs *airbyte.ConfiguredStream, namespace string, names []string) (*stream, error) {
	d := cs.Stream.Descriptor()
	props, err := streamProperties(cs.Stream.JSONSchema)
	if err != nil {
		return nil, airbyte.ConfigErrorf("stream %s: %v", d, err).WithStream(d)
	}
	st := &stream{run: run, cfg: cs, desc: d, props: props, gen: cs.Generation(), branch: table.MainBranch, names: names}
	st.ident = table.Identifier{namespace, names[0]}
	if err := catalogs.CheckIdentifier(st.ident); err != nil {
		return nil, airbyte.ConfigErrorf("stream %s: %v", d, err).WithStream(d)
	}
	st.truncate = cs.Truncates()
	switch cs.DestinationSyncMode {
	case airbyte.Append, airbyte.Overwrite, "":
	case airbyte.AppendDedup, airbyte.OverwriteDedup:
		st.dedup = true
	default:
		return nil, airbyte.ConfigErrorf("stream %s: destination_sync_mode %q is not supported (use append, overwrite or append_dedup)", d, cs.DestinationSyncMode).WithStream(d)
	}
	if st.dedup {
		if len(cs.PrimaryKey) == 0 {
			return nil, airbyte.ConfigErrorf("stream %s: append_dedup needs a primary_key", d).WithStream(d)
		}
		for _, path := range cs.PrimaryKey {
			if len(path) != 1 {
				return nil, airbyte.ConfigErrorf("stream %s: primary key %v is nested; only top-level key fields are supported", d, path).WithStream(d)
			}
			p := findProp(props, path[0])
			if p == nil {
				return nil, airbyte.ConfigErrorf("stream %s: primary key field %q is not a property of the stream's schema", d, path[0]).WithStream(d)
			}
			if !identifierType(*p) {
				return nil, airbyte.ConfigErrorf("stream %s: primary key field %q has a type (%s) that cannot be a key", d, path[0], p.Type).WithStream(d)
			}
			st.pk = append(st.pk, path[0])
		}
		path := cs.CursorField
		if cs.Stream.SourceDefinedCursor || len(path) == 0 {
			// The source-defined cursor wins over the configured one.
			if len(cs.Stream.DefaultCursorField) > 0 {
				path = cs.Stream.DefaultCursorField
			}
		}
		if len(path) > 0 {
			if p := findProp(props, path[0]); p != nil && (len(path) == 1 || p.JSON || nestedType(p.Type, path[1:]) != nil) {
				st.cursor, st.inner = path[0], slices.Clone(path[1:])
			}
		}
	}
	st.deleteMode = run.cfg.dedupMode(d)
	if sc := run.cfg.stream(d); sc.Partitioning != nil {
		st.partition, _ = parsePartitioning(*sc.Partitioning) // parseConfig checked it
		st.explicit = true
	} else if cur := streamCursor(cs); len(cur) > 0 {
		if p := findProp(props, cur[0]); p != nil {
			switch nestedType(p.Type, cur[1:]).(type) {
			case iceberg.TimestampTzType, iceberg.TimestampType, iceberg.DateType:
				st.partition = []partitionField{{transform: iceberg.MonthTransform{}, path: cur}}
				st.sortBy = cur
			}
		}
	}
	if st.truncate {
		st.branch = stagingPrefix + strconv.FormatInt(st.gen, 10)
		st.recordID = st.pk
		if !st.dedup {
			st.recordID = recordIDOf(cs, props)
		}
	}
	return st, nil
}

// recordIDOf is the primary key (configured, else source-defined) when every part is a top-level
// property of a type rows can be matched on; nil otherwise.
func recordIDOf(cs *airbyte.ConfiguredStream, props []property) []string {
	pk := cs.PrimaryKey
	if len(pk) == 0 {
		pk = cs.Stream.SourceDefinedPrimaryKey
	}
	var out []string
	for _, path := range pk {
		if len(path) != 1 {
			return nil
		}
		p := findProp(props, path[0])
		if p == nil || !identifierType(*p) {
			return nil
		}
		out = append(out, path[0])
	}
	return out
}

// streamCursor is the cursor path of a stream: the source-defined one, else the configured one.
func streamCursor(cs *airbyte.ConfiguredStream) []string {
	if len(cs.Stream.DefaultCursorField) > 0 && (cs.Stream.SourceDefinedCursor || len(cs.CursorField) == 0) {
		return cs.Stream.DefaultCursorField
	}
	return cs.CursorField
}
func findProp(props []property, name string) *property {
	for i := range props {
		if props[i].Name == name {
			return &props[i]
		}
	}
	return nil
}

// add converts one record into the open batch.
func (st *stream) add(ctx context.Context, line int, data []byte, emittedAt int64, meta *airbyte.RecordMeta) error {
	if st.open == nil {
		if err := st.begin(ctx, line); err != nil {
			return err
		}
	}
	b := st.open
	if st.dedup && isDeletion(data) {
		// A CDC delete (issue 12's convention): the key's row goes, none is written.
		if err := b.rb.keysOf(data, b.curLeaf, st.cursor, b.inner); err != nil {
			return err
		}
		for _, i := range b.pkI {
			if b.rb.cur[i].null {
				return errNullKey{b.rb.cols[i].prop}
			}
		}
		st.received++
		b.track(true)
		return nil
	}
	if err := b.rb.add(data, emittedAt, meta); err != nil {
		return err
	}
	for _, n := range b.rb.tooLong {
		st.warnTooLong(line, n)
	}
	b.rows++
	st.received++
	if st.dedup {
		for _, i := range b.pkI {
			if b.rb.cur[i].null {
				// The row is already in the batch, but a failed sync never commits it.
				return errNullKey{b.rb.cols[i].prop}
			}
		}
		b.track(false)
	}
	if len(b.idI) > 0 {
		b.trackID()
	}
	if b.rb.rows >= batchRows || b.rb.pending >= batchBytes {
		return b.send(b.rb.batch())
	}
	return nil
}

// warnTooLong says, once per field and run, that a value of a field was stored as null for its
// size. The value itself is never printed.
func (st *stream) warnTooLong(line int, n sizeNote) {
	if st.warnedLong[n] {
		return
	}
	if st.warnedLong == nil {
		st.warnedLong = map[sizeNote]bool{}
	}
	st.warnedLong[n] = true
	why := fmt.Sprintf("field %s holds a value longer than max_value_bytes (%d bytes)", n.field, st.run.cfg.MaxValueBytes)
	if n.row {
		why = fmt.Sprintf("the record's values are longer than max_row_bytes (%d bytes) together, and field %s holds one of its largest", st.run.cfg.MaxRowBytes, n.field)
	}
	st.run.out.Log(airbyte.LogWarn, "stream %s: input line %d: %s; it is stored as null with a NULLED change in _airbyte_meta "+
		"(so is every later one for this reason, without another warning)", st.desc, line, why)
}
