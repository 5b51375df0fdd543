package source

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
	"github.com/clockberg/clockberg/source/clockify"
	"github.com/clockberg/clockberg/source/streams"
)

// rewrite wraps the simulator so that matching responses are edited before they are sent.
func rewrite(match func(*http.Request) bool, edit func(status int, body []byte) (int, []byte)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !match(r) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			status, body := edit(rec.Code, rec.Body.Bytes())
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(status)
			w.Write(body)
		})
	}
}

// claimAllFeatures makes every workspace advertise the top plan, so the source cannot skip
// gated streams up front and the simulator's 402/403 answers reach it.
var claimAllFeatures = rewrite(
	func(r *http.Request) bool { return r.URL.Path == "/api/v1/workspaces" },
	func(status int, body []byte) (int, []byte) {
		body = bytes.ReplaceAll(body, []byte(`"featureSubscriptionType":"FREE","features":[]`),
			[]byte(`"featureSubscriptionType":"ENTERPRISE_2021","features":`+allFeatures()))
		return status, body
	})

func allFeatures() string {
	b, _ := json.Marshal(streams.Features(streams.Enterprise))
	return string(b)
}

func TestPlanGatingResponses(t *testing.T) {
	for _, gate := range []int{403, 402} {
		t.Run(strconv.Itoa(gate), func(t *testing.T) {
			cfg := clockifysim.Demo()
			cfg.PlanGateStatus = gate
			s := startSim(t, cfg, claimAllFeatures)
			res := readCmd(t, context.Background(), New(), s.config(nil), configuredCatalog(t, nil, nil), nil)
			if res.code != 0 {
				t.Fatalf("exit %d, errors %+v", res.code, res.errors())
			}
			checkProtocol(t, res, streams.Names())
			if st := s.Stats(); st.Statuses[gate] == 0 {
				t.Fatalf("the simulator never answered %d; the test does not exercise gating (statuses %v)", gate, st.Statuses)
			}
			free := s.WorkspaceIDs()[0]
			warned := map[string]bool{}
			for _, l := range res.logs("WARN") {
				if strings.Contains(l, "HTTP "+strconv.Itoa(gate)) && strings.Contains(l, free) {
					for _, d := range streams.All {
						if strings.Contains(l, "stream "+d.Name+":") {
							warned[d.Name] = true
							if d.Gate != nil && !strings.Contains(l, d.Gate.Plan.String()) {
								t.Errorf("warning does not name the plan %s: %s", d.Gate.Plan, l)
							}
						}
					}
				}
			}
			for _, d := range streams.All {
				if d.Gate != nil && !warned[d.Name] {
					t.Errorf("no WARN for gated stream %s in workspace %s; warnings: %q", d.Name, free, res.logs("WARN"))
				}
			}
			got := idsByStream(t, res.records())
			for n, ids := range s.GroundTruth() {
				if d := diffIDs(ids, got[n]); d != "" {
					t.Errorf("stream %s: %s", n, d)
				}
			}
		})
	}
}

func TestUnauthorizedRead(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), nil)
	res := readCmd(t, context.Background(), New(), s.config(map[string]any{"api_key": "wrong-key-abcdef"}), configuredCatalog(t, nil, nil), nil)
	if res.code == 0 {
		t.Fatal("read with a rejected key exited 0")
	}
	errs := res.errors()
	if len(errs) == 0 || errs[0].Error.FailureType != string(airbyte.ConfigError) || !strings.Contains(errs[0].Error.Message, "401") {
		t.Fatalf("want a config_error TRACE naming the 401, got %+v", errs)
	}
	if n := len(res.records()); n != 0 {
		t.Errorf("%d records after a 401", n)
	}
	for name, seq := range res.statuses() {
		if seq[len(seq)-1] == "COMPLETE" {
			t.Errorf("stream %s COMPLETE after a 401", name)
		}
	}
}

func TestInvalidCatalog(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), nil)
	good := configuredCatalog(t, map[string]airbyte.SyncMode{"tags": airbyte.FullRefresh}, nil)
	unknown := *good
	unknown.Streams = append([]airbyte.ConfiguredStream{}, good.Streams...)
	unknown.Streams = append(unknown.Streams, airbyte.ConfiguredStream{Stream: airbyte.Stream{Name: "__AIRBYTE__stream_that_does_not_exist", JSONSchema: []byte(`{"type":"object"}`)},
		SyncMode: airbyte.FullRefresh, DestinationSyncMode: airbyte.Append})
	cases := map[string]any{
		"unknown stream":           &unknown,
		"invalid sync mode":        strings.Replace(string(mustJSON(t, good)), `"sync_mode":"full_refresh"`, `"sync_mode":"INVALID"`, 1),
		"invalid destination mode": strings.Replace(string(mustJSON(t, good)), `"destination_sync_mode":"append"`, `"destination_sync_mode":"INVALID"`, 1),
	}
	for name, cat := range cases {
		t.Run(name, func(t *testing.T) {
			res := readCmd(t, context.Background(), New(), s.config(nil), cat, nil)
			if res.code == 0 || len(res.errors()) == 0 {
				t.Fatalf("exit %d with %d TRACE ERRORs; want a TRACE ERROR and a non-zero exit", res.code, len(res.errors()))
			}
			if n := len(res.records()); n != 0 {
				t.Errorf("%d records emitted for an invalid catalog", n)
			}
		})
	}
	if st := s.Stats(); st.Requests != 0 {
		t.Errorf("an invalid catalog cost %d requests", st.Requests)
	}
}

// TestIncrementalOnFullRefreshStream: a client asking for incremental on a stream without a
// cursor (PyAirbyte does, for every stream) gets the stream in full and a WARN, not a failed sync.
func TestIncrementalOnFullRefreshStream(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), nil)
	good := configuredCatalog(t, map[string]airbyte.SyncMode{"tags": airbyte.FullRefresh}, nil)
	cat := strings.Replace(string(mustJSON(t, good)), `"sync_mode":"full_refresh"`, `"sync_mode":"incremental"`, 1)
	res := readCmd(t, context.Background(), New(), s.config(nil), cat, nil)
	if res.code != 0 || len(res.errors()) != 0 {
		t.Fatalf("exit %d with %d TRACE ERRORs; want a full read", res.code, len(res.errors()))
	}
	if got, want := len(res.records()), len(s.GroundTruth()["tags"]); got != want || want == 0 {
		t.Errorf("%d tags records, want %d", got, want)
	}
	if !strings.Contains(string(res.stdout), "supports only full_refresh") {
		t.Error("no WARN about the downgraded sync mode")
	}
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNoKeyInOutput runs every command, successful and failing, and scans everything written.
func TestNoKeyInOutput(t *testing.T) {
	const key = "sim-secret-KEY-9f8e7d6c5b4a39281706"
	const wrong = "wrong-secret-KEY-0a1b2c3d4e5f"
	cfg := clockifysim.Demo()
	cfg.APIKey = key
	s := startSim(t, cfg, nil)
	dir := t.TempDir()
	var outputs [][]byte
	collect := func(r *result) { outputs = append(outputs, r.stdout, r.stderr) }
	for _, k := range []string{key, wrong} {
		c := s.config(map[string]any{"api_key": k})
		cp := writeJSONFile(t, dir, "config.json", c)
		collect(run(t, context.Background(), New(), "spec"))
		collect(run(t, context.Background(), New(), "check", "--config", cp))
		collect(run(t, context.Background(), New(), "discover", "--config", cp))
		collect(readCmd(t, context.Background(), New(), c, configuredCatalog(t, nil, nil), nil))
		// A config the spec rejects still must not echo the key.
		bad := s.config(map[string]any{"api_key": k, "page_size": "many"})
		collect(run(t, context.Background(), New(), "check", "--config", writeJSONFile(t, dir, "bad.json", bad)))
		collect(run(t, context.Background(), New(), "read", "--config", writeJSONFile(t, dir, "bad2.json", bad), "--catalog", "/nonexistent"))
		// A plain-http remote URL is refused before any request.
		collect(run(t, context.Background(), New(), "check", "--config", writeJSONFile(t, dir, "bad3.json", map[string]any{"api_key": k, "api_url": "http://" + k + ".example.com"})))
	}
	total := 0
	for _, o := range outputs {
		total += len(o)
		for _, k := range []string{key, wrong} {
			if i := bytes.Index(o, []byte(k)); i >= 0 {
				t.Fatalf("output contains an API key: %q", o[max(0, i-100):min(len(o), i+50)])
			}
		}
	}
	if total < 10000 {
		t.Fatalf("only %d bytes of output scanned; the commands did not run", total)
	}
}

// TestStreamFailureIsolated: a request Clockify refuses fails its stream (and the streams that
// hang from it) with a TRACE ERROR naming the stream and the path; the others complete and the
// read exits non-zero at the end.
func TestStreamFailureIsolated(t *testing.T) {
	cfg := clockifysim.Demo()
	var target string
	refuse := rewrite(func(r *http.Request) bool {
		return strings.HasPrefix(r.URL.Path, "/api/v1/workspaces/"+target+"/") &&
			(strings.HasSuffix(r.URL.Path, "/tags") || strings.HasSuffix(r.URL.Path, "/projects") || strings.Contains(r.URL.Path, "/user/"))
	}, func(status int, body []byte) (int, []byte) {
		if status != 200 {
			return status, body
		}
		return 400, []byte(`{"message":"Simulated refusal","code":3000}`)
	})
	s := startSim(t, cfg, refuse)
	target = s.WorkspaceIDs()[1]
	res := readCmd(t, context.Background(), New(), s.config(nil), configuredCatalog(t, nil, nil), nil)
	if res.code == 0 {
		t.Fatal("exit 0 although streams failed")
	}
	failed := map[string]string{}
	for _, e := range res.errors() {
		if e.Error.Stream == nil {
			t.Fatalf("TRACE ERROR without a stream: %+v", e.Error)
		}
		failed[e.Error.Stream.Name] = e.Error.Message
	}
	for _, n := range []string{sTags, sProjects, sTasks, sTimeEntries} {
		msg, ok := failed[n]
		if !ok {
			t.Errorf("no TRACE ERROR for %s; errors %v", n, failed)
			continue
		}
		if !strings.Contains(msg, target) {
			t.Errorf("error of %s does not name the workspace/path: %s", n, msg)
		}
	}
	if len(failed) != 4 {
		t.Errorf("failed streams %v, want exactly tags, projects, tasks, time_entries", failed)
	}
	for name, seq := range res.statuses() {
		want := "COMPLETE"
		if _, bad := failed[name]; bad {
			want = "INCOMPLETE"
		}
		if seq[len(seq)-1] != want {
			t.Errorf("stream %s ended %s, want %s", name, seq[len(seq)-1], want)
		}
	}
	// Partitions that did succeed were delivered and are claimed by the last good state.
	got := idsByStream(t, res.records())
	truth := s.GroundTruth()
	if d := diffIDs(truth[sClients], got[sClients]); d != "" {
		t.Errorf("clients: %s", d)
	}
	if len(got[sTags]) == 0 {
		t.Error("the tags of the healthy workspace are missing")
	}
	var tagState streamState
	for _, st := range res.states() {
		if st.Stream.Descriptor.Name == sTags {
			json.Unmarshal(st.Stream.StreamState, &tagState)
		}
	}
	if tagState.Done || len(tagState.Completed) != 1 || tagState.Completed[0] == target {
		t.Errorf("last tags state %+v; want the healthy workspace only, not done", tagState)
	}
}

// TestRetriesExhausted: an endpoint that keeps answering 503 fails its stream with a
// transient_error naming the path once the retry bounds run out; the rest of the read completes.
func TestRetriesExhausted(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), rewrite(func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/clients") },
		func(int, []byte) (int, []byte) { return 503, []byte("<html>upstream unavailable</html>") }))
	src := New()
	src.tune = func(o *clockify.Options) { o.MaxAttempts = 2 }
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sClients: airbyte.FullRefresh, sTags: airbyte.FullRefresh}, nil)
	res := readCmd(t, context.Background(), src, s.config(nil), cat, nil)
	if res.code == 0 {
		t.Fatal("exit 0 although clients kept failing")
	}
	errs := res.errors()
	if len(errs) != 1 || errs[0].Error.Stream == nil || errs[0].Error.Stream.Name != sClients ||
		errs[0].Error.FailureType != string(airbyte.TransientError) || !strings.Contains(errs[0].Error.Message, "/clients") ||
		!strings.Contains(errs[0].Error.Message, "503") {
		t.Fatalf("want one transient_error for clients naming the path and the status, got %+v", errs)
	}
	st := res.statuses()
	if last := st[sClients][len(st[sClients])-1]; last != "INCOMPLETE" {
		t.Errorf("clients ended %s", last)
	}
	if last := st[sTags][len(st[sTags])-1]; last != "COMPLETE" {
		t.Errorf("tags ended %s", last)
	}
}
