package airbyte

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Writer is the only writer of a connector's stdout. It is safe for concurrent use: callers
// serialize messages in their own goroutine and one goroutine owns the buffered output, so every
// message is one whole line. It flushes after STATE, TRACE and CONTROL messages, whenever it runs out
// of queued work, and on Flush and Close. LOG, TRACE and CONNECTION_STATUS messages are passed
// through the Redactor (a nil one still masks credential patterns).
type Writer struct {
	red  *Redactor
	ch   chan writeItem
	done chan struct{}

	mu     sync.RWMutex
	closed bool
	err    error // first write error, guarded by mu

	watch *watcher // set by the runner before the connector runs; nil otherwise
}

type writeItem struct {
	line  []byte
	flush bool
	ack   chan error
}

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// ErrClosed is returned by a Writer after Close.
var ErrClosed = errors.New("airbyte: writer closed")

// NewWriter starts the writer goroutine on w. r may be nil.
func NewWriter(w io.Writer, r *Redactor) *Writer {
	wr := &Writer{red: r, ch: make(chan writeItem, 1024), done: make(chan struct{})}
	go wr.loop(bufio.NewWriterSize(w, 256<<10))
	return wr
}

func (w *Writer) loop(bw *bufio.Writer) {
	defer close(w.done)
	var err error
	for it := range w.ch {
		if it.line != nil {
			if err == nil {
				_, err = bw.Write(it.line)
			}
			if cap(it.line) <= 64<<10 {
				b := it.line[:0]
				linePool.Put(&b)
			}
		}
		if it.flush || len(w.ch) == 0 {
			if err == nil {
				err = bw.Flush()
			}
		}
		if err != nil {
			w.mu.Lock()
			if w.err == nil {
				w.err = err
			}
			w.mu.Unlock()
		}
		if it.ack != nil {
			it.ack <- err
		}
	}
	if err == nil {
		bw.Flush()
	}
}

func (w *Writer) enqueue(it writeItem) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return fmt.Errorf("airbyte: writing stdout: %w", w.err)
	}
	w.ch <- it
	return nil
}

// Send writes one message.
func (w *Writer) Send(m *Message) error {
	switch m.Type {
	case TypeLog:
		if m.Log != nil {
			c := *m.Log
			c.Message, c.StackTrace = w.red.String(c.Message), w.red.String(c.StackTrace)
			m = &Message{Type: TypeLog, Log: &c}
		}
	case TypeTrace:
		if m.Trace != nil && m.Trace.Error != nil {
			t := *m.Trace
			e := *t.Error
			e.Message, e.InternalMessage, e.StackTrace = w.red.String(e.Message), w.red.String(e.InternalMessage), w.red.String(e.StackTrace)
			t.Error = &e
			m = &Message{Type: TypeTrace, Trace: &t}
		}
	case TypeConnectionStatus:
		if m.ConnectionStatus != nil {
			c := *m.ConnectionStatus
			c.Message = w.red.String(c.Message)
			m = &Message{Type: TypeConnectionStatus, ConnectionStatus: &c}
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("airbyte: encoding %s message: %w", m.Type, err)
	}
	if m.Type == TypeLog || m.Type == TypeTrace || m.Type == TypeConnectionStatus {
		// Catch secrets that reached other fields, e.g. a stream name built from config.
		b = []byte(w.red.String(string(b)))
	}
	b = append(b, '\n')
	flush := m.Type == TypeState || m.Type == TypeTrace || m.Type == TypeControl
	if w.watch != nil {
		w.watch.sent(m)
	}
	return w.enqueue(writeItem{line: b, flush: flush})
}

// SendRaw writes one already-serialized message (a destination's state echo). line must be one
// JSON object without a newline; the writer adds one and flushes.
func (w *Writer) SendRaw(line []byte) error {
	b := make([]byte, 0, len(line)+1)
	b = append(append(b, line...), '\n')
	if err := w.enqueue(writeItem{line: b, flush: true}); err != nil {
		return err
	}
	if w.watch != nil {
		return w.watch.echoed(line)
	}
	return nil
}

// Record writes a RECORD without going through encoding/json: data is copied as is (compacted if
// it spans lines), so large integers and key order survive and the hot path stays cheap.
func (w *Writer) Record(stream, namespace string, data json.RawMessage, emittedAtMs int64) error {
	if len(data) == 0 || data[0] != '{' {
		return fmt.Errorf("airbyte: record of stream %q: data must be a JSON object", stream)
	}
	if w.watch != nil {
		w.watch.record(stream, namespace)
	}
	bp := linePool.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"type":"RECORD","record":{"stream":`...)
	b = appendJSONString(b, stream)
	if namespace != "" {
		b = append(b, `,"namespace":`...)
		b = appendJSONString(b, namespace)
	}
	b = append(b, `,"data":`...)
	if bytes.IndexByte(data, '\n') >= 0 || bytes.IndexByte(data, '\r') >= 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, data); err != nil {
			return fmt.Errorf("airbyte: record of stream %q is not valid JSON: %w", stream, err)
		}
		b = append(b, buf.Bytes()...)
	} else {
		b = append(b, data...)
	}
	b = append(b, `,"emitted_at":`...)
	b = strconv.AppendInt(b, emittedAtMs, 10)
	b = append(b, "}}\n"...)
	return w.enqueue(writeItem{line: b})
}

// Log writes a LOG message; the text is redacted.
func (w *Writer) Log(level LogLevel, format string, args ...any) {
	w.Send(&Message{Type: TypeLog, Log: &Log{Level: level, Message: fmt.Sprintf(format, args...)}})
}

// StreamStatus writes a TRACE STREAM_STATUS.
func (w *Writer) StreamStatus(d StreamDescriptor, s StreamStatus, reasons ...StreamStatusReason) error {
	return w.Send(&Message{Type: TypeTrace, Trace: &Trace{
		Type: TraceStreamStatus, EmittedAt: nowMs(),
		StreamStatus: &StreamStatusTrace{StreamDescriptor: d, Status: s, Reasons: reasons},
	}})
}

// Error writes a TRACE ERROR for err (see AsError for the failure type).
func (w *Writer) Error(err error) {
	e := AsError(err)
	internal := e.Internal
	if internal == "" && e.Err != nil && e.Err.Error() != e.Message {
		internal = e.Err.Error()
	}
	w.Send(&Message{Type: TypeTrace, Trace: &Trace{Type: TraceError, EmittedAt: nowMs(), Error: &ErrorTrace{
		Message: e.Message, InternalMessage: internal, FailureType: e.FailureType, StreamDescriptor: e.Stream,
	}}})
}

// State writes a STREAM state with its source record count.
func (w *Writer) State(d StreamDescriptor, streamState json.RawMessage, recordCount int64) error {
	return w.Send(&Message{Type: TypeState, State: &State{
		Type:        StateStream,
		Stream:      &StreamState{StreamDescriptor: d, StreamState: streamState},
		SourceStats: &Stats{RecordCount: NewCount(recordCount)},
	}})
}

// Flush blocks until everything sent so far is written to the underlying writer.
func (w *Writer) Flush() error {
	ack := make(chan error, 1)
	if err := w.enqueue(writeItem{flush: true, ack: ack}); err != nil {
		return err
	}
	return <-ack
}

// Close flushes and stops the writer goroutine. Later sends fail with ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.ch)
	w.mu.Unlock()
	<-w.done
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.err
}

func nowMs() float64 { return float64(time.Now().UnixMilli()) }

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping as encoding/json does (minus HTML escaping).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
