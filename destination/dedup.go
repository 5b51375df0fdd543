package destination

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// dedupe stages, after the batch's files, a copy-on-write delete of every row whose key the batch
// carries except the one survivor per key: the batch's latest row, or an existing row with a
// higher cursor. Copy-on-write rewrites affected files, so readers (Snowflake) never meet
// equality or position delete files.
func (st *stream) dedupe(ctx context.Context, b *batch, txn *table.Transaction, props iceberg.Properties) error {
	name := strings.Join(st.ident, ".")
	first := b.rb.cols[b.pkI[0]]
	vals := make([]value, 0, len(b.winners))
	seen := map[string]bool{}
	for _, w := range b.winners {
		var sb strings.Builder
		writeKeyPart(&sb, first.kind, w.first)
		if k := sb.String(); !seen[k] {
			seen[k] = true
			vals = append(vals, w.first)
		}
	}
	inKeys, err := inFilter(first.name, first.kind, vals)
	if err != nil {
		return fmt.Errorf("table %s: %w", name, err)
	}
	keep := map[string]bool{}
	head := st.branchHead()
	if st.truncate {
		head = st.stagingBase()
	}
	if head != nil {
		fields := []string{colRawID}
		for _, i := range b.pkI {
			fields = append(fields, b.rb.cols[i].name)
		}
		if b.cursorI >= 0 {
			fields = append(fields, b.rb.cols[b.cursorI].name)
		}
		_, recs, err := st.tbl.Scan(table.WithSnapshotID(head.SnapshotID), table.WithRowFilter(inKeys),
			table.WithSelectedFields(fields...)).ToArrowRecords(ctx)
		if err != nil {
			return fmt.Errorf("reading existing keys of %s: %w", name, err)
		}
		for rec, err := range recs {
			if err != nil {
				return fmt.Errorf("reading existing keys of %s: %w", name, err)
			}
			st.matchExisting(b, rec, keep)
			rec.Release()
		}
	}
	if !b.dupes {
		return nil
	}
	ids := make([]string, 0, len(b.winners)+len(keep))
	for _, w := range b.winners {
		ids = append(ids, w.rawID)
	}
	for id := range keep {
		ids = append(ids, id)
	}
	filter := iceberg.NewAnd(inKeys, iceberg.NotIn(iceberg.Reference(colRawID), ids...))
	if err := txn.Delete(ctx, filter, props, table.WithDeleteConcurrency(1)); err != nil {
		return fmt.Errorf("deleting superseded rows of %s: %w", name, err)
	}
	return nil
}

// matchExisting compares committed rows with the batch's winners: a committed row with a higher
// cursor survives instead; a committed row whose full key the batch lacks is kept as is.
func (st *stream) matchExisting(b *batch, rec arrow.RecordBatch, keep map[string]bool) {
	sch := rec.Schema()
	col := func(name string) arrow.Array {
		idx := sch.FieldIndices(name)
		if len(idx) == 0 {
			return nil
		}
		return rec.Column(idx[0])
	}
	keyCols := make([]arrow.Array, len(b.pkI))
	for i, k := range b.pkI {
		keyCols[i] = col(b.rb.cols[k].name)
	}
	ids := col(colRawID)
	var cur arrow.Array
	if b.cursorI >= 0 {
		cur = col(b.rb.cols[b.cursorI].name)
	}
	for r := 0; r < int(rec.NumRows()); r++ {
		var sb strings.Builder
		for i, c := range keyCols {
			writeKeyPart(&sb, b.rb.cols[b.pkI[i]].kind, valueAt(c, r))
		}
		id := valueAt(ids, r).s
		w, ok := b.winners[sb.String()]
		if !ok {
			keep[id] = true
			continue
		}
		b.dupes = true
		if cur != nil {
			if v := cursorValue(valueAt(cur, r), b.inner); compareValues(b.cursorKind(), v, w.cursor) > 0 {
				w.cursor, w.rawID = v, id
			}
		}
	}
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
