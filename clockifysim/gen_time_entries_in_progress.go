package clockifysim

import "sort"

// The running timers of every member of the workspace, newest first.
var _ = register("time_entries_in_progress", &generator{
	records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
		return s.running(w), nil
	},
})

type runningRef struct {
	u     *member
	i     int
	start int64
	ex    []explicitEntry
}

type runningSet struct {
	s    *Server
	w    *workspace
	list []runningRef
}

func (r runningSet) Len() int { return len(r.list) }
func (r runningSet) ID(k int) string {
	x := r.list[k]
	return r.s.timeEntryID(r.w, x.u, x.i, x.ex)
}
func (r runningSet) Append(dst []byte, k int) []byte {
	x := r.list[k]
	return r.s.appendTimeEntry(dst, r.w, x.u, x.i, x.ex)
}

func (s *Server) running(w *workspace) runningSet {
	out := runningSet{s: s, w: w}
	for _, u := range s.members(w) {
		ex := s.snapshot(u)
		for k, e := range ex {
			if e.end < 0 {
				out.list = append(out.list, runningRef{u: u, i: u.n + k, start: e.start, ex: ex})
			}
		}
	}
	sort.SliceStable(out.list, func(a, b int) bool { return out.list[a].start > out.list[b].start })
	return out
}
