package destination

import (
	"context"
	be "encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// Deduplication (append_dedup, overwrite_dedup) keeps one row per primary key: the highest cursor,
// ties and missing cursors going to the later arrival, existing rows counting as earlier than the
// batch. A commit touches only what its keys need:
//
//  1. The batch's key index (keyindex.go) is sorted; each key's winner among the batch is known.
//  2. Existing rows of the batch's keys are found without reading the table: the files whose
//     bounds on the first key column hold none of the batch's keys are skipped (Clockify ids start
//     with their creation time, so a week's keys fall in the last month's files), and of the
//     others only the key, cursor and raw-id columns are read, with their delete files applied.
//  3. One transaction, one catalog commit: a Delete of the existing rows that lose (before the
//     batch's files are added, so it never reads them), the batch's files, and a Delete of the
//     batch's own rows that lose (rare: a key sent twice, or an older version than the table's).
//     Each Delete names its rows by raw id and prunes to the files that hold them, so iceberg-go
//     reads only those; the table's write.delete.mode makes it write position delete files
//     (merge-on-read, the default) or rewrite the files (copy-on-write). Never equality deletes.

// maxLosersPerDelete bounds the raw ids of one Delete, so that a re-sent input of millions of
// rows never builds one expression of millions of literals.
const maxLosersPerDelete = 50_000

// dedupPlan is what one commit of a dedup stream deletes.
type dedupPlan struct {
	old    map[string]*fileLosers // existing rows that lose, by data file path
	losers []string               // raw ids of the batch's own rows that lose
	lo, hi string                 // the range of the batch's raw ids (UUIDv7: time-ordered)
}

type fileLosers struct {
	task table.FileScanTask
	raw  []string
}

// planDedup decides the losers of the batch. existing is false when nothing committed can hold a
// key of the batch (a first commit that replaces the branch's files).
func (st *stream) planDedup(ctx context.Context, b *batch, existing bool) (*dedupPlan, error) {
	x := b.index
	x.sortEntries()
	// win[g] is the index of the winning entry of group g; groups are runs of equal hashes.
	type group struct {
		lo, hi, win int
		beaten      bool
	}
	var groups []group
	for lo := 0; lo < len(x.entries); {
		hi := lo + 1
		for hi < len(x.entries) && x.entries[hi].h1 == x.entries[lo].h1 && x.entries[hi].h2 == x.entries[lo].h2 {
			hi++
		}
		win := lo
		for i := lo + 1; i < hi; i++ {
			if x.compare(x.entries[i].cur, x.entries[win].cur) >= 0 { // later arrivals win ties
				win = i
			}
		}
		groups = append(groups, group{lo: lo, hi: hi, win: win})
		lo = hi
	}
	p := &dedupPlan{old: map[string]*fileLosers{}}
	head := st.branchHead()
	if st.truncate {
		head = st.stagingBase()
	}
	if existing && head != nil {
		find := func(h1, h2 uint64) *group {
			i, ok := slices.BinarySearchFunc(groups, [2]uint64{h1, h2}, func(g group, t [2]uint64) int {
				e := x.entries[g.lo]
				if e.h1 != t[0] {
					return cmpU64(e.h1, t[0])
				}
				return cmpU64(e.h2, t[1])
			})
			if !ok {
				return nil
			}
			return &groups[i]
		}
		if err := st.lookup(ctx, b, head, func(task table.FileScanTask, h1, h2 uint64, cur cursorKey, rawID string) {
			g := find(h1, h2)
			if g == nil {
				return
			}
			// The table's row is newer: it stays, the batch's rows of the key go. A winning CDC
			// delete is the exception: a deletion happened after every version the table holds,
			// whatever their cursor says (a cursor such as a start time is not a change time).
			if x.compare(cur, x.entries[g.win].cur) > 0 && !x.entries[g.win].tomb {
				g.beaten = true
				return
			}
			fl := p.old[task.File.FilePath()]
			if fl == nil {
				fl = &fileLosers{task: task}
				p.old[task.File.FilePath()] = fl
			}
			fl.raw = append(fl.raw, rawID)
		}); err != nil {
			return nil, err
		}
	}
	for _, g := range groups {
		for i := g.lo; i < g.hi; i++ {
			e := &x.entries[i]
			if e.tomb {
				continue // a CDC delete has no row of its own
			}
			if g.beaten || i != g.win || x.entries[g.win].tomb {
				p.losers = append(p.losers, e.raw.String())
			}
		}
	}
	for i := range x.entries {
		r := x.entries[i].raw.String()
		if p.lo == "" || r < p.lo {
			p.lo = r
		}
		if r > p.hi {
			p.hi = r
		}
	}
	return p, nil
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// lookup calls fn for every live row of the branch head whose file may hold a key of the batch,
// with its key hash, cursor and raw id.
func (st *stream) lookup(ctx context.Context, b *batch, head *table.Snapshot, fn func(task table.FileScanTask, h1, h2 uint64, cur cursorKey, rawID string)) error {
	name := strings.Join(st.ident, ".")
	sch := st.tbl.Schema()
	first := b.rb.cols[b.pkI[0]]
	pkField, ok := sch.FindFieldByName(first.name)
	if !ok {
		return fmt.Errorf("table %s lacks its key column %q", name, first.name)
	}
	fields := []string{colRawID}
	for _, i := range b.pkI {
		fields = append(fields, b.rb.cols[i].name)
	}
	var curPath []string
	if b.cursorI >= 0 {
		curPath = append([]string{b.rb.cols[b.cursorI].name}, b.curCols...)
		fields = append(fields, strings.Join(curPath, "."))
	}
	scan := st.tbl.Scan(table.WithSnapshotID(head.SnapshotID), table.WithSelectedFields(fields...))
	tasks, err := scan.PlanFiles(ctx)
	if err != nil {
		return fmt.Errorf("planning the key lookup in %s: %w", name, err)
	}
	keys := b.index.keys.sorted(first.kind)
	kinds := make([]colKind, len(b.pkI))
	for i, k := range b.pkI {
		kinds[i] = b.rb.cols[k].kind
	}
	vals := make([]value, len(b.pkI))
	var enc []byte
	for _, task := range tasks {
		if !keys.mayHold(task.File.LowerBoundValues()[pkField.ID], task.File.UpperBoundValues()[pkField.ID]) {
			continue
		}
		_, recs, err := scan.ReadTasks(ctx, []table.FileScanTask{task})
		if err != nil {
			return fmt.Errorf("reading existing keys of %s: %w", name, err)
		}
		for rec, err := range recs {
			if err != nil {
				return fmt.Errorf("reading existing keys of %s: %w", name, err)
			}
			keyCols := make([]arrow.Array, len(b.pkI))
			for i, k := range b.pkI {
				keyCols[i] = arrayAt(rec, []string{b.rb.cols[k].name})
			}
			ids := arrayAt(rec, []string{colRawID})
			var cur arrow.Array
			if curPath != nil {
				cur = arrayAt(rec, curPath)
			}
			for r := 0; r < int(rec.NumRows()); r++ {
				for i, c := range keyCols {
					vals[i] = valueAt(c, r)
				}
				enc = encodeKey(enc[:0], kinds, vals)
				h1, h2 := b.index.hash(enc)
				var ck cursorKey
				if cur != nil {
					v := valueAt(cur, r)
					if len(b.curCols) == 0 {
						v = cursorValue(v, b.inner)
					}
					ck = b.index.cursor(b.cursorKind(), v)
				}
				fn(task, h1, h2, ck, valueAt(ids, r).s)
			}
			rec.Release()
		}
	}
	return nil
}

// arrayAt returns the array at path (a top-level column, then struct fields) of rec, or nil.
func arrayAt(rec arrow.RecordBatch, path []string) arrow.Array {
	idx := rec.Schema().FieldIndices(path[0])
	if len(idx) == 0 {
		return nil
	}
	a := rec.Column(idx[0])
	for _, name := range path[1:] {
		st, ok := a.(*array.Struct)
		if !ok {
			return nil
		}
		i, ok := st.DataType().(*arrow.StructType).FieldIdx(name)
		if !ok {
			return nil
		}
		a = st.Field(i)
	}
	return a
}

// deleteExisting removes the existing rows that lose. It runs before the batch's files are added.
func (p *dedupPlan) deleteExisting(ctx context.Context, txn *table.Transaction, keyCol string, keyKind colKind, keyID int, props iceberg.Properties) error {
	if len(p.old) == 0 {
		return nil
	}
	paths := make([]string, 0, len(p.old))
	for path := range p.old {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	var prune []iceberg.BooleanExpression
	var raw []string
	flush := func() error {
		if len(raw) == 0 {
			return nil
		}
		filter := iceberg.BooleanExpression(iceberg.IsIn(iceberg.Reference(colRawID), raw...))
		if len(prune) > 0 {
			filter = iceberg.NewAnd(orAll(prune), filter)
		}
		prune, raw = prune[:0], raw[:0]
		return deleteWhere(ctx, txn, filter, props)
	}
	for _, path := range paths {
		fl := p.old[path]
		if r := boundsFilter(keyCol, keyKind, fl.task.File.LowerBoundValues()[keyID], fl.task.File.UpperBoundValues()[keyID]); r != nil {
			prune = append(prune, r)
		}
		raw = append(raw, fl.raw...)
		if len(raw) >= maxLosersPerDelete {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// deleteNew removes the batch's own rows that lose. It runs after the batch's files are added; the
// range of the batch's raw ids keeps iceberg-go to the batch's files.
func (p *dedupPlan) deleteNew(ctx context.Context, txn *table.Transaction, props iceberg.Properties) error {
	for start := 0; start < len(p.losers); start += maxLosersPerDelete {
		chunk := p.losers[start:min(start+maxLosersPerDelete, len(p.losers))]
		ref := iceberg.Reference(colRawID)
		filter := iceberg.NewAnd(iceberg.NewAnd(iceberg.GreaterThanEqual(ref, p.lo), iceberg.LessThanEqual(ref, p.hi)),
			iceberg.IsIn(ref, chunk...))
		if err := deleteWhere(ctx, txn, filter, props); err != nil {
			return err
		}
	}
	return nil
}

func orAll(xs []iceberg.BooleanExpression) iceberg.BooleanExpression {
	out := xs[0]
	for _, x := range xs[1:] {
		out = iceberg.NewOr(out, x)
	}
	return out
}

// boundsFilter is "col between lo and hi" for a file's bounds on a key column of kind k (the
// bounds may be truncated prefixes, which still bound the file's values); nil when unknown.
func boundsFilter(col string, k colKind, lo, hi []byte) iceberg.BooleanExpression {
	if lo == nil || hi == nil {
		return nil
	}
	ref := iceberg.Reference(col)
	switch k {
	case kString:
		return iceberg.NewAnd(iceberg.GreaterThanEqual(ref, string(lo)), iceberg.LessThanEqual(ref, string(hi)))
	case kInt64, kTimestamp, kTimestampTZ:
		if len(lo) != 8 || len(hi) != 8 {
			return nil
		}
		a, b := int64(be.LittleEndian.Uint64(lo)), int64(be.LittleEndian.Uint64(hi))
		if k == kInt64 {
			return iceberg.NewAnd(iceberg.GreaterThanEqual(ref, a), iceberg.LessThanEqual(ref, b))
		}
		return iceberg.NewAnd(iceberg.GreaterThanEqual(ref, iceberg.Timestamp(a)), iceberg.LessThanEqual(ref, iceberg.Timestamp(b)))
	case kInt32, kDate:
		if len(lo) != 4 || len(hi) != 4 {
			return nil
		}
		a, b := int32(be.LittleEndian.Uint32(lo)), int32(be.LittleEndian.Uint32(hi))
		if k == kInt32 {
			return iceberg.NewAnd(iceberg.GreaterThanEqual(ref, a), iceberg.LessThanEqual(ref, b))
		}
		return iceberg.NewAnd(iceberg.GreaterThanEqual(ref, iceberg.Date(a)), iceberg.LessThanEqual(ref, iceberg.Date(b)))
	}
	return nil
}

// deleteWhere is a merge-on-read Delete: iceberg-go writes position delete files for the rows
// filter matches (and drops a file all of whose rows match).
func deleteWhere(ctx context.Context, txn *table.Transaction, filter iceberg.BooleanExpression, props iceberg.Properties) error {
	if err := txn.Delete(ctx, filter, props, table.WithDeleteConcurrency(1)); err != nil {
		return fmt.Errorf("deleting superseded rows: %w", err)
	}
	return nil
}

// rewriteExisting is the copy-on-write counterpart of deleteExisting: every file that holds a
// losing row is rewritten without it (read with its delete files applied, which iceberg-go's own
// copy-on-write Delete does not do). It returns the files to drop and their replacements.
func (st *stream) rewriteExisting(ctx context.Context, txn *table.Transaction, p *dedupPlan) (drop, add []iceberg.DataFile, err error) {
	for _, fl := range p.old {
		drop = append(drop, fl.task.File)
		if int64(len(fl.raw)) == fl.task.File.Count() && len(fl.task.DeleteFiles) == 0 {
			continue // every row goes
		}
		kept, err := st.rewriteWithout(ctx, txn, fl.task, fl.raw)
		if err != nil {
			return nil, nil, fmt.Errorf("rewriting %s without superseded rows: %w", fl.task.File.FilePath(), err)
		}
		add = append(add, kept...)
	}
	return drop, add, nil
}

// withoutLosers is the copy-on-write counterpart of deleteNew: the batch's files that hold a
// losing row are rewritten without it before they are committed (the originals were never part
// of a snapshot and are removed).
func (st *stream) withoutLosers(ctx context.Context, txn *table.Transaction, files []iceberg.DataFile, p *dedupPlan) ([]iceberg.DataFile, error) {
	if len(p.losers) == 0 {
		return files, nil
	}
	lose := make(map[string]struct{}, len(p.losers))
	for _, r := range p.losers {
		lose[r] = struct{}{}
	}
	staged, err := txn.StagedTable()
	if err != nil {
		return nil, err
	}
	var out []iceberg.DataFile
	for _, f := range files {
		task := table.FileScanTask{File: f, Length: f.FileSizeBytes()}
		_, recs, err := staged.Table.Scan(table.WithSelectedFields(colRawID)).ReadTasks(ctx, []table.FileScanTask{task})
		if err != nil {
			return nil, err
		}
		var ids []string
		for rec, err := range recs {
			if err != nil {
				return nil, err
			}
			raw := arrayAt(rec, []string{colRawID})
			for r := 0; r < int(rec.NumRows()); r++ {
				if _, ok := lose[valueAt(raw, r).s]; ok {
					ids = append(ids, valueAt(raw, r).s)
				}
			}
			rec.Release()
		}
		if len(ids) == 0 {
			out = append(out, f)
			continue
		}
		kept, err := st.rewriteWithout(ctx, txn, task, ids)
		if err != nil {
			return nil, fmt.Errorf("rewriting %s without superseded rows: %w", f.FilePath(), err)
		}
		out = append(out, kept...)
		removeFiles(staged.Table, []iceberg.DataFile{f})
	}
	return out, nil
}

// valueAt reads a cell the way parse would have produced it.
func valueAt(a arrow.Array, i int) value {
	if a == nil || a.IsNull(i) {
		return value{null: true}
	}
	switch x := a.(type) {
	case *array.String:
		return value{s: x.Value(i)}
	case *array.LargeString:
		return value{s: x.Value(i)}
	case *array.Int64:
		return value{i: x.Value(i)}
	case *array.Int32:
		return value{i: int64(x.Value(i))}
	case *array.Float64:
		return value{f: x.Value(i)}
	case *array.Float32:
		return value{f: float64(x.Value(i))}
	case *array.Boolean:
		if x.Value(i) {
			return value{i: 1}
		}
		return value{}
	case *array.Date32:
		return value{i: int64(x.Value(i))}
	case *array.Timestamp:
		return value{i: int64(x.Value(i))}
	}
	return value{s: a.ValueStr(i)}
}

func inFilter(col string, k colKind, vals []value) (iceberg.BooleanExpression, error) {
	ref := iceberg.Reference(col)
	switch k {
	case kString, kJSON:
		xs := make([]string, len(vals))
		for i, v := range vals {
			xs[i] = v.s
		}
		return iceberg.IsIn(ref, xs...), nil
	case kInt64:
		xs := make([]int64, len(vals))
		for i, v := range vals {
			xs[i] = v.i
		}
		return iceberg.IsIn(ref, xs...), nil
	case kInt32:
		xs := make([]int32, len(vals))
		for i, v := range vals {
			xs[i] = int32(v.i)
		}
		return iceberg.IsIn(ref, xs...), nil
	case kDate:
		xs := make([]iceberg.Date, len(vals))
		for i, v := range vals {
			xs[i] = iceberg.Date(v.i)
		}
		return iceberg.IsIn(ref, xs...), nil
	case kTimestamp, kTimestampTZ:
		xs := make([]iceberg.Timestamp, len(vals))
		for i, v := range vals {
			xs[i] = iceberg.Timestamp(v.i)
		}
		return iceberg.IsIn(ref, xs...), nil
	case kBool:
		xs := make([]bool, len(vals))
		for i, v := range vals {
			xs[i] = v.i == 1
		}
		return iceberg.IsIn(ref, xs...), nil
	}
	return nil, fmt.Errorf("primary key column %q has a type (%s) that cannot be filtered", col, kindName(k))
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
