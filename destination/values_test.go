package destination

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clockberg/clockberg/airbyte"
)

func TestIntegerValue(t *testing.T) {
	for in, want := range map[string]struct {
		n    int64
		conv conversion
	}{
		"0": {0, unchanged}, "-0": {0, unchanged}, "42": {42, unchanged}, "1.0": {1, unchanged}, "1e3": {1000, unchanged},
		"-2.50e1": {-25, unchanged}, "0.0e-999999999999": {0, unchanged},
		"9223372036854775807": {math.MaxInt64, unchanged}, "-9223372036854775808": {math.MinInt64, unchanged},
		"9007199254740993.0": {9007199254740993, unchanged}, "9.007199254740993e15": {9007199254740993, unchanged},
		"-9223372036854775809": {0, nulledOutOfRange}, "9223372036854775808": {0, nulledOutOfRange},
		"1e19": {0, nulledOutOfRange}, "1e999999999999": {0, nulledOutOfRange}, "-1.5e400": {0, nulledOutOfRange},
		"1.5": {0, nulledWrongType}, "1e-3": {0, nulledWrongType}, "1.0000000000000000001": {0, nulledWrongType},
		`"1"`: {0, nulledWrongType}, "true": {0, nulledWrongType},
	} {
		n, conv := integerValue([]byte(in))
		if conv != want.conv || (conv == unchanged && n != want.n) {
			t.Errorf("integerValue(%s) = %d, %d; want %d, %d", in, n, conv, want.n, want.conv)
		}
	}
}

func TestFloatValue(t *testing.T) {
	for in, want := range map[string]conversion{
		"0": unchanged, "0.1": unchanged, "-2.5e-3": unchanged, "0.30000000000000004": unchanged, "1e300": unchanged,
		"123456789012345": unchanged, "9007199254740992": unchanged, "1e22": unchanged, "5e-324": unchanged,
		"9007199254740993": roundedToType, "9007199254740993.0": roundedToType, "0.30000000000000001": roundedToType,
		"3.14159265358979323846": roundedToType, "1e-400": roundedToType, "2.5e-320": unchanged,
		"1e400": nulledOutOfRange, "-1e309": nulledOutOfRange, `"x"`: nulledWrongType,
	} {
		if _, conv := floatValue([]byte(in), false); conv != want {
			t.Errorf("floatValue(%s) = %d, want %d", in, conv, want)
		}
	}
	if _, conv := floatValue([]byte("0.1"), true); conv != unchanged {
		t.Errorf("float32 0.1: %d", conv)
	}
	if _, conv := floatValue([]byte("16777217"), true); conv != roundedToType {
		t.Errorf("float32 16777217: %d", conv)
	}
	if _, conv := floatValue([]byte("1e39"), true); conv != nulledOutOfRange {
		t.Errorf("float32 1e39: %d", conv)
	}
}

const valuesSchema = `{"type":"object","properties":{"id":{"type":"integer"},"n":{"type":"integer"},"x":{"type":"number"},"s":{"type":"string"},"j":{"type":"object"},"_airbyte_raw_id":{"type":"string"}}}`

// Values that do not reach their column as sent are recorded in _airbyte_meta, every one; the
// table read back holds valid UTF-8 only.
func TestValueChangesAreRecorded(t *testing.T) {
	h := newHarness(t)
	cc := catalogFor("v", valuesSchema, "append", "", "", 1, 0)
	r := func(id int, fields string) string { return rec("v", fmt.Sprintf(`{"id":%d,%s}`, id, fields), 1) }
	cases := []struct {
		fields string
		cols   map[string]string // column -> value read back
		want   []change
	}{
		{`"n":-9223372036854775809`, map[string]string{"n": "<null>"},
			[]change{{"n", "NULLED", "DESTINATION_FIELD_SIZE_LIMITATION"}}},
		{`"n":9007199254740993.0,"x":0.1`, map[string]string{"n": "9007199254740993", "x": "0.1"}, nil},
		{`"n":1.5`, map[string]string{"n": "<null>"}, []change{{"n", "NULLED", "DESTINATION_TYPECAST_ERROR"}}},
		{`"x":9007199254740993.0`, map[string]string{"x": "9.007199254740992e+15"},
			[]change{{"x", "TRUNCATED", "DESTINATION_FIELD_SIZE_LIMITATION"}}},
		{`"x":1e400`, map[string]string{"x": "<null>"}, []change{{"x", "NULLED", "DESTINATION_FIELD_SIZE_LIMITATION"}}},
		{"\"s\":\"ok \xff\xfe end\"", map[string]string{"s": "ok \uFFFD end"},
			[]change{{"s", "TRUNCATED", "DESTINATION_SERIALIZATION_ERROR"}}},
		{"\"s\":\"esc\\n \xc3\"", map[string]string{"s": "esc\n \uFFFD"},
			[]change{{"s", "TRUNCATED", "DESTINATION_SERIALIZATION_ERROR"}}},
		{`"s":"lone \ud800 surrogate"`, map[string]string{"s": "lone \uFFFD surrogate"},
			[]change{{"s", "TRUNCATED", "DESTINATION_SERIALIZATION_ERROR"}}},
		{"\"s\":\"kept \uFFFD and \\ufffd\"", map[string]string{"s": "kept \uFFFD and \uFFFD"}, nil},
		{"\"j\":{\"k\\u00e9y\xe9\":[\"\xed\xa0\x80\"]}", map[string]string{"j": "{\"k\\u00e9y\uFFFD\":[\"\uFFFD\"]}"},
			[]change{{"j", "TRUNCATED", "DESTINATION_SERIALIZATION_ERROR"}}},
		{`"_airbyte_raw_id":"mine"`, map[string]string{"_airbyte_raw_id_" + nameHash("_airbyte_raw_id"): "mine"}, nil},
	}
	var in []string
	for i, c := range cases {
		in = append(in, r(i, c.fields))
	}
	in = append(in, state("v", 1, 1))
	h.mustWrite(cc, lines(in...))
	rows := h.rows("clockify", "v", "id")
	if len(rows) != len(cases) {
		t.Fatalf("%d rows", len(rows))
	}
	slices.SortFunc(rows, func(a, b map[string]string) int {
		x, _ := strconv.Atoi(a["id"])
		y, _ := strconv.Atoi(b["id"])
		return x - y
	})
	for i, c := range cases {
		row := rows[i]
		if row["id"] != fmt.Sprint(i) {
			t.Fatalf("row order: %v", row)
		}
		for col, v := range c.cols {
			if row[col] != v {
				t.Errorf("%s: column %s = %q, want %q", c.fields, col, row[col], v)
			}
		}
		got := metaChanges(t, row)
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: changes %v, want %v", c.fields, got, c.want)
		}
		// What DuckDB and PyArrow check when they read the file: every string is UTF-8.
		for col, v := range row {
			if !utf8.ValidString(v) {
				t.Errorf("%s: column %s holds invalid UTF-8 %q", c.fields, col, v)
			}
			if strings.HasPrefix(col, "j") && v != "<null>" && !json.Valid([]byte(v)) {
				t.Errorf("%s: JSON column %s holds %q", c.fields, col, v)
			}
		}
	}
}

// metaChanges are the changes a read-back row's _airbyte_meta records.
func metaChanges(t testing.TB, row map[string]string) []change {
	t.Helper()
	var meta airbyte.RecordMeta
	if err := json.Unmarshal([]byte(row["_airbyte_meta"]), &meta); err != nil {
		t.Fatalf("_airbyte_meta %q: %v", row["_airbyte_meta"], err)
	}
	var got []change
	for _, ch := range meta.Changes {
		got = append(got, change{ch.Field, string(ch.Change), string(ch.Reason)})
	}
	return got
}

// change is one entry of _airbyte_meta.changes.
type change struct{ field, change, reason string }
