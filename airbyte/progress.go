package airbyte

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Figures are the numbers only a connector knows, for the progress lines and the summary that a
// read or a write prints on stderr.
type Figures struct {
	// Line is added to every progress line and to the summary, e.g. "30 requests, 9.9/s".
	Line string
	// Tables are a destination's per-stream results: rows in the table after the sync and its
	// data files.
	Tables map[StreamDescriptor]TableFigures
}

// TableFigures describe one stream's table after a write.
type TableFigures struct {
	Table string // e.g. "clockify.time_entries"
	Rows  int64
	Files int64
}

// SetFigures registers fn as the source of the connector's own figures. fn is called from
// another goroutine every few seconds and at the end, so it must be safe for concurrent use
// (return a copy, or read atomics). Without a runner watching the writer it is never called.
func (w *Writer) SetFigures(fn func() Figures) {
	if w.watch != nil {
		w.watch.figures.Store(&fn)
	}
}

// watcher sees what a read or a write sends and prints progress for people on stderr: a line
// every interval and a summary table at the end. It counts per stream from the messages
// themselves, so connectors need no code for it beyond SetFigures. It also keeps the --state-file.
type watcher struct {
	prog, cmd string
	stderr    io.Writer
	human     bool // mirror warnings and errors on stderr
	progress  bool // progress lines and the summary
	every     time.Duration
	states    *stateFile
	figures   atomic.Pointer[func() Figures]
	p         *message.Printer

	started time.Time
	order   []*streamTally
	byDesc  map[StreamDescriptor]*streamTally // read-only once built
	other   atomic.Int64                      // records of streams not in the catalog
	lines   atomic.Int64                      // input lines (write)

	mu     sync.Mutex // guards the non-atomic fields of every streamTally, echoes, output
	echoes int64
	done   chan struct{}
	wg     sync.WaitGroup
}

type streamTally struct {
	desc    StreamDescriptor
	records atomic.Int64

	states       int64
	status       StreamStatus
	began, ended time.Duration // since the watcher's start; 0 = not yet
	committed    int64         // destinationStats of echoed states
	lastEcho     time.Duration
}

func newWatcher(prog, cmd string, cat *ConfiguredCatalog, stderr io.Writer, human, progress bool, every time.Duration, states *stateFile) *watcher {
	w := &watcher{prog: prog, cmd: cmd, stderr: stderr, human: human, progress: progress, every: every, states: states,
		p: message.NewPrinter(language.English), started: time.Now(), byDesc: map[StreamDescriptor]*streamTally{}, done: make(chan struct{})}
	for i := range cat.Streams {
		d := cat.Streams[i].Stream.Descriptor()
		if w.byDesc[d] == nil {
			t := &streamTally{desc: d}
			w.order = append(w.order, t)
			w.byDesc[d] = t
		}
	}
	return w
}

func (w *watcher) since() time.Duration { return time.Since(w.started) }

// record counts one RECORD; it runs on the connector's hot path, so it only adds to an atomic.
func (w *watcher) record(stream, namespace string) {
	if t := w.byDesc[StreamDescriptor{Name: stream, Namespace: namespace}]; t != nil {
		t.records.Add(1)
		return
	}
	w.other.Add(1)
}

// sent sees every message sent through Send (already redacted).
func (w *watcher) sent(m *Message) {
	switch {
	case m.Type == TypeState && m.State != nil && m.State.Stream != nil:
		w.mu.Lock()
		if t := w.byDesc[m.State.Stream.StreamDescriptor]; t != nil {
			t.states++
		}
		w.mu.Unlock()
	case m.Type == TypeTrace && m.Trace != nil && m.Trace.StreamStatus != nil:
		s := m.Trace.StreamStatus
		w.mu.Lock()
		if t := w.byDesc[s.StreamDescriptor]; t != nil {
			t.status = s.Status
			switch s.Status {
			case StatusStarted:
				t.began = w.since()
			case StatusComplete, StatusIncomplete:
				t.ended = w.since()
			}
		}
		w.mu.Unlock()
	case m.Type == TypeTrace && m.Trace != nil && m.Trace.Error != nil && w.human:
		where := ""
		if d := m.Trace.Error.StreamDescriptor; d != nil {
			where = " (stream " + d.String() + ")"
		}
		w.println(fmt.Sprintf("%s: error%s: %s", w.prog, where, m.Trace.Error.Message))
	case m.Type == TypeLog && m.Log != nil && w.human:
		switch m.Log.Level {
		case LogWarn, LogError, LogFatal:
			w.println(fmt.Sprintf("%s: %s: %s", w.prog, m.Log.Level, m.Log.Message))
		}
	}
}

// echoed sees a destination's state echo: its destinationStats count towards the stream's
// committed records, and the state goes to the state file.
func (w *watcher) echoed(line []byte) error {
	if !bytes.Contains(line, []byte(`"STATE"`)) {
		return nil
	}
	var m struct {
		State struct {
			Stream *struct {
				StreamDescriptor StreamDescriptor `json:"stream_descriptor"`
			} `json:"stream"`
			DestinationStats *struct {
				RecordCount float64 `json:"recordCount"`
			} `json:"destinationStats"`
		} `json:"state"`
	}
	if json.Unmarshal(line, &m) == nil {
		w.mu.Lock()
		w.echoes++
		if m.State.Stream != nil {
			if t := w.byDesc[m.State.Stream.StreamDescriptor]; t != nil {
				if m.State.DestinationStats != nil {
					t.committed += int64(m.State.DestinationStats.RecordCount)
				}
				t.lastEcho = w.since()
			}
		}
		w.mu.Unlock()
	}
	if w.states != nil {
		return w.states.echoed(line)
	}
	return nil
}

// countLines wraps a destination's stdin to count the input lines.
func (w *watcher) countLines(r io.Reader) io.Reader { return &lineCounter{r: r, n: &w.lines} }

type lineCounter struct {
	r io.Reader
	n *atomic.Int64
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(bytes.Count(p[:n], []byte{'\n'})))
	return n, err
}

func (w *watcher) println(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	io.WriteString(w.stderr, s+"\n")
}

func (w *watcher) start() {
	if !w.progress {
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(w.every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				w.println(w.progressLine())
			case <-w.done:
				return
			}
		}
	}()
}

// stop ends the progress lines and prints the summary.
func (w *watcher) stop() {
	if !w.progress {
		return
	}
	close(w.done)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	io.WriteString(w.stderr, w.summary())
}

func (w *watcher) connectorFigures() Figures {
	if fn := w.figures.Load(); fn != nil {
		return (*fn)()
	}
	return Figures{}
}

func (w *watcher) totalRecords() int64 {
	n := w.other.Load()
	for _, t := range w.order {
		n += t.records.Load()
	}
	return n
}

func (w *watcher) progressLine() string {
	f := w.connectorFigures()
	w.mu.Lock()
	defer w.mu.Unlock()
	elapsed := seconds(w.since())
	var s string
	if w.cmd == "write" {
		var committed int64
		touched := 0
		for _, t := range w.order {
			committed += t.committed
			if t.lastEcho > 0 {
				touched++
			}
		}
		s = w.p.Sprintf("%s: %d records committed (%d/%d streams), %d states echoed, %d input lines, %s",
			w.prog, committed, touched, len(w.order), w.echoes, w.lines.Load(), elapsed)
	} else {
		done := 0
		for _, t := range w.order {
			if t.status == StatusComplete || t.status == StatusIncomplete {
				done++
			}
		}
		s = w.p.Sprintf("%s: %d/%d streams done, %d records, %s", w.prog, done, len(w.order), w.totalRecords(), elapsed)
	}
	if f.Line != "" {
		s += "; " + f.Line
	}
	return s
}

// summary renders the end-of-run table. w.mu is held.
func (w *watcher) summary() string {
	f := w.connectorFigures()
	var b strings.Builder
	elapsed := seconds(w.since())
	extra := ""
	if f.Line != "" {
		extra = "; " + f.Line
	}
	if w.cmd == "write" {
		var committed int64
		for _, t := range w.order {
			committed += t.committed
		}
		fmt.Fprint(&b, w.p.Sprintf("%s: committed %d records of %d streams in %s, %d states echoed%s\n",
			w.prog, committed, len(w.order), elapsed, w.echoes, extra))
		rows := [][]string{{"table", "records committed", "rows in table", "data files", "last echo"}}
		for _, t := range w.order {
			tf, ok := f.Tables[t.desc]
			table, nrows, files := t.desc.String(), "-", "-"
			if ok {
				table, nrows, files = tf.Table, w.p.Sprintf("%d", tf.Rows), w.p.Sprintf("%d", tf.Files)
			}
			last := "-"
			if t.lastEcho > 0 {
				last = seconds(t.lastEcho)
			}
			rows = append(rows, []string{table, w.p.Sprintf("%d", t.committed), nrows, files, last})
		}
		b.WriteString(TextTable(rows, "  "))
	} else {
		fmt.Fprint(&b, w.p.Sprintf("%s: read %d records of %d streams in %s%s\n", w.prog, w.totalRecords(), len(w.order), elapsed, extra))
		rows := [][]string{{"stream", "status", "records", "states", "time"}}
		for _, t := range w.order {
			status := string(t.status)
			if status == "" {
				status = "NOT STARTED"
			}
			took := "-"
			if t.ended > 0 {
				took = seconds(t.ended - t.began)
			}
			rows = append(rows, []string{t.desc.String(), status, w.p.Sprintf("%d", t.records.Load()), w.p.Sprintf("%d", t.states), took})
		}
		if n := w.other.Load(); n > 0 {
			rows = append(rows, []string{"(streams not in the catalog)", "", w.p.Sprintf("%d", n), "", ""})
		}
		b.WriteString(TextTable(rows, "  "))
	}
	return b.String()
}

// seconds renders a duration for people: tenths of a second below a minute, whole seconds above.
func seconds(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// TextTable aligns rows in columns, the first row being the header: columns of numbers (every
// cell below the header a number or "-") are right-aligned, the others left-aligned. Each line
// starts with indent.
func TextTable(rows [][]string, indent string) string {
	var widths []int
	numeric := []bool{}
	for i, r := range rows {
		for j, c := range r {
			if j >= len(widths) {
				widths = append(widths, 0)
				numeric = append(numeric, true)
			}
			widths[j] = max(widths[j], utf8.RuneCountInString(c))
			if i > 0 && c != "" && c != "-" && !(c[0] >= '0' && c[0] <= '9') {
				numeric[j] = false
			}
		}
	}
	var b strings.Builder
	for _, r := range rows {
		line := indent
		for j, c := range r {
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c))
			if j > 0 {
				line += "  "
			}
			if numeric[j] {
				line += pad + c
			} else {
				line += c + pad
			}
		}
		b.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	return b.String()
}
