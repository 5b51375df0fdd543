package destination

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/google/uuid"

	"github.com/clockberg/clockberg/airbyte"
)

type colKind uint8

const (
	kString colKind = iota
	kJSON
	kBool
	kInt32
	kInt64
	kFloat32
	kFloat64
	kDate
	kTimestampTZ
	kTimestamp
	kUnsupported // a column of a type we never write (e.g. a struct added by someone else): null
)

// value is a converted cell kept for primary key and cursor comparisons.
type value struct {
	null bool
	i    int64
	f    float64
	s    string
}

// column is one data column of the table and how record values are converted into it.
type column struct {
	name     string
	kind     colKind
	required bool
	field    int  // index in the Arrow schema
	track    bool // primary key or cursor: keep the converted value
}

// rowBuilder turns record data into Arrow rows for one table schema.
type rowBuilder struct {
	schema  *arrow.Schema
	rb      *array.RecordBuilder
	cols    []column
	byName  map[string]int
	raw     [][]byte // the current record's raw value per column
	cur     []value  // the current record's converted value per tracked column
	meta    [4]int   // Arrow field indices of the meta columns
	syncID  *int64
	gen     int64
	rows    int
	bytes   int64
	metaBuf []byte
	rawID   string
	// random feeds the raw ids: a buffered crypto/rand reader of its own, so a row costs no
	// system call and no process-wide setting (uuid.EnableRandPool) is needed.
	random *bufio.Reader
}

func kindOf(t iceberg.Type, doc string) colKind {
	switch t.(type) {
	case iceberg.StringType:
		if doc == jsonDoc {
			return kJSON
		}
		return kString
	case iceberg.BooleanType:
		return kBool
	case iceberg.Int32Type:
		return kInt32
	case iceberg.Int64Type:
		return kInt64
	case iceberg.Float32Type:
		return kFloat32
	case iceberg.Float64Type:
		return kFloat64
	case iceberg.DateType:
		return kDate
	case iceberg.TimestampTzType:
		return kTimestampTZ
	case iceberg.TimestampType:
		return kTimestamp
	}
	return kUnsupported
}

// newRowBuilder prepares conversion into sch. tracked names the columns (primary key and cursor)
// whose converted value the builder keeps for each record, for deduplication.
func newRowBuilder(sch *iceberg.Schema, asc *arrow.Schema, tracked []string, syncID *int64, gen int64) (*rowBuilder, error) {
	b := &rowBuilder{schema: asc, byName: map[string]int{}, syncID: syncID, gen: gen, random: bufio.NewReaderSize(rand.Reader, 16*256)}
	b.meta = [4]int{-1, -1, -1, -1}
	for i, f := range sch.Fields() {
		switch f.Name {
		case colRawID:
			b.meta[0] = i
			continue
		case colExtractedAt:
			b.meta[1] = i
			continue
		case colGenerationID:
			b.meta[2] = i
			continue
		case colMeta:
			b.meta[3] = i
			continue
		}
		c := column{name: f.Name, kind: kindOf(f.Type, f.Doc), required: f.Required, field: i}
		for _, t := range tracked {
			if t == f.Name {
				c.track = true
			}
		}
		if c.required && c.kind == kUnsupported {
			return nil, fmt.Errorf("column %q is required and of type %s, which this destination cannot write", f.Name, f.Type)
		}
		b.byName[f.Name] = len(b.cols)
		b.cols = append(b.cols, c)
	}
	for i, m := range b.meta {
		if m < 0 {
			return nil, fmt.Errorf("table lacks the meta column %q", []string{colRawID, colExtractedAt, colGenerationID, colMeta}[i])
		}
	}
	b.raw = make([][]byte, len(b.cols))
	b.cur = make([]value, len(b.cols))
	b.rb = array.NewRecordBuilder(memory.DefaultAllocator, asc)
	return b, nil
}

// errNullKey is returned when a primary key column is null: a required column cannot hold it.
type errNullKey struct{ column string }

func (e errNullKey) Error() string {
	return fmt.Sprintf("primary key column %q is null or missing", e.column)
}

// add appends one record. On error nothing is appended.
func (b *rowBuilder) add(data []byte, emittedAt int64, srcMeta *airbyte.RecordMeta) error {
	clear(b.raw)
	err := eachField(data, func(k, v []byte) {
		i, ok := b.byName[string(k)]
		if !ok && bytes.IndexByte(k, '\\') >= 0 {
			i, ok = b.byName[unescapeKey(k)]
		}
		if ok {
			b.raw[i] = v
		}
	})
	if err != nil {
		return err
	}
	for i := range b.cols {
		c := &b.cols[i]
		if !c.required {
			continue
		}
		if isNull(b.raw[i]) {
			return errNullKey{c.name}
		}
		if _, _, ok := parse(c, b.raw[i], false); !ok {
			return fmt.Errorf("primary key column %q: value %s does not fit type %s", c.name, truncate(b.raw[i]), kindName(c.kind))
		}
	}
	id, err := uuid.NewRandomFromReader(b.random)
	if err != nil {
		return fmt.Errorf("generating a raw id: %w", err)
	}
	var changes []airbyte.Change
	for i := range b.cols {
		c := &b.cols[i]
		if !b.appendValue(c, b.raw[i], &b.cur[i]) {
			changes = append(changes, airbyte.Change{Field: c.name, Change: airbyte.ChangeNulled, Reason: airbyte.ReasonDestinationTypecastError})
		}
	}
	b.rawID = id.String()
	b.rb.Field(b.meta[0]).(*array.StringBuilder).Append(b.rawID)
	b.rb.Field(b.meta[1]).(*array.TimestampBuilder).Append(arrow.Timestamp(emittedAt * 1000))
	b.rb.Field(b.meta[2]).(*array.Int64Builder).Append(b.gen)
	b.metaBuf = appendMeta(b.metaBuf[:0], b.syncID, srcMeta, changes)
	b.rb.Field(b.meta[3]).(*array.StringBuilder).BinaryBuilder.Append(b.metaBuf)
	b.rows++
	b.bytes += int64(len(data)) + 64
	return nil
}

func isNull(v []byte) bool { return v == nil || string(v) == "null" }

func truncate(v []byte) string {
	if len(v) > 64 {
		return string(v[:64]) + "…"
	}
	return string(v)
}

func kindName(k colKind) string {
	return [...]string{"string", "json", "boolean", "int", "long", "float", "double", "date", "timestamptz", "timestamp", "unsupported"}[k]
}

func appendMeta(buf []byte, syncID *int64, src *airbyte.RecordMeta, own []airbyte.Change) []byte {
	buf = append(buf, `{"sync_id":`...)
	if syncID == nil {
		buf = append(buf, "null"...)
	} else {
		buf = strconv.AppendInt(buf, *syncID, 10)
	}
	buf = append(buf, `,"changes":[`...)
	n := 0
	add := func(c airbyte.Change) {
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		b, _ := json.Marshal(c)
		buf = append(buf, b...)
	}
	if src != nil {
		for _, c := range src.Changes {
			add(c)
		}
	}
	for _, c := range own {
		add(c)
	}
	return append(buf, "]}"...)
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// parse converts raw for column c. body is the bytes to store for string and JSON columns. ok is
// false when a non-null value does not fit the column.
func parse(c *column, raw []byte, keep bool) (v value, body []byte, ok bool) {
	if isNull(raw) {
		return value{null: true}, nil, true
	}
	switch c.kind {
	case kJSON:
		if keep {
			v.s = string(raw)
		}
		return v, raw, true
	case kString:
		if raw[0] != '"' {
			return v, nil, false
		}
		body = raw[1 : len(raw)-1]
		if bytes.IndexByte(body, '\\') >= 0 {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return v, nil, false
			}
			body = []byte(s)
		}
		if keep {
			v.s = string(body)
		}
		return v, body, true
	case kBool:
		switch string(raw) {
		case "true":
			v.i = 1
			return v, nil, true
		case "false":
			return v, nil, true
		}
		return v, nil, false
	case kInt64, kInt32:
		n, good := parseInteger(raw)
		if good && c.kind == kInt32 && (n < math.MinInt32 || n > math.MaxInt32) {
			good = false
		}
		v.i = n
		return v, nil, good
	case kFloat64, kFloat32:
		if c := raw[0]; c != '-' && (c < '0' || c > '9') {
			return v, nil, false
		}
		f, err := strconv.ParseFloat(unsafeString(raw), 64)
		if err != nil || math.IsInf(f, 0) || (c.kind == kFloat32 && math.Abs(f) > math.MaxFloat32) {
			return v, nil, false
		}
		v.f = f
		return v, nil, true
	case kDate:
		t, good := parseTime(raw, false)
		if !good {
			return v, nil, false
		}
		v.i = floorDiv(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix(), 86400)
		return v, nil, true
	case kTimestampTZ, kTimestamp:
		t, good := parseTime(raw, c.kind == kTimestamp)
		if !good || t.Year() < 1 || t.Year() > 9999 {
			return v, nil, false
		}
		v.i = t.UnixMicro()
		return v, nil, true
	}
	return v, nil, false
}

// appendValue converts raw into column c and appends it, or appends null. It reports false when
// a non-null value did not fit (the caller records the change).
func (b *rowBuilder) appendValue(c *column, raw []byte, out *value) bool {
	fb := b.rb.Field(c.field)
	v, body, ok := parse(c, raw, c.track)
	if !ok || v.null {
		fb.AppendNull()
		if c.track {
			*out = value{null: true}
		}
		return ok
	}
	switch c.kind {
	case kJSON, kString:
		fb.(*array.StringBuilder).BinaryBuilder.Append(body)
	case kBool:
		fb.(*array.BooleanBuilder).Append(v.i == 1)
	case kInt32:
		fb.(*array.Int32Builder).Append(int32(v.i))
	case kInt64:
		fb.(*array.Int64Builder).Append(v.i)
	case kFloat32:
		fb.(*array.Float32Builder).Append(float32(v.f))
	case kFloat64:
		fb.(*array.Float64Builder).Append(v.f)
	case kDate:
		fb.(*array.Date32Builder).Append(arrow.Date32(v.i))
	case kTimestampTZ, kTimestamp:
		fb.(*array.TimestampBuilder).Append(arrow.Timestamp(v.i))
	}
	if c.track {
		*out = v
	}
	return true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// parseInteger accepts JSON integers and integral floats (1.0, 1e3) that fit in 64 bits.
func parseInteger(raw []byte) (int64, bool) {
	c := raw[0]
	if c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	s := unsafeString(raw)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < -9.223372036854775808e18 || f >= 9.223372036854775808e18 {
		return 0, false
	}
	return int64(f), true
}

var zonedLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999Z0700"}
var naiveLayouts = []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02"}

// parseTime reads a JSON string holding a date or date-time. Values without an offset are UTC.
// For a timestamp without zone (wall) an offset, if present, is dropped and the wall clock kept.
func parseTime(raw []byte, wall bool) (time.Time, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return time.Time{}, false
	}
	s := unsafeString(raw[1 : len(raw)-1])
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if wall {
				return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), true
			}
			return t.UTC(), true
		}
	}
	for _, l := range naiveLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// batch returns the rows built so far as a record batch and resets the builder.
func (b *rowBuilder) batch() arrow.RecordBatch {
	rec := b.rb.NewRecordBatch()
	b.rows = 0
	return rec
}

func (b *rowBuilder) release() { b.rb.Release() }
