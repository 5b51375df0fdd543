package source

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/clockberg/clockberg/airbyte"
)

// streamState is the stream_state this source writes for every stream.
//
// Completed partitions make a restarted attempt skip work already delivered. They are only
// trusted when the state belongs to the same sync (sync_id of the configured catalog, which the
// platform keeps across the attempts of one job); a state from an earlier, finished sync must
// not make a new full refresh skip anything. Without sync_id (a shell pipe) unfinished progress
// is trusted and a finished stream starts over.
//
// Cursors map a partition of an incremental stream (for a member's time entries,
// "workspace/member") to the newest cursor value read there; they hold across syncs.
type streamState struct {
	SyncID    *int64            `json:"sync_id,omitempty"`
	Done      bool              `json:"done,omitempty"`
	Completed []string          `json:"completed,omitempty"`
	Cursors   map[string]string `json:"cursors,omitempty"`
}

// resumeInfo is what an input state means for this read.
type resumeInfo struct {
	skipAll   bool            // the stream finished in this same sync attempt chain
	completed map[string]bool // partitions to skip
	cursors   map[string]time.Time
	raw       map[string]string // cursor strings as read, written back until replaced
}

// parseStreamState reads one stream's input state. Unknown shapes are ignored with a warning by
// the caller (a full re-read loses nothing).
func parseStreamState(raw json.RawMessage, syncID *int64) (*resumeInfo, error) {
	ri := &resumeInfo{completed: map[string]bool{}, cursors: map[string]time.Time{}, raw: map[string]string{}}
	if len(raw) == 0 {
		return ri, nil
	}
	var st streamState
	if err := json.Unmarshal(raw, &st); err != nil {
		return ri, err
	}
	if err := foreignStreamState(raw); err != nil {
		return ri, err
	}
	for k, v := range st.Cursors {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			continue
		}
		ri.cursors[k] = t
		ri.raw[k] = v
	}
	sameSync := true
	if syncID != nil || st.SyncID != nil {
		sameSync = syncID != nil && st.SyncID != nil && *syncID == *st.SyncID
	}
	if st.Done {
		ri.skipAll = sameSync && syncID != nil
		return ri, nil
	}
	if sameSync {
		for _, k := range st.Completed {
			ri.completed[k] = true
		}
	}
	return ri, nil
}

// inputState finds a stream's state in any input form: STREAM/GLOBAL states by descriptor, or a
// LEGACY object keyed by stream name.
func inputState(in *airbyte.StateInput, d airbyte.StreamDescriptor) json.RawMessage {
	if in == nil {
		return nil
	}
	if raw := in.Stream(d); raw != nil {
		return raw
	}
	if len(in.Legacy) > 0 {
		var m map[string]json.RawMessage
		if json.Unmarshal(in.Legacy, &m) == nil {
			if v, ok := m[d.Name]; ok && string(v) != "null" {
				return v
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
