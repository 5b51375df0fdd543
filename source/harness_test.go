package source

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
)

// sim is a simulator served over real HTTP on loopback.
type sim struct {
	*clockifysim.Server
	URL string
}

func startSim(t testing.TB, cfg clockifysim.Config, wrap func(http.Handler) http.Handler) *sim {
	t.Helper()
	s := clockifysim.New(cfg)
	var h http.Handler = s
	if wrap != nil {
		h = wrap(s)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &sim{Server: s, URL: ts.URL}
}

// config returns a config JSON for the simulator with extra fields merged in.
func (s *sim) config(extra map[string]any) map[string]any {
	c := map[string]any{"api_key": s.APIKey(), "api_url": s.URL, "requests_per_second": 0}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// result is the parsed output of one command.
type result struct {
	code   int
	stdout []byte
	stderr []byte
	msgs   []map[string]json.RawMessage
}

func writeJSONFile(t testing.TB, dir, name string, v any) string {
	t.Helper()
	var b []byte
	switch x := v.(type) {
	case []byte:
		b = x
	case string:
		b = []byte(x)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs one command of the source in-process through airbyte.RunSource.
func run(t testing.TB, ctx context.Context, src *Source, args ...string) *result {
	t.Helper()
	var out, errb bytes.Buffer
	code := airbyte.RunSource(ctx, src, args, strings.NewReader(""), &out, &errb)
	return parseOutput(t, code, out.Bytes(), errb.Bytes())
}

func parseOutput(t testing.TB, code int, stdout, stderr []byte) *result {
	t.Helper()
	r := &result{code: code, stdout: stdout, stderr: stderr}
	for i, line := range bytes.Split(stdout, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("stdout line %d is not a JSON object: %v: %.200s", i+1, err, line)
		}
		r.msgs = append(r.msgs, m)
	}
	return r
}

func typ(m map[string]json.RawMessage) string {
	var s string
	json.Unmarshal(m["type"], &s)
	return s
}

func (r *result) ofType(t string) []map[string]json.RawMessage {
	var out []map[string]json.RawMessage
	for _, m := range r.msgs {
		if typ(m) == t {
			out = append(out, m)
		}
	}
	return out
}

type recordMsg struct {
	Stream    string          `json:"stream"`
	Namespace *string         `json:"namespace"`
	Data      json.RawMessage `json:"data"`
	EmittedAt int64           `json:"emitted_at"`
}

func (r *result) records() []recordMsg {
	var out []recordMsg
	for _, m := range r.ofType("RECORD") {
		var rec recordMsg
		json.Unmarshal(m["record"], &rec)
		out = append(out, rec)
	}
	return out
}

type stateMsg struct {
	Type   string `json:"type"`
	Stream struct {
		Descriptor  airbyte.StreamDescriptor `json:"stream_descriptor"`
		StreamState json.RawMessage          `json:"stream_state"`
	} `json:"stream"`
	SourceStats *struct {
		RecordCount *float64 `json:"recordCount"`
	} `json:"sourceStats"`
}

func (r *result) states() []stateMsg {
	var out []stateMsg
	for _, m := range r.ofType("STATE") {
		var s stateMsg
		json.Unmarshal(m["state"], &s)
		out = append(out, s)
	}
	return out
}

type traceMsg struct {
	Type  string `json:"type"`
	Error *struct {
		Message     string                    `json:"message"`
		FailureType string                    `json:"failure_type"`
		Stream      *airbyte.StreamDescriptor `json:"stream_descriptor"`
	} `json:"error"`
	StreamStatus *struct {
		Descriptor airbyte.StreamDescriptor `json:"stream_descriptor"`
		Status     string                   `json:"status"`
		Reasons    []json.RawMessage        `json:"reasons"`
	} `json:"stream_status"`
}

func (r *result) traces() []traceMsg {
	var out []traceMsg
	for _, m := range r.ofType("TRACE") {
		var tr traceMsg
		json.Unmarshal(m["trace"], &tr)
		out = append(out, tr)
	}
	return out
}

func (r *result) errors() []traceMsg {
	var out []traceMsg
	for _, tr := range r.traces() {
		if tr.Type == "ERROR" {
			out = append(out, tr)
		}
	}
	return out
}

func (r *result) logs(level string) []string {
	var out []string
	for _, m := range r.ofType("LOG") {
		var l airbyte.Log
		json.Unmarshal(m["log"], &l)
		if level == "" || string(l.Level) == level {
			out = append(out, l.Message)
		}
	}
	return out
}

// statuses returns the stream statuses of each stream in order.
func (r *result) statuses() map[string][]string {
	out := map[string][]string{}
	for _, tr := range r.traces() {
		if tr.StreamStatus != nil {
			out[tr.StreamStatus.Descriptor.Name] = append(out[tr.StreamStatus.Descriptor.Name], tr.StreamStatus.Status)
		}
	}
	return out
}

// finalStates returns the last STATE of every stream as a --state file body.
func (r *result) finalStates() []json.RawMessage {
	last := map[string]json.RawMessage{}
	var order []string
	for _, m := range r.ofType("STATE") {
		var s stateMsg
		json.Unmarshal(m["state"], &s)
		if _, ok := last[s.Stream.Descriptor.Name]; !ok {
			order = append(order, s.Stream.Descriptor.Name)
		}
		last[s.Stream.Descriptor.Name] = m["state"]
	}
	var out []json.RawMessage
	for _, n := range order {
		out = append(out, last[n])
	}
	return out
}

// configuredCatalog builds a configured catalog from discover's streams.
func configuredCatalog(t testing.TB, modes map[string]airbyte.SyncMode, syncID *int64) *airbyte.ConfiguredCatalog {
	t.Helper()
	cat, err := catalog()
	if err != nil {
		t.Fatal(err)
	}
	cc := &airbyte.ConfiguredCatalog{}
	for _, s := range cat.Streams {
		mode, ok := modes[s.Name]
		if modes != nil && !ok {
			continue
		}
		if modes == nil {
			mode = airbyte.FullRefresh
		}
		cs := airbyte.ConfiguredStream{Stream: s, SyncMode: mode, DestinationSyncMode: airbyte.Append, SyncID: syncID}
		if mode == airbyte.Incremental {
			cs.CursorField = s.DefaultCursorField
		}
		cc.Streams = append(cc.Streams, cs)
	}
	return cc
}

// readCmd runs `read` with the given config, catalog and optional state.
func readCmd(t testing.TB, ctx context.Context, src *Source, cfg map[string]any, cat any, state any) *result {
	t.Helper()
	dir := t.TempDir()
	args := []string{"read", "--config", writeJSONFile(t, dir, "config.json", cfg), "--catalog", writeJSONFile(t, dir, "catalog.json", cat)}
	if state != nil {
		args = append(args, "--state", writeJSONFile(t, dir, "state.json", state))
	}
	return run(t, ctx, src, args...)
}

// idsByStream collects each record's top-level id.
func idsByStream(t testing.TB, recs []recordMsg) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, r := range recs {
		var x struct {
			ID *string `json:"id"`
		}
		if err := json.Unmarshal(r.Data, &x); err != nil || x.ID == nil {
			t.Fatalf("record of %s has no string id: %.200s", r.Stream, r.Data)
		}
		out[r.Stream] = append(out[r.Stream], *x.ID)
	}
	return out
}

// diffIDs compares two multisets of ids and describes the difference.
func diffIDs(want, got []string) string {
	cnt := map[string]int{}
	for _, id := range want {
		cnt[id]++
	}
	for _, id := range got {
		cnt[id]--
	}
	var missing, extra []string
	for id, n := range cnt {
		for ; n > 0; n-- {
			missing = append(missing, id)
		}
		for ; n < 0; n++ {
			extra = append(extra, id)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	sort.Strings(missing)
	sort.Strings(extra)
	clip := func(s []string) []string {
		if len(s) > 5 {
			return s[:5]
		}
		return s
	}
	return fmt.Sprintf("want %d got %d; missing %d %v; extra/duplicate %d %v", len(want), len(got), len(missing), clip(missing), len(extra), clip(extra))
}

func jsonMarshal(v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return []byte(x), nil
	}
	return json.Marshal(v)
}
