package source

import (
	"context"
	"strings"
	"testing"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
)

// A state file written by another connector is not used, and the read says so with a WARN.
func TestStateFromAnotherConnectorIsWarnedAbout(t *testing.T) {
	s := startSim(t, clockifysim.Demo(), nil)
	cat := configuredCatalog(t, map[string]airbyte.SyncMode{sTimeEntries: airbyte.Incremental}, nil)
	total := len(entries(t, readCmd(t, context.Background(), New(), s.config(nil), cat, nil)))
	stream := func(name string, st map[string]any) map[string]any {
		return map[string]any{"type": "STREAM", "stream": map[string]any{"stream_descriptor": map[string]any{"name": name}, "stream_state": st}}
	}
	for name, tc := range map[string]struct {
		state any
		want  string
	}{
		// Airbyte's own Clockify connector (Python CDK): full-refresh checkpoints of its streams.
		"our stream names, another connector's keys": {[]any{stream(sTimeEntries, map[string]any{"__ab_no_cursor_state_message": true})},
			"none of this source's keys"},
		"cursor of another API": {[]any{stream(sTimeEntries, map[string]any{"updated_at": "2024-01-01T00:00:00Z"})},
			"it looks like another connector's state"},
		"streams this source does not have": {[]any{stream("issues", map[string]any{"updated_at": "2024-01-01"}), stream("pull_requests", map[string]any{"x": 1})},
			"stream(s) issues, pull_requests, which this source does not have"},
		"a GLOBAL state (CDC)": {map[string]any{"type": "GLOBAL", "global": map[string]any{"shared_state": map[string]any{"lsn": 123},
			"stream_states": []any{map[string]any{"stream_descriptor": map[string]any{"name": "orders"}, "stream_state": map[string]any{"lsn": 1}}}}},
			"GLOBAL state with a shared_state"},
		"a LEGACY blob of other streams": {map[string]any{"repositories": map[string]any{"since": 1}}, "stream(s) repositories"},
	} {
		t.Run(name, func(t *testing.T) {
			res := readCmd(t, context.Background(), New(), s.config(nil), cat, tc.state)
			warns := strings.Join(res.logs("WARN"), "\n")
			if res.code != 0 || !strings.Contains(warns, tc.want) {
				t.Fatalf("exit %d, warnings %q, want %q", res.code, warns, tc.want)
			}
			if n := len(entries(t, res)); n != total {
				t.Errorf("%d time entries, want the full read of %d", n, total)
			}
		})
	}
	// Our own state draws no such warning.
	first := readCmd(t, context.Background(), New(), s.config(nil), cat, nil)
	res := readCmd(t, context.Background(), New(), s.config(nil), cat, []any{first.finalStates()[0]})
	if w := strings.Join(res.logs("WARN"), "\n"); strings.Contains(w, "another connector") {
		t.Errorf("our own state was called foreign: %s", w)
	}
}
