package source

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestEachElement(t *testing.T) {
	cases := map[string][]string{
		`[]`:    nil,
		` [ ] `: nil,
		`[1]`:   {`1`},
		"[\n {\"a\":\"x]}\\\"\"} ,\t[1,[2]], \"s\\\\\", null ,true,-1.5e3]": {`{"a":"x]}\""}`, `[1,[2]]`, `"s\\"`, `null`, `true`, `-1.5e3`},
		`[{"id":"a","n":{"id":"b"}},{}]`:                                    {`{"id":"a","n":{"id":"b"}}`, `{}`},
	}
	for in, want := range cases {
		var got []string
		if err := eachElement([]byte(in), func(e []byte) error { got = append(got, string(e)); return nil }); err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %q want %q", in, got, want)
		}
	}
	for _, bad := range []string{`{}`, `[1,2`, `["abc`, `[1 2]`, `[{"a":1]`} {
		if err := eachElement([]byte(bad), func([]byte) error { return nil }); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestMemberAndAddMissing(t *testing.T) {
	obj := []byte(`{ "approvalRequest" : {"id":"a1","owner":{"id":"x"}}, "note":"has \"id\":\"no\"", "projectId": null }`)
	if v, ok := path(obj, "approvalRequest", "id"); !ok || string(v) != `"a1"` {
		t.Fatalf("approvalRequest.id = %s %v", v, ok)
	}
	if _, ok := member(obj, "id"); ok {
		t.Fatal("found a top-level id inside a nested object or a string")
	}
	if v, ok := member(obj, "projectId"); !ok || string(v) != "null" {
		t.Fatalf("projectId = %s %v", v, ok)
	}
	out := addMissing(nil, obj, []field{{"id", []byte(`"a1"`)}, {"projectId", []byte(`"p9"`)}, {"workspaceId", []byte(`"w1"`)}})
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("patched record is not JSON: %v: %s", err, out)
	}
	// Present keys keep the API's value, even null; absent keys are added.
	if m["id"] != "a1" || m["projectId"] != nil || m["workspaceId"] != "w1" || !strings.Contains(m["note"].(string), `"id"`) {
		t.Fatalf("patched record %s", out)
	}
	if got := string(addMissing(nil, []byte(`{}`), []field{{"workspaceId", []byte(`"w"`)}})); got != `{"workspaceId":"w"}` {
		t.Fatalf("empty object: %s", got)
	}
	if got := string(addMissing(nil, []byte(`{"workspaceId":"api"}`), []field{{"workspaceId", []byte(`"w"`)}})); got != `{"workspaceId":"api"}` {
		t.Fatalf("present key overwritten: %s", got)
	}
	if s, ok := stringValue([]byte(`"a\"b"`)); ok {
		t.Fatalf("escaped string decoded as %q", s)
	}
}

func TestSmallerPageSize(t *testing.T) {
	for cur, want := range map[int]int{5000: 1000, 1000: 200, 200: 0, 3000: 1000, 700: 200, 4000: 1000} {
		if got := smallerPageSize(cur); got != want {
			t.Errorf("smallerPageSize(%d) = %d, want %d", cur, got, want)
		}
	}
}
