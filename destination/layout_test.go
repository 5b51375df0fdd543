package destination

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"

	"github.com/clockberg/clockberg/schemas"
)

// checkMapped walks a JSON schema and the Iceberg type the mapping gave it: objects with
// properties are structs of them (by original name, in order), arrays of typed items lists, the
// rest JSON text or the primitive the README names.
func checkMapped(t *testing.T, path string, raw json.RawMessage, typ iceberg.Type, jsonText bool) {
	t.Helper()
	var s struct {
		Type       json.RawMessage            `json:"type"`
		Format     string                     `json:"format"`
		Properties map[string]json.RawMessage `json:"properties"`
		Items      json.RawMessage            `json:"items"`
		OneOf      []json.RawMessage          `json:"oneOf"`
	}
	_ = json.Unmarshal(raw, &s)
	var types []string
	if json.Unmarshal(s.Type, &types) != nil {
		var one string
		if json.Unmarshal(s.Type, &one) == nil {
			types = []string{one}
		}
	}
	types = slices.DeleteFunc(types, func(x string) bool { return x == "null" })
	want := "json"
	if len(types) == 1 && len(s.OneOf) == 0 {
		switch types[0] {
		case "object":
			if len(s.Properties) > 0 {
				want = "struct"
			}
		case "array":
			if len(s.Items) > 0 {
				_, itemJSON, _ := fieldType(s.Items)
				if !itemJSON {
					want = "list"
				}
			}
		default:
			want = "primitive"
		}
	}
	switch want {
	case "json":
		if !jsonText || !typ.Equals(iceberg.PrimitiveTypes.String) {
			t.Errorf("%s: want JSON text, got %s (json %v)", path, typ, jsonText)
		}
	case "primitive":
		if jsonText {
			t.Errorf("%s: want a typed primitive, got JSON text", path)
		}
		if _, ok := typ.(iceberg.PrimitiveType); !ok {
			t.Errorf("%s: want a primitive, got %s", path, typ)
		}
		if _, isUUID := typ.(iceberg.UUIDType); isUUID && strings.Contains(path, ".") {
			t.Errorf("%s: a uuid nested in a struct or list (Snowflake cannot read it)", path)
		}
	case "struct":
		st, ok := typ.(*iceberg.StructType)
		if !ok {
			t.Errorf("%s: want a struct, got %s", path, typ)
			return
		}
		keys, _ := objectKeys(raw, "properties")
		if len(keys) != len(st.FieldList) {
			t.Errorf("%s: struct has %d fields for %d properties", path, len(st.FieldList), len(keys))
			return
		}
		for i, k := range keys {
			f := st.FieldList[i]
			if originalName(f) != k {
				t.Errorf("%s: field %d is %q, want property %q", path, i, originalName(f), k)
			}
			checkMapped(t, path+"."+k, s.Properties[k], f.Type, docIsJSON(f.Doc))
		}
	case "list":
		lt, ok := typ.(*iceberg.ListType)
		if !ok {
			t.Errorf("%s: want a list, got %s", path, typ)
			return
		}
		checkMapped(t, path+"[]", s.Items, lt.Element, false)
	}
}

// Every stream schema maps to typed structs and lists where it declares them, and the table the
// destination creates from it has exactly that schema; its example records read back.
func TestTypedColumnsForEveryStreamSchema(t *testing.T) {
	structs, lists := 0, 0
	// Every stream has one example file (schemas' tests check that), so they name every stream.
	files, err := filepath.Glob(filepath.Join("..", "schemas", "testdata", "examples", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example records: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		raw, ok := schemas.Get(name)
		if !ok {
			t.Fatalf("no schema for %s", name)
		}
		props, err := streamProperties(raw)
		if err == nil {
			err = mapColumns(props, nil)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var s struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		_ = json.Unmarshal(raw, &s)
		for _, p := range props {
			checkMapped(t, name+"."+p.Name, s.Properties[p.Name], p.Type, p.JSON)
			switch p.Type.(type) {
			case *iceberg.StructType:
				structs++
			case *iceberg.ListType:
				lists++
			}
		}
		h := newHarness(t)
		examples, err := exampleRecords(name)
		if err != nil {
			t.Fatal(err)
		}
		var in []string
		for _, e := range examples {
			var c bytes.Buffer
			if err := json.Compact(&c, e); err != nil {
				t.Fatal(err)
			}
			in = append(in, rec(name, c.String(), 1))
		}
		h.mustWrite(catalogFor(name, string(raw), "append", "", "", 1, 0), lines(in...))
		tbl := h.table("clockify", name)
		for _, p := range props {
			f, ok := tbl.Schema().FindFieldByName(p.Column)
			if !ok || withoutIDs(f.Type) != withoutIDs(p.Type) {
				t.Errorf("%s: column %s is %v, the mapping says %s", name, p.Column, f.Type, p.Type)
			}
		}
		if rows := h.rows("clockify", name, "id"); len(rows) != len(examples) {
			t.Errorf("%s: %d rows for %d example records", name, len(rows), len(examples))
		}
	}
	if structs == 0 || lists == 0 {
		t.Fatalf("the stream schemas gave %d struct and %d list columns", structs, lists)
	}
}

func exampleRecords(stream string) ([]json.RawMessage, error) {
	b, err := readExample(stream)
	if err != nil {
		return nil, err
	}
	var out []json.RawMessage
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("examples of %s: %w", stream, err)
	}
	return out, nil
}

// The time entries' nested fields hold typed values; values that do not fit become null with a
// change naming their path; undeclared nested properties are dropped.
func TestTimeEntriesNestedValues(t *testing.T) {
	h := newHarness(t)
	raw, _ := schemas.Get("time_entries")
	h.mustWrite(catalogFor("time_entries", string(raw), "append", "", "", 1, 0), lines(
		rec("time_entries", `{"id":"a","timeInterval":{"start":"2025-01-02T03:04:05+01:00","end":null,"duration":"PT1H","extra":1},"tagIds":["x","y"],"hourlyRate":{"amount":"oops","currency":"EUR"},"customFieldValues":[{"customFieldId":"c1","value":{"k":[1,2]}},{"value":7}]}`, 1000),
		rec("time_entries", `{"id":"b","timeInterval":"notanobject","tagIds":[1,"z"]}`, 1000),
	))
	rows := h.rows("clockify", "time_entries", "id")
	a, b := rows[0], rows[1]
	for col, want := range map[string]string{
		"timeInterval":      `{"duration":"PT1H","end":null,"start":"2025-01-02T02:04:05Z"}`,
		"tagIds":            `["x","y"]`,
		"hourlyRate":        `{"amount":null,"currency":"EUR"}`,
		"customFieldValues": `[{"customFieldId":"c1","name":null,"timeEntryId":null,"type":null,"value":"{\"k\":[1,2]}"},{"customFieldId":null,"name":null,"timeEntryId":null,"type":null,"value":"7"}]`,
	} {
		if a[col] != want {
			t.Errorf("row a %s = %s, want %s", col, a[col], want)
		}
	}
	if !strings.Contains(a["_airbyte_meta"], `{"field":"hourlyRate.amount","change":"NULLED","reason":"DESTINATION_TYPECAST_ERROR"}`) {
		t.Errorf("row a meta %s lacks the nested change", a["_airbyte_meta"])
	}
	if b["timeInterval"] != "<null>" || b["tagIds"] != `[null,"z"]` {
		t.Errorf("row b timeInterval %s tagIds %s", b["timeInterval"], b["tagIds"])
	}
	for _, f := range []string{`"field":"timeInterval"`, `"field":"tagIds[]"`} {
		if !strings.Contains(b["_airbyte_meta"], f) {
			t.Errorf("row b meta %s lacks %s", b["_airbyte_meta"], f)
		}
	}
	f, _ := h.table("clockify", "time_entries").Schema().FindFieldByName("timeInterval.start")
	if !f.Type.Equals(iceberg.PrimitiveTypes.TimestampTz) {
		t.Errorf("timeInterval.start is %s", f.Type)
	}
}

// A new nested property is added in the same commit as its data, inside structs and inside the
// struct of a list's element; int widens to long inside a struct; rows written before read null.
func TestNestedSchemaEvolution(t *testing.T) {
	h := newHarness(t)
	s1 := `{"type":"object","properties":{"id":{"type":"string"},"ti":{"type":"object","properties":{"start":{"type":"string","format":"date-time"},"n":{"type":"integer"}}},"l":{"type":"array","items":{"type":"object","properties":{"a":{"type":"string"}}}}}}`
	s2 := `{"type":"object","properties":{"id":{"type":"string"},"ti":{"type":"object","properties":{"start":{"type":"string","format":"date-time"},"n":{"type":"integer"},"zone":{"type":"string"},"sub":{"type":"object","properties":{"q":{"type":"boolean"}}}}},"l":{"type":"array","items":{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"number"}}}},"new":{"type":"object","properties":{"x":{"type":"integer"}}}}}`
	h.mustWrite(catalogFor("s", s1, "append", "", "", 1, 0), lines(rec("s", `{"id":"1","ti":{"start":"2025-01-01T00:00:00Z","n":1},"l":[{"a":"x"}]}`, 1)))
	before := h.table("clockify", "s").CurrentSnapshot().SnapshotID
	h.mustWrite(catalogFor("s", s2, "append", "", "", 1, 0), lines(rec("s", `{"id":"2","ti":{"start":"2025-01-01T00:00:00Z","n":2,"zone":"UTC","sub":{"q":true}},"l":[{"a":"y","b":1.5}],"new":{"x":3}}`, 1)))
	tbl := h.table("clockify", "s")
	for _, p := range []string{"ti.zone", "ti.sub.q", "l.element.b", "new.x"} {
		if _, ok := tbl.Schema().FindFieldByName(p); !ok {
			t.Errorf("schema lacks %s: %s", p, tbl.Schema())
		}
	}
	// One commit: the snapshot after the first one carries the new columns' data.
	if snaps := tbl.Metadata().Snapshots(); len(snaps) != 2 || snaps[0].SnapshotID != before {
		t.Errorf("want the evolution and its data in one commit after the first, got %d snapshots", len(snaps))
	}
	got := project(h.rows("clockify", "s", "id"), "id", "ti", "l", "new")
	want := []string{
		`1|{"n":1,"start":"2025-01-01T00:00:00Z","sub":null,"zone":null}|[{"a":"x","b":null}]|<null>`,
		`2|{"n":2,"start":"2025-01-01T00:00:00Z","sub":{"q":true},"zone":"UTC"}|[{"a":"y","b":1.5}]|{"x":3}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

// A table of the JSON-text layout (the previous release) keeps its columns: JSON text stays JSON
// text, new properties are added typed.
func TestJSONLayoutTableKeepsLoading(t *testing.T) {
	h := newHarness(t)
	old := `{"type":"object","properties":{"id":{"type":"string"},"ti":{"type":"object"}}}`
	h.mustWrite(catalogFor("s", old, "append", "", "", 1, 0), lines(rec("s", `{"id":"1","ti":{"start":"x"}}`, 1)))
	typed := `{"type":"object","properties":{"id":{"type":"string"},"ti":{"type":"object","properties":{"start":{"type":"string"}}},"n":{"type":"object","properties":{"a":{"type":"integer"}}}}}`
	h.mustWrite(catalogFor("s", typed, "append", "", "", 1, 0), lines(rec("s", `{"id":"2","ti":{"start":"y"},"n":{"a":1}}`, 1)))
	got := project(h.rows("clockify", "s", "id"), "id", "ti", "n")
	if want := []string{`1|{"start":"x"}|<null>`, `2|{"start":"y"}|{"a":1}`}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

func readExample(stream string) ([]byte, error) {
	return os.ReadFile(filepath.Join("..", "schemas", "testdata", "examples", stream+".json"))
}

var fieldIDs = regexp.MustCompile(`\b\d+: `)

// withoutIDs prints a type without its field IDs (Iceberg numbers them when it creates a table).
func withoutIDs(t iceberg.Type) string {
	if t == nil {
		return "<nil>"
	}
	return fieldIDs.ReplaceAllString(t.String(), "")
}
