package clockifysim

import "sort"

// The running timers of every member of the workspace, newest first.
var _ = register("time_entries_in_progress", &generator{
	records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
		return s.running(w), nil
	},
})

type runningRef struct {
	u *member
	e explicitEntry
}

type runningSet struct {
	s    *Server
	w    *workspace
	list []runningRef
}

func (r runningSet) Len() int        { return len(r.list) }
func (r runningSet) ID(k int) string { return r.list[k].e.id }
func (r runningSet) Append(dst []byte, k int) []byte {
	x := r.list[k]
	return r.s.appendTimeEntry(dst, r.w, x.u, x.e.idx, x.e.id, x.e.start, x.e.end)
}

func (s *Server) running(w *workspace) runningSet {
	out := runningSet{s: s, w: w}
	s.mu.RLock()
	for _, u := range s.members(w) {
		for _, e := range u.entries.explicit {
			if e.end < 0 {
				out.list = append(out.list, runningRef{u: u, e: e})
			}
		}
	}
	s.mu.RUnlock()
	sort.SliceStable(out.list, func(a, b int) bool { return out.list[a].e.start > out.list[b].e.start })
	return out
}
