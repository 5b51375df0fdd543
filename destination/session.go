package destination

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/snowflake"
	"github.com/clockberg/clockberg/jsonscan"
)

// Snapshot summary keys written with every commit.
const (
	SummaryCheckpoint = "airbyte.state.checkpoint" // id (or sha256 prefix) of the last STATE the commit covers
	SummaryState      = "airbyte.state"            // that STATE message as received (when under 64 KiB)
	SummaryStream     = "airbyte.stream"
	SummarySyncID     = "airbyte.sync-id"
	SummaryGeneration = "airbyte.generation-id"
)

// envelope is the part of an input line the destination reads.
type envelope struct {
	Type   airbyte.Type    `json:"type"`
	Record *airbyte.Record `json:"record"`
	State  *struct {
		Type   airbyte.StateType `json:"type"`
		Stream *struct {
			StreamDescriptor airbyte.StreamDescriptor `json:"stream_descriptor"`
			StreamState      json.RawMessage          `json:"stream_state"`
		} `json:"stream"`
		ID json.RawMessage `json:"id"`
	} `json:"state"`
	Trace *struct {
		Type         airbyte.TraceType `json:"type"`
		StreamStatus *struct {
			StreamDescriptor airbyte.StreamDescriptor `json:"stream_descriptor"`
			Status           airbyte.StreamStatus     `json:"status"`
		} `json:"stream_status"`
	} `json:"trace"`
}

// session is one run of write.
type session struct {
	cfg     *Config
	cat     catalog.Catalog
	out     *airbyte.Writer
	streams []*stream
	byDesc  map[airbyte.StreamDescriptor]*stream
	byName  map[string][]*stream

	pending    []pendingState
	allSince   int64        // records of all streams since the previous STATE (GLOBAL/LEGACY counts)
	statusSeen bool         // any STREAM_STATUS arrived: finalize truncation only on COMPLETE
	checkpoint pendingState // the last STATE a commit covered
	lastLine   int

	lastName, lastNS string // raw JSON of the previous record's stream and namespace
	lastDesc         airbyte.StreamDescriptor
}

type pendingState struct {
	line   []byte
	n      int     // input line number
	stream *stream // the stream a STREAM state is for; nil for GLOBAL and LEGACY states (all streams)
	count  int64
	label  string
}

func newSession(cfg *Config, cat catalog.Catalog, cc *airbyte.ConfiguredCatalog, out *airbyte.Writer) (*session, error) {
	s := &session{cfg: cfg, cat: cat, out: out, byDesc: map[airbyte.StreamDescriptor]*stream{}, byName: map[string][]*stream{}}
	names := tableNames(cfg, cc)
	for i := range cc.Streams {
		cs := &cc.Streams[i]
		ns := namespaceOf(cfg, cs)
		st, err := newStream(runEnv{cat: cat, cfg: cfg, out: out}, cs, ns, names[i])
		if err != nil {
			return nil, err
		}
		if n := names[i][0]; n != cs.Stream.Name || ns != cs.Stream.Namespace && cs.Stream.Namespace != "" {
			out.Log(airbyte.LogInfo, "stream %s is written to table %s.%s (names are mapped to letters, digits and underscores)", st.desc, ns, n)
		}
		s.streams = append(s.streams, st)
		s.byDesc[st.desc] = st
		s.byName[st.desc.Name] = append(s.byName[st.desc.Name], st)
	}
	return s, nil
}

// namespaceOf is the Iceberg namespace of a stream: its own (mapped like every name), else the
// config's.
func namespaceOf(cfg *Config, cs *airbyte.ConfiguredStream) string {
	if cs.Stream.Namespace != "" {
		return safeName(cs.Stream.Namespace)
	}
	return cfg.Namespace
}

// tableNames gives every configured stream its candidate table names: its safe name, unless
// another stream of the catalog in the same namespace has (case-insensitively) the same one and
// a better claim to it (its name is already safe, or it comes first), then the suffixed name.
func tableNames(cfg *Config, cc *airbyte.ConfiguredCatalog) [][]string {
	out := make([][]string, len(cc.Streams))
	taken := map[string]bool{}
	key := func(i int, name string) string {
		return strings.ToLower(namespaceOf(cfg, &cc.Streams[i]) + "." + name)
	}
	for pass := 0; pass < 2; pass++ {
		for i := range cc.Streams {
			st := &cc.Streams[i].Stream
			safe := isSafeName(st.Name)
			if (pass == 0) != safe {
				continue
			}
			name := safeName(st.Name)
			alt := suffixed(name, st.Descriptor().String())
			if taken[key(i, name)] {
				out[i] = []string{alt}
			} else {
				out[i] = []string{name, alt}
			}
			taken[key(i, out[i][0])] = true
		}
	}
	return out
}

func (s *session) find(d airbyte.StreamDescriptor) *stream {
	if st := s.byDesc[d]; st != nil {
		return st
	}
	if d.Namespace == "" && len(s.byName[d.Name]) == 1 {
		return s.byName[d.Name][0]
	}
	return nil
}

// line handles one input message.
func (s *session) line(ctx context.Context, n int, line []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped at input line %d: %w", n, err)
	}
	s.lastLine = n
	if err := jsonscan.Validate(line); err != nil {
		var se *jsonscan.SyntaxError
		if errors.As(err, &se) {
			return airbyte.SystemErrorf("input line %d, column %d: not a JSON Airbyte message: %s", n, se.Offset+1, se.Msg)
		}
		return airbyte.SystemErrorf("input line %d is not a JSON Airbyte message: %v", n, err)
	}
	if handled, err := s.fastRecord(ctx, n, line); handled || err != nil {
		return err
	}
	var m envelope
	if err := json.Unmarshal(line, &m); err != nil {
		return airbyte.SystemErrorf("input line %d is not a JSON Airbyte message of the expected shape: %v", n, err)
	}
	switch m.Type {
	case airbyte.TypeRecord:
		if m.Record == nil {
			return airbyte.SystemErrorf("input line %d: RECORD without a record", n)
		}
		d := airbyte.StreamDescriptor{Name: m.Record.Stream, Namespace: m.Record.Namespace}
		return s.record(ctx, n, d, m.Record.Data, m.Record.EmittedAt, m.Record.Meta)
	case airbyte.TypeState:
		if m.State == nil {
			return airbyte.SystemErrorf("input line %d: STATE without a state", n)
		}
		return s.state(ctx, n, line, &m)
	case airbyte.TypeTrace:
		if m.Trace != nil && m.Trace.Type == airbyte.TraceStreamStatus && m.Trace.StreamStatus != nil {
			return s.status(ctx, n, m.Trace.StreamStatus.StreamDescriptor, m.Trace.StreamStatus.Status)
		}
	default:
		// LOG, CONTROL and others carry nothing to store.
	}
	return nil
}

func (s *session) record(ctx context.Context, n int, d airbyte.StreamDescriptor, data []byte, emittedAt int64, meta *airbyte.RecordMeta) error {
	st := s.find(d)
	if st == nil {
		return airbyte.SystemErrorf("input line %d: record for stream %q, which is not in the configured catalog", n, d.String()).WithStream(d)
	}
	if err := st.add(ctx, n, data, emittedAt, meta); err != nil {
		var nk errNullKey
		if errors.As(err, &nk) {
			return airbyte.SystemErrorf("input line %d: stream %s: %v", n, d, err).WithStream(d)
		}
		return fmt.Errorf("input line %d: stream %s: %w", n, d, err)
	}
	s.allSince++
	if b := st.open; b != nil && b.index != nil && b.index.len() >= maxIndexedRows {
		// A dedup stream's key index is full: commit now, whatever the distance to the next STATE.
		// That is safe for dedup only: a retry that re-sends these records dedups them again. No
		// state is echoed (none covers these records yet).
		if err := st.commit(ctx, s.props(st, s.last())); err != nil {
			return airbyte.SystemErrorf("%v", err).WithStream(st.desc)
		}
	}
	return nil
}

// maxIndexedRows bounds the key index of one batch of a dedup stream (about 50 bytes a row).
const maxIndexedRows = 1_000_000

// fastRecord handles a valid RECORD line without encoding/json, which would copy and rescan the
// record data; that decode was the largest cost of the write path. Other lines are left to the
// general decoder (handled false).
func (s *session) fastRecord(ctx context.Context, n int, line []byte) (bool, error) {
	var typ, body []byte
	if eachField(line, func(k, v []byte) {
		switch string(k) {
		case "type":
			typ = v
		case "record":
			body = v
		}
	}) != nil || string(typ) != `"RECORD"` || len(body) == 0 || body[0] != '{' {
		return false, nil
	}
	var name, ns, data, emitted, meta []byte
	if eachField(body, func(k, v []byte) {
		switch string(k) {
		case "stream":
			name = v
		case "namespace":
			ns = v
		case "data":
			data = v
		case "emitted_at":
			emitted = v
		case "meta":
			meta = v
		}
	}) != nil {
		return false, nil
	}
	d, ok := s.descriptor(name, ns)
	if !ok || len(data) == 0 || data[0] != '{' {
		return false, nil
	}
	var at int64
	if len(emitted) > 0 {
		if v, ok := parseInteger(emitted); ok {
			at = v
		} else if f, err := strconv.ParseFloat(unsafeString(emitted), 64); err == nil {
			at = int64(f)
		} else {
			return false, nil
		}
	}
	var rm *airbyte.RecordMeta
	if len(meta) > 0 && string(meta) != "null" {
		rm = new(airbyte.RecordMeta)
		if json.Unmarshal(meta, rm) != nil {
			return false, nil
		}
	}
	return true, s.record(ctx, n, d, data, at, rm)
}

// descriptor decodes a record's stream name and namespace, reusing the previous line's strings
// when they are the same bytes.
func (s *session) descriptor(name, ns []byte) (airbyte.StreamDescriptor, bool) {
	if len(name) < 2 || name[0] != '"' || (len(ns) > 0 && ns[0] != '"' && string(ns) != "null") {
		return airbyte.StreamDescriptor{}, false
	}
	if string(name) == s.lastName && string(ns) == s.lastNS {
		return s.lastDesc, true
	}
	var d airbyte.StreamDescriptor
	if json.Unmarshal(name, &d.Name) != nil {
		return d, false
	}
	if len(ns) > 0 && string(ns) != "null" && json.Unmarshal(ns, &d.Namespace) != nil {
		return d, false
	}
	s.lastName, s.lastNS, s.lastDesc = string(name), string(ns), d
	return d, true
}

func (s *session) state(ctx context.Context, n int, line []byte, m *envelope) error {
	ps := pendingState{line: slices.Clone(line), n: n, label: stateLabel(m.State.ID, line)}
	switch {
	case m.State.Type == airbyte.StateStream || (m.State.Type == "" && m.State.Stream != nil):
		if m.State.Stream == nil {
			return airbyte.SystemErrorf("input line %d: STREAM state without a stream", n)
		}
		d := m.State.Stream.StreamDescriptor
		if st := s.find(d); st != nil {
			ps.count, ps.stream = st.received, st
			st.sawState(m.State.Stream.StreamState, st.received)
			st.received = 0
		}
	default:
		ps.count = s.allSince
		for _, st := range s.streams {
			st.received = 0
		}
	}
	s.allSince = 0
	s.pending = append(s.pending, ps)
	if s.due() {
		if err := s.commitAll(ctx, ps); err != nil {
			return err
		}
	}
	return s.echoIfClean()
}

// due reports whether some stream's open batch reached a flush threshold.
func (s *session) due() bool {
	for _, st := range s.streams {
		b := st.open
		if b == nil {
			continue
		}
		if b.rows >= s.cfg.FlushRecords || b.rb.bytes >= s.cfg.FlushBytes || time.Since(b.started) >= s.cfg.flushInterval() {
			return true
		}
	}
	return false
}

// echoIfClean echoes the pending states when no stream holds uncommitted rows: then every
// record received before them is committed.
func (s *session) echoIfClean() error {
	for _, st := range s.streams {
		if st.open != nil {
			return nil
		}
	}
	for _, p := range s.pending {
		echo, err := airbyte.EchoState(p.line, p.count, 0)
		if err != nil {
			return airbyte.SystemErrorf("echoing a state: %v", err)
		}
		if err := s.out.SendRaw(echo); err != nil {
			return err
		}
	}
	s.pending = s.pending[:0]
	return nil
}

// maxSummaryState bounds the state copied into snapshot summaries, which every metadata file keeps.
const maxSummaryState = 64 << 10

func (s *session) props(st *stream, cp pendingState) iceberg.Properties {
	p := iceberg.Properties{SummaryStream: st.desc.String(), SummaryGeneration: strconv.FormatInt(st.gen, 10)}
	if cp.label != "" {
		p[SummaryCheckpoint] = cp.label
	}
	if fs := st.generationFirstState(); fs != "" {
		p[SummaryFirstState] = fs
	}
	if len(cp.line) > 0 && len(cp.line) <= maxSummaryState {
		p[SummaryState] = string(cp.line)
	}
	if st.cfg.SyncID != nil {
		p[SummarySyncID] = strconv.FormatInt(*st.cfg.SyncID, 10)
	}
	return p
}

// commitAll commits every stream's open batch, one catalog commit per table.
func (s *session) commitAll(ctx context.Context, cp pendingState) error {
	for _, st := range s.streams {
		if st.open == nil {
			continue
		}
		if err := st.commit(ctx, s.props(st, cp)); err != nil {
			return airbyte.SystemErrorf("%v", err).WithStream(st.desc)
		}
	}
	s.checkpoint = cp
	return nil
}

func (s *session) status(ctx context.Context, n int, d airbyte.StreamDescriptor, status airbyte.StreamStatus) error {
	s.statusSeen = true
	if status != airbyte.StatusComplete {
		return nil
	}
	st := s.find(d)
	if st == nil {
		return airbyte.SystemErrorf("input line %d: stream status for stream %q, which is not in the configured catalog", n, d.String()).WithStream(d)
	}
	st.complete = true
	if !st.truncate {
		return nil
	}
	cp := s.last()
	if err := st.commit(ctx, s.props(st, cp)); err != nil {
		return airbyte.SystemErrorf("%v", err).WithStream(st.desc)
	}
	if err := st.finalize(ctx, s.props(st, cp)); err != nil {
		return airbyte.SystemErrorf("%v", err).WithStream(st.desc)
	}
	return s.echoIfClean()
}

// last is the latest STATE received: the one a commit made now covers.
func (s *session) last() pendingState {
	if len(s.pending) > 0 {
		return s.pending[len(s.pending)-1]
	}
	return s.checkpoint
}

// finish runs at the end of input: commit everything, replace truncated tables, echo states.
func (s *session) finish(ctx context.Context) error {
	s.abandonIncomplete()
	cp := s.last()
	if err := s.commitAll(ctx, cp); err != nil {
		return err
	}
	for _, st := range s.streams {
		if !st.truncate || (s.statusSeen && !st.complete) {
			continue
		}
		if err := st.finalize(ctx, s.props(st, cp)); err != nil {
			return airbyte.SystemErrorf("%v", err).WithStream(st.desc)
		}
	}
	if err := s.echoIfClean(); err != nil {
		return err
	}
	s.maintainAfterSync(ctx)
	var touched []*table.Table
	for _, st := range s.streams {
		if st.tbl == nil {
			continue
		}
		touched = append(touched, st.tbl)
		rows := "0"
		if snap := st.tbl.CurrentSnapshot(); snap != nil && snap.Summary != nil {
			if v, ok := snap.Summary.Properties["total-records"]; ok {
				rows = v
			}
		}
		s.out.Log(airbyte.LogInfo, "table %s: metadata %s, %s rows, %d rows written in this sync",
			strings.Join(st.ident, "."), st.tbl.MetadataLocation(), rows, st.committed)
	}
	s.out.SetFigures(tableFigures(s.streams))
	snowflake.LogAfterSync(s.out, s.cfg.Settings, touched, snowflake.Options{})
	return nil
}

// abandonIncomplete drops, at the end of input, the uncommitted rows of every stream that had
// statuses but no COMPLETE: its source stopped early, so the retry sends those rows again (from
// the last echoed state, or from the start), and committing them now would store them twice. The
// states they would have covered are not echoed.
func (s *session) abandonIncomplete() {
	if !s.statusSeen {
		return // no statuses at all: the end of input is the end of every stream
	}
	var cut []*stream
	for _, st := range s.streams {
		if st.complete || st.open == nil {
			continue
		}
		s.out.Log(airbyte.LogWarn, "stream %s ended without a COMPLETE status: its %d rows since the last commit are not written, "+
			"and its states since then are not echoed, so a retry sends them again", st.desc, st.open.rows)
		cut = append(cut, st)
	}
	if len(cut) == 0 {
		return
	}
	s.pending = slices.DeleteFunc(s.pending, func(p pendingState) bool {
		for _, st := range cut {
			if (p.stream == nil || p.stream == st) && p.n > st.open.line {
				return true
			}
		}
		return false
	})
	for _, st := range cut {
		st.abort()
	}
}

func (s *session) abort() {
	for _, st := range s.streams {
		st.abort()
	}
}

// stateLabel identifies a state in snapshot summaries: the platform's id, else a content hash.
func stateLabel(id json.RawMessage, line []byte) string {
	if t := strings.TrimSpace(string(id)); t != "" && t != "null" {
		return strings.Trim(t, `"`)
	}
	h := sha256.Sum256(line)
	return "sha256:" + hex.EncodeToString(h[:8])
}

// write runs a whole write command.
func (s *session) run(ctx context.Context, in io.Reader) (err error) {
	defer func() {
		if err != nil {
			s.abort()
		}
	}()
	if err := airbyte.ReadLinesMax(in, MaxLineBytes, func(n int, line []byte) error { return s.line(ctx, n, line) }); err != nil {
		var long *airbyte.LineTooLongError
		if errors.As(err, &long) {
			// The record is not dropped silently: the sync fails, and with it every record since the
			// last echoed STATE, as for any bad line.
			e := airbyte.SystemErrorf("%v (a value over max_value_bytes is stored as null, but the whole line must fit)", long)
			if st := s.find(long.Stream); st != nil {
				e = e.WithStream(st.desc)
			}
			return e
		}
		return err
	}
	return s.finish(ctx)
}
