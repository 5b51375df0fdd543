package source

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/clockberg/clockberg/clockifysim"
	"github.com/clockberg/clockberg/schemas"
	"github.com/clockberg/clockberg/source/streams"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compileSchemas compiles every stream schema with draft-07 and format assertions on, so
// date-times must parse.
func compileSchemas(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	out := map[string]*jsonschema.Schema{}
	for _, n := range streams.Names() {
		raw, _ := schemas.Get(n)
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft7)
		c.AssertFormat()
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("schema %s: %v", n, err)
		}
		if err := c.AddResource(n+".json", doc); err != nil {
			t.Fatalf("schema %s: %v", n, err)
		}
		sch, err := c.Compile(n + ".json")
		if err != nil {
			t.Fatalf("schema %s does not compile: %v", n, err)
		}
		out[n] = sch
	}
	return out
}

// checkProtocol asserts the per-stream duties of read: STARTED, RUNNING before the first record,
// COMPLETE last; STATE after the last record with exact recordCounts; namespace absent.
func checkProtocol(t *testing.T, res *result, streams []string) {
	t.Helper()
	type seen struct {
		started, running, complete bool
		records, counted           int
		lastWasState               bool
	}
	st := map[string]*seen{}
	for _, n := range streams {
		st[n] = &seen{}
	}
	for i, m := range res.msgs {
		switch typ(m) {
		case "RECORD":
			var r recordMsg
			json.Unmarshal(m["record"], &r)
			s := st[r.Stream]
			if s == nil {
				t.Fatalf("message %d: record of unconfigured stream %q", i, r.Stream)
			}
			if r.Namespace != nil {
				t.Fatalf("message %d: record carries namespace %q; the catalog has none", i, *r.Namespace)
			}
			if !s.running || s.complete {
				t.Fatalf("message %d: record of %s outside RUNNING..COMPLETE", i, r.Stream)
			}
			s.records++
			s.lastWasState = false
		case "STATE":
			var sm stateMsg
			json.Unmarshal(m["state"], &sm)
			if sm.Type != "STREAM" {
				t.Fatalf("message %d: state type %q, want STREAM", i, sm.Type)
			}
			s := st[sm.Stream.Descriptor.Name]
			if s == nil || sm.SourceStats == nil || sm.SourceStats.RecordCount == nil {
				t.Fatalf("message %d: state of unknown stream or without sourceStats.recordCount: %s", i, m["state"])
			}
			if !bytes.Contains(m["state"], []byte(`"recordCount":`)) || !bytes.Contains(m["state"], []byte(".0")) {
				t.Fatalf("message %d: recordCount is not written as a float: %s", i, m["state"])
			}
			s.counted += int(*sm.SourceStats.RecordCount)
			s.lastWasState = true
		case "TRACE":
			var tr traceMsg
			json.Unmarshal(m["trace"], &tr)
			if tr.StreamStatus == nil {
				continue
			}
			s := st[tr.StreamStatus.Descriptor.Name]
			if s == nil {
				t.Fatalf("message %d: status of unconfigured stream %q", i, tr.StreamStatus.Descriptor.Name)
			}
			switch tr.StreamStatus.Status {
			case "STARTED":
				if s.started {
					t.Fatalf("%s STARTED twice", tr.StreamStatus.Descriptor.Name)
				}
				s.started = true
			case "RUNNING":
				if !s.started || s.complete {
					t.Fatalf("%s RUNNING outside STARTED..COMPLETE", tr.StreamStatus.Descriptor.Name)
				}
				s.running = true
			case "COMPLETE":
				if !s.running || !s.lastWasState {
					t.Fatalf("%s COMPLETE without RUNNING or not right after its final STATE", tr.StreamStatus.Descriptor.Name)
				}
				s.complete = true
			default:
				t.Fatalf("%s status %s", tr.StreamStatus.Descriptor.Name, tr.StreamStatus.Status)
			}
		}
	}
	for n, s := range st {
		if !s.complete {
			t.Errorf("stream %s never COMPLETE", n)
		}
		if s.counted != s.records {
			t.Errorf("stream %s: %d records but sourceStats sum to %d", n, s.records, s.counted)
		}
	}
}

func TestFullReadAcceptance(t *testing.T) {
	s := startSim(t, clockifysim.Acceptance(), nil)
	res := readCmd(t, context.Background(), New(), s.config(nil), configuredCatalog(t, nil, nil), nil)
	if res.code != 0 {
		t.Fatalf("read exit %d; errors %+v; stderr %s", res.code, res.errors(), res.stderr)
	}
	checkProtocol(t, res, streams.Names())

	recs := res.records()
	got := idsByStream(t, recs)
	truth := s.GroundTruth()
	for _, n := range streams.Names() {
		if d := diffIDs(truth[n], got[n]); d != "" {
			t.Errorf("stream %s: %s", n, d)
		}
		if len(truth[n]) == 0 {
			t.Errorf("ground truth of %s is empty; the preset should cover every stream", n)
		}
	}
	compiled := compileSchemas(t)
	bad := 0
	for _, r := range recs {
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Data))
		if err != nil {
			t.Fatal(err)
		}
		if err := compiled[r.Stream].Validate(inst); err != nil {
			if bad++; bad <= 3 {
				t.Errorf("record of %s fails its schema: %v\n%.300s", r.Stream, err, r.Data)
			}
		}
	}
	// Child records carry their parents' ids.
	for _, r := range recs {
		var x map[string]json.RawMessage
		json.Unmarshal(r.Data, &x)
		for _, k := range streams.ByName(r.Stream).ParentKeys {
			if v := x[k]; len(v) < 3 || v[0] != '"' {
				t.Fatalf("record of %s lacks parent key %s: %.200s", r.Stream, k, r.Data)
			}
		}
	}
	want := s.MinimumRequests(5000)
	st := s.Stats()
	if int(st.Requests) != want {
		t.Errorf("read spent %d requests, the minimum is %d; by route %v", st.Requests, want, st.Routes)
	}
	if st.Statuses[402]+st.Statuses[403] != 0 {
		t.Errorf("plan-gated routes were requested: statuses %v", st.Statuses)
	}
	t.Logf("%d records, %d requests (minimum %d)", len(recs), st.Requests, want)
}
