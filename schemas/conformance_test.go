package schemas_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
	"github.com/clockberg/clockberg/schemas"
	"github.com/clockberg/clockberg/source"
	"github.com/clockberg/clockberg/source/streams"
)

// TestSimulatedSyncConformsToSchemas runs the real source in-process against the simulator's
// acceptance data set (every stream, every plan) and validates each record against its schema,
// with format assertions on. It also fails on record keys a schema does not declare, at any
// depth: they would validate (additionalProperties is true) yet get no column downstream.
func TestSimulatedSyncConformsToSchemas(t *testing.T) {
	cfg := clockifysim.Acceptance()
	cfg.RateLimit = 0
	srv := httptest.NewServer(clockifysim.New(cfg))
	defer srv.Close()

	config, _ := json.Marshal(map[string]any{"api_key": clockifysim.DefaultAPIKey, "api_url": srv.URL,
		"requests_per_second": 0})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src := source.New()
	cat, err := src.Discover(ctx, config)
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	configured, err := airbyte.Configure(cat, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := airbyte.NewWriter(&out, airbyte.NewRedactor())
	readErr := src.Read(ctx, config, configured, &airbyte.StateInput{}, w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if readErr != nil {
		t.Fatalf("read: %v", readErr)
	}

	compiled := map[string]*jsonschema.Schema{}
	decl := map[string]any{}
	for _, n := range streams.Names() {
		raw, _ := schemas.Get(n)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft7)
		if err := c.AddResource(n+".json", doc); err != nil {
			t.Fatal(err)
		}
		if compiled[n], err = c.Compile(n + ".json"); err != nil {
			t.Fatal(err)
		}
		decl[n] = doc
	}

	counts := map[string]int{}
	failures := 0
	undeclared := map[string]bool{}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		var m struct {
			Type   string `json:"type"`
			Record *struct {
				Stream string          `json:"stream"`
				Data   json.RawMessage `json:"data"`
			} `json:"record"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("stdout line is not JSON: %v", err)
		}
		if m.Type != "RECORD" {
			continue
		}
		s := compiled[m.Record.Stream]
		if s == nil {
			t.Fatalf("record for unknown stream %q", m.Record.Stream)
		}
		counts[m.Record.Stream]++
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(m.Record.Data))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(v); err != nil && failures < 20 {
			failures++
			id, _ := v.(map[string]any)["id"]
			t.Errorf("%s record id %v: %v", m.Record.Stream, id, err)
		}
		undeclaredKeys(decl[m.Record.Stream], v, m.Record.Stream, undeclared)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for k := range undeclared {
		t.Errorf("records carry %s, which the schema does not declare", k)
	}
	total := 0
	for _, n := range streams.Names() {
		if counts[n] == 0 {
			t.Errorf("stream %s produced no records, so its schema went unchecked", n)
		}
		total += counts[n]
	}
	t.Logf("%d records of %d streams validated: %v", total, len(counts), counts)
}

func undeclaredKeys(schema, v any, path string, found map[string]bool) {
	s, _ := schema.(map[string]any)
	switch val := v.(type) {
	case map[string]any:
		props, ok := s["properties"].(map[string]any)
		if !ok {
			return // untyped (any JSON) value
		}
		for k, x := range val {
			if p, ok := props[k]; ok {
				undeclaredKeys(p, x, path+"."+k, found)
			} else {
				found[path+"."+k] = true
			}
		}
	case []any:
		for _, x := range val {
			undeclaredKeys(s["items"], x, path+"[]", found)
		}
	}
}
