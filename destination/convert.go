package destination

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/google/uuid"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/jsonscan"
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
	kUnsupported // a column of a type we never write (e.g. a map added by someone else): null
	kStruct
	kList
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
	name     string // the column's name
	prop     string // the record property it is read from (see names.go)
	kind     colKind
	required bool
	field    int   // index in the Arrow schema
	track    bool  // primary key or cursor: keep the converted value
	node     *node // struct and list columns: how their values are converted
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
	bytes   int64 // record bytes since the builder was made (flush_bytes)
	pending int64 // record bytes in the rows not yet handed out as a batch
	metaBuf []byte
	rawID   string
	rawUUID uuid.UUID
	nested  value            // the current record's value of a cursor inside a struct column
	changes []airbyte.Change // the current record's changes
	// maxValue bounds a string or JSON value (its JSON text, quotes excluded); a longer one is
	// stored as null. 0: no bound.
	maxValue int
	// maxRow bounds the JSON text of the values a row keeps together; the largest go first. 0: no
	// bound.
	maxRow  int
	tooLong []sizeNote // the current record's fields nulled for their size
	// random feeds the raw ids: a buffered crypto/rand reader of its own, so a row costs no
	// system call and no process-wide setting (uuid.EnableRandPool) is needed.
	random *bufio.Reader
}

func kindOf(t iceberg.Type, doc string) colKind {
	switch t.(type) {
	case iceberg.StringType:
		if docIsJSON(doc) {
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
	case *iceberg.StructType:
		return kStruct
	case *iceberg.ListType:
		return kList
	}
	return kUnsupported
}

// newRowBuilder prepares conversion into sch. tracked names the properties (primary key, cursor)
// whose converted values are kept for comparisons.
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
		c := column{name: f.Name, prop: f.Name, kind: kindOf(f.Type, f.Doc), required: f.Required, field: i}
		if orig, ok := docOriginal(f.Doc); ok {
			c.prop = orig
		}
		c.track = slices.Contains(tracked, c.prop)
		if c.kind == kStruct || c.kind == kList {
			c.node = newNode(f.Type, c.prop)
		}
		if c.required && c.kind == kUnsupported {
			return nil, fmt.Errorf("column %q is required and of type %s, which this destination cannot write", f.Name, f.Type)
		}
		b.byName[c.prop] = len(b.cols)
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
			return errNullKey{c.prop}
		}
		if _, _, ch := parse(c, b.raw[i], false); ch.nulls() {
			return fmt.Errorf("primary key field %q: value %s does not fit type %s", c.prop, truncate(b.raw[i]), kindName(c.kind))
		}
	}
	b.changes, b.tooLong = b.changes[:0], b.tooLong[:0]
	if b.maxRow > 0 {
		b.fitRow()
	}
	for i := range b.cols {
		c := &b.cols[i]
		if ch := b.appendValue(c, b.raw[i], &b.cur[i]); ch != unchanged {
			b.note(ch, c.prop)
		}
	}
	if err := b.newRawID(); err != nil {
		return err
	}
	b.rb.Field(b.meta[0]).(*array.StringBuilder).Append(b.rawID)
	b.rb.Field(b.meta[1]).(*array.TimestampBuilder).Append(arrow.Timestamp(emittedAt * 1000))
	b.rb.Field(b.meta[2]).(*array.Int64Builder).Append(b.gen)
	b.metaBuf = appendMeta(b.metaBuf[:0], b.syncID, srcMeta, b.changes)
	b.rb.Field(b.meta[3]).(*array.StringBuilder).BinaryBuilder.Append(b.metaBuf)
	b.rows++
	b.bytes += int64(len(data)) + 64
	b.pending += int64(len(data)) + 64
	return nil
}

// keysOf converts only the tracked values of a record (key and cursor) and appends nothing: a
// CDC delete removes its key's row and adds none. curLeaf is the cursor's field when the cursor
// lies inside a struct column (at inner below column cursor).
func (b *rowBuilder) keysOf(data []byte, curLeaf *node, cursor string, inner []string) error {
	clear(b.raw)
	if err := eachField(data, func(k, v []byte) {
		i, ok := b.byName[string(k)]
		if !ok && bytes.IndexByte(k, '\\') >= 0 {
			i, ok = b.byName[unescapeKey(k)]
		}
		if ok {
			b.raw[i] = v
		}
	}); err != nil {
		return err
	}
	for i := range b.cols {
		c := &b.cols[i]
		if !c.track || c.node != nil {
			continue
		}
		v, _, conv := parse(c, b.raw[i], true)
		if conv.nulls() {
			v = value{null: true}
		}
		b.cur[i] = v
	}
	b.nested = value{null: true}
	if curLeaf != nil {
		if raw, ok := jsonscan.Path(data, append([]string{cursor}, inner...)...); ok {
			if v, _, conv := parse(&column{kind: curLeaf.kind}, raw, true); !conv.nulls() {
				b.nested = v
			}
		}
	}
	return b.newRawID()
}

// newRawID makes the current record's _airbyte_raw_id: a UUID of version 7 (time-ordered, so a
// batch's raw ids span a narrow range that prunes files).
func (b *rowBuilder) newRawID() error {
	id, err := uuid.NewV7FromReader(b.random)
	if err != nil {
		return fmt.Errorf("generating a raw id: %w", err)
	}
	b.rawUUID, b.rawID = id, id.String()
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
	return [...]string{"string", "json", "boolean", "int", "long", "float", "double", "date", "timestamptz", "timestamp", "unsupported", "struct", "list"}[k]
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

// conversion says how a value reached its column. Every outcome but unchanged is recorded in the
// row's _airbyte_meta: nothing a record carries changes silently.
type conversion uint8

const (
	unchanged conversion = iota
	// The value is stored, but not byte for byte: invalid UTF-8 replaced by U+FFFD.
	replacedInvalidUTF8
	// The value is stored as the nearest value of the column's type: a number with more
	// significant digits than a double holds.
	roundedToType
	// The value is stored as null: it is not of the column's type.
	nulledWrongType
	// The value is stored as null: it is of the column's type but outside its range.
	nulledOutOfRange
	// The value is stored as null: a string or JSON value longer than max_value_bytes.
	nulledTooLong
	// The value is stored as null: the largest of a row whose values are longer than
	// max_row_bytes together.
	nulledRowTooLong
)

func (c conversion) nulls() bool {
	return c == nulledWrongType || c == nulledOutOfRange || c == nulledTooLong || c == nulledRowTooLong
}

// record is the _airbyte_meta change for field. The protocol knows two changes, NULLED and
// TRUNCATED; a value stored with some of its content lost (bytes that were not UTF-8, digits a
// double cannot hold) is TRUNCATED.
func (c conversion) record(field string) airbyte.Change {
	switch c {
	case replacedInvalidUTF8:
		return airbyte.Change{Field: field, Change: airbyte.ChangeTruncated, Reason: airbyte.ReasonDestinationSerializationError}
	case roundedToType:
		return airbyte.Change{Field: field, Change: airbyte.ChangeTruncated, Reason: airbyte.ReasonDestinationFieldSizeLimit}
	case nulledOutOfRange, nulledTooLong:
		return airbyte.Change{Field: field, Change: airbyte.ChangeNulled, Reason: airbyte.ReasonDestinationFieldSizeLimit}
	case nulledRowTooLong:
		return airbyte.Change{Field: field, Change: airbyte.ChangeNulled, Reason: airbyte.ReasonDestinationRecordSizeLimit}
	}
	return airbyte.Change{Field: field, Change: airbyte.ChangeNulled, Reason: airbyte.ReasonDestinationTypecastError}
}

// parse converts raw for column c. body is the bytes to store for string and JSON columns.
func parse(c *column, raw []byte, keep bool) (v value, body []byte, conv conversion) {
	if isNull(raw) {
		return value{null: true}, nil, unchanged
	}
	switch c.kind {
	case kJSON:
		body = raw
		if !utf8.Valid(raw) {
			// Invalid bytes can only sit inside JSON strings, so the text stays valid JSON.
			body, conv = bytes.ToValidUTF8(raw, []byte(replacementChar)), replacedInvalidUTF8
		}
		if keep {
			v.s = string(body)
		}
		return v, body, conv
	case kString:
		if raw[0] != '"' {
			return v, nil, nulledWrongType
		}
		body = raw[1 : len(raw)-1]
		if bytes.IndexByte(body, '\\') >= 0 {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return v, nil, nulledWrongType
			}
			// encoding/json turns invalid bytes and unpaired surrogate escapes into U+FFFD
			// without a word; more U+FFFD out than in means it did.
			if strings.Count(s, replacementChar) > countReplacementChars(body) {
				conv = replacedInvalidUTF8
			}
			body = []byte(s)
		} else if !utf8.Valid(body) {
			body, conv = bytes.ToValidUTF8(body, []byte(replacementChar)), replacedInvalidUTF8
		}
		if keep {
			v.s = string(body)
		}
		return v, body, conv
	case kBool:
		switch string(raw) {
		case "true":
			v.i = 1
			return v, nil, unchanged
		case "false":
			return v, nil, unchanged
		}
		return v, nil, nulledWrongType
	case kInt64, kInt32:
		n, conv := integerValue(raw)
		if conv == unchanged && c.kind == kInt32 && (n < math.MinInt32 || n > math.MaxInt32) {
			conv = nulledOutOfRange
		}
		v.i = n
		return v, nil, conv
	case kFloat64, kFloat32:
		f, conv := floatValue(raw, c.kind == kFloat32)
		v.f = f
		return v, nil, conv
	case kDate:
		t, good := parseTime(raw, false)
		if !good {
			return v, nil, nulledWrongType
		}
		v.i = floorDiv(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix(), 86400)
		return v, nil, unchanged
	case kTimestampTZ, kTimestamp:
		t, good := parseTime(raw, c.kind == kTimestamp)
		if !good || t.Year() < 1 || t.Year() > 9999 {
			return v, nil, nulledWrongType
		}
		v.i = t.UnixMicro()
		return v, nil, unchanged
	}
	return v, nil, nulledWrongType
}

const replacementChar = "\uFFFD"

// countReplacementChars counts U+FFFD in JSON string content, literal or escaped.
func countReplacementChars(body []byte) int {
	n := bytes.Count(body, []byte(replacementChar))
	for i := 0; i+6 <= len(body); i++ {
		if body[i] == '\\' {
			if body[i+1] == 'u' && strings.EqualFold(string(body[i+2:i+6]), "fffd") {
				n++
			}
			i++ // skip the escaped character, so \\ufffd is not counted
		}
	}
	return n
}

// appendValue converts raw into column c and appends it, or appends null, and says how.
func (b *rowBuilder) appendValue(c *column, raw []byte, out *value) conversion {
	fb := b.rb.Field(c.field)
	if c.node != nil {
		return b.appendNode(fb, c.node, raw)
	}
	if !c.track && b.overBound(c.kind, raw) {
		fb.AppendNull()
		return nulledTooLong
	}
	v, body, conv := parse(c, raw, c.track)
	if conv.nulls() || v.null {
		fb.AppendNull()
		if c.track {
			*out = value{null: true}
		}
		return conv
	}
	appendLeaf(fb, c.kind, v, body)
	if c.track {
		*out = v
	}
	return conv
}

// overBound reports whether raw is a string or JSON value over the builder's bound. Primary keys
// and cursors are never checked: a row keeps them whatever their size.
func (b *rowBuilder) overBound(k colKind, raw []byte) bool {
	switch {
	case b.maxValue <= 0 || len(raw) <= b.maxValue:
		return false
	case k == kString:
		return raw[0] == '"' && len(raw)-2 > b.maxValue
	}
	return k == kJSON
}

// sizeNote is a field of the current record nulled for its size: over max_value_bytes, or (row)
// the largest of a row over max_row_bytes.
type sizeNote struct {
	field string
	row   bool
}

// note records the change ch of field in the current row's _airbyte_meta.
func (b *rowBuilder) note(ch conversion, field string) {
	b.changes = append(b.changes, ch.record(field))
	if ch == nulledTooLong || ch == nulledRowTooLong {
		b.tooLong = append(b.tooLong, sizeNote{field, ch == nulledRowTooLong})
	}
}

// fitRow nulls the largest values of the current record until the rest, measured as JSON text,
// fit in maxRow: the Parquet writer holds several copies of every value of a row, so a row of
// many values each under max_value_bytes could still take more memory than the destination has.
// Primary keys and cursors are kept (they are small in any sane stream), and so are values over
// max_value_bytes, which are nulled anyway and not counted.
func (b *rowBuilder) fitRow() {
	total := 0
	for i := range b.cols {
		if b.rowCandidate(i) {
			total += len(b.raw[i])
		}
	}
	for total > b.maxRow {
		big := -1
		for i := range b.cols {
			if b.rowCandidate(i) && (big < 0 || len(b.raw[i]) > len(b.raw[big])) {
				big = i
			}
		}
		if big < 0 {
			return
		}
		total -= len(b.raw[big])
		b.raw[big] = nil // appended as null, with this change only
		b.note(nulledRowTooLong, b.cols[big].prop)
	}
}

func (b *rowBuilder) rowCandidate(i int) bool {
	c := &b.cols[i]
	return !c.track && !isNull(b.raw[i]) && (c.node != nil || !b.overBound(c.kind, b.raw[i]))
}

// bigValue is the size from which a string is given exactly the room it needs: Arrow grows its
// buffer to the next power of two and zeroes it, up to twice a large value's size.
const bigValue = 1 << 20

// appendLeaf appends a converted non-null value of kind k.
func appendLeaf(fb array.Builder, k colKind, v value, body []byte) {
	switch k {
	case kJSON, kString:
		bb := fb.(*array.StringBuilder).BinaryBuilder
		if len(body) >= bigValue && bb.DataCap()-bb.DataLen() < len(body) {
			bb.ReserveData(len(body))
		}
		bb.Append(body)
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
	default:
		fb.AppendNull()
	}
}

// node converts values into a struct or list column, recursively; its leaves convert like
// top-level columns.
type node struct {
	kind     colKind
	path     string         // the field's dotted original path, for _airbyte_meta changes
	children []node         // struct: its fields, in the order of the Arrow struct
	byProp   map[string]int // struct: original property name -> child
	raw      [][]byte       // struct: the current object's member values (scratch)
	elem     *node          // list: its element
	track    bool           // the cursor (e.g. timeInterval.start): keep the converted value
}

func newNode(t iceberg.Type, path string) *node {
	n := &node{kind: kindOf(t, ""), path: path}
	switch x := t.(type) {
	case *iceberg.StructType:
		n.byProp = make(map[string]int, len(x.FieldList))
		for i, f := range x.FieldList {
			prop := f.Name
			if orig, ok := docOriginal(f.Doc); ok {
				prop = orig
			}
			child := newNode(f.Type, path+"."+prop)
			child.kind = kindOf(f.Type, f.Doc)
			n.children = append(n.children, *child)
			n.byProp[prop] = i
		}
		n.raw = make([][]byte, len(x.FieldList))
	case *iceberg.ListType:
		n.elem = newNode(x.Element, path+"[]")
	}
	return n
}

// find returns the node at path (original names below n), or nil.
func (n *node) find(path []string) *node {
	for _, p := range path {
		i, ok := n.byProp[p]
		if !ok {
			return nil
		}
		n = &n.children[i]
	}
	return n
}

// appendNode converts raw into the builder of n and appends it (null when it does not fit). The
// changes of nested values go straight to the row's list; the return value is the change of raw
// itself.
func (b *rowBuilder) appendNode(fb array.Builder, n *node, raw []byte) conversion {
	if isNull(raw) {
		fb.AppendNull()
		if n.track {
			b.nested = value{null: true}
		}
		return unchanged
	}
	switch n.kind {
	case kStruct:
		if raw[0] != '{' {
			fb.AppendNull()
			return nulledWrongType
		}
		clear(n.raw)
		if eachField(raw, func(k, v []byte) {
			i, ok := n.byProp[string(k)]
			if !ok && bytes.IndexByte(k, '\\') >= 0 {
				i, ok = n.byProp[unescapeKey(k)]
			}
			if ok {
				n.raw[i] = v
			}
		}) != nil {
			fb.AppendNull()
			return nulledWrongType
		}
		sb := fb.(*array.StructBuilder)
		sb.Append(true)
		for i := range n.children {
			c := &n.children[i]
			if ch := b.appendNode(sb.FieldBuilder(i), c, n.raw[i]); ch != unchanged {
				b.note(ch, c.path)
			}
		}
		return unchanged
	case kList:
		if raw[0] != '[' {
			fb.AppendNull()
			return nulledWrongType
		}
		lb := fb.(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder()
		if jsonscan.EachElement(raw, func(e []byte) error {
			if ch := b.appendNode(vb, n.elem, e); ch != unchanged {
				b.note(ch, n.elem.path)
			}
			return nil
		}) != nil {
			return nulledWrongType // raw was validated as a whole, so this cannot happen
		}
		return unchanged
	}
	if !n.track && b.overBound(n.kind, raw) {
		fb.AppendNull()
		return nulledTooLong
	}
	v, body, conv := parse(&column{kind: n.kind}, raw, n.track)
	if conv.nulls() || v.null {
		fb.AppendNull()
		if n.track {
			b.nested = value{null: true}
		}
		return conv
	}
	appendLeaf(fb, n.kind, v, body)
	if n.track {
		b.nested = v
	}
	return conv
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// parseInteger accepts JSON integers and integral numbers (1.0, 1e3) that fit in 64 bits.
func parseInteger(raw []byte) (int64, bool) {
	n, conv := integerValue(raw)
	return n, conv == unchanged
}

// integerValue reads a JSON number whose value is exactly an integer of 64 bits. A fraction
// (1.5) is the wrong type; an integer beyond the range, however written, is out of range.
func integerValue(raw []byte) (int64, conversion) {
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return 0, nulledWrongType
	}
	s := unsafeString(raw)
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return n, unchanged
	}
	d, ok := decimalOf(s)
	switch {
	case !ok:
		return 0, nulledWrongType
	case d.digits == "":
		return 0, unchanged
	case d.exp < 0:
		return 0, nulledWrongType
	case len(d.digits)+d.exp > 19:
		return 0, nulledOutOfRange
	}
	u, err := strconv.ParseUint(d.digits+strings.Repeat("0", d.exp), 10, 64)
	switch {
	case err != nil:
		return 0, nulledOutOfRange
	case d.neg && u <= 1<<63:
		return int64(-u), unchanged // -1<<63 included: -u wraps to it
	case !d.neg && u <= math.MaxInt64:
		return int64(u), unchanged
	}
	return 0, nulledOutOfRange
}

// decimal is a JSON number as sign, significant digits (no leading or trailing zeros; "" for
// zero) and a power of ten: value = digits × 10^exp.
type decimal struct {
	neg    bool
	digits string
	exp    int
}

// maxExponent bounds the exponents decimalOf reads exactly; beyond it every non-zero number is
// far outside the range of any column type, and is reported with exp at the bound.
const maxExponent = 1 << 20

func decimalOf(s string) (decimal, bool) {
	var d decimal
	if strings.HasPrefix(s, "-") {
		d.neg, s = true, s[1:]
	}
	mant := s
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, err := strconv.Atoi(s[i+1:])
		if err != nil {
			if !errors.Is(err, strconv.ErrRange) {
				return d, false
			}
			e = maxExponent
			if strings.HasPrefix(s[i+1:], "-") {
				e = -maxExponent
			}
		}
		d.exp = max(-maxExponent, min(e, maxExponent))
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if intPart == "" || strings.Trim(intPart+frac, "0123456789") != "" {
		return d, false
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	d.exp -= len(frac)
	trimmed := strings.TrimRight(digits, "0")
	d.exp += len(digits) - len(trimmed)
	d.digits = trimmed
	if d.digits == "" {
		d = decimal{}
	}
	return d, true
}

// significantDigits counts the digits of a JSON number's mantissa from its first non-zero one
// (trailing zeros included): 0 for zero.
func significantDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 'e' || c == 'E':
			return n
		case c >= '1' && c <= '9', c == '0' && n > 0:
			n++
		}
	}
	return n
}

// floatValue reads a JSON number into a double (or float). A value beyond the type's range is
// out of range; one whose decimal digits the type cannot all hold is stored rounded, and said so.
func floatValue(raw []byte, single bool) (float64, conversion) {
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		return 0, nulledWrongType
	}
	s := unsafeString(raw)
	bits, exactDigits := 64, 15
	if single {
		bits, exactDigits = 32, 6
	}
	f, err := strconv.ParseFloat(s, bits)
	if math.IsInf(f, 0) {
		return 0, nulledOutOfRange
	}
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, nulledWrongType
	}
	tiny := math.SmallestNonzeroFloat64 * (1 << 52) // below this doubles lose digits
	if single {
		tiny = math.SmallestNonzeroFloat32 * (1 << 23)
	}
	if n := significantDigits(s); n > 0 && n <= exactDigits && math.Abs(f) >= tiny {
		return f, unchanged // at most exactDigits significant digits always round-trip
	}
	d, ok := decimalOf(s)
	if !ok {
		return 0, nulledWrongType
	}
	if back, _ := decimalOf(strconv.FormatFloat(f, 'g', -1, bits)); back != d {
		return f, roundedToType
	}
	return f, unchanged
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
	b.rows, b.pending = 0, 0
	return rec
}

func (b *rowBuilder) release() { b.rb.Release() }
