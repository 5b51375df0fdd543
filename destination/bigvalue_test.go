package destination

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/clockberg/clockberg/airbyte"
)

const bigSchema = `{"type":"object","properties":{"id":{"type":"string"},"s":{"type":["null","string"]},"u":{"type":["null","string"]},"j":{"type":"object"},"t":{"type":"object","properties":{"note":{"type":"string"},"n":{"type":"integer"}}},"tags":{"type":"array","items":{"type":"string"}}}}`

// A string or JSON value over max_value_bytes, at any depth, is stored as null with a NULLED
// change; the rest of its row, values at the bound and the primary key (whatever its size) stay.
func TestValueOverMaxValueBytesIsNulled(t *testing.T) {
	h := newHarness(t)
	h.cfg["max_value_bytes"] = 32
	cc := catalogFor("items", bigSchema, "append_dedup", "id", "", 1, 0)
	long := strings.Repeat("v", 33) // one byte over
	atBound := strings.Repeat("w", 32)
	key := strings.Repeat("k", 40)
	out := h.mustWrite(cc, lines(
		rec("items", fmt.Sprintf(`{"id":%q,"s":%q,"u":%q,"j":{"a":%q},"t":{"note":%q,"n":5},"tags":["short",%q]}`, key, long, atBound, long, long, long), 1),
		rec("items", fmt.Sprintf(`{"id":"b","s":%q,"u":"x","j":{"a":1},"t":{"note":"fine","n":6},"tags":[%q]}`, long, atBound), 1),
		rec("items", fmt.Sprintf(`{"id":"c","s":%q,"u":null,"j":[1,2],"t":{"note":%q,"n":7},"tags":[]}`, atBound, atBound), 1),
		state("items", 1, 1)))
	if len(states(out)) != 1 {
		t.Fatalf("want the STATE echoed:\n%s", strings.Join(out, "\n"))
	}
	rows := h.rows("clockify", "items", "id")
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3: %v", len(rows), rows)
	}
	nulled := func(f string) change { return change{f, "NULLED", "DESTINATION_FIELD_SIZE_LIMITATION"} }
	for _, c := range []struct {
		id   string
		cols map[string]string
		want []change
	}{
		{"b", map[string]string{"s": "<null>", "u": "x", "j": `{"a":1}`, "t": `{"n":6,"note":"fine"}`, "tags": `["` + atBound + `"]`},
			[]change{nulled("s")}},
		{"c", map[string]string{"s": atBound, "u": "<null>", "j": "[1,2]", "t": `{"n":7,"note":"` + atBound + `"}`, "tags": "[]"}, nil},
		{key, map[string]string{"s": "<null>", "u": atBound, "j": "<null>", "t": `{"n":5,"note":null}`, "tags": `["short",null]`},
			[]change{nulled("s"), nulled("j"), nulled("t.note"), nulled("tags[]")}},
	} {
		i := slices.IndexFunc(rows, func(r map[string]string) bool { return r["id"] == c.id })
		if i < 0 {
			t.Fatalf("no row with id %s: %v", c.id, rows)
		}
		row := rows[i]
		for col, v := range c.cols {
			if row[col] != v {
				t.Errorf("row %s: column %s = %q, want %q", c.id, col, row[col], v)
			}
		}
		got := metaChanges(t, row)
		if !slices.Equal(got, c.want) {
			t.Errorf("row %s: changes %v, want %v", c.id, got, c.want)
		}
	}
	// One WARN per stream and field, naming both, never the value.
	warned := map[string]int{}
	for _, l := range out {
		if strings.Contains(l, long) {
			t.Errorf("the output repeats the value: %s", l)
		}
		var m airbyte.Message
		if json.Unmarshal([]byte(l), &m) != nil || m.Type != airbyte.TypeLog || m.Log.Level != airbyte.LogWarn || !strings.Contains(m.Log.Message, "max_value_bytes") {
			continue
		}
		if !strings.Contains(m.Log.Message, "stream items") {
			t.Errorf("the WARN names no stream: %s", m.Log.Message)
		}
		for _, f := range []string{"s", "j", "t.note", "tags[]"} {
			if strings.Contains(m.Log.Message, "field "+f+" ") {
				warned[f]++
			}
		}
	}
	if want := map[string]int{"s": 1, "j": 1, "t.note": 1, "tags[]": 1}; fmt.Sprint(warned) != fmt.Sprint(want) {
		t.Errorf("WARNs per field %v, want %v:\n%s", warned, want, strings.Join(out, "\n"))
	}
}

// The default bound keeps values of several megabytes as they are.
func TestDefaultMaxValueBytesKeepsLargeValues(t *testing.T) {
	h := newHarness(t)
	cc := catalogFor("items", bigSchema, "append", "", "", 1, 0)
	big := strings.Repeat("0123456789", 300_000) // 3 MB, above the size given exact room in Arrow
	h.mustWrite(cc, lines(rec("items", fmt.Sprintf(`{"id":"a","s":%q,"u":"x"}`, big), 1), state("items", 1, 1)))
	rows := h.rows("clockify", "items", "id")
	if len(rows) != 1 || rows[0]["s"] != big || rows[0]["u"] != "x" || strings.Contains(rows[0]["_airbyte_meta"], "NULLED") {
		t.Fatalf("the 3 MB value did not come back intact (%d rows, meta %s)", len(rows), rows[0]["_airbyte_meta"])
	}
}

// A row whose values together are over max_row_bytes loses its largest values first, each with a
// NULLED change of reason DESTINATION_RECORD_SIZE_LIMITATION; its key and smaller values stay.
func TestRowOverMaxRowBytesLosesItsLargestValues(t *testing.T) {
	h := newHarness(t)
	h.cfg["max_row_bytes"] = 60
	cc := catalogFor("items", bigSchema, "append_dedup", "id", "", 1, 0)
	key := strings.Repeat("k", 100) // keys are never counted nor nulled
	s, u := strings.Repeat("s", 40), strings.Repeat("u", 30)
	out := h.mustWrite(cc, lines(
		rec("items", fmt.Sprintf(`{"id":%q,"s":%q,"u":%q,"t":{"note":"n","n":1}}`, key, s, u), 1),
		rec("items", fmt.Sprintf(`{"id":"fits","s":%q,"t":{"note":"n","n":2}}`, s), 1),
		state("items", 1, 1)))
	rows := h.rows("clockify", "items", "id")
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	byID := map[string]map[string]string{}
	for _, r := range rows {
		byID[r["id"]] = r
	}
	if r := byID[key]; r == nil || r["s"] != "<null>" || r["u"] != u || r["t"] != `{"n":1,"note":"n"}` ||
		!strings.Contains(r["_airbyte_meta"], `{"field":"s","change":"NULLED","reason":"DESTINATION_RECORD_SIZE_LIMITATION"}`) ||
		strings.Count(r["_airbyte_meta"], `"field"`) != 1 {
		t.Errorf("row over the bound: %v", r)
	}
	if r := byID["fits"]; r == nil || r["s"] != s || strings.Contains(r["_airbyte_meta"], "NULLED") {
		t.Errorf("row within the bound: %v", r)
	}
	warns := 0
	for _, l := range out {
		if strings.Contains(l, `"WARN"`) && strings.Contains(l, "max_row_bytes") {
			warns++
			if !strings.Contains(l, "stream items") || !strings.Contains(l, "field s ") || strings.Contains(l, s) {
				t.Errorf("WARN: %s", l)
			}
		}
	}
	if warns != 1 {
		t.Errorf("%d WARNs about max_row_bytes, want 1:\n%s", warns, strings.Join(out, "\n"))
	}
}
