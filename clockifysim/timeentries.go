package clockifysim

import (
	"fmt"
	"net/http"
	"sort"
	"time"
)

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

// snapshot returns the user's explicit entries; they are append-only, so the returned slice stays valid.
func (s *Server) snapshot(u *wsUser) []explicitEntry {
	s.mu.RLock()
	ex := u.explicit
	s.mu.RUnlock()
	return ex
}

// selectEntries applies start (inclusive), end (exclusive) on timeInterval.start and in-progress.
func selectEntries(u *wsUser, explicit []explicitEntry, start, end int64, hasStart, hasEnd bool, inProgress, hasInProgress bool) entryView {
	v := entryView{glo: 0, ghi: u.n}
	if hasStart {
		v.glo = sort.Search(u.n, func(i int) bool { return u.genStart(i) >= start })
	}
	if hasEnd {
		v.ghi = sort.Search(u.n, func(i int) bool { return u.genStart(i) >= end })
	}
	if v.ghi < v.glo {
		v.ghi = v.glo
	}
	if hasInProgress && inProgress {
		v.glo, v.ghi = 0, 0
	}
	for k, e := range explicit {
		if hasStart && e.start < start || hasEnd && e.start >= end {
			continue
		}
		if hasInProgress && (e.end < 0) != inProgress {
			continue
		}
		v.ex = append(v.ex, u.n+k)
	}
	return v
}

func (s *Server) serveTimeEntries(w *workspace, u *wsUser, r *http.Request) (response, *apiError) {
	q := r.URL.Query()
	p, err := parsePaging(q, DefaultPageSize, MaxPageSize)
	if err != nil {
		return response{}, err.(*apiError)
	}
	var start, end int64
	hasStart, hasEnd := false, false
	if v := q.Get("start"); v != "" {
		if start, err = s.parseWhen("start", v); err != nil {
			return response{}, err.(*apiError)
		}
		hasStart = true
	}
	if v := q.Get("end"); v != "" {
		if end, err = s.parseWhen("end", v); err != nil {
			return response{}, err.(*apiError)
		}
		hasEnd = true
	}
	inProgress, hasInProgress, err := parseBool(q, "in-progress")
	if err != nil {
		return response{}, err.(*apiError)
	}
	if _, _, err := parseBool(q, "hydrated"); err != nil {
		return response{}, err.(*apiError)
	}
	explicit := s.snapshot(u)
	v := selectEntries(u, explicit, start, end, hasStart, hasEnd, inProgress, hasInProgress)
	from, to, last := p.window(v.len())
	buf := s.getBuf()
	b := append(*buf, '[')
	for k := from; k < to; k++ {
		if k > from {
			b = append(b, ',')
		}
		b = s.appendTimeEntry(b, w, u, v.at(k), explicit)
	}
	b = append(b, ']')
	*buf = b
	return response{status: 200, body: b, lastPage: lastPageHeader(last), pooled: buf}, nil
}

type runningRef struct {
	u     *wsUser
	i     int
	start int64
	ex    []explicitEntry
}

func (s *Server) running(w *workspace) []runningRef {
	var out []runningRef
	for _, u := range w.users {
		ex := s.snapshot(u)
		for k, e := range ex {
			if e.end < 0 {
				out = append(out, runningRef{u: u, i: u.n + k, start: e.start, ex: ex})
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].start > out[b].start })
	return out
}

func (s *Server) serveInProgress(w *workspace, r *http.Request) (response, *apiError) {
	p, err := parsePaging(r.URL.Query(), InProgressDefaultPageSize, InProgressMaxPageSize)
	if err != nil {
		return response{}, err.(*apiError)
	}
	run := s.running(w)
	from, to, last := p.window(len(run))
	b := []byte{'['}
	for k, rr := range run[from:to] {
		if k > 0 {
			b = append(b, ',')
		}
		b = s.appendTimeEntry(b, w, rr.u, rr.i, rr.ex)
	}
	return response{status: 200, body: append(b, ']'), lastPage: lastPageHeader(last)}, nil
}

// AddTimeEntries appends n completed time entries to a member's list, newer than every entry the user
// has (the latest ending about now), and returns their ids. A later sync with a start filter at or
// before the first of them sees them.
func (s *Server) AddTimeEntries(workspaceID, userID string, n int) ([]string, error) {
	w := s.wsByID[workspaceID]
	if w == nil {
		return nil, fmt.Errorf("clockifysim: AddTimeEntries: unknown workspace %q", workspaceID)
	}
	u := w.userByID[userID]
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
