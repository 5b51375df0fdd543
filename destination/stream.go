package destination

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
	"github.com/clockberg/clockberg/jsonscan"
)

// stagingPrefix names the branches a truncating stream commits to until it completes.
const stagingPrefix = "airbyte_staging_gen_"

// An Arrow batch goes to the Parquet writer at batchRows rows or batchBytes bytes of record data,
// whichever comes first: big enough to amortize per-batch work, small enough that the few queued
// batches stay far below the memory goal even for records of tens of kilobytes.
const (
	batchRows  = 8192
	batchBytes = 8 << 20
)

// tableProps are set on every table we create and enforced on tables we find: Snowflake reads
// only format v2 with Parquet data page v1.
func tableProps(targetFileSize int64, deleteMode string) iceberg.Properties {
	return iceberg.Properties{
		"format-version":                             "2",
		"write.parquet.page-version":                 "1",
		"write.parquet.compression-codec":            "zstd",
		"write.delete.mode":                          deleteMode,
		"write.update.mode":                          deleteMode,
		"write.merge.mode":                           deleteMode,
		"write.target-file-size-bytes":               strconv.FormatInt(targetFileSize, 10),
		"write.metadata.delete-after-commit.enabled": "true",
		"write.metadata.previous-versions-max":       "50",
		// A partitioned write keeps a Parquet writer open per partition, each buffering a page and a
		// dictionary per column: small pages and dictionaries keep 50 open writers within budget.
		"write.parquet.page-size-bytes":      "131072",
		"write.parquet.dict-size-bytes":      "262144",
		"write.parquet.row-group-size-bytes": "33554432",
	}
}

// stream is the destination side of one configured stream: its table and its open (uncommitted)
// batch of data files.
type stream struct {
	s        *session
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
	inh        *inheritance // rows of this generation that earlier attempts committed (attempts.go)
	firstState string       // digest of this run's first STATE of the stream that followed records
	complete   bool         // a STREAM_STATUS COMPLETE arrived
	finalized  bool         // older data replaced (truncate) after completion
	committed  int64        // rows committed in this sync
	received   int64        // rows since the previous STATE of this stream
}

// batch is the data written since the last commit: Parquet files already on storage but not yet
// part of any snapshot, so invisible to readers and safe to abandon.
type batch struct {
	txn     *table.Transaction
	rb      *rowBuilder
	ch      chan arrow.RecordBatch
	done    chan struct{}
	files   []iceberg.DataFile
	err     error
	cancel  context.CancelFunc
	rows    int64
	started time.Time
	line    int // input line of the batch's first record
	// Dedup streams: the key, cursor and raw id of every row (and CDC delete) of the batch.
	index   *keyIndex
	cursorI int      // index of the cursor's column in rb.cols, -1 when none
	inner   []string // path of the cursor inside its column (original property names)
	curLeaf *node    // the cursor's field when its column is a struct
	curCols []string // the column names of that path, for reading the table
	pkI     []int    // indices of the key columns in rb.cols
	// Truncating streams with inherited rows: the record ids in this batch, and what its commit
	// does to the inherited files.
	idI        []int
	ids        map[string]struct{}
	idFirst    map[string]value // distinct values of the first id column, for the pruning filter
	inhRemoved []string
	inhAdded   []iceberg.DataFile
}

// newStream prepares a configured stream; names are its table's candidate names in namespace.
func newStream(s *session, cs *airbyte.ConfiguredStream, namespace string, names []string) (*stream, error) {
	d := cs.Stream.Descriptor()
	props, err := streamProperties(cs.Stream.JSONSchema)
	if err != nil {
		return nil, airbyte.ConfigErrorf("stream %s: %v", d, err).WithStream(d)
	}
	st := &stream{s: s, cfg: cs, desc: d, props: props, gen: cs.Generation(), branch: table.MainBranch, names: names}
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
	st.deleteMode = s.cfg.dedupMode(d)
	if sc := s.cfg.stream(d); sc.Partitioning != nil {
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

// nestedType is the type of the field at path (original property names) inside t, or nil. With
// an empty path it is t itself.
func nestedType(t iceberg.Type, path []string) iceberg.Type {
	for _, name := range path {
		st, ok := t.(*iceberg.StructType)
		if !ok {
			return nil
		}
		t = nil
		for _, f := range st.FieldList {
			if originalName(f) == name {
				t = f.Type
				break
			}
		}
		if t == nil {
			return nil
		}
	}
	return t
}

// columnPath maps a path of original property names to the column names of sch, or nil.
func columnPath(sch *iceberg.Schema, path []string) []string {
	var out []string
	fields := sch.Fields()
	for _, name := range path {
		var next *iceberg.NestedField
		for i := range fields {
			if originalName(fields[i]) == name {
				next = &fields[i]
				break
			}
		}
		if next == nil {
			return nil
		}
		out = append(out, next.Name)
		if st, ok := next.Type.(*iceberg.StructType); ok {
			fields = st.FieldList
		} else {
			fields = nil
		}
	}
	return out
}

// layout is the partition spec and sort order of a new table of schema sch.
func (st *stream) layout(sch *iceberg.Schema) (iceberg.PartitionSpec, *table.SortOrder, error) {
	fields := make([]partitionField, 0, len(st.partition))
	for _, f := range st.partition {
		cols := columnPath(sch, f.path)
		if cols == nil {
			if st.explicit {
				return iceberg.PartitionSpec{}, nil, airbyte.ConfigErrorf("stream %s: partitioning %s: the stream has no field %s", st.desc, f, strings.Join(f.path, "."))
			}
			continue
		}
		fields = append(fields, partitionField{transform: f.transform, path: cols})
	}
	spec, err := partitionSpec(sch, fields)
	if err != nil {
		return iceberg.PartitionSpec{}, nil, airbyte.ConfigErrorf("stream %s: %v", st.desc, err)
	}
	var order *table.SortOrder
	// iceberg-go's writers sort by top-level columns only (a nested sort key fails every write).
	if cols := columnPath(sch, st.sortBy); len(st.sortBy) == 1 && cols != nil {
		if f, ok := sch.FindFieldByName(strings.Join(cols, ".")); ok {
			o, err := table.NewSortOrder(1, []table.SortField{{SourceIDs: []int{f.ID}, Transform: iceberg.IdentityTransform{},
				Direction: table.SortASC, NullOrder: table.NullsFirst}})
			if err == nil {
				order = &o
			}
		}
	}
	return spec, order, nil
}

func findProp(props []property, name string) *property {
	for i := range props {
		if props[i].Name == name {
			return &props[i]
		}
	}
	return nil
}

// load opens or creates the table and clears staging branches a previous sync left behind.
func (st *stream) load(ctx context.Context) error {
	if st.tbl != nil {
		return nil
	}
	cat := st.s.cat
	ns := table.Identifier{st.ident[0]}
	if ok, err := cat.CheckNamespaceExists(ctx, ns); err != nil {
		return fmt.Errorf("checking namespace %q: %w", ns[0], err)
	} else if !ok {
		if err := cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
			return fmt.Errorf("creating namespace %q: %w", ns[0], err)
		}
	}
	tbl, err := st.openTable(ctx)
	if err != nil {
		return fmt.Errorf("opening table %s: %w", strings.Join(st.ident, "."), err)
	}
	st.tbl = tbl
	if err := mapColumns(st.props, tbl.Schema()); err != nil {
		return fmt.Errorf("table %s: %w", strings.Join(st.ident, "."), err)
	}
	if err := st.enforceProps(ctx); err != nil {
		return err
	}
	if err := st.dropStaleBranches(ctx); err != nil {
		return err
	}
	return st.findInherited(ctx)
}

// openTable loads the stream's table, or creates it. A table of a candidate name that another
// stream created (its airbyte.stream property names that stream) is skipped for the next name.
func (st *stream) openTable(ctx context.Context) (*table.Table, error) {
	cat := st.s.cat
	for i, name := range st.names {
		st.ident = table.Identifier{st.ident[0], name}
		tbl, err := cat.LoadTable(ctx, st.ident)
		if errors.Is(err, catalog.ErrNoSuchTable) {
			if err := mapColumns(st.props, nil); err != nil {
				return nil, err
			}
			props := tableProps(st.s.cfg.TargetFileSizeBytes, st.deleteMode)
			props[PropStream] = st.desc.String()
			sch := newTableSchema(st.props, st.pk)
			opts := []catalog.CreateTableOpt{catalog.WithProperties(props)}
			spec, order, lerr := st.layout(sch)
			if lerr != nil {
				return nil, lerr
			}
			if !spec.IsUnpartitioned() {
				opts = append(opts, catalog.WithPartitionSpec(&spec))
			}
			if order != nil {
				opts = append(opts, catalog.WithSortOrder(*order))
			}
			tbl, err = cat.CreateTable(ctx, st.ident, sch, opts...)
			if errors.Is(err, catalog.ErrTableAlreadyExists) {
				tbl, err = cat.LoadTable(ctx, st.ident)
			}
		}
		if err != nil {
			return nil, err
		}
		if owner, ok := tbl.Properties()[PropStream]; ok && owner != st.desc.String() {
			if i == len(st.names)-1 {
				return nil, fmt.Errorf("the table belongs to stream %q", owner)
			}
			continue
		}
		return tbl, nil
	}
	return nil, errors.New("no table name")
}

// PropStream is the table property naming the stream (namespace.name as in the catalog) that
// created the table, so that two streams whose names map to the same table name never share it.
const PropStream = "airbyte.stream"

func (st *stream) enforceProps(ctx context.Context) error {
	want := tableProps(st.s.cfg.TargetFileSizeBytes, st.deleteMode)
	have := st.tbl.Properties()
	missing := iceberg.Properties{}
	if _, ok := have[PropStream]; !ok {
		missing[PropStream] = st.desc.String()
	}
	for _, k := range []string{"write.parquet.page-version", "write.parquet.compression-codec", "write.delete.mode", "write.update.mode", "write.merge.mode", "write.target-file-size-bytes", "write.parquet.row-group-limit",
		"write.parquet.page-size-bytes", "write.parquet.dict-size-bytes", "write.parquet.row-group-size-bytes"} {
		if have[k] != want[k] {
			missing[k] = want[k]
		}
	}
	if v := st.tbl.Metadata().Version(); v != 2 {
		return fmt.Errorf("table %s has format version %d; Snowflake needs version 2", strings.Join(st.ident, "."), v)
	}
	if len(missing) == 0 {
		return nil
	}
	txn := st.tbl.NewTransaction()
	if err := txn.SetProperties(missing); err != nil {
		return err
	}
	tbl, err := txn.Commit(ctx)
	if err != nil {
		return fmt.Errorf("setting properties of table %s: %w", strings.Join(st.ident, "."), err)
	}
	st.tbl = tbl
	return nil
}

// dropStaleBranches removes staging branches of other generations: their rows belong to an
// abandoned refresh. A branch of this very generation is kept, so a retried attempt keeps the
// rows (and echoed states) of the failed one.
func (st *stream) dropStaleBranches(ctx context.Context) error {
	var updates []table.Update
	var reqs []table.Requirement
	for name, ref := range st.tbl.Metadata().Refs() {
		if !strings.HasPrefix(name, stagingPrefix) {
			continue
		}
		keep := st.truncate && name == st.branch && st.cfg.GenerationID != nil
		if keep {
			continue
		}
		id := ref.SnapshotID
		updates = append(updates, table.NewRemoveSnapshotRefUpdate(name))
		reqs = append(reqs, table.AssertRefSnapshotID(name, &id))
	}
	if len(updates) == 0 {
		return nil
	}
	if _, _, err := st.s.cat.CommitTable(ctx, st.ident, reqs, updates); err != nil {
		return fmt.Errorf("removing stale staging branches of %s: %w", strings.Join(st.ident, "."), err)
	}
	tbl, err := st.s.cat.LoadTable(ctx, st.ident)
	if err != nil {
		return err
	}
	st.tbl = tbl
	return nil
}

// evolve stages in txn the columns the stream's schema adds and the widenings Iceberg allows.
// Other type changes keep the column; values that do not fit it become null with a meta change.
func (st *stream) evolve(txn *table.Transaction) error {
	sch := st.tbl.Schema()
	var upd *table.UpdateSchema
	get := func() *table.UpdateSchema {
		if upd == nil {
			upd = txn.UpdateSchema(true, false)
		}
		return upd
	}
	for _, p := range st.props {
		f, ok := sch.FindFieldByName(p.Column)
		if !ok {
			get().AddColumn([]string{p.Column}, p.Type, fieldDoc(p.JSON, p.Name, p.Column), false, nil)
			continue
		}
		evolveType(get, []string{f.Name}, f.Type, p.Type)
	}
	if upd == nil {
		return nil
	}
	if err := upd.Commit(); err != nil {
		return fmt.Errorf("evolving the schema of %s: %w", strings.Join(st.ident, "."), err)
	}
	return nil
}

// evolveType stages what a column of type have at path needs to hold values of type want: the
// nested fields it lacks are added (named as in a new table), Iceberg's widenings applied. Any
// other difference keeps have; values that do not fit it become null with a change. A JSON-text
// column stays JSON text even where the stream now declares a struct (tables of the JSON layout).
func evolveType(get func() *table.UpdateSchema, path []string, have, want iceberg.Type) {
	switch w := want.(type) {
	case *iceberg.StructType:
		h, ok := have.(*iceberg.StructType)
		if !ok {
			return
		}
		byOriginal := map[string]iceberg.NestedField{}
		existing := map[string]string{}
		for _, f := range h.FieldList {
			orig := originalName(f)
			byOriginal[orig] = f
			existing[f.Name] = orig
		}
		origs := make([]string, len(w.FieldList))
		for i, f := range w.FieldList {
			origs[i] = originalName(f)
		}
		cols, err := assignNames(origs, existing, nil)
		if err != nil {
			return // a name that cannot be placed: the field stays out, as an unknown property would
		}
		for i, wf := range w.FieldList {
			if hf, ok := byOriginal[origs[i]]; ok {
				evolveType(get, append(slices.Clone(path), hf.Name), hf.Type, wf.Type)
				continue
			}
			get().AddColumn(append(slices.Clone(path), cols[origs[i]]), wf.Type, fieldDoc(docIsJSON(wf.Doc), origs[i], cols[origs[i]]), false, nil)
		}
	case *iceberg.ListType:
		if h, ok := have.(*iceberg.ListType); ok {
			evolveType(get, append(slices.Clone(path), "element"), h.Element, w.Element)
		}
	default:
		if !have.Equals(want) && allowedWidening(have, want) {
			get().UpdateColumn(path, table.ColumnUpdate{FieldType: iceberg.Optional[iceberg.Type]{Valid: true, Val: want}})
		}
	}
}

// originalName is the record property a field holds: the name its doc records, else its own.
func originalName(f iceberg.NestedField) string {
	if orig, ok := docOriginal(f.Doc); ok {
		return orig
	}
	return f.Name
}

// begin opens a batch: a transaction (with any schema change staged) and a Parquet writer fed
// through a channel, so rows go to storage as they arrive instead of piling up in memory.
func (st *stream) begin(ctx context.Context) error {
	if err := st.load(ctx); err != nil {
		return err
	}
	txn := st.tbl.NewTransactionOnBranch(st.branch)
	if err := st.evolve(txn); err != nil {
		return err
	}
	staged, err := txn.StagedTable()
	if err != nil {
		return fmt.Errorf("staging %s: %w", strings.Join(st.ident, "."), err)
	}
	asc, err := table.SchemaToArrowSchema(staged.Schema(), nil, true, false)
	if err != nil {
		return fmt.Errorf("arrow schema of %s: %w", strings.Join(st.ident, "."), err)
	}
	tracked := slices.Concat(st.pk, st.recordID)
	if st.cursor != "" {
		tracked = append(tracked, st.cursor)
	}
	rb, err := newRowBuilder(staged.Schema(), asc, tracked, st.cfg.SyncID, st.gen)
	if err != nil {
		return fmt.Errorf("table %s: %w", strings.Join(st.ident, "."), err)
	}
	wctx, cancel := context.WithCancel(ctx)
	b := &batch{txn: txn, rb: rb, ch: make(chan arrow.RecordBatch, 1), done: make(chan struct{}),
		cancel: cancel, started: time.Now(), cursorI: -1, line: st.s.lastLine}
	if st.dedup {
		b.index = newKeyIndex()
		for _, k := range st.pk {
			b.pkI = append(b.pkI, rb.byName[k])
		}
		if st.cursor != "" {
			b.cursorI = rb.byName[st.cursor]
			b.inner = st.inner
			if n := rb.cols[b.cursorI].node; n != nil && len(b.inner) > 0 {
				if b.curLeaf = n.find(b.inner); b.curLeaf != nil {
					b.curLeaf.track = true
					b.curCols = columnPath(staged.Schema(), append([]string{st.cursor}, st.inner...))[1:]
				} else {
					b.cursorI = -1 // the table's struct has no such field: dedup by arrival
				}
			}
		}
	}
	if st.tracksIDs() {
		for _, k := range st.recordID {
			b.idI = append(b.idI, rb.byName[k])
		}
	}
	recs := func(yield func(arrow.RecordBatch, error) bool) {
		for r := range b.ch {
			if !yield(r, nil) {
				// WriteRecords stopped early (an error): drain so senders never block.
				for r := range b.ch {
					r.Release()
				}
				return
			}
		}
	}
	go func() {
		defer close(b.done)
		for df, err := range table.WriteRecords(wctx, staged.Table, asc, iter.Seq2[arrow.RecordBatch, error](recs),
			table.WithTargetFileSize(st.s.cfg.TargetFileSizeBytes), table.WithRecordBatchBufferSize(2)) {
			if err != nil {
				b.err = err
				cancel()
				for r := range b.ch {
					r.Release()
				}
				return
			}
			b.files = append(b.files, df)
		}
	}()
	st.open = b
	return nil
}

// add converts one record into the open batch.
func (st *stream) add(ctx context.Context, data []byte, emittedAt int64, meta *airbyte.RecordMeta) error {
	if st.open == nil {
		if err := st.begin(ctx); err != nil {
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

func (b *batch) send(rec arrow.RecordBatch) error {
	select {
	case b.ch <- rec:
		return nil
	case <-b.done:
		rec.Release()
		if b.err != nil {
			return fmt.Errorf("writing data files: %w", b.err)
		}
		return errors.New("writing data files: the writer stopped")
	}
}

// track keeps the latest row per key: the highest cursor, ties and no cursor going to the later
// arrival.
func (b *batch) track(tomb bool) {
	kinds := make([]colKind, len(b.pkI))
	key := make([]value, len(b.pkI))
	for n, i := range b.pkI {
		kinds[n], key[n] = b.rb.cols[i].kind, b.rb.cur[i]
	}
	var cur value
	switch {
	case b.cursorI < 0:
		cur = value{null: true}
	case b.curLeaf != nil:
		cur = b.rb.nested
	default:
		cur = cursorValue(b.rb.cur[b.cursorI], b.inner)
	}
	if b.cursorI < 0 {
		// By arrival: every key's later rows win, which the arrival order already says.
		cur = value{null: true}
	}
	b.index.add(kinds, key, b.index.cursor(b.cursorKind(), cur), b.rb.rawUUID, tomb)
}

func writeKeyPart(sb *strings.Builder, k colKind, v value) {
	var s string
	switch k {
	case kString, kJSON:
		s = v.s
	case kFloat32, kFloat64:
		s = strconv.FormatFloat(v.f, 'g', -1, 64)
	default:
		s = strconv.FormatInt(v.i, 10)
	}
	sb.WriteString(strconv.Itoa(len(s)))
	sb.WriteByte(':')
	sb.WriteString(s)
}

// compareValues orders cursor values; null sorts first.
func compareValues(k colKind, a, b value) int {
	switch {
	case a.null && b.null:
		return 0
	case a.null:
		return -1
	case b.null:
		return 1
	}
	switch k {
	case kNested:
		if a.i == 1 && b.i == 1 {
			return compareValues(kFloat64, a, b)
		}
		return strings.Compare(a.s, b.s)
	case kString, kJSON:
		return strings.Compare(a.s, b.s)
	case kFloat32, kFloat64:
		switch {
		case a.f < b.f:
			return -1
		case a.f > b.f:
			return 1
		}
		return 0
	}
	switch {
	case a.i < b.i:
		return -1
	case a.i > b.i:
		return 1
	}
	return 0
}

// abort abandons the open batch: its files never become part of a snapshot.
func (st *stream) abort() {
	if st.open == nil {
		return
	}
	b := st.open
	st.open = nil
	b.cancel()
	close(b.ch)
	<-b.done
	b.rb.release()
	removeFiles(st.tbl, b.files)
}

// removeFiles deletes data files no snapshot references; it saves an orphan-file cleanup later.
// Failing to remove them is harmless, so errors are ignored.
func removeFiles(tbl *table.Table, files []iceberg.DataFile) {
	if fs, err := tbl.FS(context.Background()); err == nil {
		if rm, ok := fs.(interface{ Remove(string) error }); ok {
			for _, f := range files {
				_ = rm.Remove(f.FilePath())
			}
		}
	}
}

// commit makes the open batch part of the table (or of the staging branch) in one catalog commit.
func (st *stream) commit(ctx context.Context, snapProps iceberg.Properties) error {
	b := st.open
	if b == nil {
		return nil
	}
	st.open = nil
	defer b.rb.release()
	defer b.cancel()
	var sendErr error
	if b.rb.rows > 0 {
		sendErr = b.send(b.rb.batch())
	}
	close(b.ch)
	<-b.done
	if b.err != nil {
		return fmt.Errorf("writing data files of %s: %w", strings.Join(st.ident, "."), b.err)
	}
	if sendErr != nil {
		return sendErr
	}
	name := strings.Join(st.ident, ".")
	props := maps.Clone(snapProps)
	props[SummaryCommitID] = uuid.NewString()
	base := st.tbl
	txn := b.txn
	var err error
	for attempt := 1; ; attempt++ {
		var tbl *table.Table
		if err = st.stage(ctx, b, txn, props); err == nil {
			if tbl, err = txn.Commit(ctx); err == nil {
				st.tbl = tbl
				break
			}
		}
		if attempt == commitAttempts || ctx.Err() != nil {
			return fmt.Errorf("committing %s (attempt %d): %w", name, attempt, err)
		}
		// The commit may have failed before the catalog applied it (retry on the same base), or
		// after (done), or because someone else changed the table (give up: the staged files
		// carry this base's field ids).
		fresh, lerr := st.s.cat.LoadTable(ctx, st.ident)
		if lerr != nil {
			return fmt.Errorf("committing %s: %w (and reloading it failed: %v)", name, err, lerr)
		}
		if hasCommit(fresh, props[SummaryCommitID]) {
			st.tbl = fresh
			err = nil
			break
		}
		if fresh.MetadataLocation() != base.MetadataLocation() {
			return fmt.Errorf("committing %s: %w; the table changed meanwhile, so the batch is abandoned", name, err)
		}
		st.s.out.Log(airbyte.LogWarn, "commit to %s failed (attempt %d), retrying: %v", name, attempt, err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * time.Second):
		}
		st.tbl = fresh
		txn = fresh.NewTransactionOnBranch(st.branch)
		if err := st.evolve(txn); err != nil {
			return err
		}
	}
	st.committed += b.rows
	st.committedOverInherited(b)
	return nil
}

// commitAttempts bounds how often one batch's commit is tried.
const commitAttempts = 3

// SummaryCommitID is a random id per commit, to recognise a commit whose acknowledgement was lost.
const SummaryCommitID = "airbyte.commit-id"

func hasCommit(tbl *table.Table, id string) bool {
	for _, s := range tbl.Metadata().Snapshots() {
		if s.Summary != nil && s.Summary.Properties[SummaryCommitID] == id {
			return true
		}
	}
	return false
}

// stage puts the batch's files (and, for append_dedup, the deletes) into txn.
func (st *stream) stage(ctx context.Context, b *batch, txn *table.Transaction, props iceberg.Properties) error {
	name := strings.Join(st.ident, ".")
	b.inhRemoved, b.inhAdded = nil, nil
	inh := st.inh
	replaces := (st.truncate && st.branchHead() == nil && (inh == nil || !inh.fromMain || inh.restart)) || (inh != nil && inh.restart)
	// Copy-on-write on staging branches too: finalize moves data files, never delete files.
	cow := st.truncate || st.deleteMode == "copy-on-write"
	var plan *dedupPlan
	var drop, add []iceberg.DataFile
	if st.dedup && b.index.len() > 0 {
		var err error
		if plan, err = st.planDedup(ctx, b, !replaces); err != nil {
			return err
		}
		if cow {
			if drop, add, err = st.rewriteExisting(ctx, txn, plan); err != nil {
				return fmt.Errorf("table %s: %w", name, err)
			}
			if b.files, err = st.withoutLosers(ctx, txn, b.files, plan); err != nil {
				return fmt.Errorf("table %s: %w", name, err)
			}
			plan.losers = nil
		} else {
			first := b.rb.cols[b.pkI[0]]
			f, _ := st.tbl.Schema().FindFieldByName(first.name)
			if err := plan.deleteExisting(ctx, txn, first.name, first.kind, f.ID, props); err != nil {
				return fmt.Errorf("table %s: %w", name, err)
			}
		}
	}
	switch {
	case st.truncate && st.branchHead() == nil && (inh == nil || !inh.fromMain || inh.restart):
		// The first commit of a refresh forks the staging branch with none of main's files, so the
		// branch holds exactly this generation's rows. With neither old nor new files this is a
		// no-op and the branch appears with the first rows.
		old, err := st.files(ctx, st.mainHead())
		if err != nil {
			return err
		}
		if err := txn.ReplaceDataFilesWithDataFiles(ctx, old, b.files, props); err != nil {
			return fmt.Errorf("staging the first files of %s: %w", name, err)
		}
	case inh != nil && inh.restart:
		// The input started over: the rows of earlier attempts go, in the commit that adds the
		// first rows of this one.
		var old []iceberg.DataFile
		for _, f := range inh.files {
			old = append(old, f)
		}
		if err := txn.ReplaceDataFilesWithDataFiles(ctx, old, b.files, props); err != nil {
			return fmt.Errorf("replacing the rows of earlier attempts of %s: %w", name, err)
		}
	case st.tracksIDs():
		if err := st.stageOverInherited(ctx, b, txn, props); err != nil {
			return err
		}
	case len(drop) > 0:
		if err := txn.ReplaceDataFilesWithDataFiles(ctx, drop, append(add, b.files...), props); err != nil {
			return fmt.Errorf("replacing rewritten files of %s: %w", name, err)
		}
	default:
		if err := txn.AddDataFiles(ctx, b.files, props); err != nil {
			return fmt.Errorf("adding data files to %s: %w", name, err)
		}
	}
	if plan != nil {
		if err := plan.deleteNew(ctx, txn, props); err != nil {
			return fmt.Errorf("table %s: %w", name, err)
		}
	}
	return nil
}

// isDeletion reports whether a record is a CDC delete: _ab_cdc_deleted_at set.
func isDeletion(data []byte) bool {
	v, ok := jsonscan.Member(data, "_ab_cdc_deleted_at")
	return ok && !isNull(v)
}

func (st *stream) mainHead() *table.Snapshot { return st.tbl.CurrentSnapshot() }

func (st *stream) branchHead() *table.Snapshot {
	if st.branch == table.MainBranch {
		return st.tbl.CurrentSnapshot()
	}
	return st.tbl.SnapshotByName(st.branch)
}

// files lists the data files of a snapshot.
func (st *stream) files(ctx context.Context, snap *table.Snapshot) ([]iceberg.DataFile, error) {
	if snap == nil {
		return nil, nil
	}
	tasks, err := st.tbl.Scan(table.WithSnapshotID(snap.SnapshotID)).PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing data files of %s: %w", strings.Join(st.ident, "."), err)
	}
	out := make([]iceberg.DataFile, 0, len(tasks))
	for _, t := range tasks {
		// Position delete files (ours, merge-on-read) stay with their data files; iceberg-go drops
		// those whose every data file is replaced.
		if len(t.EqualityDeleteFiles) > 0 || len(t.DeletionVectorFiles) > 0 {
			return nil, fmt.Errorf("table %s has equality deletes or deletion vectors; this destination only replaces tables without them", strings.Join(st.ident, "."))
		}
		out = append(out, t.File)
	}
	return out, nil
}

// finalize replaces main's rows with the staging branch's in one commit (truncating streams).
func (st *stream) finalize(ctx context.Context, snapProps iceberg.Properties) error {
	if !st.truncate || st.finalized {
		return nil
	}
	if err := st.load(ctx); err != nil {
		return err
	}
	name := strings.Join(st.ident, ".")
	old, err := st.files(ctx, st.mainHead())
	if err != nil {
		return err
	}
	head := st.branchHead()
	if head == nil && st.inh != nil && st.inh.fromMain {
		// An earlier attempt of this sync completed the refresh, and this one added nothing.
		st.finalized = true
		return nil
	}
	staged, err := st.files(ctx, head)
	if err != nil {
		return err
	}
	// A run killed between the main commit and the branch removal leaves main already holding
	// the branch's files; only the difference moves.
	inStaged := map[string]bool{}
	for _, f := range staged {
		inStaged[f.FilePath()] = true
	}
	inOld := map[string]bool{}
	old = slices.DeleteFunc(old, func(f iceberg.DataFile) bool {
		inOld[f.FilePath()] = true
		return inStaged[f.FilePath()]
	})
	staged = slices.DeleteFunc(staged, func(f iceberg.DataFile) bool { return inOld[f.FilePath()] })
	if len(old) > 0 || len(staged) > 0 {
		txn := st.tbl.NewTransaction()
		if err := txn.ReplaceDataFilesWithDataFiles(ctx, old, staged, snapProps); err != nil {
			return fmt.Errorf("replacing the rows of %s: %w", name, err)
		}
		tbl, err := txn.Commit(ctx)
		if err != nil {
			return fmt.Errorf("committing the refresh of %s: %w", name, err)
		}
		st.tbl = tbl
	}
	if head != nil {
		id := head.SnapshotID
		if _, _, err := st.s.cat.CommitTable(ctx, st.ident,
			[]table.Requirement{table.AssertRefSnapshotID(st.branch, &id)},
			[]table.Update{table.NewRemoveSnapshotRefUpdate(st.branch)}); err != nil {
			return fmt.Errorf("removing the staging branch of %s: %w", name, err)
		}
		if st.tbl, err = st.s.cat.LoadTable(ctx, st.ident); err != nil {
			return err
		}
	}
	st.finalized = true
	return nil
}

// kNested marks cursor values taken from inside JSON text: numbers compare as numbers, the rest
// (ISO date-times included) as strings.
const kNested colKind = 255

func (b *batch) cursorKind() colKind {
	switch {
	case b.cursorI < 0:
		return kString
	case b.curLeaf != nil:
		return b.curLeaf.kind
	case len(b.inner) > 0:
		return kNested
	}
	return b.rb.cols[b.cursorI].kind
}

// cursorValue extracts the cursor at path from a JSON column's text; with no path it is v.
func cursorValue(v value, path []string) value {
	if len(path) == 0 || v.null {
		return v
	}
	raw := []byte(v.s)
	for _, k := range path {
		var next []byte
		if err := eachField(raw, func(key, val []byte) {
			if next == nil && unescapeKey(key) == k {
				next = val
			}
		}); err != nil || next == nil {
			return value{null: true}
		}
		raw = next
	}
	switch {
	case isNull(raw):
		return value{null: true}
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return value{null: true}
		}
		return value{s: s}
	}
	if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
		return value{f: f, i: 1, s: string(raw)}
	}
	return value{s: string(raw)}
}
