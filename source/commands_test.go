package source

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
	"github.com/clockberg/clockberg/source/streams"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func compileDraft7(t *testing.T, name string, raw []byte) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s is not JSON: %v", name, err)
	}
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(name)
	if err != nil {
		t.Fatalf("%s is not a valid draft-07 schema: %v", name, err)
	}
	return sch
}

// TestSpec applies the spec part of the acceptance checklist (Airbyte's connector acceptance checklist).
func TestSpec(t *testing.T) {
	res := run(t, context.Background(), New(), "spec")
	if res.code != 0 || len(res.msgs) != 1 || typ(res.msgs[0]) != "SPEC" {
		t.Fatalf("spec: exit %d, %d messages, want exactly one SPEC", res.code, len(res.msgs))
	}
	var spec struct {
		ConnectionSpecification json.RawMessage `json:"connectionSpecification"`
		DocumentationURL        string          `json:"documentationUrl"`
	}
	if err := json.Unmarshal(res.msgs[0]["spec"], &spec); err != nil || spec.DocumentationURL == "" {
		t.Fatalf("spec payload: %v %s", err, res.msgs[0]["spec"])
	}
	sch := compileDraft7(t, "spec.json", spec.ConnectionSpecification)

	var root map[string]any
	json.Unmarshal(spec.ConnectionSpecification, &root)
	if root["type"] != "object" {
		t.Fatalf("root type %v", root["type"])
	}
	forbidden := []string{"$ref", "anyOf", "allOf", "not", "if", "then", "else", "patternProperties", "prefixItems", "dependentSchemas", "dependentRequired", "oneOf"}
	secretish := []string{"token", "secret", "password", "key", "credentials"}
	var walk func(path string, node map[string]any)
	walk = func(path string, node map[string]any) {
		for _, k := range forbidden {
			if _, ok := node[k]; ok {
				t.Errorf("%s uses %s", path, k)
			}
		}
		if ap, ok := node["additionalProperties"]; ok && ap != true {
			t.Errorf("%s: additionalProperties is %v", path, ap)
		}
		switch ty := node["type"].(type) {
		case string:
		case []any:
			if len(ty) != 2 || ty[1] != "null" {
				t.Errorf("%s: type %v is not [X, \"null\"]", path, ty)
			}
		case nil:
			t.Errorf("%s has no type", path)
		}
		if items, ok := node["items"]; ok {
			if _, isObj := items.(map[string]any); !isObj {
				t.Errorf("%s: items is not one schema", path)
			}
		}
		if e, ok := node["enum"].([]any); ok {
			seen := map[any]bool{}
			for _, v := range e {
				if seen[v] {
					t.Errorf("%s: duplicate enum value %v", path, v)
				}
				seen[v] = true
			}
		}
		props, _ := node["properties"].(map[string]any)
		if node["type"] == "object" && path != "" && len(props) == 0 {
			t.Errorf("%s: nested object without properties", path)
		}
		orders := map[float64]string{}
		for name, p := range props {
			pm := p.(map[string]any)
			if o, ok := pm["order"].(float64); ok {
				if other, dup := orders[o]; dup {
					t.Errorf("%s: order %v used by %s and %s", path, o, other, name)
				}
				orders[o] = name
			}
			if _, ok := pm["group"]; ok && path != "" {
				t.Errorf("%s.%s: group below top level", path, name)
			}
			if pm["type"] == "string" {
				for _, w := range secretish {
					if strings.Contains(strings.ToLower(name), w) && pm["airbyte_secret"] != true {
						t.Errorf("%s.%s looks like a secret but is not airbyte_secret", path, name)
					}
				}
			}
			walk(path+"."+name, pm)
		}
	}
	walk("", root)
	if root["properties"].(map[string]any)["api_key"].(map[string]any)["airbyte_secret"] != true {
		t.Error("api_key is not airbyte_secret")
	}
	if !reflect.DeepEqual(root["required"], []any{"api_key"}) {
		t.Errorf("required = %v, want [api_key] only", root["required"])
	}

	// An Airbyte source-clockify config validates unchanged, and so does a full one.
	for _, cfg := range []string{
		`{"api_key":"k","workspace_id":"w","api_url":"https://api.clockify.me"}`,
		`{"api_key":"k","workspace_ids":["a","b"],"api_url":"https://euc1.clockify.me","start_date":"2024-01-01T00:00:00Z","page_size":200,"requests_per_second":5,"max_requests_per_second":10,"max_concurrency":4,"lookback_window_days":3}`,
	} {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(cfg))
		if err := sch.Validate(inst); err != nil {
			t.Errorf("config %s does not validate: %v", cfg, err)
		}
	}
	for _, cfg := range []string{`{}`, `{"api_key":"k","lookback_window_days":0}`, `{"api_key":"k","start_date":"yesterday"}`, `{"api_key":"k","page_size":0}`} {
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(cfg))
		if sch.Validate(inst) == nil {
			t.Errorf("config %s validates but must not", cfg)
		}
	}
}

func TestConfigRules(t *testing.T) {
	cases := []struct {
		cfg     string
		wantErr string
		check   func(*settings) bool
	}{
		{`{"api_key":"k"}`, "", func(s *settings) bool {
			return s.baseURL == "https://api.clockify.me/api/v1" && s.pageSize == 5000 && s.rps == 5 && s.maxRPS == 10 && s.concurrency == 8 && s.lookback.Hours() == 168
		}},
		{`{"api_key":"k","api_url":"https://euc1.clockify.me/"}`, "", func(s *settings) bool { return s.baseURL == "https://euc1.clockify.me/api/v1" }},
		{`{"api_key":"k","api_url":"https://api.clockify.me/api/v1"}`, "", func(s *settings) bool { return s.baseURL == "https://api.clockify.me/api/v1" }},
		{`{"api_key":"k","api_url":"http://127.0.0.1:8080"}`, "", func(s *settings) bool { return s.baseURL == "http://127.0.0.1:8080/api/v1" }},
		{`{"api_key":"k","api_url":"http://localhost:1"}`, "", nil},
		{`{"api_key":"k","api_url":"http://api.clockify.me"}`, "plain http", nil},
		{`{"api_key":"k","api_url":"ftp://x"}`, "https", nil},
		{`{"api_key":"k","workspace_id":"a","workspace_ids":["b","a",""]}`, "", func(s *settings) bool { return reflect.DeepEqual(s.workspaceIDs, []string{"a", "b"}) }},
		{`{"api_key":"k","workspace_id":"a/b"}`, "characters", nil},
		{`{"api_key":"k","start_date":"2024-02-01T10:00:00+02:00"}`, "", func(s *settings) bool { return s.startDate.Format("15") == "08" }},
		{`{"api_key":"k","lookback_window_days":0}`, "at least 1", nil},
		{`{"api_key":"  "}`, "api_key", nil},
		{`{"api_key":"k","requests_per_second":20,"max_requests_per_second":10}`, "", func(s *settings) bool { return s.maxRPS == 20 }},
	}
	for _, c := range cases {
		s, err := parseConfig(json.RawMessage(c.cfg))
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want one containing %q", c.cfg, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.cfg, err)
			continue
		}
		if c.check != nil && !c.check(s) {
			t.Errorf("%s: settings %s", c.cfg, s)
		}
	}
}

// TestDiscover applies the discovery part of the acceptance checklist.
func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	cfg := writeJSONFile(t, dir, "config.json", `{"api_key":"k"}`)
	res := run(t, context.Background(), New(), "discover", "--config", cfg)
	again := run(t, context.Background(), New(), "discover", "--config", cfg)
	if res.code != 0 || len(res.msgs) != 1 || typ(res.msgs[0]) != "CATALOG" {
		t.Fatalf("discover: exit %d, messages %d", res.code, len(res.msgs))
	}
	if !bytes.Equal(res.stdout, again.stdout) {
		t.Error("discover output is not deterministic")
	}
	var cat airbyte.Catalog
	if err := json.Unmarshal(res.msgs[0]["catalog"], &cat); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range cat.Streams {
		names = append(names, s.Name)
		compileDraft7(t, s.Name, s.JSONSchema)
		if len(s.SupportedSyncModes) == 0 {
			t.Errorf("%s: no sync modes", s.Name)
		}
		wantKey := [][]string{{"id"}}
		if s.Name == sWorkspaceUsers {
			wantKey = [][]string{{"workspaceId"}, {"id"}}
		}
		if !reflect.DeepEqual(s.SourceDefinedPrimaryKey, wantKey) {
			t.Errorf("%s: primary key %v", s.Name, s.SourceDefinedPrimaryKey)
		}
		var sch map[string]any
		json.Unmarshal(s.JSONSchema, &sch)
		propType := func(p []string) (any, bool) {
			node := sch
			for _, k := range p {
				props, _ := node["properties"].(map[string]any)
				n, ok := props[k].(map[string]any)
				if !ok {
					return nil, false
				}
				node = n
			}
			return node["type"], true
		}
		for _, pk := range s.SourceDefinedPrimaryKey {
			ty, ok := propType(pk)
			if !ok {
				t.Errorf("%s: primary key %v not in schema properties", s.Name, pk)
			}
			if ts := toString(ty); strings.Contains(ts, "object") || strings.Contains(ts, "array") {
				t.Errorf("%s: primary key type %v", s.Name, ty)
			}
		}
		if s.Name == sTimeEntries {
			if !s.SourceDefinedCursor || !reflect.DeepEqual(s.DefaultCursorField, []string{"timeInterval", "start"}) ||
				!reflect.DeepEqual(s.SupportedSyncModes, []airbyte.SyncMode{airbyte.FullRefresh, airbyte.Incremental}) {
				t.Errorf("time_entries: cursor %v/%v modes %v", s.SourceDefinedCursor, s.DefaultCursorField, s.SupportedSyncModes)
			}
		}
		if len(s.DefaultCursorField) > 0 {
			if _, ok := propType(s.DefaultCursorField); !ok {
				t.Errorf("%s: default cursor %v not in schema properties", s.Name, s.DefaultCursorField)
			}
		}
	}
	if !reflect.DeepEqual(names, streams.Names()) {
		t.Errorf("discover streams %v, want the registry's %v", names, streams.Names())
	}
}

func toString(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestCheck(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), nil)
	dir := t.TempDir()
	check := func(cfg map[string]any) *result {
		return run(t, context.Background(), New(), "check", "--config", writeJSONFile(t, dir, "c.json", cfg))
	}
	res := check(s.config(nil))
	if st := connStatus(t, res); res.code != 0 || st.Status != airbyte.StatusSucceeded {
		t.Fatalf("check: exit %d status %+v", res.code, st)
	}
	res = check(s.config(map[string]any{"api_key": "not-the-key-1234567890"}))
	if st := connStatus(t, res); res.code != 0 || st.Status != airbyte.StatusFailed || !strings.Contains(st.Message, "rejected") {
		t.Fatalf("check with a bad key: exit %d status %+v", res.code, st)
	}
	res = check(s.config(map[string]any{"workspace_ids": []string{"000000000000000000000000"}}))
	if st := connStatus(t, res); res.code != 0 || st.Status != airbyte.StatusFailed || !strings.Contains(st.Message, "000000000000000000000000") {
		t.Fatalf("check with an unknown workspace: exit %d status %+v", res.code, st)
	}
	// Nothing listens on a closed loopback port: FAILED naming api_url, after a bounded retry.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	start := time.Now()
	res = check(map[string]any{"api_key": "k", "api_url": dead})
	if st := connStatus(t, res); res.code != 0 || st.Status != airbyte.StatusFailed || !strings.Contains(st.Message, "api_url") {
		t.Fatalf("check against a dead host: exit %d status %+v", res.code, st)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("check against a dead host took %s", d)
	}
	res = check(map[string]any{"api_key": "k", "api_url": "http://example.com"})
	if st := connStatus(t, res); res.code != 0 || st.Status != airbyte.StatusFailed || !strings.Contains(st.Message, "plain http") {
		t.Fatalf("check with plain http to a remote host: exit %d status %+v", res.code, st)
	}
}

func connStatus(t *testing.T, res *result) airbyte.ConnectionStatus {
	t.Helper()
	cs := res.ofType("CONNECTION_STATUS")
	if len(cs) != 1 {
		t.Fatalf("%d CONNECTION_STATUS messages, want 1; stdout %s", len(cs), res.stdout)
	}
	var st airbyte.ConnectionStatus
	json.Unmarshal(cs[0]["connectionStatus"], &st)
	return st
}
