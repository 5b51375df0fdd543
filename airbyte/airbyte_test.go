package airbyte

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func lines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("stdout line is not one JSON object: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestCountAlwaysHasDecimalPoint(t *testing.T) {
	for in, want := range map[float64]string{0: "0.0", 2: "2.0", 1234567: "1234567.0", 2.5: "2.5"} {
		b, _ := json.Marshal(Stats{RecordCount: (*Count)(&in)})
		if !strings.Contains(string(b), `"recordCount":`+want) {
			t.Errorf("count %v marshalled as %s, want %s", in, b, want)
		}
	}
}

func TestWriterConcurrentRecordsAreWholeLines(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, nil)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				data := fmt.Sprintf(`{"id":"%d-%d","n":12345678901234567890,"s":"a\"b\u2028"}`, g, i)
				if err := w.Record("time_entries", "", json.RawMessage(data), 42); err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	msgs := lines(t, buf.Bytes())
	if len(msgs) != 4000 {
		t.Fatalf("got %d lines, want 4000", len(msgs))
	}
	if !strings.Contains(buf.String(), `"n":12345678901234567890`) {
		t.Error("large integer was not kept verbatim")
	}
	rec := msgs[0]["record"].(map[string]any)
	if rec["stream"] != "time_entries" || rec["emitted_at"] != float64(42) {
		t.Errorf("bad record envelope: %v", rec)
	}
	if _, ok := rec["namespace"]; ok {
		t.Error("empty namespace must be omitted")
	}
}

func TestWriterRecordCompactsMultilineData(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, nil)
	w.Record("s", "ns", json.RawMessage("{\n \"a\": 1\n}"), 1)
	w.Close()
	if got := strings.Count(buf.String(), "\n"); got != 1 {
		t.Fatalf("want one line, got %d: %q", got, buf.String())
	}
	m := lines(t, buf.Bytes())[0]["record"].(map[string]any)
	if m["namespace"] != "ns" {
		t.Errorf("namespace lost: %v", m)
	}
	if err := NewWriter(io.Discard, nil).Record("s", "", json.RawMessage(`[1]`), 1); err == nil {
		t.Error("non-object data must be rejected")
	}
}

func TestWriterRedactsLogsAndTraces(t *testing.T) {
	var buf bytes.Buffer
	red := NewRedactor("s3cr3t-key", `we"ird`)
	w := NewWriter(&buf, red)
	w.Log(LogInfo, "using key %s", "s3cr3t-key")
	w.Error(fmt.Errorf("GET failed with key s3cr3t-key and %s", `we"ird`))
	w.StreamStatus(StreamDescriptor{Name: "x-s3cr3t-key"}, StatusStarted)
	w.Close()
	if strings.Contains(buf.String(), "s3cr3t") || strings.Contains(buf.String(), "ird") {
		t.Fatalf("secret leaked: %s", buf.String())
	}
	if !strings.Contains(buf.String(), Mask) {
		t.Fatal("expected a mask")
	}
	var sb bytes.Buffer
	sw := red.Writer(&sb)
	io.WriteString(sw, "part s3cr")
	io.WriteString(sw, "3t-key end\n")
	if strings.Contains(sb.String(), "s3cr3t") || !strings.Contains(sb.String(), Mask) {
		t.Fatalf("stderr redaction across writes failed: %q", sb.String())
	}
}

func TestParseArgs(t *testing.T) {
	a, err := ParseArgs([]string{"read", "--config", "c.json", "--catalog=k.json", "--debug", "--state", "s.json"}, "spec", "read")
	if err != nil || a.Config != "c.json" || a.Catalog != "k.json" || a.State != "s.json" {
		t.Fatalf("got %+v, %v", a, err)
	}
	for _, bad := range [][]string{
		{"read", "--config", "c", "--catalog", "k", "--bogus", "x"},
		{"read", "--config", "c"},
		{"frobnicate"},
		{"spec", "--config", "c"},
		{},
		{"read", "--config"},
	} {
		if _, err := ParseArgs(bad, "spec", "read"); err == nil {
			t.Errorf("ParseArgs(%q) accepted", bad)
		}
	}
	_, err = ParseArgs([]string{"read", "--config", "c", "--catalog", "k", "--bogus", "x"}, "read")
	if err == nil || !strings.Contains(err.Error(), "--bogus") {
		t.Errorf("error should name the flag: %v", err)
	}
}

func TestParseStateInputForms(t *testing.T) {
	users := StreamDescriptor{Name: "users"}
	cases := map[string]int{
		``: 0, `null`: 0, `{}`: 0, `[]`: 0,
		`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"c":1}},"sourceStats":{"recordCount":2.0},"id":7}]`:   1,
		`[{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"c":1}}}}]`:                   1,
		`[{"type":"GLOBAL","global":{"shared_state":{"x":1},"stream_states":[{"stream_descriptor":{"name":"users"},"stream_state":{"c":1}}]}}]`: 1,
	}
	for in, n := range cases {
		st, err := ParseStateInput([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if len(st.Streams) != n {
			t.Errorf("%s: %d streams, want %d", in, len(st.Streams), n)
		}
		if n == 1 && string(st.Stream(users)) != `{"c":1}` {
			t.Errorf("%s: users state = %s", in, st.Stream(users))
		}
	}
	st, err := ParseStateInput([]byte(`{"users":{"c":3}}`))
	if err != nil || string(st.Legacy) != `{"users":{"c":3}}` {
		t.Errorf("legacy blob: %+v %v", st, err)
	}
	if _, err := ParseStateInput([]byte(`[{"type":"STREAM"}]`)); err == nil {
		t.Error("a STREAM state without a stream must be rejected")
	}
	if _, err := ParseStateInput([]byte(`"x"`)); err == nil {
		t.Error("a string must be rejected")
	}
}

func TestEchoStateKeepsEverything(t *testing.T) {
	in := `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"c":1}},"sourceStats":{"recordCount":2.0},"id":7,"zzz":{"k":[1,2]}}}`
	out, err := EchoState([]byte(in), 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"users"},"stream_state":{"c":1}},"sourceStats":{"recordCount":2.0},"id":7,"zzz":{"k":[1,2]},"destinationStats":{"recordCount":2.0}}}`
	if string(out) != want {
		t.Fatalf("echo\n got %s\nwant %s", out, want)
	}
	out, _ = EchoState([]byte(`{"type":"STATE","state":{},"extra":1}`), 0, 3)
	if string(out) != `{"type":"STATE","state":{"destinationStats":{"recordCount":0.0,"rejectedRecordCount":3.0}},"extra":1}` {
		t.Fatalf("empty state echo: %s", out)
	}
	if _, err := EchoState([]byte(`{"type":"STATE"}`), 1, 0); err == nil {
		t.Error("missing state must fail")
	}
}

func TestReadLinesAnyLength(t *testing.T) {
	long := strings.Repeat("x", 3<<20)
	in := "a\n\n" + long + "\nlast-without-newline"
	var got []string
	var nums []int
	err := ReadLines(strings.NewReader(in), func(n int, l []byte) error {
		got = append(got, string(l))
		nums = append(nums, n)
		return nil
	})
	if err != nil || len(got) != 3 || got[1] != long || got[2] != "last-without-newline" {
		t.Fatalf("got %d lines, err %v", len(got), err)
	}
	if fmt.Sprint(nums) != "[1 3 4]" {
		t.Errorf("line numbers %v, want [1 3 4]", nums)
	}
}

func TestConfiguredCatalogValidate(t *testing.T) {
	c := &ConfiguredCatalog{Streams: []ConfiguredStream{{Stream: Stream{Name: "a"}, SyncMode: "INVALID", DestinationSyncMode: Append}}}
	err := c.Validate()
	if err == nil || AsError(err).FailureType != ConfigError || AsError(err).Stream == nil {
		t.Fatalf("invalid sync mode: %v", err)
	}
	gen := int64(3)
	s := ConfiguredStream{DestinationSyncMode: Append, GenerationID: &gen, MinimumGenerationID: &gen}
	if !s.Truncates() {
		t.Error("minimum_generation_id == generation_id must truncate")
	}
}

// fakeSource exercises the runner.
type fakeSource struct{ readErr error }

var fakeSpec = json.RawMessage(`{"type":"object","required":["api_key"],"properties":{
  "api_key":{"type":"string","airbyte_secret":true},"n":{"type":"integer","minimum":1}}}`)

func (fakeSource) Spec() *Spec { return &Spec{ConnectionSpecification: fakeSpec} }
func (fakeSource) Check(_ context.Context, cfg json.RawMessage) (*ConnectionStatus, error) {
	if strings.Contains(string(cfg), "bad") {
		return nil, ConfigErrorf("key rejected: %s", cfg)
	}
	if strings.Contains(string(cfg), "boom") {
		return nil, errors.New("outage with " + string(cfg))
	}
	return Succeeded("ok"), nil
}
func (fakeSource) Discover(context.Context, json.RawMessage) (*Catalog, error) {
	return &Catalog{Streams: []Stream{{Name: "a", JSONSchema: json.RawMessage(`{}`), SupportedSyncModes: []SyncMode{FullRefresh}}}}, nil
}
func (f fakeSource) Read(_ context.Context, cfg json.RawMessage, _ *ConfiguredCatalog, _ *StateInput, out *Writer) error {
	out.Log(LogInfo, "config is %s", cfg)
	out.Record("a", "", json.RawMessage(`{"id":1}`), 1)
	return f.readErr
}

func runFake(t *testing.T, src Source, args ...string) (int, []map[string]any, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := RunSource(context.Background(), src, args, strings.NewReader(""), &out, &errb)
	return code, lines(t, out.Bytes()), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunSourceCommands(t *testing.T) {
	good := writeFile(t, "c.json", `{"api_key":"KEY-123-good"}`)
	bad := writeFile(t, "b.json", `{"api_key":"KEY-123-bad"}`)
	boom := writeFile(t, "x.json", `{"api_key":"KEY-123-boom"}`)
	invalid := writeFile(t, "i.json", `{"api_key":"KEY-123-inv","n":0}`)
	cat := writeFile(t, "cat.json", `{"streams":[{"stream":{"name":"a","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`)
	badCat := writeFile(t, "bad.json", `{"streams":[{"stream":{"name":"a","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"INVALID","destination_sync_mode":"append"}]}`)

	check := func(name string, wantCode int, wantType string, msgs []map[string]any, stderr string) {
		t.Helper()
		all, _ := json.Marshal(msgs)
		if strings.Contains(string(all)+stderr, "KEY-123") {
			t.Errorf("%s: secret leaked: %s %s", name, all, stderr)
		}
		found := false
		for _, m := range msgs {
			found = found || m["type"] == wantType
		}
		if !found {
			t.Errorf("%s: no %s message in %s", name, wantType, all)
		}
	}
	code, msgs, se := runFake(t, fakeSource{}, "spec")
	if code != 0 || len(msgs) != 1 {
		t.Fatalf("spec: %d %v", code, msgs)
	}
	check("spec", 0, "SPEC", msgs, se)
	code, msgs, se = runFake(t, fakeSource{}, "check", "--config", good)
	check("check good", 0, "CONNECTION_STATUS", msgs, se)
	if code != 0 || msgs[0]["connectionStatus"].(map[string]any)["status"] != "SUCCEEDED" {
		t.Errorf("check good: %d %v", code, msgs)
	}
	code, msgs, se = runFake(t, fakeSource{}, "check", "--config", bad)
	check("check bad", 0, "CONNECTION_STATUS", msgs, se)
	if code != 0 || msgs[0]["connectionStatus"].(map[string]any)["status"] != "FAILED" {
		t.Errorf("check bad must be FAILED with exit 0: %d %v", code, msgs)
	}
	code, msgs, se = runFake(t, fakeSource{}, "check", "--config", boom)
	check("check boom", 1, "TRACE", msgs, se)
	if code != 1 || len(msgs) != 1 {
		t.Errorf("check outage must be one TRACE and exit 1: %d %v", code, msgs)
	}
	code, msgs, se = runFake(t, fakeSource{}, "discover", "--config", invalid)
	check("discover invalid config", 1, "TRACE", msgs, se)
	if code != 1 || msgs[0]["trace"].(map[string]any)["error"].(map[string]any)["failure_type"] != "config_error" {
		t.Errorf("invalid config must be config_error: %d %v", code, msgs)
	}
	code, msgs, se = runFake(t, fakeSource{}, "read", "--config", good, "--catalog", cat)
	check("read", 0, "RECORD", msgs, se)
	if code != 0 {
		t.Errorf("read: %d", code)
	}
	code, msgs, se = runFake(t, fakeSource{}, "read", "--config", good, "--catalog", badCat)
	check("read bad catalog", 1, "TRACE", msgs, se)
	if code == 0 {
		t.Error("invalid catalog must exit non-zero")
	}
	code, msgs, _ = runFake(t, fakeSource{readErr: ErrReported}, "read", "--config", good, "--catalog", cat)
	for _, m := range msgs {
		if m["type"] == "TRACE" {
			t.Error("ErrReported must not add a trace")
		}
	}
	if code != 1 {
		t.Errorf("ErrReported must exit 1, got %d", code)
	}
	code, msgs, _ = runFake(t, fakeSource{}, "read", "--config", good, "--catalog", cat, "--nope", "1")
	if code != 1 || msgs[0]["type"] != "TRACE" || !strings.Contains(fmt.Sprint(msgs[0]), "--nope") {
		t.Errorf("unknown flag: %d %v", code, msgs)
	}
}

func TestConfigurePicksModes(t *testing.T) {
	cat := &Catalog{Streams: []Stream{
		{Name: "time_entries", SupportedSyncModes: []SyncMode{FullRefresh, Incremental}, SourceDefinedCursor: true,
			DefaultCursorField: []string{"timeInterval", "start"}, SourceDefinedPrimaryKey: [][]string{{"id"}}},
		{Name: "tags", SupportedSyncModes: []SyncMode{FullRefresh}, SourceDefinedPrimaryKey: [][]string{{"id"}}},
	}}
	cc, err := Configure(cat, nil, 4)
	if err != nil || len(cc.Streams) != 2 {
		t.Fatal(err)
	}
	te, tags := cc.Streams[0], cc.Streams[1]
	if te.SyncMode != Incremental || te.DestinationSyncMode != AppendDedup || te.Truncates() || len(te.CursorField) != 2 {
		t.Errorf("time_entries: %+v", te)
	}
	if tags.SyncMode != FullRefresh || tags.DestinationSyncMode != Overwrite || !tags.Truncates() || *tags.MinimumGenerationID != 4 {
		t.Errorf("tags: %+v", tags)
	}
	if err := cc.Validate(); err != nil {
		t.Error(err)
	}
	if _, err := Configure(cat, []string{"nope"}, 1); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown stream: %v", err)
	}
	cc, _ = Configure(cat, []string{"tags"}, 1)
	if len(cc.Streams) != 1 || cc.Streams[0].Stream.Name != "tags" {
		t.Errorf("only: %+v", cc.Streams)
	}
}

func TestConfigureCommand(t *testing.T) {
	discover := `{"type":"LOG","log":{"level":"INFO","message":"x"}}
{"type":"CATALOG","catalog":{"streams":[{"name":"tags","json_schema":{},"supported_sync_modes":["full_refresh"],"source_defined_primary_key":[["id"]]},{"name":"users","json_schema":{},"supported_sync_modes":["full_refresh"]}]}}`
	var out, errb bytes.Buffer
	if code := ConfigureCommand([]string{"--streams", "tags", "--generation", "3"}, strings.NewReader(discover), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var cc ConfiguredCatalog
	if err := json.Unmarshal(out.Bytes(), &cc); err != nil || len(cc.Streams) != 1 || cc.Streams[0].Generation() != 3 {
		t.Fatalf("bad catalog %s: %v", out.String(), err)
	}
	errb.Reset()
	if code := ConfigureCommand(nil, strings.NewReader(`{"type":"LOG"}`), io.Discard, &errb); code != 1 || !strings.Contains(errb.String(), "no CATALOG") {
		t.Errorf("missing catalog: %d %q", code, errb.String())
	}
	errb.Reset()
	if code := ConfigureCommand([]string{"--streams", "bogus"}, strings.NewReader(discover), io.Discard, &errb); code != 1 || !strings.Contains(errb.String(), "bogus") {
		t.Errorf("unknown stream: %d %q", code, errb.String())
	}
}
