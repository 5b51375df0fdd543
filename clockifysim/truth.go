package clockifysim

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
)

// GroundTruth returns, per stream, the id of every record a complete sync of all 17 streams over every
// workspace of the key must return (one entry per record, so a member of two workspaces appears twice in
// workspace_users). It includes running time entries, inactive members, tasks of archived projects,
// archived projects/clients/tags/categories/policies, approval requests in every state (ids are
// approvalRequest.id), and per-workspace streams only where the plan allows them. With a million time
// entries this allocates a million strings; use GroundTruthCounts when counts suffice.
func (s *Server) GroundTruth() map[string][]string {
	out := map[string][]string{}
	for _, st := range Streams {
		out[st] = []string{}
	}
	s.eachTruth("", func(stream string, id string) { out[stream] = append(out[stream], id) }, nil)
	return out
}

// GroundTruthCounts is len() of every GroundTruth list, computed without generating ids.
func (s *Server) GroundTruthCounts() map[string]int {
	out := map[string]int{}
	for _, st := range Streams {
		out[st] = 0
	}
	s.eachTruth("", nil, func(stream string, n int) { out[stream] += n })
	return out
}

// eachTruth walks the ground truth (of stream only, unless only is ""), calling id per record or, if id
// is nil, count per list.
func (s *Server) eachTruth(only string, id func(stream, id string), count func(stream string, n int)) {
	if only != "" {
		inner, innerCount := id, count
		if inner != nil {
			id = func(stream, x string) {
				if stream == only {
					inner(stream, x)
				}
			}
		} else {
			count = func(stream string, n int) {
				if stream == only {
					innerCount(stream, n)
				}
			}
		}
	}
	items := func(stream string, list []item) {
		if id == nil {
			count(stream, len(list))
			return
		}
		for i := range list {
			id(stream, list[i].id)
		}
	}
	one := func(stream, x string) {
		if id == nil {
			count(stream, 1)
		} else {
			id(stream, x)
		}
	}
	for _, w := range s.ws {
		one(StreamWorkspaces, w.id)
	}
	one(StreamUser, s.ws[0].users[0].id)
	for _, w := range s.ws {
		for _, u := range w.users {
			one(StreamWorkspaceUsers, u.id)
		}
		items(StreamGroups, w.groups)
		items(StreamProjects, w.projects)
		items(StreamClients, w.clients)
		items(StreamTags, w.tags)
		for _, t := range w.tasks {
			items(StreamTasks, t)
		}
		for _, u := range w.users {
			ex := s.snapshot(u)
			if only != "" && only != StreamTimeEntries {
				continue
			}
			if id == nil {
				count(StreamTimeEntries, u.n+len(ex))
				continue
			}
			for i := u.n + len(ex) - 1; i >= 0; i-- {
				id(StreamTimeEntries, s.timeEntryID(w, u, i, ex))
			}
		}
		for _, rr := range s.running(w) {
			one(StreamInProgress, s.timeEntryID(w, rr.u, rr.i, rr.ex))
		}
		gated := func(stream string, list []item) {
			if w.allows(stream) {
				items(stream, list)
			}
		}
		gated(StreamExpenses, w.expenses)
		gated(StreamExpenseCategories, w.categories)
		gated(StreamInvoices, w.invoices)
		gated(StreamApprovalRequests, w.approvals)
		gated(StreamHolidays, w.holidays)
		gated(StreamCustomFields, w.fields)
		gated(StreamPolicies, w.policies)
	}
}

func pagesFor(n, pageSize, def, maxSize int) int {
	p := pageSize
	if p <= 0 {
		p = def
	}
	p = min(p, maxSize)
	return max(1, (n+p-1)/p)
}

// MinimumRequests is the number of requests a perfect client needs for a complete sync (as in
// GroundTruth) asking for pageSize records per page: /workspaces and /user, then per workspace
// max(1, ceil(n/p)) per paginated partition with p clamped to the endpoint's cap (in-progress 1000,
// policies 200), one per unpaginated call (holidays, custom-fields), and nothing for plan-gated
// streams. Paginated partitions: users (status=ALL), groups, projects, clients, tags, tasks per
// project, time entries per member, in-progress, expenses, categories, invoices, approval requests,
// policies (status=ALL). pageSize <= 0 means no page-size is sent (defaults 50 and 10).
func (s *Server) MinimumRequests(pageSize int) int {
	n := 2
	for _, w := range s.ws {
		gen := func(cnt int) int { return pagesFor(cnt, pageSize, DefaultPageSize, MaxPageSize) }
		n += gen(len(w.users)) + gen(len(w.groups)) + gen(len(w.projects)) + gen(len(w.clients)) + gen(len(w.tags))
		for _, t := range w.tasks {
			n += gen(len(t))
		}
		for _, u := range w.users {
			n += gen(u.n + len(s.snapshot(u)))
		}
		n += pagesFor(len(s.running(w)), pageSize, InProgressDefaultPageSize, InProgressMaxPageSize)
		if w.allows(StreamExpenses) {
			n += gen(len(w.expenses)) + gen(len(w.categories))
		}
		if w.allows(StreamInvoices) {
			n += gen(len(w.invoices))
		}
		if w.allows(StreamApprovalRequests) {
			n += gen(len(w.approvals))
		}
		if w.allows(StreamPolicies) { // holidays share the TIME_OFF feature
			n += 1 + pagesFor(len(w.policies), pageSize, DefaultPageSize, PoliciesMaxPageSize)
		}
		if w.allows(StreamCustomFields) {
			n++
		}
	}
	return n
}

// --- admin routes ----------------------------------------------------------------------------------

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// serveAdmin answers the unauthenticated /_sim/ routes:
//
//	GET  /_sim/truth[?ids=1]               {"<stream>": count} or {"<stream>": [ids]}
//	GET  /_sim/stats                       Stats
//	POST /_sim/reset-stats                 204
//	GET  /_sim/minimum-requests?page-size=N {"pageSize":N,"minimumRequests":n}
//	POST /_sim/time-entries?workspace=W&user=U&count=N  {"ids":[...]} (AddTimeEntries)
//	GET  /_sim/info                        workspaces, plans and member ids
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	bad := func(status int, msg string) { writeJSON(w, status, map[string]any{"message": msg, "code": 3000}) }
	q := r.URL.Query()
	switch r.URL.Path {
	case "/_sim/truth":
		if r.Method != http.MethodGet {
			bad(405, "use GET")
			return
		}
		if q.Get("ids") == "" || q.Get("ids") == "0" || q.Get("ids") == "false" {
			writeJSON(w, 200, s.GroundTruthCounts())
			return
		}
		// Streamed one stream at a time, so a million ids are never held in memory.
		w.Header().Set("Content-Type", "application/json")
		bw := bufio.NewWriterSize(w, 64<<10)
		bw.WriteByte('{')
		for k, st := range Streams {
			if k > 0 {
				bw.WriteByte(',')
			}
			bw.Write(appendString(nil, st))
			bw.WriteString(":[")
			first := true
			s.eachTruth(st, func(_, id string) {
				if !first {
					bw.WriteByte(',')
				}
				first = false
				bw.WriteByte('"')
				bw.WriteString(id)
				bw.WriteByte('"')
			}, nil)
			bw.WriteByte(']')
		}
		bw.WriteString("}\n")
		_ = bw.Flush()
	case "/_sim/stats":
		writeJSON(w, 200, s.Stats())
	case "/_sim/reset-stats":
		if r.Method != http.MethodPost {
			bad(405, "use POST")
			return
		}
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case "/_sim/minimum-requests":
		p, err := strconv.Atoi(q.Get("page-size"))
		if err != nil && q.Get("page-size") != "" {
			bad(400, "page-size must be an integer")
			return
		}
		writeJSON(w, 200, map[string]int{"pageSize": p, "minimumRequests": s.MinimumRequests(p)})
	case "/_sim/time-entries":
		if r.Method != http.MethodPost {
			bad(405, "use POST")
			return
		}
		n, err := strconv.Atoi(q.Get("count"))
		if err != nil {
			n = 1
		}
		ids, aerr := s.AddTimeEntries(q.Get("workspace"), q.Get("user"), n)
		if aerr != nil {
			bad(400, aerr.Error())
			return
		}
		writeJSON(w, 200, map[string]any{"ids": ids})
	case "/_sim/info":
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
			for _, u := range x.users {
				if u.inactive {
					wi.Inactive = append(wi.Inactive, u.id)
				}
			}
			out = append(out, wi)
		}
		writeJSON(w, 200, map[string]any{"workspaces": out, "owner": s.ws[0].users[0].id})
	default:
		bad(404, "unknown admin route "+r.URL.Path)
	}
}
