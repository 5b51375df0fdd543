package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/clockberg/clockberg/source/streams"
)

const draft07 = "http://json-schema.org/draft-07/schema#"

// wantNames are the registry's streams: exactly one schema file each.
var wantNames = streams.Names()

func TestOneFilePerRegistryStream(t *testing.T) {
	embedded, err := fs.Glob(files, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]string, 0, len(wantNames))
	for _, n := range wantNames {
		want = append(want, n+".json")
	}
	sort.Strings(want)
	sort.Strings(embedded)
	if !slices.Equal(embedded, want) {
		t.Fatalf("embedded files %v, want exactly %v", embedded, want)
	}

	for _, n := range wantNames {
		raw, ok := Get(n)
		if !ok || len(raw) == 0 {
			t.Errorf("Get(%q) = %d bytes, %v", n, len(raw), ok)
		}
	}
	for _, bad := range []string{"", "nope", "Workspaces", "workspaces.json", "../go"} {
		if raw, ok := Get(bad); ok || raw != nil {
			t.Errorf("Get(%q) = %q, %v; want nil, false", bad, raw, ok)
		}
	}

	a, _ := Get("tags")
	a[0] = 'X'
	if b, _ := Get("tags"); b[0] != '{' {
		t.Fatal("Get returned shared bytes; a caller's edit leaked into the next Get")
	}
}

// decode parses with json.Number so integer/number checks in the validator see exact values.
func decode(t *testing.T, what string, b []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: invalid JSON: %v", what, err)
	}
	return v
}

func compile(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	raw, ok := Get(name)
	if !ok {
		t.Fatalf("no schema %q", name)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	url := "mem:///" + name + ".json"
	if err := c.AddResource(url, decode(t, name, raw)); err != nil {
		t.Fatalf("%s: add resource: %v", name, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: compile as draft-07: %v", name, err)
	}
	return s
}

func TestSchemasAreValidDraft07(t *testing.T) {
	for _, n := range wantNames {
		raw, _ := Get(n)
		if !json.Valid(raw) {
			t.Errorf("%s: not valid JSON", n)
			continue
		}
		root := decode(t, n, raw).(map[string]any)
		if root["$schema"] != draft07 {
			t.Errorf("%s: $schema = %v, want %s", n, root["$schema"], draft07)
		}
		if s := compile(t, n); s.DraftVersion != 7 {
			t.Errorf("%s: compiled as draft %d, want 7", n, s.DraftVersion)
		}
	}
}

// forbidden are keywords that break the one-column-per-property mapping or need resolution.
var forbidden = []string{"$ref", "anyOf", "allOf", "oneOf", "not", "if", "then", "else",
	"patternProperties", "definitions", "$defs", "dependencies", "additionalItems"}

// allowedKeys is everything a property schema may say; anything else is a typo or a new rule.
var allowedKeys = map[string]bool{"type": true, "format": true, "airbyte_type": true, "properties": true,
	"items": true, "additionalProperties": true, "required": true, "description": true, "title": true}

var scalarTypes = map[string]bool{"string": true, "integer": true, "number": true, "boolean": true,
	"object": true, "array": true}

// checkRoot returns every structural rule the schema breaks.
func checkRoot(root map[string]any) []string {
	var errs []string
	if root["$schema"] != draft07 {
		errs = append(errs, fmt.Sprintf("$schema = %v", root["$schema"]))
	}
	if root["type"] != "object" {
		errs = append(errs, fmt.Sprintf("root type = %v, want \"object\"", root["type"]))
	}
	req, _ := root["required"].([]any)
	if !slices.Contains(req, any("id")) {
		errs = append(errs, fmt.Sprintf("root required = %v, must contain id", root["required"]))
	}
	props, _ := root["properties"].(map[string]any)
	id, _ := props["id"].(map[string]any)
	if id == nil || id["type"] != "string" {
		errs = append(errs, fmt.Sprintf("properties.id = %v, want type \"string\"", props["id"]))
	}
	rest := map[string]any{}
	for k, v := range root {
		if k != "$schema" {
			rest[k] = v
		}
	}
	return append(errs, checkNode("", rest, true)...)
}

// checkNode walks one schema. isRoot relaxes the nullable rule for the root object and its id.
func checkNode(path string, s map[string]any, isRoot bool) []string {
	var errs []string
	fail := func(format string, a ...any) {
		errs = append(errs, path+": "+fmt.Sprintf(format, a...))
	}
	for _, k := range forbidden {
		if _, ok := s[k]; ok {
			fail("forbidden keyword %s", k)
		}
	}
	for k := range s {
		if !allowedKeys[k] && !slices.Contains(forbidden, k) {
			fail("unexpected keyword %s", k)
		}
	}

	var base string
	switch ty := s["type"].(type) {
	case nil:
		for k := range s {
			if k != "description" && k != "title" {
				fail("untyped (any JSON) schema must carry annotations only, has %s", k)
			}
		}
		return errs
	case string:
		if !(isRoot && path == "") && path != ".id" {
			fail("type %q is not nullable; only the root and its id may be", ty)
		}
		base = ty
	case []any:
		if len(ty) != 2 {
			fail("type union %v has %d members, want [\"null\", T]", ty, len(ty))
			return errs
		}
		if ty[0] != "null" {
			fail("type union %v must be [\"null\", T]", ty)
			return errs
		}
		base, _ = ty[1].(string)
	default:
		fail("type %v is neither a string nor a list", ty)
		return errs
	}
	if !scalarTypes[base] {
		fail("unknown type %q", base)
	}

	if f, ok := s["format"]; ok {
		if base != "string" || (f != "date-time" && f != "date") {
			fail("format %v on type %s", f, base)
		}
	}
	if at, ok := s["airbyte_type"]; ok || s["format"] == "date-time" {
		if at != "timestamp_with_timezone" || s["format"] != "date-time" {
			fail("instants need format date-time with airbyte_type timestamp_with_timezone, have %v/%v", s["format"], at)
		}
	}

	_, hasProps := s["properties"]
	_, hasItems := s["items"]
	if base == "object" {
		if s["additionalProperties"] != true {
			fail("additionalProperties = %v, want true", s["additionalProperties"])
		}
		props, ok := s["properties"].(map[string]any)
		if !ok {
			fail("object without a properties map")
		}
		if req, ok := s["required"]; ok && !isRoot {
			fail("nested required %v; every non-key field is nullable", req)
		}
		for _, k := range sortedKeys(props) {
			p, ok := props[k].(map[string]any)
			if !ok {
				fail("property %s is not a schema object", k)
				continue
			}
			errs = append(errs, checkNode(path+"."+k, p, false)...)
		}
	} else if hasProps || s["additionalProperties"] != nil || s["required"] != nil {
		fail("object keywords on type %s", base)
	}
	if base == "array" {
		items, ok := s["items"].(map[string]any)
		if !ok {
			fail("array items must be one schema object, have %T", s["items"])
		} else {
			errs = append(errs, checkNode(path+"[]", items, false)...)
		}
	} else if hasItems {
		fail("items on type %s", base)
	}
	return errs
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestStructuralRules(t *testing.T) {
	for _, n := range wantNames {
		raw, _ := Get(n)
		for _, e := range checkRoot(decode(t, n, raw).(map[string]any)) {
			t.Errorf("%s: %s", n, e)
		}
	}
}

// TestStructuralCheckerCatchesViolations proves the walker above is not vacuous.
func TestStructuralCheckerCatchesViolations(t *testing.T) {
	good := `{"$schema":"` + draft07 + `","type":"object","required":["id"],"additionalProperties":true,
		"properties":{"id":{"type":"string"},"n":{"type":["null","string"]}}}`
	if errs := checkRoot(decode(t, "good", []byte(good)).(map[string]any)); len(errs) != 0 {
		t.Fatalf("a conforming schema was rejected: %v", errs)
	}
	bad := map[string]string{
		"ref":             `"n":{"$ref":"#/definitions/x"}`,
		"anyOf":           `"n":{"anyOf":[{"type":"string"},{"type":"null"}]}`,
		"oneOf nested":    `"n":{"type":["null","object"],"additionalProperties":true,"properties":{"m":{"oneOf":[]}}}`,
		"if":              `"n":{"type":["null","string"],"if":{}}`,
		"pattern":         `"n":{"type":["null","object"],"additionalProperties":true,"properties":{},"patternProperties":{}}`,
		"closed object":   `"n":{"type":["null","object"],"additionalProperties":false,"properties":{}}`,
		"implicit closed": `"n":{"type":["null","object"],"properties":{}}`,
		"three-way union": `"n":{"type":["null","string","integer"]}`,
		"no null":         `"n":{"type":["string","integer"]}`,
		"not nullable":    `"n":{"type":"string"}`,
		"nested id":       `"n":{"type":["null","object"],"additionalProperties":true,"properties":{"id":{"type":"string"}}}`,
		"tuple items":     `"n":{"type":["null","array"],"items":[{"type":["null","string"]}]}`,
		"bare items":      `"n":{"type":["null","array"],"items":{"type":"string"}}`,
		"bad instant":     `"n":{"type":["null","string"],"format":"date-time"}`,
		"format on int":   `"n":{"type":["null","integer"],"format":"date"}`,
		"typo":            `"n":{"tpye":["null","string"]}`,
		"nested required": `"n":{"type":["null","object"],"additionalProperties":true,"required":["x"],"properties":{}}`,
	}
	for name, prop := range bad {
		doc := strings.Replace(good, `"n":{"type":["null","string"]}`, prop, 1)
		if errs := checkRoot(decode(t, name, []byte(doc)).(map[string]any)); len(errs) == 0 {
			t.Errorf("%s: violation not detected in %s", name, prop)
		}
	}
	for name, doc := range map[string]string{
		"root not object": strings.Replace(good, `"type":"object"`, `"type":["null","object"]`, 1),
		"id not required": strings.Replace(good, `"required":["id"]`, `"required":[]`, 1),
		"id nullable":     strings.Replace(good, `"id":{"type":"string"}`, `"id":{"type":["null","string"]}`, 1),
		"root closed":     strings.Replace(good, `"additionalProperties":true`, `"additionalProperties":false`, 1),
		"draft 2020":      strings.Replace(good, draft07, "https://json-schema.org/draft/2020-12/schema", 1),
	} {
		if errs := checkRoot(decode(t, name, []byte(doc)).(map[string]any)); len(errs) == 0 {
			t.Errorf("%s: violation not detected", name)
		}
	}
}

// TestKeyOrderAndNoDuplicates: encoding/json keeps the last of duplicate keys silently, so a
// copy-paste slip would drop a field; and id comes first so column order is predictable.
func TestKeyOrderAndNoDuplicates(t *testing.T) {
	for _, n := range wantNames {
		raw, _ := Get(n)
		if err := noDuplicateKeys(raw); err != nil {
			t.Errorf("%s: %v", n, err)
		}
		keys, err := propertyOrder(raw)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if len(keys) == 0 || keys[0] != "id" {
			t.Errorf("%s: first property %v, want id", n, keys)
		}
	}
	if noDuplicateKeys([]byte(`{"a":1,"b":{"c":1,"c":2}}`)) == nil {
		t.Error("duplicate key check missed a nested duplicate")
	}
}

type jsonFrame struct {
	obj     bool
	seen    map[string]bool
	wantKey bool // in an object, the next token is a key
}

func noDuplicateKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	var stack []*jsonFrame
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].obj {
			stack[n-1].wantKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].wantKey {
			if tok == json.Delim('}') {
				stack = stack[:n-1]
				valueDone()
				continue
			}
			k := tok.(string)
			if stack[n-1].seen[k] {
				return fmt.Errorf("duplicate key %q", k)
			}
			stack[n-1].seen[k] = true
			stack[n-1].wantKey = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &jsonFrame{obj: true, seen: map[string]bool{}, wantKey: true})
		case json.Delim('['):
			stack = append(stack, &jsonFrame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}

// propertyOrder returns the root's property names in file order.
func propertyOrder(b []byte) ([]string, error) {
	var root struct {
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(root.Properties))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// prop follows a dotted path of property names ("timeInterval.start"); "[]" steps into items.
func prop(t *testing.T, stream, path string) map[string]any {
	t.Helper()
	raw, _ := Get(stream)
	node := decode(t, stream, raw).(map[string]any)
	for _, part := range strings.Split(path, ".") {
		items := strings.HasSuffix(part, "[]")
		props, _ := node["properties"].(map[string]any)
		next, ok := props[strings.TrimSuffix(part, "[]")].(map[string]any)
		if !ok {
			t.Fatalf("%s: no property %s (at %s)", stream, path, part)
		}
		node = next
		if items {
			node, ok = node["items"].(map[string]any)
			if !ok {
				t.Fatalf("%s: %s has no items", stream, path)
			}
		}
	}
	return node
}

func TestParentIDsAndWrapperFields(t *testing.T) {
	// The parent keys the source adds are declared, as nullable strings.
	for _, d := range streams.All {
		for _, k := range d.ParentKeys {
			if ty := prop(t, d.Name, k)["type"]; fmt.Sprint(ty) != "[null string]" {
				t.Errorf("%s.%s type %v", d.Name, k, ty)
			}
		}
		if d.Parent == nil {
			raw, _ := Get(d.Name)
			if bytes.Contains(raw, []byte(`"workspaceId"`)) {
				t.Errorf("%s is not per workspace but declares workspaceId", d.Name)
			}
		}
	}
	prop(t, "time_entries_in_progress", "userId")
	for _, f := range []string{"approvalRequest", "approvedTime", "pendingTime", "trackedTime", "billableTime",
		"breakTime", "billableAmount", "costAmount", "expenseTotal", "entries", "expenses",
		"approvalRequest.id", "approvalRequest.status.updatedAt"} {
		prop(t, "approval_requests", f)
	}
}

// TestFieldTypes pins the typing decisions that downstream columns depend on.
func TestFieldTypes(t *testing.T) {
	instant := map[string]any{"type": []any{"null", "string"}, "format": "date-time",
		"airbyte_type": "timestamp_with_timezone"}
	cases := []struct {
		stream, path string
		want         map[string]any
	}{
		{"time_entries", "timeInterval.start", instant},
		{"time_entries", "timeInterval.end", instant},
		{"time_entries_in_progress", "timeInterval.start", instant},
		{"invoices", "issuedDate", instant},
		{"invoices", "dueDate", instant},
		{"approval_requests", "approvalRequest.status.updatedAt", instant},
		{"approval_requests", "approvalRequest.dateRange.start", instant},
		{"holidays", "datePeriod.startDate", map[string]any{"type": []any{"null", "string"}, "format": "date"}},
		{"holidays", "datePeriod.endDate", map[string]any{"type": []any{"null", "string"}, "format": "date"}},
		{"expenses", "date", map[string]any{"type": []any{"null", "string"}}},
		{"time_entries", "timeInterval.duration", map[string]any{"type": []any{"null", "string"}}},
		{"expenses", "total", map[string]any{"type": []any{"null", "number"}}},
		{"expenses", "quantity", map[string]any{"type": []any{"null", "number"}}},
		{"approval_requests", "billableAmount", map[string]any{"type": []any{"null", "number"}}},
		{"approval_requests", "costAmount", map[string]any{"type": []any{"null", "number"}}},
		{"approval_requests", "expenseTotal", map[string]any{"type": []any{"null", "number"}}},
		{"invoices", "amount", map[string]any{"type": []any{"null", "integer"}}},
		{"invoices", "balance", map[string]any{"type": []any{"null", "integer"}}},
		{"time_entries", "hourlyRate.amount", map[string]any{"type": []any{"null", "integer"}}},
		{"projects", "budgetEstimate.estimate", map[string]any{"type": []any{"null", "integer"}}},
		{"tasks", "budgetEstimate", map[string]any{"type": []any{"null", "integer"}}},
		{"expense_categories", "priceInCents", map[string]any{"type": []any{"null", "integer"}}},
	}
	for _, c := range cases {
		got := prop(t, c.stream, c.path)
		delete(got, "description")
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s.%s = %v, want %v", c.stream, c.path, got, c.want)
		}
	}
	for _, c := range []struct{ stream, path string }{
		{"projects", "timeEstimate.estimate"},
		{"time_entries", "customFieldValues[].value"},
		{"custom_fields", "workspaceDefaultValue"},
		{"custom_fields", "projectDefaultValues[].value"},
		{"user", "customFields[].value"},
	} {
		if ty, ok := prop(t, c.stream, c.path)["type"]; ok {
			t.Errorf("%s.%s has type %v; its payloads vary, so it must be untyped", c.stream, c.path, ty)
		}
	}
}

// examples loads testdata/examples/<stream>.json: Clockify's documented example records plus the
// parent ids the source adds, and a few variants (nulls, running entries, integer estimates).
func examples(t *testing.T, stream string) []any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "examples", stream+".json"))
	if err != nil {
		t.Fatal(err)
	}
	recs, ok := decode(t, stream+" examples", b).([]any)
	if !ok || len(recs) == 0 {
		t.Fatalf("%s: examples must be a non-empty JSON array", stream)
	}
	return recs
}

func TestExamplesValidate(t *testing.T) {
	for _, n := range wantNames {
		s := compile(t, n)
		raw, _ := Get(n)
		props := decode(t, n, raw).(map[string]any)["properties"].(map[string]any)
		for i, r := range examples(t, n) {
			if err := s.Validate(r); err != nil {
				t.Errorf("%s example %d: %v", n, i, err)
			}
			// Undeclared top-level keys would still validate but get no column downstream.
			for k := range r.(map[string]any) {
				if _, ok := props[k]; !ok {
					t.Errorf("%s example %d: top-level key %q is not declared", n, i, k)
				}
			}
		}
	}
	ar := examples(t, "approval_requests")[0].(map[string]any)
	if ar["id"] != ar["approvalRequest"].(map[string]any)["id"] {
		t.Errorf("approval_requests fixture: id %v is not approvalRequest.id", ar["id"])
	}
}

// wrongValue returns a non-null value that the JSON type ty does not admit.
func wrongValue(ty string) any {
	switch ty {
	case "string":
		return json.Number("1")
	case "integer":
		return json.Number("1.5")
	case "number", "boolean":
		return "wrong"
	case "object":
		return []any{}
	default: // array
		return map[string]any{}
	}
}

func baseType(s map[string]any) string {
	switch ty := s["type"].(type) {
	case string:
		return ty
	case []any:
		b, _ := ty[len(ty)-1].(string)
		return b
	}
	return ""
}

// leafPaths lists every place in v where the schema s assigns a type, as paths of keys/indices.
func leafPaths(s map[string]any, v any, path []any, out *[][]any) {
	if len(path) > 0 && baseType(s) != "" {
		*out = append(*out, slices.Clone(path))
	}
	switch val := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, k := range sortedKeys(val) {
			if ps, ok := props[k].(map[string]any); ok {
				leafPaths(ps, val[k], append(path, k), out)
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range val {
				leafPaths(items, e, append(path, i), out)
			}
		}
	}
}

// withValue returns a deep copy of v with the value at path replaced.
func withValue(v any, path []any, nv any) any {
	if len(path) == 0 {
		return nv
	}
	switch val := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(val))
		for k, e := range val {
			c[k] = e
		}
		k := path[0].(string)
		c[k] = withValue(val[k], path[1:], nv)
		return c
	case []any:
		c := slices.Clone(val)
		i := path[0].(int)
		c[i] = withValue(val[i], path[1:], nv)
		return c
	}
	panic(fmt.Sprintf("path %v does not fit %T", path, v))
}

func schemaAt(s map[string]any, path []any) map[string]any {
	for _, p := range path {
		if _, ok := p.(int); ok {
			s = s["items"].(map[string]any)
		} else {
			s = s["properties"].(map[string]any)[p.(string)].(map[string]any)
		}
	}
	return s
}

// TestWrongTypesFail flips every typed value in every example, at any depth, to another JSON type
// and expects the schema to reject it; then checks key, instant and date violations.
func TestWrongTypesFail(t *testing.T) {
	flipped := 0
	for _, n := range wantNames {
		s := compile(t, n)
		raw, _ := Get(n)
		doc := decode(t, n, raw).(map[string]any)
		for i, r := range examples(t, n) {
			var paths [][]any
			leafPaths(doc, r, nil, &paths)
			for _, p := range paths {
				bad := wrongValue(baseType(schemaAt(doc, p)))
				if err := s.Validate(withValue(r, p, bad)); err == nil {
					t.Errorf("%s example %d: %v = %v (%T) was accepted", n, i, p, bad, bad)
				}
				flipped++
			}
			rec := r.(map[string]any)
			c := make(map[string]any, len(rec))
			for k, v := range rec {
				if k != "id" {
					c[k] = v
				}
			}
			if s.Validate(c) == nil {
				t.Errorf("%s example %d: a record without id was accepted", n, i)
			}
			if s.Validate(withValue(r, []any{"id"}, nil)) == nil {
				t.Errorf("%s example %d: a null id was accepted", n, i)
			}
		}
	}
	if flipped < 300 {
		t.Errorf("only %d typed values were flipped; the examples no longer exercise the schemas", flipped)
	}
	t.Logf("%d typed values flipped, all rejected", flipped)

	te := compile(t, "time_entries")
	rec := examples(t, "time_entries")[0]
	for _, bad := range []string{"2020-07-17 11:35:01", "yesterday", "2020-07-17T11:35:01"} {
		if te.Validate(withValue(rec, []any{"timeInterval", "start"}, bad)) == nil {
			t.Errorf("time_entries: timeInterval.start %q accepted as an instant", bad)
		}
	}
	hol := compile(t, "holidays")
	hrec := examples(t, "holidays")[0]
	if hol.Validate(withValue(hrec, []any{"datePeriod", "startDate"}, "01/01/2024")) == nil {
		t.Error("holidays: datePeriod.startDate 01/01/2024 accepted as a date")
	}
	exp := compile(t, "expenses")
	if err := exp.Validate(withValue(examples(t, "expenses")[0], []any{"date"}, "2020-01-01T00:00:00Z")); err != nil {
		t.Errorf("expenses: an instant in date must stay valid: %v", err)
	}
}
