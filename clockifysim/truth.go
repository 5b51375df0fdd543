package clockifysim

import (
	"bufio"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/clockberg/clockberg/jsonscan"
	"github.com/clockberg/clockberg/source/streams"
)

// eachPartition calls fn for every partition of st that a complete sync reads, with the records
// the registry's own request selects (its query, its body, and for a required range the default
// window): every partition of the parent stream, one per parent record; gated partitions are
// left out.
func (s *Server) eachPartition(st *streams.Stream, fn func(params map[string]string, w *workspace, set recordSet)) {
	g := generators[st.Name]
	visit := func(params map[string]string, w *workspace) {
		if w != nil && !w.allows(st) {
			return
		}
		set, aerr := g.records(s, w, params)
		if aerr != nil {
			return
		}
		if g.filter != nil {
			if set, aerr = g.filter(s, w, set, registryRequest(st)); aerr != nil {
				panic("clockifysim: the registry's own request of " + st.Name + " is refused: " + aerr.message)
			}
		}
		fn(params, w, set)
	}
	parent := st.ParentStream()
	if parent == nil {
		visit(map[string]string{}, nil)
		return
	}
	wsParam := workspaceParam(st)
	s.eachPartition(parent, func(pp map[string]string, _ *workspace, pset recordSet) {
		for i := 0; i < pset.Len(); i++ {
			v, ok := jsonscan.Member(pset.Append(nil, i), st.Parent.Field)
			id, _ := jsonscan.String(v)
			if !ok || id == "" {
				continue
			}
			params := maps.Clone(pp)
			params[st.Parent.Param] = id
			visit(params, s.wsByID[params[wsParam]])
		}
	})
}

// registryRequest is the request a complete sync sends for st, without paging.
func registryRequest(st *streams.Stream) *request {
	req := &request{query: url.Values{}, body: map[string]json.RawMessage{}}
	for k, v := range st.Query {
		req.query[k] = v
	}
	for k, v := range st.Body {
		req.body[k] = mustJSON(v)
	}
	if r := st.Range; r != nil && r.Required {
		req.query.Set(r.Start, r.From.UTC().Format(instantLayout))
		req.query.Set(r.End, time.Now().Add(r.Ahead).UTC().Format(instantLayout))
	}
	return req
}

// GroundTruth returns, per registry stream, the id of every record a complete sync of every stream
// over every workspace of the key must return (one entry per record, so a member of two
// workspaces appears twice in the workspace members). Per-workspace streams count only where the
// plan allows them. With a million time entries this allocates a million strings; use
// GroundTruthCounts when counts suffice.
func (s *Server) GroundTruth() map[string][]string {
	out := map[string][]string{}
	for _, st := range streams.All {
		ids := []string{}
		s.eachPartition(st, func(_ map[string]string, _ *workspace, set recordSet) {
			for i := 0; i < set.Len(); i++ {
				ids = append(ids, set.ID(i))
			}
		})
		out[st.Name] = ids
	}
	return out
}

// GroundTruthCounts is len() of every GroundTruth list, computed without generating ids.
func (s *Server) GroundTruthCounts() map[string]int {
	out := map[string]int{}
	for _, st := range streams.All {
		n := 0
		s.eachPartition(st, func(_ map[string]string, _ *workspace, set recordSet) { n += set.Len() })
		out[st.Name] = n
	}
	return out
}

// MinimumRequests is the number of requests a perfect client needs for a complete sync (as in
// GroundTruth) asking for pageSize records per page: one per partition of an unpaged stream, and
// max(1, ceil(n/p)) per partition of a paged one, with p clamped to the route's cap; nothing for
// plan-gated partitions. pageSize <= 0 means no page size is sent (each route's default).
func (s *Server) MinimumRequests(pageSize int) int {
	n := 0
	for _, st := range streams.All {
		s.eachPartition(st, func(_ map[string]string, _ *workspace, set recordSet) {
			n += pagesFor(st.Paging, set.Len(), pageSize)
		})
	}
	return n
}

func pagesFor(pg streams.Paging, n, pageSize int) int {
	if pg.Kind == streams.Unpaged {
		return 1
	}
	p := pageSize
	if p <= 0 {
		p = pg.Default
	}
	p = min(p, pg.Max)
	return max(1, (n+p-1)/p)
}

// --- admin routes ----------------------------------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func badAdmin(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "code": 3000})
}

// adminRoute is an unauthenticated /_sim/ route a generator adds (its pattern includes the method).
type adminRoute struct {
	pattern string
	handle  func(s *Server, w http.ResponseWriter, r *http.Request)
}

var adminExtras []adminRoute

// adminRoutes answers the unauthenticated /_sim/ routes:
//
//	GET  /_sim/truth[?ids=1]                {"<stream>": count} or {"<stream>": [ids]}
//	GET  /_sim/stats                        Stats
//	POST /_sim/reset-stats                  204
//	GET  /_sim/minimum-requests?page-size=N {"pageSize":N,"minimumRequests":n}
//	GET  /_sim/info                         workspaces, plans and member ids
//
// and those the generators add (time entries: add, delete, move).
func (s *Server) adminRoutes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_sim/truth", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("ids") == "" || q.Get("ids") == "0" || q.Get("ids") == "false" {
			writeJSON(w, 200, s.GroundTruthCounts())
			return
		}
		// Streamed one stream at a time, so a million ids are never held in memory.
		w.Header().Set("Content-Type", "application/json")
		bw := bufio.NewWriterSize(w, 64<<10)
		bw.WriteByte('{')
		for k, st := range streams.All {
			if k > 0 {
				bw.WriteByte(',')
			}
			bw.Write(appendString(nil, st.Name))
			bw.WriteString(":[")
			first := true
			s.eachPartition(st, func(_ map[string]string, _ *workspace, set recordSet) {
				for i := 0; i < set.Len(); i++ {
					if !first {
						bw.WriteByte(',')
					}
					first = false
					bw.Write(appendString(nil, set.ID(i)))
				}
			})
			bw.WriteByte(']')
		}
		bw.WriteString("}\n")
		_ = bw.Flush()
	})
	mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, s.Stats()) })
	mux.HandleFunc("POST /_sim/reset-stats", func(w http.ResponseWriter, r *http.Request) {
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sim/minimum-requests", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p, err := strconv.Atoi(q.Get("page-size"))
		if err != nil && q.Get("page-size") != "" {
			badAdmin(w, 400, "page-size must be an integer")
			return
		}
		writeJSON(w, 200, map[string]int{"pageSize": p, "minimumRequests": s.MinimumRequests(p)})
	})
	mux.HandleFunc("GET /_sim/info", func(w http.ResponseWriter, r *http.Request) {
		type wsInfo struct {
			ID       string   `json:"id"`
			Name     string   `json:"name"`
			Plan     Plan     `json:"plan"`
			Features []string `json:"features"`
			Users    []string `json:"users"`
			Inactive []string `json:"inactiveUsers"`
		}
		var out []wsInfo
		for _, x := range s.ws {
			wi := wsInfo{ID: x.id, Name: x.name, Plan: x.plan, Features: x.plan.Features(), Users: s.UserIDs(x.id), Inactive: []string{}}
			for _, u := range s.members(x) {
				if u.inactive {
					wi.Inactive = append(wi.Inactive, u.id)
				}
			}
			out = append(out, wi)
		}
		writeJSON(w, 200, map[string]any{"workspaces": out, "owner": s.members(s.ws[0])[0].id})
	})
	for _, x := range adminExtras {
		mux.HandleFunc(x.pattern, func(w http.ResponseWriter, r *http.Request) { x.handle(s, w, r) })
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		badAdmin(w, 404, "unknown admin route "+r.Method+" "+r.URL.Path)
	})
	return mux
}
