package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/jsonscan"
	"github.com/clockberg/clockberg/source/clockify"
	"github.com/clockberg/clockberg/source/streams"
)

// maxPages bounds one partition's page loop against a server that never says "last page".
// 100,000 pages of 5,000 is far beyond any real workspace.
const maxPages = 100_000

// maxZoneOffset is the largest distance of a time zone from UTC (UTC+14, Kiribati).
const maxZoneOffset = 14 * time.Hour

// stateEvery is the least time between two progress STATEs of one stream once its completed
// list is long; short lists go out after every partition.
const (
	stateEvery          = time.Second
	smallStateKeys      = 200
	smallStateBytes     = 64 << 10
	throttleStatusEvery = time.Second
)

// planInfo is the plan of a workspace, as its record states it; partitions below it inherit it.
type planInfo struct {
	id       string
	plan     streams.Plan
	known    bool            // false when featureSubscriptionType is absent or unknown
	features map[string]bool // nil when the API did not report features
}

// allows reports whether the plan has the stream. Unknown plans allow everything: a 402/403
// then still skips the pair, with a warning.
func (w *planInfo) allows(d *streams.Stream) bool {
	if d.Gate == nil || w == nil {
		return true
	}
	if w.known && w.plan < d.Gate.Plan {
		return false
	}
	if w.features != nil && !w.features[d.Gate.Feature] {
		return false
	}
	return true
}

// streamRun is one stream during a read: configured streams emit; parents of configured
// streams that are not configured themselves are walked silently for their ids.
type streamRun struct {
	def         *streams.Stream
	desc        airbyte.StreamDescriptor
	emit        bool
	incremental bool
	syncID      *int64
	resume      *resumeInfo
	children    []*streamRun
	pageSize    atomic.Int64

	mu            sync.Mutex
	windows       map[string][]windowState // finished windows of unfinished partitions (windowed streams)
	seen          map[string]string        // packed lookback ids per partition (deletion detection)
	feedMarks     map[string]string        // change feed read up to, per workspace
	feedParts     map[string][]param       // workspaces whose change feed this read asks
	feedsQueued   bool
	readIDs       map[string]bool // ids listed this sync, which the change feed must not delete
	deletedIDs    map[string]bool // ids emitted as deleted this sync
	running       bool
	finished      bool
	pending       int   // partitions queued or running, plus parent partitions that may add more
	since         int64 // records since the last STATE
	total         int64
	completed     map[string]bool
	cursors       map[string]string
	cursorTimes   map[string]time.Time
	failures      []*airbyte.Error
	lastState     time.Time
	lastStateJSON []byte
	lastThrottle  time.Time
	began         time.Time
}

// param is a path parameter of a partition.
type param struct{ name, value string }

// job is one partition of a stream: its path parameters (from the root down), the plan of its
// workspace and its key in stream_state.completed ("*" for a root stream, else the parameter
// values joined by "/").
type job struct {
	run    *streamRun
	params []param
	plan   *planInfo
	key    string
	emit   bool
	// cursor holds the newest record start seen; partitionDone publishes it only when the
	// whole window was paged, because time entries arrive newest first.
	cursor *pageCtx
	win    *window // a time window of a windowed stream's partition
	feed   bool    // the change feed of deleted records of this workspace
}

func (j *job) param(name string) string {
	for _, p := range j.params {
		if p.name == name {
			return p.value
		}
	}
	return ""
}

// planID names the partition's workspace in messages.
func (j *job) planID() string {
	if j.plan != nil {
		return j.plan.id
	}
	return j.key
}

type engine struct {
	s      *settings
	c      *clockify.Client
	out    *airbyte.Writer
	runs   []*streamRun // emitting runs in catalog order, then silent parents
	byName map[string]*streamRun
	q      *jobQueue
	cancel context.CancelFunc // stops the read's requests on a fatal error

	fatalMu sync.Mutex
	fatal   error

	stateEvery time.Duration
	now        func() time.Time
	started    time.Time // the read's start: cursors never move past it
	feedLag    time.Duration

	memMu   sync.Mutex
	members map[*member]bool // windowed partitions being read, for splitting
}

func (e *engine) setFatal(err error) {
	e.fatalMu.Lock()
	if e.fatal == nil {
		e.fatal = err
	}
	e.fatalMu.Unlock()
	e.cancel()
	e.q.close()
}

func (e *engine) fatalErr() error {
	e.fatalMu.Lock()
	defer e.fatalMu.Unlock()
	return e.fatal
}

// run executes the read: the root streams' partitions, then every partition their records
// create, through a pool of max_concurrency workers.
func (e *engine) run(ctx context.Context) error {
	for _, r := range e.runs {
		if r.emit {
			r.began = e.now()
			if err := e.out.StreamStatus(r.desc, airbyte.StatusStarted); err != nil {
				return err
			}
		}
	}
	// Streams finished in this same sync attempt chain are closed at once; they are still walked
	// silently if a child stream needs their ids.
	for _, r := range e.runs {
		if r.emit && r.resume.skipAll {
			e.out.Log(airbyte.LogInfo, "stream %s already completed in this sync (sync_id %d); not read again", r.desc, *r.syncID)
			r.mu.Lock()
			r.pending = 0
			e.finishLocked(r)
			r.emit = false
			r.mu.Unlock()
		}
	}

	for _, r := range e.runs {
		if r.def.Parent != nil || !r.active() {
			continue
		}
		e.pushPartition(r, &job{run: r, key: "*"})
	}
	// A stream whose parents produced no partition at all ends now.
	for _, r := range e.runs {
		r.mu.Lock()
		e.settleLocked(r)
		r.mu.Unlock()
	}

	var wg sync.WaitGroup
	for i := 0; i < e.s.concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := e.q.pop(); j != nil; j = e.q.pop() {
				e.do(ctx, j)
				e.q.done()
			}
		}()
	}
	wg.Wait()

	if err := e.fatalErr(); err != nil {
		return e.abort(err)
	}
	if err := ctx.Err(); err != nil {
		return e.abort(err)
	}
	failed := false
	for _, r := range e.runs {
		r.mu.Lock()
		if !r.finished { // unreachable unless a bookkeeping bug; never claim such a stream complete
			r.failures = append(r.failures, airbyte.SystemErrorf("stream %s ended with %d partitions unaccounted for", r.desc, r.pending))
			e.finishLocked(r)
		}
		failed = failed || (r.emit && len(r.failures) > 0)
		r.mu.Unlock()
	}
	if failed {
		return airbyte.ErrReported
	}
	return nil
}

// abort ends every unfinished stream INCOMPLETE (after its last good state) and returns the
// error that stopped the read.
func (e *engine) abort(err error) error {
	for _, r := range e.runs {
		r.mu.Lock()
		if r.emit && !r.finished {
			r.finished = true
			e.stateLocked(r, false)
			e.out.StreamStatus(r.desc, airbyte.StatusIncomplete)
		}
		r.mu.Unlock()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return airbyte.TransientErrorf("the read was interrupted before every stream completed: %v", err)
	}
	var ae *airbyte.Error
	if errors.As(err, &ae) {
		return err
	}
	return classify(err, "")
}

func (r *streamRun) active() bool { return r.emit || len(r.children) > 0 }

// descendants are the children, their children and so on.
func (r *streamRun) descendants() []*streamRun {
	var out []*streamRun
	for _, c := range r.children {
		out = append(append(out, c), c.descendants()...)
	}
	return out
}

// pushPartition queues a partition unless an earlier attempt of this sync finished it; such a
// partition is still walked silently when child streams need its ids.
func (e *engine) pushPartition(r *streamRun, j *job) {
	done := r.resume.completed[j.key]
	if done {
		r.mu.Lock()
		r.completed[j.key] = true
		r.mu.Unlock()
		if len(r.children) == 0 {
			return
		}
	}
	j.emit = r.emit && !done
	e.push(r, j)
}

func (e *engine) push(r *streamRun, j *job) {
	r.mu.Lock()
	r.pending++
	r.mu.Unlock()
	// Every stream below waits for this partition: it may create some of their partitions.
	for _, c := range r.descendants() {
		c.mu.Lock()
		c.pending++
		c.mu.Unlock()
	}
	e.q.push(j, len(r.children) > 0)
}

// do runs one partition and does its bookkeeping.
func (e *engine) do(ctx context.Context, j *job) {
	r := j.run
	switch {
	case j.win != nil:
		e.doWindow(ctx, j)
		return
	case j.feed:
		e.doFeed(ctx, j)
		return
	case e.windowed(r) && ctx.Err() == nil:
		e.startMember(ctx, j)
		return
	}
	readCtx := ctx
	if r.emit {
		ctx = clockify.WithThrottleHook(ctx, func(reset time.Time) { e.throttled(r, reset) })
		r.mu.Lock()
		e.runningLocked(r)
		r.mu.Unlock()
	}
	var err error
	switch {
	case readCtx.Err() != nil:
		err = readCtx.Err()
	case !j.plan.allows(r.def):
		if j.emit {
			e.out.Log(airbyte.LogInfo, "stream %s: workspace %s is on a plan without %s (needs %s or higher with the feature enabled); skipped without a request",
				r.desc, j.planID(), r.def.Gate.Feature, r.def.Gate.Plan)
		}
	default:
		err = e.fetch(ctx, j)
	}
	if _, st := apiStatus(err); (st == 402 || st == 403) && r.def.Gate != nil {
		e.out.Log(airbyte.LogWarn, "stream %s: Clockify answered HTTP %d for workspace %s; the %s feature needs the %s plan or higher. Skipping this workspace for this stream: %v",
			r.desc, st, j.planID(), r.def.Gate.Feature, r.def.Gate.Plan, err)
		err = nil
	} else if st == 401 {
		e.setFatal(classify(err, r.desc.Name))
	}
	if err != nil && readCtx.Err() != nil {
		// Interrupted: the partition is neither done nor failed. Leaving it pending keeps its
		// stream from being reported COMPLETE or claimed in a STATE; abort ends it INCOMPLETE.
		return
	}
	for _, c := range r.descendants() {
		e.releaseProducer(c, j, err)
	}
	e.partitionDone(j, err)
}

// pageCtx is the per-partition scratch state of fetch.
type pageCtx struct {
	fields   []jsonscan.Field
	bound    time.Time // time entries: drop records starting before (server filter is zoned)
	hasBound bool
	maxStart time.Time
	maxRaw   string
	buf      []byte
	ends     []int
	// elems are the records of the current body, split by the client's body check; they point
	// into the response buffer and are cleared before it goes back to the pool.
	elems [][]byte
	total int // the envelope's total count (Paging.Total), or -1
	// win is the time window a windowed partition's page belongs to; windowEnd says the page went
	// below the window (a split may have raised its lower bound), so nothing after it is needed.
	win       *window
	windowEnd bool
	// seen are the ids a selectable stream read, to skip repeats and find missing ones.
	seen map[string]bool
}

// split is the body check of a stream's requests: one strict pass both validates the body (as
// the client's default json.Valid would) and finds its records, so page does not scan it again.
func (pc *pageCtx) split(d *streams.Stream) func(*clockify.Response) error {
	return func(resp *clockify.Response) error {
		pc.elems = pc.elems[:0]
		pc.total = -1
		body := resp.Body
		var err error
		switch {
		case d.Single:
			if err = jsonscan.Validate(body); err == nil {
				pc.elems = append(pc.elems, bytes.TrimSpace(body))
			}
		case d.Records != nil:
			if err = jsonscan.Validate(body); err != nil {
				break
			}
			if d.Paging.Total != nil {
				if v, ok := jsonscan.Path(body, d.Paging.Total...); ok {
					if n, perr := strconv.Atoi(string(v)); perr == nil {
						pc.total = n
					}
				}
			}
			v, ok := jsonscan.Path(body, d.Records...)
			if !ok || string(v) == "null" {
				// An envelope without its list is an empty result (Clockify omits it when empty).
				return nil
			}
			err = jsonscan.EachElement(v, func(elem []byte) error {
				pc.elems = append(pc.elems, elem)
				return nil
			})
		default:
			pc.elems, err = jsonscan.AppendElements(pc.elems, body)
		}
		if err != nil {
			clear(pc.elems)
			pc.elems = pc.elems[:0]
		}
		return bodyError(body, err, "records")
	}
}

// release drops the records of a body whose buffer goes back to the client's pool.
func (pc *pageCtx) release(resp *clockify.Response) {
	clear(pc.elems)
	pc.elems = pc.elems[:0]
	resp.Release()
}

// bodyError words a body check's failure for the client: JSON that does not parse is retried, as a
// body json.Valid rejects always was; valid JSON of another shape is not, since asking again
// returns the same.
func bodyError(body []byte, err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jsonscan.ErrNotArray):
		return clockify.Permanent(fmt.Errorf("expected a JSON array of %s", what))
	default:
		return fmt.Errorf("malformed JSON body (%d bytes): %w", len(body), err)
	}
}

// fetch reads every page of one partition.
func (e *engine) fetch(ctx context.Context, j *job) error {
	pc := &pageCtx{}
	j.cursor = pc
	err := e.fetchPages(ctx, j, pc)
	if err == nil && j.run.def.Selectable {
		err = e.checkSelected(j.run, pc)
	}
	return err
}

func (e *engine) fetchPages(ctx context.Context, j *job, pc *pageCtx) error {
	r := j.run
	d := r.def
	p := d.Path
	for _, pr := range j.params {
		p = strings.Replace(p, "{"+pr.name+"}", url.PathEscape(pr.value), 1)
	}
	q := url.Values{}
	for k, v := range d.Query {
		q[k] = append([]string(nil), v...)
	}
	if j.emit {
		for _, k := range d.ParentKeys {
			v, _ := json.Marshal(j.param(k))
			pc.fields = append(pc.fields, jsonscan.Field{Key: k, Value: v})
		}
	}
	switch {
	case j.win != nil:
		pc.win = j.win
		e.windowQuery(j, q)
	case d.Range != nil:
		e.window(r, j, pc, q)
	}
	if d.Selectable {
		pc.seen = map[string]bool{}
	}

	check := pc.split(d)
	req := clockify.Request{Method: d.HTTPMethod(), Path: p, Query: q}
	var err error
	if d.Paging.Kind == streams.Unpaged {
		if req.Body, err = requestBody(d, 0, 0); err != nil {
			return err
		}
		resp, err := e.c.Do(ctx, req, check)
		if err != nil {
			return err
		}
		_, err = e.page(j, pc, p, 0)
		pc.release(resp)
		return err
	}

	pg := d.Paging
	size := int(r.pageSize.Load())
	pageNo, skip, consumed := pg.First, 0, 0
	for n := 0; n < maxPages; n++ {
		if pg.MaxPage > 0 && pageNo > pg.MaxPage {
			return fmt.Errorf("%s %s: more than %d pages of %d records; Clockify serves no page beyond %d", req.Method, p, pg.MaxPage, size, pg.MaxPage)
		}
		switch pg.Kind {
		case streams.BodyPages:
			if req.Body, err = requestBody(d, pageNo, size); err != nil {
				return err
			}
		default:
			q.Set(pg.Page, strconv.Itoa(pageNo))
			q.Set(pg.Size, strconv.Itoa(size))
		}
		resp, err := e.c.Do(ctx, req, check)
		if err != nil {
			ae, _ := apiStatus(err)
			if smaller := smallerPageSize(size); namesPageSize(ae) && smaller > 0 {
				e.out.Log(airbyte.LogWarn, "stream %s: Clockify rejected %s=%d on %s (%s); stepping down to %d for this endpoint",
					r.desc.Name, pg.Size, size, p, ae.Message, smaller)
				r.pageSize.CompareAndSwap(int64(size), int64(smaller))
				size = smaller
				// Continue at the same record offset with the smaller size.
				pageNo, skip = pg.First+consumed/size, consumed%size
				continue
			}
			return err
		}
		count, err := e.page(j, pc, p, skip)
		lastPage, total := resp.LastPage, pc.total
		pc.release(resp)
		if err != nil {
			return err
		}
		if pc.win != nil {
			e.q.wake() // the window's estimate changed: an idle worker may split it
			if pc.windowEnd {
				return nil
			}
			if lastPage != nil && *lastPage || count < size {
				pc.win.m.mu.Lock()
				pc.win.last = true
				pc.win.m.mu.Unlock()
			}
		}
		if count > skip {
			consumed += count - skip
		}
		skip = 0
		if lastPage != nil && *lastPage || total >= 0 && consumed >= total {
			return nil
		}
		if count < size {
			if lastPage != nil && count > 0 {
				// A short page that claims more follows means the server capped the page size
				// silently; the stop rule ends here, so say so rather than lose data quietly.
				e.out.Log(airbyte.LogWarn, "stream %s: %s page %d returned %d records for page size %d but Last-Page: false; stopping at the short page",
					r.desc.Name, p, pageNo, count, size)
			}
			return nil
		}
		pageNo++
	}
	return fmt.Errorf("%s %s: still full pages after %d pages; giving up", req.Method, p, maxPages)
}

// pageSizes are the sizes to fall back to when Clockify rejects a page size it documents.
var pageSizes = []int{5000, 1000, 200}

// smallerPageSize returns the next size below cur that divides it, so that the offset reached
// so far maps to a whole page of the new size; 0 when there is none.
func smallerPageSize(cur int) int {
	for _, s := range pageSizes {
		if s < cur && cur%s == 0 {
			return s
		}
	}
	for _, s := range pageSizes {
		if s < cur {
			return s
		}
	}
	return 0
}

// requestBody is the JSON body of a POST read: the row's fixed fields plus, for body paging,
// the page number and size.
func requestBody(d *streams.Stream, page, size int) ([]byte, error) {
	if d.HTTPMethod() == http.MethodGet {
		return nil, nil
	}
	body := maps.Clone(d.Body)
	if body == nil {
		body = map[string]any{}
	}
	if d.Paging.Kind == streams.BodyPages {
		body[d.Paging.Page], body[d.Paging.Size] = page, size
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("stream %s: encoding the request body: %w", d.Name, err)
	}
	return b, nil
}

// window sets the start and end filters of a stream with a cursor range: from the cursor minus
// the lookback (or start_date, or the range's own beginning) to, for a required range, now plus
// its reach ahead.
func (e *engine) window(r *streamRun, j *job, pc *pageCtx, q url.Values) {
	d := r.def
	t, ok := e.startBound(r, j.key)
	if !ok && d.Range.Required {
		t, ok = d.Range.From, true
	}
	if ok {
		pc.bound, pc.hasBound = t, true
		// Clockify reads the filter's wall clock in the account's time zone (UTC-12..+14),
		// so ask from 14 h earlier and drop what precedes the bound here: the result is
		// exact whatever the zone.
		q.Set(d.Range.Start, t.Add(-maxZoneOffset).UTC().Format(filterLayout))
	}
	if d.Range.Required {
		q.Set(d.Range.End, e.started.Add(d.Range.Ahead).UTC().Format(filterLayout))
	}
}

// startBound is the lower bound of a cursor range: cursor minus lookback, never before
// start_date.
func (e *engine) startBound(r *streamRun, key string) (time.Time, bool) {
	var t time.Time
	if r.incremental {
		if c, ok := r.resume.cursors[key]; ok {
			t = c.Add(-e.s.lookback)
		}
	}
	if !e.s.startDate.IsZero() && t.Before(e.s.startDate) {
		t = e.s.startDate
	}
	return t, !t.IsZero()
}

// filterLayout is the instant format of Clockify's start/end filters.
const filterLayout = "2006-01-02T15:04:05Z"

// checkSelected fails the read when a workspace the config names was not listed.
func (e *engine) checkSelected(r *streamRun, pc *pageCtx) error {
	var missing []string
	for _, id := range e.s.workspaceIDs {
		if !pc.seen[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		err := airbyte.ConfigErrorf("workspace(s) %s are not visible to this API key (check workspace_id/workspace_ids and api_url for regional workspaces)", strings.Join(missing, ", "))
		e.setFatal(err)
		return err
	}
	e.out.Log(airbyte.LogInfo, "reading %d %s", len(pc.seen), r.def.Name)
	return nil
}

// page handles the records of one response body (pc.elems, split by the body check): it
// patches them, writes them and queues child partitions. It returns the number of records the
// page held.
func (e *engine) page(j *job, pc *pageCtx, reqPath string, skip int) (int, error) {
	r := j.run
	d := r.def
	pc.buf, pc.ends = pc.buf[:0], pc.ends[:0]
	var kids []*job
	count := 0
	w := pc.win
	var pageOld, pageNew time.Time
	inWindow := 0
	below, track := false, e.tracksDeletions(r)
	if w != nil {
		// The window's bounds hold still for the page: a split waits for it.
		w.m.mu.Lock()
		defer w.m.mu.Unlock()
	}
	handle := func(elem []byte) error {
		count++
		if count <= skip {
			return nil
		}
		if len(elem) == 0 || elem[0] != '{' {
			return fmt.Errorf("%s: a record is not a JSON object", reqPath)
		}
		if d.Cursor != nil {
			raw := fieldString(elem, d.Cursor)
			t, err := time.Parse(time.RFC3339Nano, raw)
			switch {
			case w != nil && err != nil:
				// Without a cursor value the record belongs to no window but the newest.
				if w.hi.Before(farFuture) {
					return nil
				}
			case w != nil:
				if t.Before(w.lo) {
					below = true
					return nil
				}
				if !t.Before(w.hi) {
					return nil
				}
				// Only entries inside the window tell its density and how far it got: the
				// widened end filter also returns up to 14 h of entries above it.
				inWindow++
				if pageOld.IsZero() || t.Before(pageOld) {
					pageOld = t
				}
				if t.After(pageNew) {
					pageNew = t
				}
				if t.After(w.newest) {
					w.newest, w.newestRaw = t, raw
				}
				if track {
					id := fieldString(elem, d.Key[0])
					w.found[id] = true
					if !t.Before(latest(w.m.newest, w.newest).Add(-e.s.lookback)) {
						w.kept = append(w.kept, seenEntry{id: id, start: t})
					}
				}
			case err == nil:
				if pc.hasBound && t.Before(pc.bound) {
					return nil
				}
				if t.After(pc.maxStart) {
					pc.maxStart, pc.maxRaw = t, raw
				}
			}
		}
		if pc.seen != nil {
			id := fieldString(elem, d.Key[0])
			if pc.seen[id] || len(e.s.workspaceIDs) > 0 && !slices.Contains(e.s.workspaceIDs, id) {
				return nil
			}
			pc.seen[id] = true
		}
		if len(r.children) > 0 {
			plan := j.plan
			if d.PlanFields != nil {
				plan = readPlan(elem, d.PlanFields, fieldString(elem, d.Key[0]))
			}
			for _, c := range r.children {
				if v := fieldString(elem, []string{c.def.Parent.Field}); v != "" {
					kids = append(kids, e.childJob(c, j, plan, v))
				}
			}
		}
		if !j.emit {
			return nil
		}
		fields := pc.fields
		if d.IDFrom != nil {
			if v, ok := jsonscan.Path(elem, d.IDFrom...); ok {
				fields = append([]jsonscan.Field{{Key: "id", Value: v}}, fields...)
			}
		}
		pc.buf = jsonscan.AddMissing(pc.buf, elem, fields)
		pc.ends = append(pc.ends, len(pc.buf))
		if len(pc.buf) >= flushBytes {
			return e.flush(r, pc)
		}
		return nil
	}
	for _, elem := range pc.elems {
		if err := handle(elem); err != nil {
			return 0, err
		}
	}
	if err := e.flush(r, pc); err != nil {
		return 0, err
	}
	if w != nil {
		w.pages++
		w.entries += inWindow
		if !pageOld.IsZero() && (w.frontier.IsZero() || pageOld.Before(w.frontier)) {
			w.frontier = pageOld
		}
		if pageNew.After(w.top) {
			w.top = pageNew
		}
		pc.windowEnd = below
	}
	for _, k := range kids {
		e.pushPartition(k.run, k)
	}
	return count, nil
}

// childJob is the partition of child stream c that the parent record with value v (of the
// child's Parent.Field) creates.
func (e *engine) childJob(c *streamRun, parent *job, plan *planInfo, v string) *job {
	params := append(slices.Clone(parent.params), param{c.def.Parent.Param, v})
	vals := make([]string, len(params))
	for i, p := range params {
		vals[i] = p.value
	}
	return &job{run: c, params: params, plan: plan, key: strings.Join(vals, "/")}
}

// fieldString is the string at path in a record, or "".
func fieldString(rec []byte, path []string) string {
	if v, ok := jsonscan.Path(rec, path...); ok {
		if s, ok := jsonscan.String(v); ok {
			return s
		}
	}
	return ""
}

// readPlan reads the plan a record (a workspace) states for the partitions below it.
func readPlan(rec []byte, f *streams.PlanFields, id string) *planInfo {
	w := &planInfo{id: id}
	w.plan, w.known = streams.ParsePlan(fieldString(rec, []string{f.Subscription}))
	if v, ok := jsonscan.Member(rec, f.Features); ok {
		var list []string
		if json.Unmarshal(v, &list) == nil {
			w.features = map[string]bool{}
			for _, x := range list {
				w.features[strings.ToUpper(x)] = true
			}
		}
	}
	return w
}

// flushBytes bounds the patched records a partition buffers before writing them, so a worker
// holds a small slice of a page rather than a second copy of it.
const flushBytes = 128 << 10

// flush writes the buffered records of a partition. The stream lock makes the records and the
// stream's record count move together, so a STATE never miscounts records written around it.
func (e *engine) flush(r *streamRun, pc *pageCtx) error {
	if len(pc.ends) == 0 {
		return nil
	}
	now := e.now().UnixMilli()
	r.mu.Lock()
	defer r.mu.Unlock()
	start := 0
	for i, end := range pc.ends {
		if err := e.out.Record(r.desc.Name, r.desc.Namespace, pc.buf[start:end], now); err != nil {
			r.since += int64(i)
			r.total += int64(i)
			return err
		}
		start = end
	}
	r.since += int64(len(pc.ends))
	r.total += int64(len(pc.ends))
	pc.buf, pc.ends = pc.buf[:0], pc.ends[:0]
	return nil
}

// releaseProducer ends the producer token a parent partition held on a child stream.
func (e *engine) releaseProducer(c *streamRun, parentJob *job, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.failures = append(c.failures, airbyte.AsError(fmt.Errorf("cannot list the %s partitions of %s %s because reading it failed: %w",
			c.def.Name, parentJob.run.def.Name, parentJob.key, err)))
	}
	c.pending--
	e.settleLocked(c)
}

func (e *engine) partitionDone(j *job, err error) {
	r := j.run
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.completed[j.key] = true
		if pc := j.cursor; pc != nil && r.incremental && !pc.maxStart.IsZero() {
			newest, raw := pc.maxStart, pc.maxRaw
			// A record dated in the future (a planned entry, a wrong clock) must not carry the
			// cursor past the read: the next one would start after it and skip what came between.
			if newest.After(e.started) {
				newest, raw = e.started, e.started.UTC().Format(time.RFC3339Nano)
			}
			if old, ok := r.cursorTimes[j.key]; !ok || newest.After(old) {
				r.cursorTimes[j.key] = newest
				r.cursors[j.key] = raw
			}
		}
	} else {
		r.failures = append(r.failures, classify(err, r.desc.Name))
	}
	r.pending--
	if r.pending == 0 {
		e.settleLocked(r)
		return
	}
	if err == nil && e.stateDue(r) {
		e.stateLocked(r, false)
	}
}

// stateDue says whether a progress STATE is due (r.mu held): after every partition while the
// state is small, else at most every stateEvery, and less often the larger it is, so a state
// holding the lookback ids of many members is not written a thousand times.
func (e *engine) stateDue(r *streamRun) bool {
	if !r.emit {
		return false
	}
	size := len(r.lastStateJSON)
	if len(r.completed) <= smallStateKeys && size < smallStateBytes {
		return true
	}
	every := max(e.stateEvery, time.Duration(size/smallStateBytes)*e.stateEvery)
	return e.now().Sub(r.lastState) >= every
}

func (e *engine) runningLocked(r *streamRun) {
	if r.emit && !r.running {
		r.running = true
		e.out.StreamStatus(r.desc, airbyte.StatusRunning)
	}
}

func (e *engine) throttled(r *streamRun, reset time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished || e.now().Sub(r.lastThrottle) < throttleStatusEvery {
		return
	}
	r.lastThrottle = e.now()
	e.out.StreamStatus(r.desc, airbyte.StatusRunning, airbyte.RateLimitedReason(reset.UnixMilli()))
}

// stateLocked writes the stream's STATE with the records counted since the previous one.
func (e *engine) stateLocked(r *streamRun, done bool) {
	if !r.emit {
		return
	}
	st := streamState{SyncID: r.syncID, Done: done}
	if !done {
		st.Completed = sortedKeys(r.completed)
		st.Windows = r.windows
	}
	if r.incremental {
		st.Cursors = r.cursors
	}
	if e.tracksDeletions(r) {
		st.Seen = r.seen
		if e.readsFeed(r) {
			st.Deletions = r.feedMarks
		}
	}
	b, err := json.Marshal(st)
	if err != nil {
		panic(err) // plain strings and maps; cannot fail
	}
	// The same progress twice would tell the platform nothing new; records written since belong
	// to unfinished partitions and are counted by the next state that claims them.
	if !done && bytes.Equal(b, r.lastStateJSON) {
		return
	}
	if e.out.State(r.desc, b, r.since) == nil {
		r.since = 0
	}
	r.lastState, r.lastStateJSON = e.now(), b
}

// finishLocked ends a stream whose last partition is done: final STATE, then COMPLETE, or the
// last good STATE, a TRACE ERROR naming the stream and INCOMPLETE.
func (e *engine) finishLocked(r *streamRun) {
	if r.finished {
		return
	}
	r.finished = true
	if !r.emit {
		return
	}
	e.runningLocked(r)
	if len(r.failures) == 0 {
		e.stateLocked(r, true)
		e.out.Log(airbyte.LogInfo, "stream %s: %d records in %s", r.desc, r.total, e.now().Sub(r.began).Round(time.Millisecond))
		e.out.StreamStatus(r.desc, airbyte.StatusComplete)
		return
	}
	e.stateLocked(r, false)
	first := r.failures[0]
	msg := first.Message
	if n := len(r.failures) - 1; n > 0 {
		msg = fmt.Sprintf("%s (and %d more failed partitions of this stream)", msg, n)
	}
	d := r.desc
	e.out.Error(&airbyte.Error{FailureType: first.FailureType, Message: msg, Internal: first.Internal, Stream: &d, Err: first.Err})
	e.out.StreamStatus(r.desc, airbyte.StatusIncomplete)
}

// jobQueue is an unbounded two-level FIFO: partitions of parent streams go first so that child
// partitions are discovered early and the pool stays busy. When it is empty while fewer jobs
// run than target asks for, a worker tries split for more work (a window cut in two).
type jobQueue struct {
	mu          sync.Mutex
	cond        *sync.Cond
	high, low   []*job
	outstanding int // queued or running
	running     int
	closed      bool
	gen         int // counts pushes, wakes and finished jobs, so no wakeup is lost while splitting

	split  func() *job
	target func() int
}

func newJobQueue() *jobQueue {
	q := &jobQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *jobQueue) push(j *job, high bool) {
	q.mu.Lock()
	if high {
		q.high = append(q.high, j)
	} else {
		q.low = append(q.low, j)
	}
	q.outstanding++
	q.gen++
	q.mu.Unlock()
	q.cond.Signal()
}

// pop blocks until a job is available; nil means the queue is drained (or closed).
func (q *jobQueue) pop() *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.closed {
			return nil
		}
		if len(q.high) > 0 {
			j := q.high[0]
			q.high[0] = nil
			q.high = q.high[1:]
			q.running++
			return j
		}
		if len(q.low) > 0 {
			j := q.low[0]
			q.low[0] = nil
			q.low = q.low[1:]
			q.running++
			return j
		}
		if q.outstanding == 0 {
			return nil
		}
		if q.split != nil && q.running < q.target() {
			gen := q.gen
			q.mu.Unlock()
			j := q.split()
			q.mu.Lock()
			if j != nil {
				q.outstanding++
				q.running++
				return j
			}
			if q.gen != gen {
				continue // a push or wake while splitting was unlocked: look again before waiting
			}
		}
		q.cond.Wait()
	}
}

// done marks a popped job finished; the last one wakes every idle worker to exit.
func (q *jobQueue) done() {
	q.mu.Lock()
	q.outstanding--
	q.running--
	q.gen++
	q.mu.Unlock()
	q.cond.Broadcast()
}

// wake lets idle workers look for work to split again.
func (q *jobQueue) wake() {
	q.mu.Lock()
	q.gen++
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
