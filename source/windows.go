package source

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/jsonscan"
	"github.com/clockberg/clockberg/source/clockify"
	"github.com/clockberg/clockberg/source/streams"
)

// A stream with a cursor range (time entries) is read per partition in time windows on the
// cursor, [lo, hi) and exact on the client side whatever the server does at its bounds: an entry
// starting exactly at a boundary belongs to the window above it, so identical start times never
// fall between two windows or into both. A partition starts as one window over its whole range;
// when a worker would otherwise idle while the request pool is not full, the window with the most
// estimated pages left is split in two at the middle of its unread range, and the lower half is read
// concurrently. So one member with half a million entries is read by several workers and the rate
// limiter, not that member's chain of requests, sets the pace. Each split costs about half a
// page (the page that crosses the split point), which keeps the requests within a few percent of
// the minimum.
//
// Each finished window is recorded in the state (resumable per window). The partition's cursor
// moves only when all its windows are done.

const (
	// minSplitPages: a window with fewer estimated pages left is not split.
	minSplitPages = 4
	// splitMargin is how far short of k pages' span a split is placed, against density noise.
	splitMargin = 0.02
	// splitReread is the most a split may read twice, as a share of the pages it takes over.
	splitReread = 0.05
	// feedLag is how far behind now the change feed is read: Clockify lists a deletion about a
	// minute after it happens.
	feedLag = 5 * time.Minute
)

// clockifyEpoch stands for the beginning of an unbounded window when estimating what it holds:
// Clockify was launched in 2017.
var clockifyEpoch = time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)

var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// openFloor is where an unbounded window is assumed to begin, for estimates only.
func openFloor(frontier time.Time) time.Time {
	return earliest(clockifyEpoch, frontier.Add(-365*24*time.Hour))
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// member is one partition of a windowed stream during a read.
type member struct {
	run *streamRun
	job *job
	lo  time.Time // the partition's bound (cursor minus lookback, or start_date); zero: none

	mu         sync.Mutex
	active     []*window
	done       []windowState // finished in this sync, this attempt or an earlier one
	newest     time.Time
	newestRaw  string
	err        error
	candidates []seenEntry // the previous read's entries of the lookback window, start ≥ lo
	kept       []seenEntry // this read's entries near the newest, for the next read's comparison
}

// window is [lo, hi) of a member; lo zero is unbounded, hi farFuture is unbounded. lo rises when
// the window is split. Guarded by member.mu.
type window struct {
	m         *member
	lo, hi    time.Time
	running   bool
	pages     int
	entries   int
	frontier  time.Time // oldest cursor value read so far
	top       time.Time // newest cursor value read
	last      bool      // the last page was read
	found     map[string]bool
	kept      []seenEntry
	newest    time.Time
	newestRaw string
}

func (e *engine) windowed(r *streamRun) bool {
	rg := r.def.Range
	return rg != nil && !rg.Required && r.def.Cursor != nil
}

// tracksDeletions says whether this read compares the lookback window with the state's ids.
func (e *engine) tracksDeletions(r *streamRun) bool {
	return r.def.Deletions != nil && r.incremental && e.s.deletions != deletionsNone
}

func (e *engine) readsFeed(r *streamRun) bool {
	return e.tracksDeletions(r) && e.s.deletions == deletionsFeed && r.def.Deletions.Feed != ""
}

// startMember turns a partition of a windowed stream into windows: the gaps of its range that
// no finished window of this sync covers.
func (e *engine) startMember(ctx context.Context, j *job) {
	r := j.run
	if r.emit {
		r.mu.Lock()
		e.runningLocked(r)
		r.mu.Unlock()
	}
	if !j.plan.allows(r.def) {
		for _, c := range r.descendants() {
			e.releaseProducer(c, j, nil)
		}
		e.partitionDone(j, nil)
		return
	}
	m := &member{run: r, job: j}
	if t, ok := e.startBound(r, j.key); ok {
		m.lo = t
	}
	if e.tracksDeletions(r) {
		prev, _ := unpackSeen(r.resume.seen[j.key])
		for _, s := range prev {
			if !s.start.Before(m.lo) {
				m.candidates = append(m.candidates, s)
			}
		}
		if e.readsFeed(r) {
			r.mu.Lock()
			r.feedParts[feedKey(r.def, j)] = j.params
			r.mu.Unlock()
		}
	}
	type span struct{ lo, hi time.Time }
	var finished []span
	for _, ws := range r.resume.windows[j.key] {
		lo, lerr := parseBound(ws.From, time.Time{})
		hi, herr := parseBound(ws.To, farFuture)
		if lerr != nil || herr != nil {
			continue
		}
		m.done = append(m.done, ws)
		finished = append(finished, span{lo, hi})
		if t, err := time.Parse(time.RFC3339Nano, ws.Newest); err == nil && t.After(m.newest) {
			m.newest, m.newestRaw = t, ws.Newest
		}
		kept, _ := unpackSeen(ws.Seen)
		m.kept = append(m.kept, kept...)
	}
	slices.SortFunc(finished, func(a, b span) int { return a.lo.Compare(b.lo) })
	var gaps []span
	cur := m.lo
	for _, f := range finished {
		if f.lo.After(cur) {
			gaps = append(gaps, span{cur, f.lo})
		}
		if f.hi.After(cur) {
			cur = f.hi
		}
	}
	if cur.Before(farFuture) {
		gaps = append(gaps, span{cur, farFuture})
	}
	if len(gaps) == 0 {
		e.finishMember(m)
		return
	}
	var jobs []*job
	m.mu.Lock()
	for _, g := range gaps {
		w := &window{m: m, lo: g.lo, hi: g.hi, found: map[string]bool{}}
		m.active = append(m.active, w)
		jobs = append(jobs, &job{run: r, params: j.params, plan: j.plan, key: j.key, emit: j.emit, win: w})
	}
	m.mu.Unlock()
	e.memMu.Lock()
	e.members[m] = true
	e.memMu.Unlock()
	for _, wj := range jobs[1:] {
		e.q.push(wj, false)
	}
	e.doWindow(ctx, jobs[0])
}

func parseBound(s string, unbounded time.Time) (time.Time, error) {
	if s == "" {
		return unbounded, nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

func formatBound(t, unbounded time.Time) string {
	if t.Equal(unbounded) {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// doWindow reads one window and settles it.
func (e *engine) doWindow(ctx context.Context, j *job) {
	w := j.win
	w.m.mu.Lock()
	w.running = true
	w.m.mu.Unlock()
	readCtx := ctx
	if r := j.run; r.emit {
		ctx = clockify.WithThrottleHook(ctx, func(reset time.Time) { e.throttled(r, reset) })
	}
	err := readCtx.Err()
	if err == nil {
		err = e.fetch(ctx, j)
	}
	if _, st := apiStatus(err); st == 401 {
		e.setFatal(classify(err, j.run.desc.Name))
	}
	if err != nil && readCtx.Err() != nil {
		return // interrupted: neither done nor failed (see do)
	}
	e.windowDone(readCtx, j, err)
}

// windowQuery sets the window's start and end filters. Clockify reads their wall clock in the
// account's time zone (UTC-12..+14), so both are widened by 14 h and the page filter is exact.
func (e *engine) windowQuery(j *job, q map[string][]string) {
	w := j.win
	rg := j.run.def.Range
	w.m.mu.Lock()
	lo, hi := w.lo, w.hi
	w.m.mu.Unlock()
	if !lo.IsZero() {
		q[rg.Start] = []string{lo.Add(-maxZoneOffset).UTC().Format(filterLayout)}
	}
	if hi.Before(farFuture) {
		q[rg.End] = []string{hi.Add(maxZoneOffset + time.Second).UTC().Format(filterLayout)}
	}
}

// windowFilter is the page's view of its window, taken under the member's lock for the page.
type windowFilter struct {
	lo, hi   time.Time
	keepFrom time.Time // entries from here on are kept for the next read's comparison
	track    bool
}

// windowDone records a finished (or failed) window: the lookback ids it no longer found are
// deleted (or moved: checked one by one), its progress goes into the state, and the member
// finishes with its last window.
func (e *engine) windowDone(ctx context.Context, j *job, err error) {
	w := j.win
	m := w.m
	r := m.run
	m.mu.Lock()
	m.active = slices.DeleteFunc(m.active, func(x *window) bool { return x == w })
	var gone []seenEntry
	if err == nil {
		for _, c := range m.candidates {
			if !c.start.Before(w.lo) && c.start.Before(w.hi) && !w.found[c.id] {
				gone = append(gone, c)
			}
		}
	}
	m.mu.Unlock()

	if err == nil && len(gone) > 0 {
		var keep []seenEntry
		keep, err = e.settleGone(ctx, j, gone)
		w.kept = append(w.kept, keep...)
	}

	m.mu.Lock()
	if err == nil {
		ws := windowState{From: formatBound(w.lo, time.Time{}), To: formatBound(w.hi, farFuture), Newest: w.newestRaw, Seen: packSeen(w.kept)}
		m.done = append(m.done, ws)
		if w.newest.After(m.newest) {
			m.newest, m.newestRaw = w.newest, w.newestRaw
		}
		m.kept = append(m.kept, w.kept...)
	} else if m.err == nil {
		m.err = err
	}
	last := len(m.active) == 0
	done := slices.Clone(m.done)
	m.mu.Unlock()

	if err == nil {
		r.mu.Lock()
		if e.readsFeed(r) {
			for id := range w.found {
				r.readIDs[id] = true
			}
		}
		if !last {
			r.windows[j.key] = done
			if e.stateDue(r) {
				e.stateLocked(r, false)
			}
		}
		r.mu.Unlock()
	}
	if last {
		e.finishMember(m)
	}
}

// finishMember ends a partition whose windows are all done (or one failed).
func (e *engine) finishMember(m *member) {
	e.memMu.Lock()
	delete(e.members, m)
	e.memMu.Unlock()
	r := m.run
	j := m.job
	m.mu.Lock()
	err := m.err
	newest, raw := m.newest, m.newestRaw
	kept := m.kept
	m.mu.Unlock()
	for _, c := range r.descendants() {
		e.releaseProducer(c, j, err)
	}
	if err != nil {
		j.cursor = nil
		e.partitionDone(j, err)
		return
	}
	j.cursor = &pageCtx{maxStart: newest, maxRaw: raw}
	r.mu.Lock()
	delete(r.windows, j.key)
	if e.tracksDeletions(r) {
		// The next read compares from its cursor minus the lookback; the cursor never passes the read.
		from := newest
		if from.After(e.started) {
			from = e.started
		}
		if old, ok := r.cursorTimes[j.key]; ok && old.After(from) {
			from = old
		}
		from = from.Add(-e.s.lookback)
		var next []seenEntry
		for _, s := range kept {
			if !s.start.Before(from) {
				next = append(next, s)
			}
		}
		if p := packSeen(next); p != "" {
			r.seen[j.key] = p
		} else {
			delete(r.seen, j.key)
		}
	}
	r.mu.Unlock()
	e.partitionDone(j, nil)
}

// settleGone decides what became of lookback entries a window no longer lists: Clockify still
// has one that moved out of the window (its record is emitted as it is now), and has not one that
// was deleted (a record with _ab_cdc_deleted_at is emitted). Entries that cannot be checked stay
// for the next read.
func (e *engine) settleGone(ctx context.Context, j *job, gone []seenEntry) ([]seenEntry, error) {
	r := j.run
	d := r.def
	var keep []seenEntry
	var recs [][]byte
	pc := &pageCtx{}
	for _, g := range gone {
		if e.deletedThisSync(r, g.id) {
			continue
		}
		if single := d.Deletions.Single; single != "" {
			p := single
			for _, pr := range j.params {
				p = strings.Replace(p, "{"+pr.name+"}", pr.value, 1)
			}
			p = strings.Replace(p, "{id}", g.id, 1)
			resp, err := e.c.GetChecked(ctx, p, nil, pc.split(&streams.Stream{Single: true}))
			if err == nil {
				if len(pc.elems) == 1 {
					recs = append(recs, e.patch(j, pc.elems[0]))
				}
				pc.release(resp)
				continue
			}
			if ae, st := apiStatus(err); ae == nil || st != 400 && st != 404 {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				e.out.Log(airbyte.LogWarn, "stream %s: could not check whether entry %s of %s was deleted (%v); checking again next sync", r.desc, g.id, j.key, err)
				keep = append(keep, g)
				continue
			}
		}
		recs = append(recs, e.tombstone(d, j.params, nil, g.id, g.start.UTC().Format(time.RFC3339Nano), e.started))
		e.markDeleted(r, g.id)
	}
	return keep, e.emit(r, recs)
}

// patch adds the partition's parent keys to a record, as page does.
func (e *engine) patch(j *job, rec []byte) []byte {
	var fields []jsonscan.Field
	for _, k := range j.run.def.ParentKeys {
		v, _ := json.Marshal(j.param(k))
		fields = append(fields, jsonscan.Field{Key: k, Value: v})
	}
	return jsonscan.AddMissing(nil, rec, fields)
}

func (e *engine) deletedThisSync(r *streamRun, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deletedIDs[id]
}

func (e *engine) markDeleted(r *streamRun, id string) {
	r.mu.Lock()
	r.deletedIDs[id] = true
	r.mu.Unlock()
}

// split cuts the busiest window in two and returns a job for its lower half; nil when no window
// has enough left to be worth it.
func (e *engine) split() *job {
	e.memMu.Lock()
	defer e.memMu.Unlock()
	var best *window
	bestPages := 0.0
	for m := range e.members {
		m.mu.Lock()
		for _, w := range m.active {
			if p := w.pagesLeft(float64(m.run.pageSize.Load())); p > bestPages {
				best, bestPages = w, p
			}
		}
		m.mu.Unlock()
	}
	if best == nil || bestPages < minSplitPages {
		return nil
	}
	m := best.m
	m.mu.Lock()
	defer m.mu.Unlock()
	// The upper part keeps about half the pages left, and its last one should end just below
	// the split, not cross it by half a page: the cut is placed where k more pages end at the
	// density read so far, a little above so that the k-th page still reaches it.
	pageSize := float64(m.run.pageSize.Load())
	left := best.pagesLeft(pageSize)
	k := math.Floor(left / 2)
	perEntry := best.top.Sub(best.frontier).Seconds() / float64(best.entries)
	if k < 1 || perEntry <= 0 || best.last {
		return nil
	}
	// The lower half's end filter is widened by maxZoneOffset, so it pages through that much of
	// the upper half again before it reaches its own entries: with dense entries (one a minute)
	// that is many pages, and the split must take over far more than it re-reads to pay.
	if reread := maxZoneOffset.Seconds() / perEntry / pageSize; reread > splitReread*k {
		return nil
	}
	at := best.frontier.Add(-time.Duration(k * pageSize * perEntry * (1 - splitMargin) * float64(time.Second))).Truncate(time.Second)
	// lo < at < frontier ≤ hi: the two halves neither overlap nor leave a gap.
	if !at.After(best.lo) || !at.Before(best.frontier) || !at.Before(best.hi) {
		return nil
	}
	nw := &window{m: m, lo: best.lo, hi: at, found: map[string]bool{}}
	best.lo = at
	m.active = append(m.active, nw)
	j := m.job
	e.out.Log(airbyte.LogDebug, "stream %s: partition %s: the window reading below %s is split at %s (about %.0f pages left)",
		m.run.desc, j.key, best.frontier.Format(time.RFC3339), at.Format(time.RFC3339), left)
	return &job{run: m.run, params: j.params, plan: j.plan, key: j.key, emit: j.emit, win: nw}
}

// pagesLeft estimates the window's unread pages from the density of what it read.
func (w *window) pagesLeft(pageSize float64) float64 {
	if !w.running || w.pages == 0 || w.last || pageSize <= 0 {
		return 0
	}
	span := w.top.Sub(w.frontier).Seconds()
	lo := w.lo
	if lo.IsZero() {
		lo = openFloor(w.frontier)
	}
	if span <= 0 || !w.frontier.After(lo) {
		return 0
	}
	return float64(w.entries) / span * w.frontier.Sub(lo).Seconds() / pageSize
}

// parallelism is how many requests should be in flight for the rate limit, not a chain of
// requests, to set the pace: the rate times the time a request takes, plus one. Without a
// client-side rate limit nothing is split: each partition is one chain, the fewest requests.
func (e *engine) parallelism() int {
	st := e.c.Stats()
	if st.Rate <= 0 {
		return 0
	}
	if st.Latency <= 0 {
		return e.s.concurrency
	}
	n := int(math.Ceil(st.Rate*st.Latency.Seconds())) + 1
	return min(max(n, 2), e.s.concurrency)
}
