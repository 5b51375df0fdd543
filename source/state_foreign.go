package source

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/source/streams"
)

// stateKeys are the keys this source writes in a stream_state (see streamState).
var stateKeys = []string{"sync_id", "done", "completed", "cursors"}

// foreignState describes what in a --state file cannot have been written by this source:
// states of streams it does not have, GLOBAL shared state (it writes STREAM states only) and
// LEGACY keys that name no stream of it. An empty result means nothing looks foreign. A state of
// one of its streams with none of its keys is reported per stream by parseStreamState.
func foreignState(in *airbyte.StateInput) string {
	if in == nil {
		return ""
	}
	var unknown []string
	for d := range in.Streams {
		if streams.ByName(d.Name) == nil {
			unknown = append(unknown, d.String())
		}
	}
	var legacy map[string]json.RawMessage
	if len(in.Legacy) > 0 && json.Unmarshal(in.Legacy, &legacy) == nil {
		for k := range legacy {
			if streams.ByName(k) == nil {
				unknown = append(unknown, k)
			}
		}
	}
	sort.Strings(unknown)
	var parts []string
	if len(unknown) > 0 {
		if len(unknown) > 8 {
			unknown = append(unknown[:8], fmt.Sprintf("and %d more", len(unknown)-8))
		}
		parts = append(parts, fmt.Sprintf("it holds state for stream(s) %s, which this source does not have", strings.Join(unknown, ", ")))
	}
	if len(in.Shared) > 0 && string(in.Shared) != "null" {
		parts = append(parts, "it is a GLOBAL state with a shared_state, which this source never writes")
	}
	if len(parts) == 0 {
		return ""
	}
	return "the state file looks like another connector's: " + strings.Join(parts, "; ") + "; those parts are ignored"
}

// foreignStreamState reports a stream_state object that has keys, none of them this source's.
func foreignStreamState(raw json.RawMessage) error {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil
	}
	for _, k := range stateKeys {
		if _, ok := m[k]; ok {
			return nil
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 5 {
		keys = append(keys[:5], "…")
	}
	return fmt.Errorf("it has none of this source's keys (%s) but %s; it looks like another connector's state",
		strings.Join(stateKeys, ", "), strings.Join(keys, ", "))
}
