package clockifysim

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/clockberg/clockberg/source/streams"
)

// Time entries are never materialised: entry i of a member is computed from (seed, workspace,
// member, i) with evenly spaced start times, so any page and any start/end window is served by
// index arithmetic. What changes at run time (the running timer, entries added, moved or deleted)
// is kept per member as a short list of explicit entries and a set of generated ones removed.
// Deletions also go into the workspace's change feed.
var timeEntriesRow *streams.Stream

func init() {
	timeEntriesRow = register("time_entries", &generator{
		build: func(s *Server, w *workspace) {
			s.entryRefs(w)
			s.deletionLog(w)
			for _, u := range s.members(w) {
				if w.spec.Users[u.idx].Running {
					u.entries = u.entries.with(explicitEntry{idx: u.n, id: oid(s.mask, kindTimeEntry, ownerOf(w, u), uint32(u.n), anchorTS+3600+int64(u.idx)*60),
						start: anchorTS + 3600 + int64(u.idx)*60, end: -1, created: anchorTS + 3600 + int64(u.idx)*60})
				}
			}
		},
		records: func(s *Server, w *workspace, params map[string]string) (recordSet, *apiError) {
			u := s.member(w, params["userId"])
			if u == nil {
				return nil, errf(400, 501, "User doesn't belong to Workspace")
			}
			return s.entries(w, u, entryFilter{}), nil
		},
		// start (inclusive) and end (exclusive) on timeInterval.start, in-progress; hydrated is
		// accepted and ignored.
		filter: func(s *Server, w *workspace, set recordSet, req *request) (recordSet, *apiError) {
			es := set.(entrySet)
			var f entryFilter
			var err *apiError
			if f.start, f.end, f.hasStart, f.hasEnd, err = s.timeRange(req.query, "start", "end"); err != nil {
				return nil, err
			}
			if f.inProgress, f.hasInProgress, err = parseBool(req.query, "in-progress"); err != nil {
				return nil, err
			}
			if _, _, err := parseBool(req.query, "hydrated"); err != nil {
				return nil, err
			}
			return s.entries(w, es.u, f), nil
		},
	})
	d := timeEntriesRow.Deletions
	extraRoutes = append(extraRoutes,
		extraRoute{name: "time_entries/deleted", path: d.Feed, route: feedRoute},
		extraRoute{name: "time_entries/one", path: d.Single, route: singleEntryRoute})
	adminExtras = append(adminExtras,
		adminRoute{"POST /_sim/time-entries", adminAdd},
		adminRoute{"POST /_sim/time-entries/delete", adminDelete},
		adminRoute{"POST /_sim/time-entries/move", adminMove})
}

// explicitEntry is an entry kept explicitly: added, moved, or the running timer. idx is its
// content index (a moved generated entry keeps its own, hence its description, project, …).
type explicitEntry struct {
	idx        int
	id         string
	start, end int64 // end < 0 ⇒ running
	created    int64
}

// entryChanges are a member's run-time changes; with returns a new value (readers keep theirs).
type entryChanges struct {
	explicit []explicitEntry // by start, then idx
	removed  []int           // generated indexes moved or deleted, ascending
	nextIdx  int             // content index of the next added entry, beyond the generated ones
}

func (c entryChanges) with(e explicitEntry) entryChanges {
	c.explicit = slices.Clone(c.explicit)
	i, _ := slices.BinarySearchFunc(c.explicit, e, cmpEntry)
	c.explicit = slices.Insert(c.explicit, i, e)
	c.nextIdx = max(c.nextIdx, e.idx+1)
	return c
}

func cmpEntry(a, b explicitEntry) int {
	if a.start != b.start {
		return int(a.start - b.start)
	}
	return a.idx - b.idx
}

// without drops an entry: generated index idx, or the explicit entry with that content index.
func (c entryChanges) without(idx, generated int) entryChanges {
	if i := slices.IndexFunc(c.explicit, func(e explicitEntry) bool { return e.idx == idx }); i >= 0 {
		c.explicit = slices.Delete(slices.Clone(c.explicit), i, i+1)
		return c
	}
	if idx < generated {
		i, found := slices.BinarySearch(c.removed, idx)
		if !found {
			c.removed = slices.Insert(slices.Clone(c.removed), i, idx)
		}
	}
	return c
}

func ownerOf(w *workspace, u *member) uint32 { return uint32(w.idx)<<16 | uint32(u.idx) }

// entryRefsData are what a time entry refers to, gathered once per workspace.
type entryRefsData struct {
	projectIDs []string
	taskIDs    [][]string
	tagIDs     []string
	field      *entryField
}

type entryRefsKey struct{}

func (s *Server) entryRefs(w *workspace) *entryRefsData {
	return memo(w, entryRefsKey{}, func() *entryRefsData {
		r := &entryRefsData{field: s.fieldList(w).entry}
		for _, p := range s.projectList(w).items {
			r.projectIDs = append(r.projectIDs, p.id)
		}
		for _, ts := range s.taskLists(w) {
			ids := make([]string, len(ts))
			for i, t := range ts {
				ids[i] = t.id
			}
			r.taskIDs = append(r.taskIDs, ids)
		}
		for _, t := range s.tagList(w) {
			r.tagIDs = append(r.tagIDs, t.id)
		}
		return r
	})
}

type entryFilter struct {
	start, end                int64
	hasStart, hasEnd          bool
	inProgress, hasInProgress bool
}

// entrySet is a member's entries as one request selects them, newest first (ties: the higher
// content index first): generated indexes [glo, ghi) less the removed ones, merged with the
// selected explicit entries at the positions pos.
type entrySet struct {
	s       *Server
	w       *workspace
	u       *member
	glo     int
	ghi     int
	removed []int           // the removed indexes within [glo, ghi)
	ex      []explicitEntry // selected, newest first
	pos     []int           // merged position of each, ascending
}

func (s *Server) entries(w *workspace, u *member, f entryFilter) entrySet {
	s.mu.RLock()
	ch := u.entries
	s.mu.RUnlock()
	es := entrySet{s: s, w: w, u: u, glo: 0, ghi: u.n}
	if f.hasStart {
		es.glo = sort.Search(u.n, func(i int) bool { return u.genStart(i) >= f.start })
	}
	if f.hasEnd {
		es.ghi = sort.Search(u.n, func(i int) bool { return u.genStart(i) >= f.end })
	}
	if es.ghi < es.glo || f.hasInProgress && f.inProgress {
		es.ghi = es.glo
	}
	a, _ := slices.BinarySearch(ch.removed, es.glo)
	b, _ := slices.BinarySearch(ch.removed, es.ghi)
	es.removed = ch.removed[a:b]
	for k := len(ch.explicit) - 1; k >= 0; k-- {
		e := ch.explicit[k]
		if f.hasStart && e.start < f.start || f.hasEnd && e.start >= f.end || f.hasInProgress && (e.end < 0) != f.inProgress {
			continue
		}
		// Generated entries before it: newer, or as new with a higher content index.
		t := sort.Search(u.n, func(i int) bool { return u.genStart(i) > e.start || u.genStart(i) == e.start && i > e.idx })
		es.ex = append(es.ex, e)
		es.pos = append(es.pos, len(es.ex)-1+es.genCount(max(t, es.glo)))
	}
	return es
}

// genCount is the number of selected generated entries with index ≥ from.
func (es entrySet) genCount(from int) int {
	if from >= es.ghi {
		return 0
	}
	k, _ := slices.BinarySearch(es.removed, from)
	return es.ghi - from - (len(es.removed) - k)
}

func (es entrySet) Len() int { return es.genCount(es.glo) + len(es.ex) }

// at is the entry at merged position k: an explicit one, or the m-th newest generated one.
func (es entrySet) at(k int) (gen int, ex *explicitEntry) {
	j, found := slices.BinarySearch(es.pos, k)
	if found {
		return -1, &es.ex[j]
	}
	m := k - j
	// The largest index x with m+1 selected generated entries at or above it.
	x := sort.Search(es.ghi-es.glo, func(i int) bool { return es.genCount(es.glo+i) < m+1 }) - 1 + es.glo
	return x, nil
}

func (es entrySet) ID(k int) string {
	gen, ex := es.at(k)
	if ex != nil {
		return ex.id
	}
	return es.s.generatedID(es.w, es.u, gen)
}

func (es entrySet) Append(dst []byte, k int) []byte {
	gen, ex := es.at(k)
	if ex != nil {
		return es.s.appendTimeEntry(dst, es.w, es.u, ex.idx, ex.id, ex.start, ex.end)
	}
	start, end := es.s.generatedInterval(es.w, es.u, gen)
	return es.s.appendTimeEntry(dst, es.w, es.u, gen, es.s.generatedID(es.w, es.u, gen), start, end)
}

func (s *Server) generatedID(w *workspace, u *member, i int) string {
	return oid(s.mask, kindTimeEntry, ownerOf(w, u), uint32(i), u.genStart(i))
}

func (s *Server) generatedInterval(w *workspace, u *member, i int) (start, end int64) {
	h := hash(s.seed, uint64(kindTimeEntry), uint64(ownerOf(w, u)), uint64(i), 0)
	start = u.genStart(i)
	d := u.maxDur/2 + int64(h>>52)%(u.maxDur/2+1)
	return start, start + max(d, 1)
}

// --- changes ---------------------------------------------------------------------------------

// AddTimeEntries appends n completed time entries to a member's list, newer than every entry the user
// has (the latest ending about now), and returns their ids. A later sync with a start filter at or
// before the first of them sees them.
func (s *Server) AddTimeEntries(workspaceID, userID string, n int) ([]string, error) {
	return s.addEntries(workspaceID, userID, n, time.Time{})
}

// AddTimeEntriesAt adds n completed entries that all start at the same instant.
func (s *Server) AddTimeEntriesAt(workspaceID, userID string, n int, start time.Time) ([]string, error) {
	if start.IsZero() {
		return nil, fmt.Errorf("clockifysim: AddTimeEntriesAt: no start")
	}
	return s.addEntries(workspaceID, userID, n, start)
}

func (s *Server) addEntries(workspaceID, userID string, n int, at time.Time) ([]string, error) {
	w := s.wsByID[workspaceID]
	if w == nil {
		return nil, fmt.Errorf("clockifysim: adding time entries: unknown workspace %q", workspaceID)
	}
	u := s.member(w, userID)
	if u == nil {
		return nil, fmt.Errorf("clockifysim: adding time entries: user %q is not a member of workspace %q", userID, workspaceID)
	}
	if n < 1 {
		return nil, fmt.Errorf("clockifysim: adding time entries: n must be >= 1, got %d", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := u.entries
	now := time.Now().Unix()
	const step = 60
	first := at.Unix()
	if at.IsZero() {
		last := int64(0)
		if len(ch.explicit) > 0 {
			last = ch.explicit[len(ch.explicit)-1].start
		} else if u.n > 0 {
			last = u.genStart(u.n - 1)
		}
		first = max(now-int64(n)*step, last+step)
	}
	ids := make([]string, 0, n)
	for k := 0; k < n; k++ {
		st := first
		if at.IsZero() {
			st += int64(k) * step
		}
		idx := max(ch.nextIdx, u.n)
		id := oid(s.mask, kindTimeEntry, ownerOf(w, u), uint32(idx), st)
		ch = ch.with(explicitEntry{idx: idx, id: id, start: st, end: st + step/2, created: now})
		ids = append(ids, id)
	}
	u.entries = ch
	return ids, nil
}

// locate finds the entry an id names, from the owner and index the id encodes.
func (s *Server) locate(w *workspace, id string) (*member, int, bool) {
	raw, err := hex.DecodeString(id)
	if err != nil || len(raw) != 12 {
		return nil, 0, false
	}
	v := binary.BigEndian.Uint64(raw[4:]) ^ s.mask
	if byte(v>>56) != kindTimeEntry || uint32(v>>48&0xff) != uint32(w.idx) {
		return nil, 0, false
	}
	ms := s.members(w)
	ui := int(v >> 32 & 0xffff)
	if ui >= len(ms) {
		return nil, 0, false
	}
	return ms[ui], int(uint32(v)), true
}

// current returns the entry an id names as it is now (start, end, content index), with the
// member's changes; ok is false when it does not exist (never did, or deleted).
func (s *Server) current(w *workspace, id string) (u *member, e explicitEntry, ok bool) {
	u, idx, ok := s.locate(w, id)
	if !ok {
		return nil, e, false
	}
	ch := u.entries
	if i := slices.IndexFunc(ch.explicit, func(x explicitEntry) bool { return x.idx == idx }); i >= 0 {
		return u, ch.explicit[i], ch.explicit[i].id == id
	}
	if idx >= u.n {
		return nil, e, false
	}
	if _, removed := slices.BinarySearch(ch.removed, idx); removed || s.generatedID(w, u, idx) != id {
		return nil, e, false
	}
	start, end := s.generatedInterval(w, u, idx)
	return u, explicitEntry{idx: idx, id: id, start: start, end: end, created: start}, true
}

// DeleteTimeEntries deletes entries of a workspace by id, as a user would: they leave every list
// and, after Config.DeletionDelay, show in the change feed. It returns how many existed.
func (s *Server) DeleteTimeEntries(workspaceID string, ids ...string) (int, error) {
	w := s.wsByID[workspaceID]
	if w == nil {
		return 0, fmt.Errorf("clockifysim: deleting time entries: unknown workspace %q", workspaceID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, id := range ids {
		u, e, ok := s.current(w, id)
		if !ok {
			continue
		}
		doc := s.appendTimeEntry(nil, w, u, e.idx, e.id, e.start, e.end)
		u.entries = u.entries.without(e.idx, u.n)
		log := s.deletionLog(w)
		log.list = append(log.list, deletion{id: id, created: e.created, at: time.Now(), doc: doc})
		n++
	}
	return n, nil
}

// MoveTimeEntry changes an entry's start (keeping its duration), as an edit in Clockify would.
func (s *Server) MoveTimeEntry(workspaceID, id string, start time.Time) error {
	w := s.wsByID[workspaceID]
	if w == nil {
		return fmt.Errorf("clockifysim: moving a time entry: unknown workspace %q", workspaceID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e, ok := s.current(w, id)
	if !ok {
		return fmt.Errorf("clockifysim: moving a time entry: no entry %q in workspace %q", id, workspaceID)
	}
	moved := explicitEntry{idx: e.idx, id: e.id, start: start.Unix(), end: start.Unix() + e.end - e.start, created: e.created}
	if e.end < 0 {
		moved.end = -1 // still running
	}
	u.entries = u.entries.without(e.idx, u.n).with(moved)
	return nil
}

// --- the change feed of deleted entries --------------------------------------------------------

type deletion struct {
	id      string
	created int64
	at      time.Time
	doc     []byte // the entry as it was
}

type deletionList struct{ list []deletion } // guarded by Server.mu

type deletionsKey struct{}

func (s *Server) deletionLog(w *workspace) *deletionList {
	return memo(w, deletionsKey{}, func() *deletionList { return &deletionList{} })
}

// feedRoute serves GET /workspaces/{ws}/entities/deleted: type is required and must include
// TIME_ENTRY (other types list nothing here); start/end default to a 30-day range; pages from 0
// by limit (default 50), without Last-Page. A deletion shows once Config.DeletionDelay has passed;
// an entry created and deleted within the range is not listed.
func feedRoute(s *Server) resolver {
	d := timeEntriesRow.Deletions
	return func(r *http.Request) (func() (response, *apiError), *apiError) {
		w, aerr := s.getInWorkspace(r)
		if aerr != nil {
			return nil, aerr
		}
		if s.cfg.DeletedFeedStatus != 0 {
			return nil, errf(s.cfg.DeletedFeedStatus, 3000, "This feature is not available on your plan (%s)", w.plan.SubscriptionType())
		}
		return func() (response, *apiError) {
			q := r.URL.Query()
			types := listParam(q, "type")
			if len(types) == 0 {
				return response{}, errf(400, 3000, "Required request parameter 'type' for method parameter type List is not present")
			}
			from, to, hasFrom, hasTo, aerr := s.timeRange(q, d.Start, d.End)
			if aerr != nil {
				return response{}, aerr
			}
			const month = 30 * 86400
			switch {
			case !hasFrom && !hasTo:
				to = time.Now().Unix()
				from = to - month
			case !hasFrom:
				from = to - month
			case !hasTo:
				to = from + month
			}
			page, _, aerr := parseIntParam(q, d.Page)
			if aerr != nil {
				return response{}, aerr
			}
			limit, hasLimit, aerr := parseIntParam(q, d.Limit)
			if aerr != nil {
				return response{}, aerr
			}
			if !hasLimit {
				limit = 50
			}
			if page < 0 || limit < 1 || limit > 1000 {
				return response{}, errf(400, 3000, "page must be at least 0 and limit between 1 and 1000, got %d and %d", page, limit)
			}
			var list []deletion
			if slices.Contains(types, d.Type) {
				visible := time.Now().Add(-s.cfg.DeletionDelay)
				s.mu.RLock()
				for _, x := range s.deletionLog(w).list {
					at := x.at.Unix()
					if x.at.After(visible) || at < from || at > to || x.created >= from && x.created <= to {
						continue
					}
					list = append(list, x)
				}
				s.mu.RUnlock()
			}
			lo := min(page*limit, len(list))
			hi := min(lo+limit, len(list))
			b := []byte(`{"response":[`)
			for k, x := range list[lo:hi] {
				if k > 0 {
					b = append(b, ',')
				}
				b = append(b, `{"id":`...)
				b = appendString(b, x.id)
				b = append(b, `,"deletionBinId":`...)
				b = appendString(b, oid(s.mask, kindTimeEntry, 0xffffff, uint32(x.at.UnixNano()), x.at.Unix()))
				b = append(b, `,"deletedAt":`...)
				b = appendString(b, x.at.UTC().Format("2006-01-02T15:04:05.000Z"))
				b = append(b, `,"documentType":"TIME_ENTRY","document":`...)
				b = append(b, x.doc...)
				b = append(b, `,"eligibleForRestore":true}`...)
			}
			b = append(b, "]}"...)
			if s.cfg.DeletedFeedBareArray {
				b = b[len(`{"response":`) : len(b)-1]
			}
			return response{status: 200, body: b}, nil
		}, nil
	}
}

// singleEntryRoute serves GET /workspaces/{ws}/time-entries/{id}: the entry, or Clockify's 400 for
// an id that is not (or no longer) in the workspace.
func singleEntryRoute(s *Server) resolver {
	return func(r *http.Request) (func() (response, *apiError), *apiError) {
		w, aerr := s.getInWorkspace(r)
		if aerr != nil {
			return nil, aerr
		}
		return func() (response, *apiError) {
			s.mu.RLock()
			u, e, ok := s.current(w, r.PathValue("id"))
			s.mu.RUnlock()
			if !ok {
				return response{}, errf(400, 501, "Time entry doesn't belong to Workspace")
			}
			return response{status: 200, body: s.appendTimeEntry(nil, w, u, e.idx, e.id, e.start, e.end)}, nil
		}, nil
	}
}

// --- admin routes ----------------------------------------------------------------------------

// POST /_sim/time-entries?workspace=W&user=U&count=N[&start=T]: add N entries (all at T if given).
func adminAdd(s *Server, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("count"))
	if err != nil {
		n = 1
	}
	var at time.Time
	if v := q.Get("start"); v != "" {
		if at, err = time.Parse(time.RFC3339, v); err != nil {
			badAdmin(w, 400, "start must be an RFC 3339 instant")
			return
		}
	}
	ids, err := s.addEntries(q.Get("workspace"), q.Get("user"), n, at)
	if err != nil {
		badAdmin(w, 400, err.Error())
		return
	}
	writeJSON(w, 200, map[string]any{"ids": ids})
}

// POST /_sim/time-entries/delete?workspace=W&id=A&id=B: delete entries.
func adminDelete(s *Server, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := s.DeleteTimeEntries(q.Get("workspace"), q["id"]...)
	if err != nil {
		badAdmin(w, 400, err.Error())
		return
	}
	writeJSON(w, 200, map[string]any{"deleted": n})
}

// POST /_sim/time-entries/move?workspace=W&id=A&start=T: change an entry's start.
func adminMove(s *Server, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	at, err := time.Parse(time.RFC3339, q.Get("start"))
	if err != nil {
		badAdmin(w, 400, "start must be an RFC 3339 instant")
		return
	}
	if err := s.MoveTimeEntry(q.Get("workspace"), q.Get("id"), at); err != nil {
		badAdmin(w, 400, err.Error())
		return
	}
	writeJSON(w, 200, map[string]any{"moved": 1})
}

// --- encoding --------------------------------------------------------------------------------

var entryTypes = []string{"REGULAR", "REGULAR", "REGULAR", "REGULAR", "REGULAR", "REGULAR", "REGULAR", "BREAK"}

// appendTimeEntry encodes the entry with content index i. Everything but its id and interval is a
// function of (seed, workspace, member, i).
func (s *Server) appendTimeEntry(dst []byte, w *workspace, u *member, i int, id string, start, end int64) []byte {
	refs := s.entryRefs(w)
	h := hash(s.seed, uint64(kindTimeEntry), uint64(ownerOf(w, u)), uint64(i), 0)

	dst = append(dst, `{"id":"`...)
	dst = append(dst, id...)
	dst = append(dst, `","description":`...)
	dst = appendString(dst, words[h%uint64(len(words))])
	dst = append(dst, `,"userId":"`...)
	dst = append(dst, u.id...)
	dst = append(dst, `","workspaceId":"`...)
	dst = append(dst, w.id...)
	dst = append(dst, `","projectId":`...)
	pi := -1
	if len(refs.projectIDs) > 0 && (h>>8)%10 != 0 {
		pi = int((h >> 12) % uint64(len(refs.projectIDs)))
		dst = append(dst, '"')
		dst = append(dst, refs.projectIDs[pi]...)
		dst = append(dst, '"')
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"taskId":`...)
	if pi >= 0 && len(refs.taskIDs[pi]) > 0 && (h>>20)%3 != 0 {
		t := refs.taskIDs[pi][int((h>>24)%uint64(len(refs.taskIDs[pi])))]
		dst = append(dst, '"')
		dst = append(dst, t...)
		dst = append(dst, '"')
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"tagIds":`...)
	switch k := (h >> 32) % 4; {
	case k == 0:
		dst = append(dst, "null"...)
	case k == 1 || len(refs.tagIDs) == 0:
		dst = append(dst, "[]"...)
	default:
		a := int((h >> 34) % uint64(len(refs.tagIDs)))
		dst = append(dst, `["`...)
		dst = append(dst, refs.tagIDs[a]...)
		if b := int((h >> 40) % uint64(len(refs.tagIDs))); k == 3 && b != a {
			dst = append(dst, `","`...)
			dst = append(dst, refs.tagIDs[b]...)
		}
		dst = append(dst, `"]`...)
	}
	if (h>>36)&1 == 0 {
		dst = append(dst, `,"billable":true`...)
	} else {
		dst = append(dst, `,"billable":false`...)
	}
	if (h>>37)%16 == 0 {
		dst = append(dst, `,"isLocked":true`...)
	} else {
		dst = append(dst, `,"isLocked":false`...)
	}
	dst = append(dst, `,"kioskId":null,"type":"`...)
	dst = append(dst, entryTypes[(h>>41)%uint64(len(entryTypes))]...)
	dst = append(dst, `","timeInterval":{"start":"`...)
	dst = appendInstant(dst, start)
	if end < 0 {
		dst = append(dst, `","end":null,"duration":null}`...)
	} else {
		dst = append(dst, `","end":"`...)
		dst = appendInstant(dst, end)
		dst = append(dst, `","duration":"`...)
		dst = appendISODuration(dst, end-start)
		dst = append(dst, `"}`...)
	}
	dst = append(dst, `,"customFieldValues":[`...)
	if refs.field != nil && (h>>44)%4 == 0 {
		dst = append(dst, `{"customFieldId":"`...)
		dst = append(dst, refs.field.id...)
		dst = append(dst, `","timeEntryId":"`...)
		dst = append(dst, id...)
		dst = append(dst, `","value":`...)
		dst = appendString(dst, refs.field.values[(h>>46)%uint64(len(refs.field.values))])
		dst = append(dst, `,"name":`...)
		dst = appendString(dst, refs.field.name)
		dst = append(dst, `,"type":"WORKSPACE"}`...)
	}
	dst = append(dst, `],"hourlyRate":`...)
	if (h>>48)%5 == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"amount":`...)
		dst = strconv.AppendInt(dst, int64((h>>50)%100+10)*100, 10)
		dst = append(dst, `,"currency":"USD"}`...)
	}
	dst = append(dst, `,"costRate":null}`...)
	return dst
}
