package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/jsonscan"
	"github.com/clockberg/clockberg/source/clockify"
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
	throttleStatusEvery = time.Second
)

// workspace is one workspace of the read with what plan gating needs.
type workspace struct {
	id       string
	idJSON   []byte
	plan     int             // planFree..planEnterprise, or -1 when unknown
	features map[string]bool // nil when the API did not report features
}

// allows reports whether the workspace's plan has the stream. Unknown plans allow everything:
// a 402/403 then still skips the pair, with a warning.
func (w *workspace) allows(d *streamDef) bool {
	if d.feature == "" {
		return true
	}
	if w.plan >= 0 && w.plan < d.minPlan {
		return false
	}
	if w.features != nil && !w.features[d.feature] {
		return false
	}
	return true
}

func planTier(subscription string) int {
	s := strings.ToUpper(subscription)
	switch {
	case strings.HasPrefix(s, "FREE"):
		return planFree
	case strings.HasPrefix(s, "BASIC"):
		return planBasic
	case strings.HasPrefix(s, "STANDARD"):
		return planStandard
	case strings.HasPrefix(s, "PRO"):
		return planPro
	case strings.HasPrefix(s, "ENTERPRISE"), strings.HasPrefix(s, "TRIAL"):
		return planEnterprise
	}
	return -1
}

func planName(tier int) string {
	return [...]string{"Free", "Basic", "Standard", "Pro", "Enterprise"}[tier]
}

// streamRun is one stream during a read: configured streams emit; parents of configured
// streams that are not configured themselves (projects for tasks, workspace_users for time
// entries) are walked silently for their ids.
type streamRun struct {
	def         *streamDef
	desc        airbyte.StreamDescriptor
	emit        bool
	incremental bool
	syncID      *int64
	resume      *resumeInfo
	children    []*streamRun
	pageSize    atomic.Int64

	mu            sync.Mutex
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

type job struct {
	run      *streamRun
	ws       *workspace
	parentID string // project or user id for project- and user-level streams
	key      string // partition key in stream_state.completed
	emit     bool
	// cursor holds the newest record start seen; partitionDone publishes it only when the
	// whole window was paged, because time entries arrive newest first.
	cursor *pageCtx
}

type engine struct {
	s      *settings
	c      *clockify.Client
	out    *airbyte.Writer
	runs   []*streamRun // emitting runs in catalog order, then silent parents
	byName map[string]*streamRun
	q      *jobQueue

	ctx    context.Context
	cancel context.CancelFunc

	fatalMu sync.Mutex
	fatal   error

	stateEvery time.Duration
	now        func() time.Time
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

// run executes the read: workspaces first (they root every other stream), then all partitions
// through a pool of max_concurrency workers.
func (e *engine) run() error {
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

	var workspaces []*workspace
	needWS := false
	for _, r := range e.runs {
		if r.active() && r.def.name != sUser {
			needWS = true
		}
	}
	if needWS {
		var err error
		workspaces, err = e.readWorkspaces()
		if err != nil {
			return e.abort(err)
		}
	}

	for _, r := range e.runs {
		if !r.active() {
			continue
		}
		switch r.def.parent {
		case rootLevel:
			if r.def.name == sUser {
				e.pushPartition(r, &job{run: r, key: "*"})
			}
		case workspaceLevel:
			for _, w := range workspaces {
				e.pushPartition(r, &job{run: r, ws: w, key: w.id})
			}
		case projectLevel, userLevel:
			// One producer token per workspace, released when the parent partition ends.
			r.mu.Lock()
			r.pending += len(workspaces)
			r.mu.Unlock()
		}
	}
	// A stream with no partitions at all (no workspaces) ends now.
	for _, r := range e.runs {
		r.mu.Lock()
		if r.pending == 0 {
			e.finishLocked(r)
		}
		r.mu.Unlock()
	}

	var wg sync.WaitGroup
	for i := 0; i < e.s.concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := e.q.pop(); j != nil; j = e.q.pop() {
				e.do(j)
				e.q.done()
			}
		}()
	}
	wg.Wait()

	if err := e.fatalErr(); err != nil {
		return e.abort(err)
	}
	if err := e.ctx.Err(); err != nil {
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
	return classify(err, sWorkspaces)
}

func (r *streamRun) active() bool { return r.emit || len(r.children) > 0 }

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
	e.q.push(j, len(r.children) > 0)
}

// readWorkspaces fetches /workspaces once: it is both the workspaces stream and the list of
// workspaces (with plans) that every other stream fans out over.
func (e *engine) readWorkspaces() ([]*workspace, error) {
	r := e.byName[sWorkspaces]
	if r != nil && r.emit {
		r.mu.Lock()
		e.runningLocked(r)
		r.mu.Unlock()
	}
	var elems [][]byte
	resp, err := e.c.GetChecked(e.ctx, "/workspaces", nil, func(resp *clockify.Response) error {
		var err error
		elems, err = jsonscan.AppendElements(elems[:0], resp.Body)
		return bodyError(resp.Body, err, "workspaces")
	})
	if err != nil {
		// Nothing can be read without the workspace list: every stream ends INCOMPLETE.
		return nil, classify(err, sWorkspaces)
	}
	defer resp.Release()

	wanted := map[string]bool{}
	for _, id := range e.s.workspaceIDs {
		wanted[id] = true
	}
	var list []*workspace
	var records [][]byte
	seen := map[string]bool{}
	for _, elem := range elems {
		var meta struct {
			ID                      string    `json:"id"`
			FeatureSubscriptionType string    `json:"featureSubscriptionType"`
			Features                *[]string `json:"features"`
		}
		if err := json.Unmarshal(elem, &meta); err != nil || meta.ID == "" {
			return nil, airbyte.SystemErrorf("GET /workspaces returned an unexpected body: a workspace has no id: %v", err)
		}
		if len(wanted) > 0 && !wanted[meta.ID] || seen[meta.ID] {
			continue
		}
		seen[meta.ID] = true
		w := &workspace{id: meta.ID, plan: planTier(meta.FeatureSubscriptionType)}
		w.idJSON, _ = json.Marshal(meta.ID)
		if meta.Features != nil {
			w.features = map[string]bool{}
			for _, f := range *meta.Features {
				w.features[strings.ToUpper(f)] = true
			}
		}
		list = append(list, w)
		records = append(records, elem)
	}
	var missing []string
	for _, id := range e.s.workspaceIDs {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, airbyte.ConfigErrorf("workspace(s) %s are not visible to this API key (check workspace_id/workspace_ids and api_url for regional workspaces)", strings.Join(missing, ", "))
	}
	e.out.Log(airbyte.LogInfo, "reading %d workspace(s)", len(list))
	if r != nil && r.emit {
		r.mu.Lock()
		if !r.resume.completed["*"] {
			now := e.now().UnixMilli()
			for _, rec := range records {
				if err := e.out.Record(r.desc.Name, r.desc.Namespace, rec, now); err != nil {
					r.mu.Unlock()
					return nil, err
				}
			}
			r.since += int64(len(records))
			r.total += int64(len(records))
		}
		r.completed["*"] = true
		e.finishLocked(r)
		r.mu.Unlock()
	}
	return list, nil
}

// do runs one partition and does its bookkeeping.
func (e *engine) do(j *job) {
	r := j.run
	ctx := e.ctx
	if r.emit {
		ctx = clockify.WithThrottleHook(ctx, func(reset time.Time) { e.throttled(r, reset) })
		r.mu.Lock()
		e.runningLocked(r)
		r.mu.Unlock()
	}
	var err error
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case j.ws != nil && !j.ws.allows(r.def):
		if j.emit {
			e.out.Log(airbyte.LogInfo, "stream %s: workspace %s is on a plan without %s (needs %s or higher with the feature enabled); skipped without a request",
				r.desc, j.ws.id, r.def.feature, planName(r.def.minPlan))
		}
	default:
		err = e.fetch(ctx, j)
	}
	if _, st := apiStatus(err); (st == 402 || st == 403) && r.def.feature != "" {
		e.out.Log(airbyte.LogWarn, "stream %s: Clockify answered HTTP %d for workspace %s; the %s feature needs the %s plan or higher. Skipping this workspace for this stream: %v",
			r.desc, st, j.ws.id, r.def.feature, planName(r.def.minPlan), err)
		err = nil
	} else if st == 401 {
		e.setFatal(classify(err, r.desc.Name))
	}
	if err != nil && e.ctx.Err() != nil {
		// Interrupted: the partition is neither done nor failed. Leaving it pending keeps its
		// stream from being reported COMPLETE or claimed in a STATE; abort ends it INCOMPLETE.
		return
	}
	for _, c := range r.children {
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
}

// split is the body check of a stream's requests: one strict pass both validates the body (as
// the client's default json.Valid would) and finds its records, so page does not scan it again.
func (pc *pageCtx) split(d *streamDef) func(*clockify.Response) error {
	return func(resp *clockify.Response) error {
		pc.elems = pc.elems[:0]
		body := resp.Body
		var err error
		switch d.body {
		case singleObject:
			if err = jsonscan.Validate(body); err == nil {
				pc.elems = append(pc.elems, bytes.TrimSpace(body))
			}
		case envelope:
			if err = jsonscan.Validate(body); err != nil {
				break
			}
			v, ok := jsonscan.Path(body, d.records...)
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

func (e *engine) fetch(ctx context.Context, j *job) error {
	r := j.run
	d := r.def
	p := d.path
	if j.ws != nil {
		p = strings.Replace(p, "{ws}", url.PathEscape(j.ws.id), 1)
	}
	p = strings.Replace(p, "{project}", url.PathEscape(j.parentID), 1)
	p = strings.Replace(p, "{user}", url.PathEscape(j.parentID), 1)
	q := url.Values{}
	for k, v := range d.query {
		q[k] = append([]string(nil), v...)
	}
	pc := &pageCtx{}
	j.cursor = pc
	if j.emit {
		for _, k := range d.parentKeys {
			switch k {
			case "workspaceId":
				pc.fields = append(pc.fields, jsonscan.Field{Key: k, Value: j.ws.idJSON})
			case "projectId", "userId":
				v, _ := json.Marshal(j.parentID)
				pc.fields = append(pc.fields, jsonscan.Field{Key: k, Value: v})
			}
		}
	}
	if d.cursor != nil {
		if t, ok := e.startBound(r, j.key); ok {
			pc.bound, pc.hasBound = t, true
			// Clockify reads the filter's wall clock in the account's time zone (UTC-12..+14),
			// so ask from 14 h earlier and drop what precedes the bound here: the result is
			// exact whatever the zone.
			q.Set("start", t.Add(-maxZoneOffset).UTC().Format("2006-01-02T15:04:05Z"))
		}
	}

	check := pc.split(d)
	if d.paging == unpaged {
		resp, err := e.c.GetChecked(ctx, p, q, check)
		if err != nil {
			return err
		}
		_, err = e.page(j, pc, p, 0)
		pc.release(resp)
		return err
	}

	size := int(r.pageSize.Load())
	pageNo, skip, consumed := 1, 0, 0
	for n := 0; n < maxPages; n++ {
		q.Set("page", strconv.Itoa(pageNo))
		q.Set("page-size", strconv.Itoa(size))
		resp, err := e.c.GetChecked(ctx, p, q, check)
		if err != nil {
			ae, _ := apiStatus(err)
			if smaller := smallerPageSize(size); namesPageSize(ae) && smaller > 0 {
				e.out.Log(airbyte.LogWarn, "stream %s: Clockify rejected page-size=%d on %s (%s); stepping down to %d for this endpoint",
					r.desc.Name, size, p, ae.Message, smaller)
				r.pageSize.CompareAndSwap(int64(size), int64(smaller))
				size = smaller
				// Continue at the same record offset with the smaller size.
				pageNo, skip = consumed/size+1, consumed%size
				continue
			}
			return err
		}
		count, err := e.page(j, pc, p, skip)
		lastPage := resp.LastPage
		pc.release(resp)
		if err != nil {
			return err
		}
		if count > skip {
			consumed += count - skip
		}
		skip = 0
		if lastPage != nil && *lastPage {
			return nil
		}
		if count < size {
			if lastPage != nil && count > 0 {
				// A short page that claims more follows means the server capped the page size
				// silently; the stop rule ends here, so say so rather than lose data quietly.
				e.out.Log(airbyte.LogWarn, "stream %s: %s page %d returned %d records for page-size %d but Last-Page: false; stopping at the short page",
					r.desc.Name, p, pageNo, count, size)
			}
			return nil
		}
		pageNo++
	}
	return fmt.Errorf("GET %s: still full pages after %d pages; giving up", p, maxPages)
}

// startBound is the time-entry start filter: cursor minus lookback, never before start_date.
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

// page handles the records of one response body (pc.elems, split by the body check): it
// patches them, writes them and queues child partitions. It returns the number of records the
// page held.
func (e *engine) page(j *job, pc *pageCtx, reqPath string, skip int) (int, error) {
	r := j.run
	d := r.def
	pc.buf, pc.ends = pc.buf[:0], pc.ends[:0]
	var childIDs []string
	count := 0
	handle := func(elem []byte) error {
		count++
		if count <= skip {
			return nil
		}
		if len(elem) == 0 || elem[0] != '{' {
			return fmt.Errorf("GET %s: a record is not a JSON object", reqPath)
		}
		if d.cursor != nil {
			if v, ok := jsonscan.Path(elem, d.cursor...); ok {
				if s, ok := jsonscan.String(v); ok {
					if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
						if pc.hasBound && t.Before(pc.bound) {
							return nil
						}
						if t.After(pc.maxStart) {
							pc.maxStart, pc.maxRaw = t, s
						}
					}
				}
			}
		}
		if len(r.children) > 0 {
			if v, ok := jsonscan.Member(elem, "id"); ok {
				if id, ok := jsonscan.String(v); ok && id != "" {
					childIDs = append(childIDs, id)
				}
			}
		}
		if !j.emit {
			return nil
		}
		fields := pc.fields
		if d.idFrom != nil {
			if v, ok := jsonscan.Path(elem, d.idFrom...); ok {
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
	for _, c := range r.children {
		for _, id := range childIDs {
			e.pushPartition(c, &job{run: c, ws: j.ws, parentID: id, key: j.ws.id + "/" + id})
		}
	}
	return count, nil
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
		c.failures = append(c.failures, airbyte.AsError(fmt.Errorf("cannot list the %s partitions of workspace %s because reading %s failed: %w",
			c.def.name, parentJob.ws.id, parentJob.run.def.name, err)))
	}
	c.pending--
	if c.pending == 0 {
		e.finishLocked(c)
	}
}

func (e *engine) partitionDone(j *job, err error) {
	r := j.run
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.completed[j.key] = true
		if pc := j.cursor; pc != nil && r.incremental && !pc.maxStart.IsZero() {
			if old, ok := r.cursorTimes[j.key]; !ok || pc.maxStart.After(old) {
				r.cursorTimes[j.key] = pc.maxStart
				r.cursors[j.key] = pc.maxRaw
			}
		}
	} else {
		r.failures = append(r.failures, classify(err, r.desc.Name))
	}
	r.pending--
	if r.pending == 0 {
		e.finishLocked(r)
		return
	}
	if err == nil && r.emit && (len(r.completed) <= smallStateKeys || e.now().Sub(r.lastState) >= e.stateEvery) {
		e.stateLocked(r, false)
	}
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
	}
	if r.incremental {
		st.Cursors = r.cursors
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
// partitions are discovered early and the pool stays busy.
type jobQueue struct {
	mu          sync.Mutex
	cond        *sync.Cond
	high, low   []*job
	outstanding int
	closed      bool
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
			return j
		}
		if len(q.low) > 0 {
			j := q.low[0]
			q.low[0] = nil
			q.low = q.low[1:]
			return j
		}
		if q.outstanding == 0 {
			return nil
		}
		q.cond.Wait()
	}
}

// done marks a popped job finished; the last one wakes every idle worker to exit.
func (q *jobQueue) done() {
	q.mu.Lock()
	q.outstanding--
	if q.outstanding == 0 {
		q.cond.Broadcast()
	}
	q.mu.Unlock()
}

func (q *jobQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
