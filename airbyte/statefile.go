package airbyte

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// stateFile is a destination's --state-file: the latest echoed state of every stream, kept in the
// form a source reads with --state (a JSON array of state payloads). It starts from the file's
// previous content, so streams a run does not touch keep their state, and is rewritten atomically
// (temporary file, fsync, rename) after every echo: a crash leaves the previous version or the
// new one, never a mix.
type stateFile struct {
	path string

	mu      sync.Mutex
	streams map[StreamDescriptor]json.RawMessage // STREAM states by stream
	whole   json.RawMessage                      // a GLOBAL state (as a one-element array) or a LEGACY blob
}

func openStateFile(path string) (*stateFile, error) {
	f := &stateFile{path: path, streams: map[StreamDescriptor]json.RawMessage{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, ConfigErrorf("cannot read the --state-file %s: %v", path, err)
	default:
		prev, err := ParseStateInput(b)
		if err != nil {
			return nil, ConfigErrorf("the --state-file %s exists but is not a state file (%v); move it away to start over", path, err)
		}
		if prev.Legacy != nil || prev.Shared != nil {
			f.whole = bytes.TrimSpace(b)
		} else {
			for d, st := range prev.Streams {
				f.streams[d] = streamStatePayload(d, st)
			}
		}
	}
	// Fail before the sync, not at its first echo, when the folder cannot take the file.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".state-probe-*")
	if err != nil {
		return nil, ConfigErrorf("the --state-file %s cannot be written: %v", path, err)
	}
	tmp.Close()
	os.Remove(tmp.Name())
	return f, nil
}

func streamStatePayload(d StreamDescriptor, st json.RawMessage) json.RawMessage {
	if len(st) == 0 {
		st = json.RawMessage("null")
	}
	b, _ := json.Marshal(State{Type: StateStream, Stream: &StreamState{StreamDescriptor: d, StreamState: st}})
	return b
}

// echoed records the state payload of an echoed STATE message and rewrites the file.
func (f *stateFile) echoed(line []byte) error {
	var m struct {
		State json.RawMessage `json:"state"`
	}
	if err := json.Unmarshal(line, &m); err != nil || len(m.State) == 0 {
		return nil // not a state echo
	}
	var st State
	if err := json.Unmarshal(m.State, &st); err != nil {
		return SystemErrorf("the --state-file %s: an echoed state is not a state object: %v", f.path, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case st.Type == StateStream || (st.Type == "" && st.Stream != nil):
		if st.Stream == nil {
			return nil
		}
		f.whole = nil
		f.streams[st.Stream.StreamDescriptor] = slices.Clone(m.State)
	case st.Type == StateGlobal:
		clear(f.streams)
		f.whole = append(append(json.RawMessage("["), m.State...), ']')
	default:
		clear(f.streams)
		f.whole = slices.Clone(st.Data)
	}
	if err := f.write(); err != nil {
		return SystemErrorf("writing the --state-file %s: %v", f.path, err)
	}
	return nil
}

// write replaces the file with the current states, sorted by stream. f.mu is held.
func (f *stateFile) write() error {
	b := f.whole
	if b == nil {
		keys := slices.SortedFunc(func(yield func(StreamDescriptor) bool) {
			for d := range f.streams {
				if !yield(d) {
					return
				}
			}
		}, func(a, b StreamDescriptor) int {
			return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
		})
		var buf bytes.Buffer
		buf.WriteString("[\n")
		for i, d := range keys {
			if i > 0 {
				buf.WriteString(",\n")
			}
			buf.WriteString("  ")
			buf.Write(f.streams[d])
		}
		buf.WriteString("\n]\n")
		b = buf.Bytes()
	}
	return writeFileAtomic(f.path, b)
}

// writeFileAtomic writes b to path through a temporary file in the same folder, synced before it
// is renamed over path.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}
