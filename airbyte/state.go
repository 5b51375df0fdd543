package airbyte

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// StateInput is a --state file in any of the forms the platform writes. The zero value means "no
// state": a first sync.
type StateInput struct {
	// Streams maps each stream to its opaque stream_state (STREAM states, or the stream states of a
	// GLOBAL state). A stream present with a JSON null value was reset.
	Streams map[StreamDescriptor]json.RawMessage
	// Shared is the shared_state of a GLOBAL state.
	Shared json.RawMessage
	// Legacy is the bare blob of a LEGACY state.
	Legacy json.RawMessage
}

// Stream returns the state of one stream, or nil when there is none (or it was reset).
func (s *StateInput) Stream(d StreamDescriptor) json.RawMessage {
	if s == nil || s.Streams == nil {
		return nil
	}
	v := s.Streams[d]
	if isJSONNull(v) {
		return nil
	}
	return v
}

// ReadStateInput reads a --state file; an empty path means no state.
func ReadStateInput(path string) (*StateInput, error) {
	if path == "" {
		return &StateInput{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, ConfigErrorf("cannot read the state file %s: %v", path, err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil && len(bytes.TrimSpace(b)) > 0 {
		return nil, ConfigErrorf("the state file %s is not valid JSON: %v", path, DescribeJSONError(b, err))
	}
	st, err := ParseStateInput(b)
	if err != nil {
		return nil, ConfigErrorf("the state file %s: %v", path, err)
	}
	return st, nil
}

// ParseStateInput accepts a JSON array of STREAM or GLOBAL state messages (bare or wrapped in
// {"type":"STATE","state":...}), a single such message, a LEGACY blob, or empty/null/{}/[].
func ParseStateInput(b []byte) (*StateInput, error) {
	b = bytes.TrimSpace(b)
	st := &StateInput{}
	if len(b) == 0 || isJSONNull(b) || string(b) == "{}" || string(b) == "[]" {
		return st, nil
	}
	var items []json.RawMessage
	switch b[0] {
	case '[':
		if err := json.Unmarshal(b, &items); err != nil {
			return nil, fmt.Errorf("not a JSON array of state messages: %w", err)
		}
	case '{':
		items = []json.RawMessage{b}
	default:
		return nil, fmt.Errorf("expected a JSON array or object, got %.20q", b)
	}
	for i, raw := range items {
		var probe struct {
			Type  string          `json:"type"`
			State json.RawMessage `json:"state"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("state %d is not a JSON object: %w", i, err)
		}
		if probe.Type == string(TypeState) && len(probe.State) > 0 {
			raw = probe.State // a whole AirbyteMessage
		}
		var m State
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("state %d: %w", i, err)
		}
		switch {
		case m.Type == StateStream || (m.Type == "" && m.Stream != nil):
			if m.Stream == nil || m.Stream.StreamDescriptor.Name == "" {
				return nil, fmt.Errorf("state %d is of type STREAM but names no stream", i)
			}
			st.put(m.Stream)
		case m.Type == StateGlobal:
			if m.Global == nil {
				return nil, fmt.Errorf("state %d is of type GLOBAL but has no global state", i)
			}
			st.Shared = m.Global.SharedState
			for j := range m.Global.StreamStates {
				st.put(&m.Global.StreamStates[j])
			}
		case m.Type == StateLegacy:
			st.Legacy = m.Data
		default:
			if len(items) == 1 && b[0] == '{' {
				st.Legacy = b // the bare blob of a LEGACY state
				return st, nil
			}
			return nil, fmt.Errorf("state %d has unknown type %q", i, m.Type)
		}
	}
	return st, nil
}

func (s *StateInput) put(ss *StreamState) {
	if s.Streams == nil {
		s.Streams = map[StreamDescriptor]json.RawMessage{}
	}
	s.Streams[ss.StreamDescriptor] = ss.StreamState
}

func isJSONNull(b []byte) bool { return len(b) == 0 || string(bytes.TrimSpace(b)) == "null" }

// EchoState returns a destination's echo of a STATE message line: the input unchanged except for
// destinationStats.recordCount (and rejectedRecordCount when rejected > 0), so the platform's id,
// sourceStats and any unknown field survive. Keys of the state object keep their order.
func EchoState(line []byte, recordCount, rejected int64) ([]byte, error) {
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(line, &outer); err != nil {
		return nil, fmt.Errorf("state message is not a JSON object: %w", err)
	}
	state := bytes.TrimSpace(outer["state"])
	if len(state) < 2 || state[0] != '{' {
		return nil, errors.New(`state message has no "state" object`)
	}
	stats := []byte(`{"recordCount":`)
	stats = appendCount(stats, float64(recordCount))
	if rejected > 0 {
		stats = append(stats, `,"rejectedRecordCount":`...)
		stats = appendCount(stats, float64(rejected))
	}
	stats = append(stats, '}')

	var fields map[string]json.RawMessage
	if err := json.Unmarshal(state, &fields); err != nil {
		return nil, fmt.Errorf("state object: %w", err)
	}
	var newState []byte
	if _, had := fields["destinationStats"]; had {
		fields["destinationStats"] = stats
		var err error
		if newState, err = json.Marshal(fields); err != nil {
			return nil, err
		}
	} else {
		body := bytes.TrimSpace(state[1 : len(state)-1])
		newState = append(newState, '{')
		if len(body) > 0 {
			newState = append(newState, body...)
			newState = append(newState, ',')
		}
		newState = append(newState, `"destinationStats":`...)
		newState = append(newState, stats...)
		newState = append(newState, '}')
	}
	out := []byte(`{"type":"STATE","state":`)
	out = append(out, newState...)
	keys := make([]string, 0, len(outer))
	for k := range outer {
		if k != "type" && k != "state" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, ',')
		out = appendJSONString(out, k)
		out = append(out, ':')
		out = append(out, outer[k]...)
	}
	out = append(out, '}')
	var compact bytes.Buffer
	if err := json.Compact(&compact, out); err != nil {
		return nil, fmt.Errorf("state echo: %w", err)
	}
	return compact.Bytes(), nil
}

// ReadLines calls fn for every non-blank line of r, numbered from 1. Lines may be of any length and
// the last one needs no newline. The slice passed to fn is only valid during the call.
func ReadLines(r io.Reader, fn func(lineNo int, line []byte) error) error {
	return ReadLinesMax(r, 0, fn)
}

// ReadLinesMax is ReadLines with a bound: a line longer than maxLen bytes (0: no bound) is read to
// its end without being kept, and ReadLinesMax returns a *LineTooLongError that says its size and,
// when it is a record, its stream.
func ReadLinesMax(r io.Reader, maxLen int, fn func(lineNo int, line []byte) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	// A line longer than the buffer is kept as its chunks and joined once at its exact length:
	// appending to one slice would allocate about five times the line on the way.
	var parts [][]byte
	var long []byte
	size := 0
	n := 0
	for {
		chunk, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			parts = append(parts, bytes.Clone(chunk))
			if size += len(chunk); maxLen > 0 && size > maxLen {
				return tooLong(br, n+1, maxLen, parts, false)
			}
			continue
		}
		line := chunk
		if parts != nil {
			if maxLen > 0 && size+len(bytes.TrimRight(chunk, " \t\r\n")) > maxLen {
				return tooLong(br, n+1, maxLen, append(parts, chunk), true)
			}
			parts = append(parts, chunk)
			long = bytes.Join(parts, nil)
			parts, size = nil, 0
			line = long
		}
		if len(line) > 0 {
			n++
			if t := bytes.TrimSpace(line); len(t) > 0 {
				if maxLen > 0 && len(t) > maxLen {
					return tooLong(br, n, maxLen, [][]byte{line}, true)
				}
				if ferr := fn(n, t); ferr != nil {
					return ferr
				}
			}
		}
		long = nil
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading input after line %d: %w", n, err)
		}
	}
}
