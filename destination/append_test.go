package destination

import (
	"slices"
	"strings"
	"testing"
)

func TestAppendTypesAndMeta(t *testing.T) {
	h := newHarness(t)
	cc := catalogFor("users", usersSchema, "append", "", "", 3, 0)
	out := h.mustWrite(cc, lines(
		rec("users", `{"id":"a","name":"Ann","age":41,"score":1.5,"active":true,"born":"1984-02-29","updated":"2024-01-02T03:04:05.123456+02:00","local":"2024-01-02T03:04:05","tags":["x","y"],"addr":{"city":"Oslo"},"any":7,"extra":"ignored"}`, 1700000000000),
		state("users", 1, 11),
		rec("users", `{"id":"b","name":null,"age":"old","score":"n/a","active":"yes","born":"1984-13-40","updated":"never","tags":"notalist","any":"s"}`, 1700000001000),
		state("users", 2, 12),
	))
	got := h.rows("clockify", "users", "id")
	if len(got) != 2 {
		t.Fatalf("got %d rows, want 2: %v", len(got), got)
	}
	a, b := got[0], got[1]
	want := map[string]string{
		"id": "a", "name": "Ann", "age": "41", "score": "1.5", "active": "true", "born": "1984-02-29",
		"updated": "2024-01-02T01:04:05.123456Z", "local": "2024-01-02T03:04:05Z", "tags": `["x","y"]`,
		"addr": `{"city":"Oslo"}`, "any": "7", "_airbyte_generation_id": "3",
		"_airbyte_extracted_at": "2023-11-14T22:13:20Z", "_airbyte_meta": `{"sync_id":77,"changes":[]}`,
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("row a column %s = %q, want %q", k, a[k], v)
		}
	}
	if _, ok := a["extra"]; ok {
		t.Errorf("property missing from the schema became a column")
	}
	if len(a["_airbyte_raw_id"]) != 36 {
		t.Errorf("raw id %q is not a uuid", a["_airbyte_raw_id"])
	}
	for _, c := range []string{"name", "age", "score", "active", "born", "updated", "addr"} {
		if b[c] != "<null>" {
			t.Errorf("row b column %s = %q, want null", c, b[c])
		}
	}
	if b["tags"] != "<null>" || b["any"] != `"s"` {
		t.Errorf("row b: list column tags = %q (want null: not a list), JSON column any = %q (want JSON text)", b["tags"], b["any"])
	}
	for _, c := range []string{"age", "score", "active", "born", "updated", "tags"} {
		entry := `{"field":"` + c + `","change":"NULLED","reason":"DESTINATION_TYPECAST_ERROR"}`
		if !strings.Contains(b["_airbyte_meta"], entry) {
			t.Errorf("meta %s lacks %s", b["_airbyte_meta"], entry)
		}
	}
	if strings.Contains(b["_airbyte_meta"], `"field":"name"`) {
		t.Errorf("a null value was reported as a change: %s", b["_airbyte_meta"])
	}
	st := states(out)
	if len(st) != 2 {
		t.Fatalf("want 2 echoed states, got %v", out)
	}
	wantEcho := `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"c":1}},"sourceStats":{"recordCount":1.0},"id":11,"destinationStats":{"recordCount":1.0}}}`
	if st[0] != wantEcho {
		t.Errorf("echo\n got %s\nwant %s", st[0], wantEcho)
	}
	if !strings.Contains(st[1], `"id":12`) {
		t.Errorf("second echo %s", st[1])
	}
	tbl := h.table("clockify", "users")
	logged := strings.Join(out, "\n")
	if !strings.Contains(logged, "table clockify.users: metadata "+tbl.MetadataLocation()+", 2 rows") {
		t.Errorf("no LOG with the metadata location and row count:\n%s", logged)
	}
	if !strings.Contains(logged, "Snowflake statements for clockify.users") {
		t.Errorf("no Snowflake hand-off LOG:\n%s", logged)
	}
	if got := tbl.CurrentSnapshot().Summary.Properties[SummaryCheckpoint]; got != "12" {
		t.Errorf("snapshot checkpoint = %q, want 12", got)
	}
	if got := tbl.CurrentSnapshot().Summary.Properties[SummaryState]; got != state("users", 2, 12) {
		t.Errorf("snapshot state = %q, want the last state as received", got)
	}
}

func TestAppendTwoSyncs(t *testing.T) {
	h := newHarness(t)
	cc := catalogFor("users", usersSchema, "append", "", "", 1, 0)
	h.mustWrite(cc, lines(rec("users", `{"id":"a"}`, 1), rec("users", `{"id":"b"}`, 2), state("users", 1, 1)))
	h.mustWrite(cc, lines(rec("users", `{"id":"c"}`, 3), rec("users", `{"id":"a"}`, 4), state("users", 2, 2)))
	got := project(h.rows("clockify", "users", "id"), "id")
	if !slices.Equal(got, []string{"a", "a", "b", "c"}) {
		t.Fatalf("rows = %v", got)
	}
}

func TestRecordEnvelopeVariants(t *testing.T) {
	h := newHarness(t)
	cc := `{"streams":[{"stream":{"name":"wé\"ird","namespace":"ns1","json_schema":{"type":"object","properties":{"id":{"type":"integer"}}},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`
	out := h.mustWrite(cc, lines(
		`{"type":"RECORD","record":{"namespace":"ns1","stream":"w\u00e9\"ird","data":{"id":1},"emitted_at":1.7e12,"meta":{"changes":[{"field":"big","change":"TRUNCATED","reason":"SOURCE_RECORD_SIZE_LIMITATION"}]}}}`,
		`{"record":{"stream":"wé\"ird","namespace":"ns1","emitted_at":1700000000001,"data":{ "id" : 2 }},"type":"RECORD","unknown":[1,{"a":2}]}`,
		`{"type":"LOG","log":{"level":"INFO","message":"ignored"}}`,
		`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"wé\"ird","namespace":"ns1"},"stream_state":{}},"id":1,"extra":{"keep":true}},"top":1}`,
	))
	// The stream's name maps to a safe table name (names.go); the table records the stream.
	if p := h.table("ns1", "we_ird").Properties()[PropStream]; p != `ns1.wé"ird` {
		t.Errorf("table property %s = %q", PropStream, p)
	}
	got := project(h.rows("ns1", "we_ird", "id"), "id", "_airbyte_extracted_at", "_airbyte_meta")
	want := []string{
		`1|2023-11-14T22:13:20Z|{"sync_id":null,"changes":[{"field":"big","change":"TRUNCATED","reason":"SOURCE_RECORD_SIZE_LIMITATION"}]}`,
		`2|2023-11-14T22:13:20.001Z|{"sync_id":null,"changes":[]}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n got %q\nwant %q", got, want)
	}
	st := states(out)
	if len(st) != 1 || !strings.Contains(st[0], `"extra":{"keep":true}`) || !strings.Contains(st[0], `"top":1`) || !strings.Contains(st[0], `"destinationStats":{"recordCount":2.0}`) {
		t.Errorf("echo %v", st)
	}
}
