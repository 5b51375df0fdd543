package airbyte

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cliSpec has a nested object with oneOf variants, as the destination's spec does.
var cliSpec = json.RawMessage(`{"type":"object","required":["api_key"],"properties":{
  "api_key":{"type":"string","airbyte_secret":true,"order":0,"description":"The key."},
  "workspace_id":{"type":"string","order":1},
  "page_size":{"type":"integer","default":5000,"order":2,"description":"Records per request."},
  "catalog":{"type":"object","order":3,"oneOf":[
    {"title":"SQL","properties":{"catalog_type":{"type":"string","const":"sql"},"uri":{"type":"string"}}},
    {"title":"REST","required":["uri"],"properties":{"catalog_type":{"type":"string","const":"rest"},"uri":{"type":"string"},"token":{"type":"string","airbyte_secret":true}}}]}}}`)

// cliSource is a source whose Read sends what a real one does, slowly enough for progress lines.
type cliSource struct{ delay time.Duration }

func (cliSource) Spec() *Spec { return &Spec{ConnectionSpecification: cliSpec} }
func (cliSource) Check(context.Context, json.RawMessage) (*ConnectionStatus, error) {
	return Succeeded("reached it"), nil
}
func (cliSource) Discover(context.Context, json.RawMessage) (*Catalog, error) { return &Catalog{}, nil }
func (s cliSource) Read(_ context.Context, _ json.RawMessage, _ *ConfiguredCatalog, _ *StateInput, out *Writer) error {
	d := StreamDescriptor{Name: "a"}
	out.SetFigures(func() Figures { return Figures{Line: "7 requests"} })
	out.StreamStatus(d, StatusStarted)
	for i := range 3 {
		out.Record("a", "", json.RawMessage(`{"id":1}`), 1)
		out.State(d, json.RawMessage(`{"n":`+string(rune('0'+i))+`}`), 1)
		time.Sleep(s.delay)
	}
	out.Log(LogWarn, "something to know")
	return out.StreamStatus(d, StatusComplete)
}

// echoDestination commits nothing and echoes every state it reads.
type echoDestination struct{}

func (echoDestination) Spec() *Spec { return &Spec{ConnectionSpecification: cliSpec} }
func (echoDestination) Check(context.Context, json.RawMessage) (*ConnectionStatus, error) {
	return Succeeded(""), nil
}
func (echoDestination) Write(_ context.Context, _ json.RawMessage, _ *ConfiguredCatalog, in io.Reader, out *Writer) error {
	return ReadLines(in, func(_ int, line []byte) error {
		if bytes.Contains(line, []byte(`"STATE"`)) {
			echo, err := EchoState(line, 1, 0)
			if err != nil {
				return err
			}
			return out.SendRaw(echo)
		}
		return nil
	})
}

func cliProgram() *Program {
	return &Program{Name: "src", Summary: "a test source.", Docs: "README.md#somewhere", Source: cliSource{},
		Commands: []Command{{Name: "extra", Summary: "an extra command", Run: func(_ context.Context, args []string, _ io.Reader, stdout, _ io.Writer) int {
			if len(args) == 1 && args[0] == "--help" {
				io.WriteString(stdout, "Usage: src extra\n")
				return 0
			}
			return 3
		}}}}
}

func runCLI(t *testing.T, p *Program, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := p.Main(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpOnStdoutWithExitZero(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"-help"}} {
		code, out, errs := runCLI(t, cliProgram(), "", args...)
		if code != 0 || errs != "" {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs)
		}
		for _, want := range []string{"Usage:", "spec ", "check ", "discover ", "read ", "extra ", "an extra command",
			"api_key", "required, secret", "page_size", "default 5000", "catalog.catalog_type=rest", "uri (required)", "README.md#somewhere"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q: help lacks %q:\n%s", args, want, out)
			}
		}
	}
	for _, args := range [][]string{{"help", "read"}, {"read", "--help"}, {"read", "-h"}, {"read", "--config", "x", "--help"}} {
		code, out, errs := runCLI(t, cliProgram(), "", args...)
		if code != 0 || errs != "" || !strings.Contains(out, "Usage: src read --config <file> --catalog <file> [--state <file>]") ||
			!strings.Contains(out, "--quiet") || !strings.Contains(out, "default 5000") {
			t.Errorf("%q: exit %d, stderr %q, stdout:\n%s", args, code, errs, out)
		}
	}
	if code, out, _ := runCLI(t, cliProgram(), "", "help", "check"); code != 0 || !strings.Contains(out, `grep -q '"status":"SUCCEEDED"'`) {
		t.Errorf("check's help must say how a script tests it: %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, cliProgram(), "", "help", "extra"); code != 0 || out != "Usage: src extra\n" {
		t.Errorf("help extra: %d %q", code, out)
	}
	dest := &Program{Name: "dst", Destination: echoDestination{}}
	if _, out, _ := runCLI(t, dest, "", "help"); !strings.Contains(out, "write ") || strings.Contains(out, "discover") {
		t.Errorf("a destination lists write and not discover:\n%s", out)
	}
	if _, out, _ := runCLI(t, dest, "", "write", "--help"); !strings.Contains(out, "--state-file <file>") {
		t.Errorf("write's help lacks --state-file:\n%s", out)
	}
}

func TestBadCommandLineIsATrace(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{nil, []string{"no command given", "spec, check, discover, read, extra"}},
		{[]string{"--version"}, []string{`unknown command "--version"`, "spec, check, discover, read, extra"}},
		{[]string{"raed"}, []string{`did you mean "read"?`}},
		{[]string{"read", "--config", "c", "--catalog", "k", "--stat", "s"}, []string{"unknown flag --stat", "did you mean --state?", "--catalog, --config"}},
		{[]string{"spec", "--config", "c"}, []string{"unknown flag --config: command spec takes no flags"}},
		{[]string{"read", "--config", "c"}, []string{"command read needs --catalog <file>"}},
		{[]string{"read", "--config"}, []string{"flag --config of command read needs a value <file>"}},
		{[]string{"check", "c.json"}, []string{`unexpected argument "c.json"`}},
		{[]string{"help", "nope"}, []string{`unknown command "nope"`}},
	}
	for _, c := range cases {
		code, out, errs := runCLI(t, cliProgram(), "", c.args...)
		var m Message
		if code != 1 || json.Unmarshal([]byte(strings.TrimSpace(out)), &m) != nil || m.Trace == nil || m.Trace.Error == nil ||
			m.Trace.Error.FailureType != ConfigError {
			t.Errorf("%q: exit %d, stdout %q; want one config_error TRACE and exit 1", c.args, code, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(m.Trace.Error.Message, w) || !strings.Contains(errs, w) {
				t.Errorf("%q: %q is not in the trace %q or on stderr %q", c.args, w, m.Trace.Error.Message, errs)
			}
		}
		if !strings.Contains(errs, "Run `src help` for usage.") {
			t.Errorf("%q: stderr does not point at help: %q", c.args, errs)
		}
	}
}

func TestUnknownFields(t *testing.T) {
	cfg := `{"api_key":"K-1234567890","worksapce_id":"abc","catalog":{"catalog_type":"rest","urii":"x","token":"t"},"uri":"y","zzz":1}`
	got := UnknownFields(cliSpec, json.RawMessage(cfg))
	want := []UnknownField{{"worksapce_id", "workspace_id"}, {"catalog.urii", "catalog.uri"}, {"uri", "catalog.uri"}, {"zzz", "uri"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Path != want[i].Path || (i < 3 && got[i].Nearest != want[i].Nearest) {
			t.Errorf("field %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if u := UnknownFields(cliSpec, json.RawMessage(`{"api_key":"k","page_size":5,"catalog":{"catalog_type":"sql","uri":"u"}}`)); len(u) != 0 {
		t.Errorf("known fields reported: %+v", u)
	}

	// check says so in its status, read in a LOG WARN; both on stderr, never the key.
	path := writeFile(t, "c.json", `{"api_key":"K-1234567890","worksapce_id":"abc"}`)
	code, out, errs := runCLI(t, cliProgram(), "", "check", "--config", path)
	if code != 0 || !strings.Contains(out, `"status":"SUCCEEDED"`) || !strings.Contains(out, `\"worksapce_id\" is not one this connector knows`) ||
		!strings.Contains(out, `nearest known field: \"workspace_id\"`) {
		t.Errorf("check: %d %s", code, out)
	}
	if !strings.Contains(errs, `WARN: config field "worksapce_id"`) || !strings.Contains(errs, "src check: SUCCEEDED: reached it; warning:") {
		t.Errorf("check's stderr: %s", errs)
	}
	cat := writeFile(t, "cat.json", `{"streams":[{"stream":{"name":"a","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`)
	_, out, _ = runCLI(t, cliProgram(), "", "read", "--config", path, "--catalog", cat, "--quiet")
	if !strings.Contains(out, `{"type":"LOG","log":{"level":"WARN","message":"config field \"worksapce_id\"`) {
		t.Errorf("read sends no WARN:\n%s", out)
	}
	if strings.Contains(out+errs, "K-1234567890") {
		t.Error("the key leaked")
	}
}

func TestParseErrorsSayWhere(t *testing.T) {
	p := cliProgram()
	good := writeFile(t, "good.json", `{"api_key":"K-1"}`)
	trailing := writeFile(t, "trailing.json", "{\"api_key\": \"K-1\",\n  \"page_size\": 5,\n}\n")
	notObject := writeFile(t, "array.json", `[1]`)
	badCat := writeFile(t, "cat.json", "{\"streams\": [\n  {\"stream\": {\"name\": \"a\"}, \"sync_mode\": 7}\n]}")
	badState := writeFile(t, "state.json", "[\n{\"type\": \"STREAM\",, }\n]")
	cat := writeFile(t, "okcat.json", `{"streams":[{"stream":{"name":"a","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--config", trailing}, "is not valid JSON: line 3, column 1: invalid character '}' looking for beginning of object key string (JSON allows no comma before a closing bracket)"},
		{[]string{"check", "--config", notObject}, "holds a JSON array, not an object"},
		{[]string{"read", "--config", good, "--catalog", badCat}, "line 2, column 42: streams.sync_mode holds a JSON number where airbyte.SyncMode is expected"},
		{[]string{"read", "--config", good, "--catalog", cat, "--state", badState}, "is not valid JSON: line 2, column 19: invalid character ','"},
	} {
		_, out, _ := runCLI(t, p, "", c.args...)
		if !strings.Contains(out, c.want) {
			t.Errorf("%q: want %q in\n%s", c.args, c.want, out)
		}
	}
}

func TestProgressAndSummaryOnStderr(t *testing.T) {
	cfg := writeFile(t, "c.json", `{"api_key":"K-1"}`)
	cat := writeFile(t, "cat.json", `{"streams":[{"stream":{"name":"a","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`)
	p := &Program{Name: "src", Source: cliSource{delay: 40 * time.Millisecond}}
	code, out, errs := runCLI(t, p, "", "read", "--config", cfg, "--catalog", cat, "--progress-interval", "30ms")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("stdout line %d is not JSON: %q", i+1, line)
		}
	}
	for _, want := range []string{"src: 0/1 streams done, ", "records, ", "; 7 requests\n", "src: WARN: something to know\n",
		"src: read 3 records of 1 streams in ", "  stream  status    records  states  time\n", "  a       COMPLETE        3       3  0."} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if _, _, errs := runCLI(t, p, "", "read", "--config", cfg, "--catalog", cat, "--progress-interval", "30ms", "--quiet"); !strings.HasPrefix(errs, "src: WARN:") || strings.Contains(errs, "records") {
		t.Errorf("--quiet keeps only warnings, got:\n%s", errs)
	}
	t.Setenv("WORKER_JOB_ID", "42")
	if _, _, errs := runCLI(t, p, "", "read", "--config", cfg, "--catalog", cat, "--progress-interval", "30ms"); errs != "" {
		t.Errorf("inside the platform stderr stays empty, got:\n%s", errs)
	}
}

func TestStateFileKeepsTheLatestStatePerStream(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, "c.json", `{"api_key":"K-1"}`)
	cat := writeFile(t, "cat.json", `{"streams":[
	  {"stream":{"name":"a","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"},
	  {"stream":{"name":"b","json_schema":{},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`)
	stateFile := filepath.Join(dir, "state.json")
	// An earlier run left a state for c, which this run's catalog does not have.
	if err := os.WriteFile(stateFile, []byte(`[{"type":"STREAM","stream":{"stream_descriptor":{"name":"c"},"stream_state":{"kept":true}}}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	st := func(name, v string) string {
		return `{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"` + name + `"},"stream_state":{"v":` + v + `}},"id":` + v + `}}` + "\n"
	}
	in := st("a", "1") + `{"type":"RECORD","record":{"stream":"a","data":{"x":1},"emitted_at":1}}` + "\n" + st("b", "2") + st("a", "3")
	code, out, errs := runCLI(t, &Program{Name: "dst", Destination: echoDestination{}}, in, "write", "--config", cfg, "--catalog", cat, "--state-file", stateFile)
	if code != 0 || strings.Count(out, `"STATE"`) != 3 {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, out, errs)
	}
	b, err := os.ReadFile(stateFile)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseStateInput(b)
	if err != nil {
		t.Fatalf("the state file is not a --state file: %v\n%s", err, b)
	}
	for name, want := range map[string]string{"a": `{"v":3}`, "b": `{"v":2}`, "c": `{"kept":true}`} {
		if got := string(parsed.Stream(StreamDescriptor{Name: name})); got != want {
			t.Errorf("stream %s: state %s, want %s", name, got, want)
		}
	}
	if !strings.Contains(string(b), `"destinationStats":{"recordCount":1.0}`) {
		t.Errorf("the file should hold the echoed states as echoed:\n%s", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left beside the state file: %v", entries)
	}
	if !strings.Contains(errs, "dst: committed 3 records of 2 streams") {
		t.Errorf("summary: %s", errs)
	}

	// A state file that is not one fails before anything is read.
	os.WriteFile(stateFile, []byte(`"nope"`), 0o600)
	code, out, _ = runCLI(t, &Program{Name: "dst", Destination: echoDestination{}}, in, "write", "--config", cfg, "--catalog", cat, "--state-file", stateFile)
	if code != 1 || !strings.Contains(out, "is not a state file") {
		t.Errorf("bad state file: %d %s", code, out)
	}
}
