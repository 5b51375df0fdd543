package clockifysim

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"
)

// Time entries are never materialised: entry i of a member is computed from (seed, workspace,
// member, i) with evenly spaced start times, so any page and any start/end window is served by
// index arithmetic. Entries added at run time (AddTimeEntries, the running timer) follow the
// generated ones.
var _ = register("time_entries", &generator{
	build: func(s *Server, w *workspace) { s.entryRefs(w) },
	records: func(s *Server, w *workspace, params map[string]string) (recordSet, *apiError) {
		u := s.member(w, params["userId"])
		if u == nil {
			return nil, errf(400, 501, "User doesn't belong to Workspace")
		}
		ex := s.snapshot(u)
		return entrySet{s: s, w: w, u: u, explicit: ex, v: selectEntries(u, ex, entryFilter{})}, nil
	},
	// start (inclusive) and end (exclusive) on timeInterval.start, in-progress; hydrated is
	// accepted and ignored.
	filter: func(s *Server, _ *workspace, set recordSet, req *request) (recordSet, *apiError) {
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
		es.v = selectEntries(es.u, es.explicit, f)
		return es, nil
	},
})

func init() {
	adminExtras = append(adminExtras, adminRoute{"POST /_sim/time-entries", func(s *Server, w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		n, err := strconv.Atoi(q.Get("count"))
		if err != nil {
			n = 1
		}
		ids, aerr := s.AddTimeEntries(q.Get("workspace"), q.Get("user"), n)
		if aerr != nil {
			badAdmin(w, 400, aerr.Error())
			return
		}
		writeJSON(w, 200, map[string]any{"ids": ids})
	}})
}

type explicitEntry struct {
	start, end int64 // end < 0 ⇒ running
}

// entryRefs are what a time entry refers to, gathered once per workspace.
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

// entryView is the selection a time-entry request sees, newest first: the explicit entries in ex
// (reversed) and then generated entries ghi-1 down to glo. Positions map to entry indexes without
// materialising anything.
type entryView struct {
	ex       []int // explicit entry indexes (>= u.n), ascending by start
	glo, ghi int
}

func (v entryView) len() int { return len(v.ex) + v.ghi - v.glo }

func (v entryView) at(k int) int {
	if k < len(v.ex) {
		return v.ex[len(v.ex)-1-k]
	}
	return v.ghi - 1 - (k - len(v.ex))
}

// entrySet is a member's entries as one request selects them.
type entrySet struct {
	s        *Server
	w        *workspace
	u        *member
	explicit []explicitEntry
	v        entryView
}

func (e entrySet) Len() int        { return e.v.len() }
func (e entrySet) ID(k int) string { return e.s.timeEntryID(e.w, e.u, e.v.at(k), e.explicit) }
func (e entrySet) Append(dst []byte, k int) []byte {
	return e.s.appendTimeEntry(dst, e.w, e.u, e.v.at(k), e.explicit)
}

// snapshot returns the member's explicit entries; they are append-only, so the returned slice
// stays valid.
func (s *Server) snapshot(u *member) []explicitEntry {
	s.mu.RLock()
	ex := u.explicit
	s.mu.RUnlock()
	return ex
}

type entryFilter struct {
	start, end                int64
	hasStart, hasEnd          bool
	inProgress, hasInProgress bool
}

// selectEntries applies start (inclusive), end (exclusive) on timeInterval.start and in-progress.
func selectEntries(u *member, explicit []explicitEntry, f entryFilter) entryView {
	v := entryView{glo: 0, ghi: u.n}
	if f.hasStart {
		v.glo = sort.Search(u.n, func(i int) bool { return u.genStart(i) >= f.start })
	}
	if f.hasEnd {
		v.ghi = sort.Search(u.n, func(i int) bool { return u.genStart(i) >= f.end })
	}
	if v.ghi < v.glo {
		v.ghi = v.glo
	}
	if f.hasInProgress && f.inProgress {
		v.glo, v.ghi = 0, 0
	}
	for k, e := range explicit {
		if f.hasStart && e.start < f.start || f.hasEnd && e.start >= f.end {
			continue
		}
		if f.hasInProgress && (e.end < 0) != f.inProgress {
			continue
		}
		v.ex = append(v.ex, u.n+k)
	}
	return v
}

// AddTimeEntries appends n completed time entries to a member's list, newer than every entry the user
// has (the latest ending about now), and returns their ids. A later sync with a start filter at or
// before the first of them sees them.
func (s *Server) AddTimeEntries(workspaceID, userID string, n int) ([]string, error) {
	w := s.wsByID[workspaceID]
	if w == nil {
		return nil, fmt.Errorf("clockifysim: AddTimeEntries: unknown workspace %q", workspaceID)
	}
	u := s.member(w, userID)
	if u == nil {
		return nil, fmt.Errorf("clockifysim: AddTimeEntries: user %q is not a member of workspace %q", userID, workspaceID)
	}
	if n < 1 {
		return nil, fmt.Errorf("clockifysim: AddTimeEntries: n must be >= 1, got %d", n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	last := int64(0)
	if len(u.explicit) > 0 {
		last = u.explicit[len(u.explicit)-1].start
	} else if u.n > 0 {
		last = u.genStart(u.n - 1)
	}
	const step = 60
	first := time.Now().Unix() - int64(n)*step
	if first <= last {
		first = last + step
	}
	ex := append([]explicitEntry(nil), u.explicit...) // readers may hold the old slice
	ids := make([]string, 0, n)
	for k := 0; k < n; k++ {
		st := first + int64(k)*step
		ex = append(ex, explicitEntry{start: st, end: st + step/2})
		ids = append(ids, oid(s.mask, kindTimeEntry, uint32(w.idx)<<16|uint32(u.idx), uint32(u.n+len(ex)-1), st))
	}
	u.explicit = ex
	return ids, nil
}

var entryTypes = []string{"REGULAR", "REGULAR", "REGULAR", "REGULAR", "REGULAR", "REGULAR", "REGULAR", "BREAK"}

// appendTimeEntry encodes entry i of user u (0 = oldest). Everything but the explicit interval is a
// function of (seed, workspace, user, i).
func (s *Server) appendTimeEntry(dst []byte, w *workspace, u *member, i int, explicit []explicitEntry) []byte {
	refs := s.entryRefs(w)
	owner := uint32(w.idx)<<16 | uint32(u.idx)
	h := hash(s.seed, uint64(kindTimeEntry), uint64(owner), uint64(i), 0)
	var start, end int64
	if i < u.n {
		start = u.genStart(i)
		d := u.maxDur/2 + int64(h>>52)%(u.maxDur/2+1)
		end = start + max(d, 1)
	} else {
		e := explicit[i-u.n]
		start, end = e.start, e.end
	}
	var idBuf [24]byte
	id := appendOID(idBuf[:0], s.mask, kindTimeEntry, owner, uint32(i), start)

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

// timeEntryID is the id appendTimeEntry gives entry i of u.
func (s *Server) timeEntryID(w *workspace, u *member, i int, explicit []explicitEntry) string {
	start := int64(0)
	if i < u.n {
		start = u.genStart(i)
	} else {
		start = explicit[i-u.n].start
	}
	return oid(s.mask, kindTimeEntry, uint32(w.idx)<<16|uint32(u.idx), uint32(i), start)
}
