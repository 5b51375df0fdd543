package clockifysim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clockberg/clockberg/source/streams"
)

// routes is the API's ServeMux: one route per registry stream (the row's path is a ServeMux
// pattern), the single-workspace route, the extra routes generators add, and a JSON 404 for
// everything else.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, st := range streams.All {
		mux.Handle("/api/v1"+st.Path, s.handle(st.Name, s.streamRoute(st)))
	}
	for _, x := range extraRoutes {
		mux.Handle("/api/v1"+x.path, s.handle(x.name, x.route(s)))
	}
	mux.Handle("/", s.handle("unknown", func(r *http.Request) (func() (response, *apiError), *apiError) {
		p := r.URL.Path
		if rest, ok := strings.CutPrefix(p, "/api/"); ok {
			p = rest
		}
		return nil, errf(404, 3000, "No static resource %s.", strings.TrimPrefix(p, "/"))
	}))
	return mux
}

// extraRoute is an API route that is not a stream (the single workspace, the change feed).
type extraRoute struct {
	name, path string
	route      func(s *Server) resolver
}

var extraRoutes = []extraRoute{{name: "workspace", path: "/workspaces/{workspaceId}", route: func(s *Server) resolver {
	return func(r *http.Request) (func() (response, *apiError), *apiError) {
		if r.Method != http.MethodGet {
			return nil, errf(405, 3000, "Request method '%s' is not supported", r.Method)
		}
		w := s.wsByID[r.PathValue("workspaceId")]
		if w == nil {
			return nil, errf(403, 3000, "Access Denied")
		}
		return func() (response, *apiError) { return response{status: 200, body: s.workspaceRecord(w)}, nil }, nil
	}
}}}

// workspaceParam is the path parameter that names a partition's workspace: the one filled by the
// records of the root a stream descends from.
func workspaceParam(st *streams.Stream) string {
	chain := st.Chain()
	if len(chain) < 2 {
		return ""
	}
	return chain[1].Parent.Param
}

// streamRoute checks a request of a stream's route in Clockify's order (method, workspace,
// plan, parent ids) and serves the page it asks for.
func (s *Server) streamRoute(st *streams.Stream) resolver {
	g := generators[st.Name]
	var names []string
	for _, c := range st.Chain() {
		if c.Parent != nil {
			names = append(names, c.Parent.Param)
		}
	}
	wsParam := workspaceParam(st)
	return func(r *http.Request) (func() (response, *apiError), *apiError) {
		if r.Method != st.HTTPMethod() {
			return nil, errf(405, 3000, "Request method '%s' is not supported", r.Method)
		}
		params := make(map[string]string, len(names))
		for _, n := range names {
			params[n] = r.PathValue(n)
		}
		var w *workspace
		if wsParam != "" {
			if w = s.wsByID[params[wsParam]]; w == nil {
				return nil, errf(403, 3000, "Access Denied")
			}
			if !w.allows(st) {
				return nil, errf(s.cfg.PlanGateStatus, 3000, "This feature is not available on your plan (%s)", w.plan.SubscriptionType())
			}
		}
		set, aerr := g.records(s, w, params)
		if aerr != nil {
			return nil, aerr
		}
		return func() (response, *apiError) {
			req, aerr := readRequest(r, st)
			if aerr != nil {
				return response{}, aerr
			}
			if g.filter != nil {
				if set, aerr = g.filter(s, w, set, req); aerr != nil {
					return response{}, aerr
				}
			}
			return s.servePage(st, g, set, req)
		}, nil
	}
}

// request is what a route's filters read: the query and, for a POST read, its JSON body.
type request struct {
	query url.Values
	body  map[string]json.RawMessage
}

func readRequest(r *http.Request, st *streams.Stream) (*request, *apiError) {
	req := &request{query: r.URL.Query()}
	if st.HTTPMethod() == http.MethodGet {
		return req, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || json.Unmarshal(b, &req.body) != nil || req.body == nil {
		return nil, errf(400, 3000, "Required request body is missing or is not a JSON object")
	}
	return req, nil
}

// servePage answers one page of a partition, shaped as the registry row says.
func (s *Server) servePage(st *streams.Stream, g *generator, set recordSet, req *request) (response, *apiError) {
	if st.Single {
		return response{status: 200, body: set.Append(nil, 0)}, nil
	}
	from, to, last := 0, set.Len(), true
	if st.Paging.Kind != streams.Unpaged {
		p, aerr := parsePaging(st.Paging, req)
		if aerr != nil {
			return response{}, aerr
		}
		from, to, last = p.window(set.Len())
	}
	prefix, suffix := "", ""
	switch {
	case g.envelope != nil:
		prefix, suffix = g.envelope(set.Len())
	case st.Records != nil:
		prefix, suffix = envelope(st, set.Len())
	}
	buf := s.getBuf()
	b := append(*buf, prefix...)
	b = append(b, '[')
	for k := from; k < to; k++ {
		if k > from {
			b = append(b, ',')
		}
		b = set.Append(b, k)
	}
	b = append(b, ']')
	b = append(b, suffix...)
	*buf = b
	resp := response{status: 200, body: b, pooled: buf}
	if st.Paging.Kind == streams.QueryPages {
		resp.lastPage = strconv.FormatBool(last)
	}
	return resp, nil
}

// envelope nests the record list along the row's records path, with the total count beside it
// when the row pages by one.
func envelope(st *streams.Stream, matched int) (prefix, suffix string) {
	var pre, suf strings.Builder
	for i, k := range st.Records {
		pre.WriteByte('{')
		if i == 0 && len(st.Paging.Total) == 1 {
			pre.Write(appendString(nil, st.Paging.Total[0]))
			pre.WriteByte(':')
			pre.WriteString(strconv.Itoa(matched))
			pre.WriteByte(',')
		}
		pre.Write(appendString(nil, k))
		pre.WriteByte(':')
		suf.WriteByte('}')
	}
	return pre.String(), suf.String()
}

// --- paging and parameters -------------------------------------------------------------------------

type paging struct{ page, size, first int }

// parsePaging reads the page number and size from the query or, for body paging, the JSON body,
// with the route's default, first page and caps.
func parsePaging(pg streams.Paging, req *request) (paging, *apiError) {
	p := paging{page: pg.First, size: pg.Default, first: pg.First}
	read := func(name string) (int, bool, *apiError) {
		if pg.Kind == streams.BodyPages {
			return bodyInt(req.body, name)
		}
		return parseIntParam(req.query, name)
	}
	if n, ok, err := read(pg.Page); err != nil {
		return p, err
	} else if ok {
		if n < pg.First {
			return p, errf(400, 3000, "%s must be greater than or equal to %d, got %d", pg.Page, pg.First, n)
		}
		if pg.MaxPage > 0 && n > pg.MaxPage {
			return p, errf(400, 3000, "%s must be less than or equal to %d, got %d", pg.Page, pg.MaxPage, n)
		}
		p.page = n
	}
	if n, ok, err := read(pg.Size); err != nil {
		return p, err
	} else if ok {
		if n < 1 || n > pg.Max {
			return p, errf(400, 3000, "%s must be between 1 and %d, got %d", pg.Size, pg.Max, n)
		}
		p.size = n
	}
	return p, nil
}

// window returns the [from, to) slice of n items the page covers and whether nothing follows it.
func (p paging) window(n int) (from, to int, last bool) {
	k := p.page - p.first
	if k > n/p.size {
		return n, n, true
	}
	from = min(k*p.size, n)
	to = min(from+p.size, n)
	return from, to, to >= n
}

func parseIntParam(q url.Values, name string) (int, bool, *apiError) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return 0, false, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v[0]))
	if err != nil {
		return 0, true, errf(400, 3000, "Method parameter '%s': Failed to convert value of type 'java.lang.String' to required type 'int'; For input string: \"%s\"", name, v[0])
	}
	return n, true, nil
}

func bodyInt(body map[string]json.RawMessage, name string) (int, bool, *apiError) {
	v, ok := body[name]
	if !ok || string(v) == "null" {
		return 0, false, nil
	}
	var n int
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, true, errf(400, 3000, "JSON parse error: field '%s' must be an integer, got %s", name, v)
	}
	return n, true, nil
}

// bodyStrings reads a list of strings (upper-cased) from a JSON body; a missing field is nil.
func bodyStrings(body map[string]json.RawMessage, name string) ([]string, *apiError) {
	v, ok := body[name]
	if !ok || string(v) == "null" {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, errf(400, 3000, "JSON parse error: field '%s' must be a list of strings, got %s", name, v)
	}
	for i := range out {
		out[i] = strings.ToUpper(strings.TrimSpace(out[i]))
	}
	return out, nil
}

// parseBool follows Spring's StringToBooleanConverter, which the real server uses.
func parseBool(q url.Values, name string) (val, present bool, err *apiError) {
	v, ok := q[name]
	if !ok || len(v) == 0 || v[0] == "" {
		return false, false, nil
	}
	switch strings.ToLower(strings.TrimSpace(v[0])) {
	case "true", "on", "yes", "1":
		return true, true, nil
	case "false", "off", "no", "0":
		return false, true, nil
	}
	return false, true, errf(400, 3000, "Method parameter '%s': Failed to convert value of type 'java.lang.String' to required type 'java.lang.Boolean'; Invalid boolean value [%s]", name, v[0])
}

func oneOf(q url.Values, name, def string, allowed ...string) (string, *apiError) {
	v, ok := q[name]
	if !ok || len(v) == 0 || v[0] == "" {
		return def, nil
	}
	x := strings.ToUpper(strings.TrimSpace(v[0]))
	for _, a := range allowed {
		if x == a {
			return x, nil
		}
	}
	return "", errf(400, 3000, "Method parameter '%s': Failed to convert value of type 'java.lang.String' to required type; No enum constant [%s]", name, v[0])
}

// listParam collects a repeatable parameter, also splitting comma-separated values.
func listParam(q url.Values, name string) []string {
	var out []string
	for _, v := range q[name] {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, strings.ToUpper(x))
			}
		}
	}
	return out
}

// parseWhen reads a start/end filter value. With AccountTimeZone the wall clock is kept and read in
// the owner's zone, ignoring Z or offsets, as the real server does.
func (s *Server) parseWhen(name, v string) (int64, *apiError) {
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err = time.Parse(layout, v); err == nil {
			break
		}
	}
	if err != nil {
		return 0, errf(400, 3000, "Method parameter '%s': Failed to convert value [%s] to an instant; expected yyyy-MM-ddTHH:mm:ssZ", name, v)
	}
	if s.cfg.AccountTimeZone {
		y, mo, d := t.Date()
		hh, mm, ss := t.Clock()
		t = time.Date(y, mo, d, hh, mm, ss, t.Nanosecond(), s.ownerLoc)
	}
	ts := t.Unix()
	if t.Nanosecond() > 0 { // starts are whole seconds: start >= t ⇔ start >= ceil(t)
		ts++
	}
	return ts, nil
}

// timeRange reads an optional start/end pair of query filters.
func (s *Server) timeRange(q url.Values, startName, endName string) (start, end int64, hasStart, hasEnd bool, err *apiError) {
	if v := q.Get(startName); v != "" {
		if start, err = s.parseWhen(startName, v); err != nil {
			return
		}
		hasStart = true
	}
	if v := q.Get(endName); v != "" {
		if end, err = s.parseWhen(endName, v); err != nil {
			return
		}
		hasEnd = true
	}
	return
}
