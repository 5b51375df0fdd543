package clockifysim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "time/tzdata" // account time zones must resolve on hosts without zoneinfo

	"golang.org/x/time/rate"
)

// Page-size caps and defaults (clockify-api.md §3).
const (
	DefaultPageSize           = 50
	MaxPageSize               = 5000
	InProgressDefaultPageSize = 10
	InProgressMaxPageSize     = 1000
	PoliciesMaxPageSize       = 200
	PoliciesMaxPage           = 1000
)

// Server is the simulator; it is an http.Handler serving /api/v1/... and the admin routes /_sim/...
type Server struct {
	cfg      Config
	seed     uint64
	mask     uint64
	ws       []*workspace
	wsByID   map[string]*workspace
	ownerLoc *time.Location

	mu sync.RWMutex // guards wsUser.explicit

	limMu    sync.Mutex
	limiters map[string]*rate.Limiter

	chaos *chaosState
	stats *statsState

	bufPool sync.Pool
}

// New builds the simulator. It panics if cfg is invalid (a programming error in a test or preset);
// use NewChecked to get the error instead.
func New(cfg Config) *Server {
	s, err := NewChecked(cfg)
	if err != nil {
		panic(err)
	}
	return s
}

// NewChecked is New returning configuration errors.
func NewChecked(cfg Config) (*Server, error) {
	cfg.Workspaces = append([]WorkspaceSpec(nil), cfg.Workspaces...)
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(cfg.OwnerTimeZone)
	if err != nil {
		return nil, fmt.Errorf("clockifysim: loading time zone %q: %w", cfg.OwnerTimeZone, err)
	}
	s := &Server{cfg: cfg, seed: uint64(cfg.Seed), wsByID: map[string]*workspace{}, ownerLoc: loc,
		limiters: map[string]*rate.Limiter{}, stats: newStats()}
	s.mask = splitmix64(uint64(cfg.Seed) ^ 0xc10c4f1f)
	s.chaos = newChaos(cfg.Chaos)
	if err := s.build(); err != nil {
		return nil, err
	}
	return s, nil
}

// Config returns the normalised configuration (defaults filled in).
func (s *Server) Config() Config { return s.cfg }

// APIKey is the one key the simulator accepts.
func (s *Server) APIKey() string { return s.cfg.APIKey }

// WorkspaceIDs lists the workspace ids in configuration order.
func (s *Server) WorkspaceIDs() []string {
	ids := make([]string, len(s.ws))
	for i, w := range s.ws {
		ids[i] = w.id
	}
	return ids
}

// UserIDs lists the member ids of a workspace (active and inactive) in configuration order; Users[0]
// is the key owner.
func (s *Server) UserIDs(workspaceID string) []string {
	w := s.wsByID[workspaceID]
	if w == nil {
		return nil
	}
	ids := make([]string, len(w.users))
	for i, u := range w.users {
		ids[i] = u.id
	}
	return ids
}

// apiError is a Clockify error answer {"message":…,"code":…}.
type apiError struct {
	status  int
	code    int
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %d %s", e.status, e.code, e.message) }

func errf(status, code int, format string, a ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, a...)}
}

func (e *apiError) body() []byte {
	b := []byte(`{"message":`)
	b = appendString(b, e.message)
	b = append(b, `,"code":`...)
	b = strconv.AppendInt(b, int64(e.code), 10)
	return append(b, '}')
}

// response is a fully built answer, so chaos can decide how to (mis)deliver it.
type response struct {
	status   int
	body     []byte
	lastPage string // "", "true" or "false"
	pooled   *[]byte
}

func (s *Server) getBuf() *[]byte {
	if b, ok := s.bufPool.Get().(*[]byte); ok {
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, 64<<10)
	return &b
}

func (s *Server) putBuf(b *[]byte) {
	if cap(*b) <= 16<<20 {
		s.bufPool.Put(b)
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveAdmin(w, r)
		return
	}
	now := time.Now()
	route := "unknown"
	status := 0
	defer func() { s.stats.record(route, status, now) }()

	// Routing first only to name the route in the stats; authentication errors take precedence.
	rt, err := s.route(r)
	if rt != nil {
		route = rt.name
	}
	if aerr := s.authenticate(r); aerr != nil {
		status = s.writeError(w, aerr)
		return
	}
	// Every authenticated request costs a token, whatever it then answers.
	if err := s.rateLimit(r); err != nil {
		status = s.writeTooMany(w)
		return
	}
	if err != nil {
		status = s.writeError(w, err)
		return
	}
	fault := s.chaos.draw()
	switch fault.kind {
	case faultBurst429:
		s.stats.chaosFault("burst429")
		status = s.writeTooMany(w)
		return
	case fault5xx:
		s.stats.chaosFault("5xx")
		status = s.writeServerError(w, fault.status)
		return
	}
	delay := s.cfg.Latency
	if fault.slow {
		s.stats.chaosFault("slow")
		delay += s.cfg.Chaos.SlowDelay
	}
	if delay > 0 && !sleepCtx(r.Context(), delay) {
		status = 499
		return
	}
	resp, aerr := rt.serve(r)
	if aerr != nil {
		status = s.writeError(w, aerr)
		return
	}
	status = resp.status
	if fault.truncate && resp.status == http.StatusOK && len(resp.body) > 1 {
		s.stats.chaosFault("truncate")
		s.writeTruncated(w, resp)
	} else {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(resp.body)))
		if resp.lastPage != "" {
			h.Set("Last-Page", resp.lastPage)
		}
		w.WriteHeader(resp.status)
		_, _ = w.Write(resp.body)
	}
	if resp.pooled != nil {
		s.putBuf(resp.pooled)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// writeTruncated announces the full Content-Length and then sends only part of the body before closing
// the connection, so the client can always tell the answer is incomplete.
func (s *Server) writeTruncated(w http.ResponseWriter, resp response) {
	cut := len(resp.body) / 2
	if cut == 0 {
		cut = 1
	}
	hj, ok := w.(http.Hijacker)
	if ok {
		conn, rw, err := hj.Hijack()
		if err == nil {
			defer conn.Close()
			writeRawHead(rw.Writer, resp)
			_, _ = rw.Write(resp.body[:cut])
			_ = rw.Flush()
			return
		}
	}
	// HTTP/2 or a wrapped writer: the same effect by aborting the handler after a short write.
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	if resp.lastPage != "" {
		h.Set("Last-Page", resp.lastPage)
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body[:cut])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if resp.pooled != nil {
		s.putBuf(resp.pooled)
	}
	panic(http.ErrAbortHandler)
}

func writeRawHead(bw *bufio.Writer, resp response) {
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", resp.status, http.StatusText(resp.status), len(resp.body))
	if resp.lastPage != "" {
		fmt.Fprintf(bw, "Last-Page: %s\r\n", resp.lastPage)
	}
	fmt.Fprintf(bw, "Date: %s\r\nConnection: close\r\n\r\n", time.Now().UTC().Format(http.TimeFormat))
}

func (s *Server) writeError(w http.ResponseWriter, err error) int {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = errf(500, 500, "Internal server error")
	}
	b := ae.body()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(ae.status)
	_, _ = w.Write(b)
	return ae.status
}

// writeServerError answers a chaos 5xx the way different layers of a real deployment do: the
// application with a JSON error, a gateway with HTML, an overloaded balancer with nothing.
func (s *Server) writeServerError(w http.ResponseWriter, status int) int {
	switch status {
	case http.StatusBadGateway:
		b := []byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n")
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return status
	case http.StatusServiceUnavailable:
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(status)
		return status
	}
	return s.writeError(w, errf(status, status, "Internal server error"))
}

func (s *Server) writeTooMany(w http.ResponseWriter) int {
	h := w.Header()
	if s.cfg.RetryAfter {
		h.Set("Retry-After", "1")
	}
	var b []byte
	if !s.cfg.EmptyTooManyBody {
		b = []byte(`{"message":"Too many requests","code":429}`)
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write(b)
	return http.StatusTooManyRequests
}

// authenticate applies §2: exactly one of X-Api-Key / X-Addon-Token (Authorization counts as a token too).
func (s *Server) authenticate(r *http.Request) error {
	var key, addon []string
	n := 0
	for k, v := range r.Header {
		switch strings.ToLower(k) {
		case "x-api-key":
			key = append(key, v...)
			n += len(v)
		case "x-addon-token":
			addon = append(addon, v...)
			n += len(v)
		case "authorization":
			n += len(v)
		}
	}
	if n != 1 {
		return errf(401, 1000, "Multiple or none auth tokens present")
	}
	if len(addon) == 1 {
		if addon[0] != s.cfg.APIKey {
			return errf(401, 4017, "Token is not valid")
		}
		return nil
	}
	if len(key) != 1 {
		return errf(401, 1000, "Multiple or none auth tokens present")
	}
	if key[0] != s.cfg.APIKey {
		return errf(401, 4003, "Api key does not exist")
	}
	return nil
}

func requestKey(r *http.Request) string {
	if v := r.Header.Get("X-Api-Key"); v != "" {
		return v
	}
	return r.Header.Get("X-Addon-Token")
}

func (s *Server) rateLimit(r *http.Request) error {
	if s.cfg.RateLimit <= 0 {
		return nil
	}
	k := requestKey(r)
	s.limMu.Lock()
	l := s.limiters[k]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.cfg.RateLimit), s.cfg.Burst)
		s.limiters[k] = l
	}
	s.limMu.Unlock()
	if !l.Allow() {
		return errf(429, 429, "Too many requests")
	}
	return nil
}

// --- paging and parameters -------------------------------------------------------------------------

type paging struct{ page, size int }

func parseIntParam(q map[string][]string, name string) (int, bool, error) {
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

func parsePaging(q map[string][]string, def, maxSize int) (paging, error) {
	p := paging{page: 1, size: def}
	if n, ok, err := parseIntParam(q, "page"); err != nil {
		return p, err
	} else if ok {
		if n < 1 {
			return p, errf(400, 3000, "page must be greater than or equal to 1, got %d", n)
		}
		p.page = n
	}
	if n, ok, err := parseIntParam(q, "page-size"); err != nil {
		return p, err
	} else if ok {
		if n < 1 || n > maxSize {
			return p, errf(400, 3000, "page-size must be between 1 and %d, got %d", maxSize, n)
		}
		p.size = n
	}
	return p, nil
}

// window returns the [from, to) slice of n items the page covers and whether nothing follows it.
func (p paging) window(n int) (from, to int, last bool) {
	if p.page-1 > n/p.size {
		return n, n, true
	}
	from = (p.page - 1) * p.size
	if from > n {
		from = n
	}
	to = min(from+p.size, n)
	return from, to, to >= n
}

func lastPageHeader(last bool) string {
	if last {
		return "true"
	}
	return "false"
}

// parseBool follows Spring's StringToBooleanConverter, which the real server uses.
func parseBool(q map[string][]string, name string) (val, present bool, err error) {
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

func oneOf(q map[string][]string, name, def string, allowed ...string) (string, error) {
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
func listParam(q map[string][]string, name string) []string {
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
// the owner's zone, ignoring Z or offsets, as the real server does (§7).
func (s *Server) parseWhen(name, v string) (int64, error) {
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

// --- routing -------------------------------------------------------------------------------------

type routeHandler struct {
	name  string
	serve func(r *http.Request) (response, *apiError)
}

// Stream names as the source uses them; also the per-route keys of Stats.
const (
	StreamWorkspaces        = "workspaces"
	StreamUser              = "user"
	StreamWorkspaceUsers    = "workspace_users"
	StreamGroups            = "groups"
	StreamProjects          = "projects"
	StreamClients           = "clients"
	StreamTags              = "tags"
	StreamTasks             = "tasks"
	StreamTimeEntries       = "time_entries"
	StreamInProgress        = "time_entries_in_progress"
	StreamExpenses          = "expenses"
	StreamExpenseCategories = "expense_categories"
	StreamInvoices          = "invoices"
	StreamApprovalRequests  = "approval_requests"
	StreamHolidays          = "holidays"
	StreamCustomFields      = "custom_fields"
	StreamPolicies          = "policies"
	routeWorkspace          = "workspace"
)

// Streams lists the 17 stream names in a fixed order.
var Streams = []string{StreamWorkspaces, StreamUser, StreamWorkspaceUsers, StreamGroups, StreamProjects,
	StreamClients, StreamTags, StreamTasks, StreamTimeEntries, StreamInProgress, StreamExpenses,
	StreamExpenseCategories, StreamInvoices, StreamApprovalRequests, StreamHolidays, StreamCustomFields, StreamPolicies}

// streamFeature is the feature a stream needs (§10); streams not listed are on every plan.
var streamFeature = map[string]string{
	StreamInvoices:          FeatureInvoicing,
	StreamApprovalRequests:  FeatureApproval,
	StreamHolidays:          FeatureTimeOff,
	StreamPolicies:          FeatureTimeOff,
	StreamExpenses:          FeatureExpenses,
	StreamExpenseCategories: FeatureExpenses,
	StreamCustomFields:      FeatureCustomFields,
}

// Allowed reports whether a workspace's plan serves a stream (false for unknown workspaces).
func (s *Server) Allowed(workspaceID, stream string) bool {
	w := s.wsByID[workspaceID]
	return w != nil && w.allows(stream)
}

func (w *workspace) allows(stream string) bool {
	f, ok := streamFeature[stream]
	return !ok || w.features[f]
}

func (s *Server) route(r *http.Request) (*routeHandler, error) {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/api/v1/") {
		return nil, errf(404, 3000, "No static resource %s.", strings.TrimPrefix(p, "/"))
	}
	seg := strings.Split(strings.Trim(strings.TrimPrefix(p, "/api/v1/"), "/"), "/")
	notFound := errf(404, 3000, "No static resource %s.", strings.TrimPrefix(strings.TrimPrefix(p, "/api/"), "/"))
	var rt *routeHandler
	var w *workspace
	var wsErr error
	if len(seg) >= 2 && seg[0] == "workspaces" {
		w = s.wsByID[seg[1]]
		if w == nil {
			wsErr = errf(403, 3000, "Access Denied")
		}
	}
	name := ""
	switch {
	case len(seg) == 1 && seg[0] == "workspaces":
		rt = &routeHandler{StreamWorkspaces, s.serveWorkspaces}
	case len(seg) == 1 && seg[0] == "user":
		rt = &routeHandler{StreamUser, s.serveUser}
	case len(seg) == 2 && seg[0] == "workspaces":
		name = routeWorkspace
	case len(seg) == 3 && seg[0] == "workspaces":
		switch seg[2] {
		case "users":
			name = StreamWorkspaceUsers
		case "user-groups":
			name = StreamGroups
		case "projects":
			name = StreamProjects
		case "clients":
			name = StreamClients
		case "tags":
			name = StreamTags
		case "expenses":
			name = StreamExpenses
		case "invoices":
			name = StreamInvoices
		case "approval-requests":
			name = StreamApprovalRequests
		case "holidays":
			name = StreamHolidays
		case "custom-fields":
			name = StreamCustomFields
		}
	case len(seg) == 4 && seg[0] == "workspaces":
		switch seg[2] + "/" + seg[3] {
		case "expenses/categories":
			name = StreamExpenseCategories
		case "time-off/policies":
			name = StreamPolicies
		}
	case len(seg) == 5 && seg[0] == "workspaces" && seg[2] == "projects" && seg[4] == "tasks":
		name = StreamTasks
	case len(seg) == 5 && seg[0] == "workspaces" && seg[2] == "user" && seg[4] == "time-entries":
		name = StreamTimeEntries
	case len(seg) == 5 && seg[0] == "workspaces" && seg[2] == "time-entries" && seg[3] == "status" && seg[4] == "in-progress":
		name = StreamInProgress
	}
	if rt == nil && name == "" {
		return nil, notFound
	}
	if rt == nil {
		rt = &routeHandler{name: name}
	}
	if r.Method != http.MethodGet {
		return rt, errf(405, 3000, "Request method '%s' is not supported", r.Method)
	}
	if rt.serve != nil {
		return rt, nil
	}
	if wsErr != nil {
		return rt, wsErr
	}
	if !w.allows(name) {
		return rt, errf(s.cfg.PlanGateStatus, 3000, "This feature is not available on your plan (%s)", w.plan.SubscriptionType())
	}
	switch name {
	case routeWorkspace:
		rt.serve = func(*http.Request) (response, *apiError) { return response{status: 200, body: w.rec}, nil }
	case StreamWorkspaceUsers:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveUsers(w, r) }
	case StreamGroups:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveItems(w.groups, r, nil) }
	case StreamProjects:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveArchivable(w.projects, r) }
	case StreamClients:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveArchivable(w.clients, r) }
	case StreamTags:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveArchivable(w.tags, r) }
	case StreamTasks:
		pi, ok := w.projByID[seg[3]]
		if !ok {
			return rt, errf(400, 501, "Project doesn't belong to Workspace")
		}
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveTasks(w.tasks[pi], r) }
	case StreamTimeEntries:
		u := w.userByID[seg[3]]
		if u == nil {
			return rt, errf(400, 501, "User doesn't belong to Workspace")
		}
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveTimeEntries(w, u, r) }
	case StreamInProgress:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveInProgress(w, r) }
	case StreamExpenses:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveExpenses(w, r) }
	case StreamExpenseCategories:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveCategories(w, r) }
	case StreamInvoices:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveInvoices(w, r) }
	case StreamApprovalRequests:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveApprovals(w, r) }
	case StreamHolidays:
		rt.serve = func(*http.Request) (response, *apiError) { return s.unpaged(w.holidays), nil }
	case StreamCustomFields:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.serveCustomFields(w, r) }
	case StreamPolicies:
		rt.serve = func(r *http.Request) (response, *apiError) { return s.servePolicies(w, r) }
	}
	return rt, nil
}

// --- handlers ------------------------------------------------------------------------------------

func joinItems(dst []byte, items []item, idx []int) []byte {
	dst = append(dst, '[')
	for k, i := range idx {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, items[i].json...)
	}
	return append(dst, ']')
}

func allIdx(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

func filterIdx(items []item, keep func(*item) bool) []int {
	idx := make([]int, 0, len(items))
	for i := range items {
		if keep == nil || keep(&items[i]) {
			idx = append(idx, i)
		}
	}
	return idx
}

func (s *Server) unpaged(items []item) response {
	return response{status: 200, body: joinItems(nil, items, allIdx(len(items)))}
}

// pagedArray serves the page of the selected items as a bare array.
func pagedArray(items []item, idx []int, p paging) response {
	from, to, last := p.window(len(idx))
	return response{status: 200, body: joinItems(nil, items, idx[from:to]), lastPage: lastPageHeader(last)}
}

func (s *Server) serveItems(items []item, r *http.Request, keep func(*item) bool) (response, *apiError) {
	p, err := parsePaging(r.URL.Query(), DefaultPageSize, MaxPageSize)
	if err != nil {
		return response{}, err.(*apiError)
	}
	return pagedArray(items, filterIdx(items, keep), p), nil
}

func archivedFilter(r *http.Request) (func(*item) bool, *apiError) {
	a, present, err := parseBool(r.URL.Query(), "archived")
	if err != nil {
		return nil, err.(*apiError)
	}
	if !present {
		return nil, nil
	}
	return func(it *item) bool { return it.archived == a }, nil
}

func (s *Server) serveArchivable(items []item, r *http.Request) (response, *apiError) {
	keep, err := archivedFilter(r)
	if err != nil {
		return response{}, err
	}
	return s.serveItems(items, r, keep)
}

func (s *Server) serveTasks(items []item, r *http.Request) (response, *apiError) {
	a, present, err := parseBool(r.URL.Query(), "is-active")
	if err != nil {
		return response{}, err.(*apiError)
	}
	var keep func(*item) bool
	if present {
		keep = func(it *item) bool { return (it.status == "ACTIVE") == a }
	}
	return s.serveItems(items, r, keep)
}

func (s *Server) serveWorkspaces(*http.Request) (response, *apiError) {
	b := []byte{'['}
	for i, w := range s.ws {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, w.rec...)
	}
	return response{status: 200, body: append(b, ']')}, nil
}

func (s *Server) serveUser(*http.Request) (response, *apiError) {
	return response{status: 200, body: s.ws[0].users[0].rec}, nil
}

func (s *Server) serveUsers(w *workspace, r *http.Request) (response, *apiError) {
	q := r.URL.Query()
	status, err := oneOf(q, "status", "ACTIVE", "PENDING", "ACTIVE", "DECLINED", "INACTIVE", "ALL")
	if err != nil {
		return response{}, err.(*apiError)
	}
	mem, err := oneOf(q, "memberships", "NONE", "ALL", "NONE", "WORKSPACE", "PROJECT", "USERGROUP")
	if err != nil {
		return response{}, err.(*apiError)
	}
	p, err := parsePaging(q, DefaultPageSize, MaxPageSize)
	if err != nil {
		return response{}, err.(*apiError)
	}
	var sel []*wsUser
	for _, u := range w.users {
		switch {
		case status == "ALL", status == "ACTIVE" && !u.inactive, status == "INACTIVE" && u.inactive:
			sel = append(sel, u)
		}
	}
	from, to, last := p.window(len(sel))
	b := []byte{'['}
	for k, u := range sel[from:to] {
		if k > 0 {
			b = append(b, ',')
		}
		if mem == "ALL" || mem == "WORKSPACE" {
			b = append(b, u.recMem...)
		} else {
			b = append(b, u.rec...)
		}
	}
	return response{status: 200, body: append(b, ']'), lastPage: lastPageHeader(last)}, nil
}

func (s *Server) serveExpenses(w *workspace, r *http.Request) (response, *apiError) {
	q := r.URL.Query()
	p, err := parsePaging(q, DefaultPageSize, MaxPageSize)
	if err != nil {
		return response{}, err.(*apiError)
	}
	var keep func(*item) bool
	if uid := q.Get("user-id"); uid != "" {
		keep = func(it *item) bool { return it.userID == uid }
	}
	idx := filterIdx(w.expenses, keep)
	from, to, last := p.window(len(idx))
	b := []byte(`{"expenses":{"count":`)
	b = strconv.AppendInt(b, int64(len(idx)), 10)
	b = append(b, `,"expenses":`...)
	b = joinItems(b, w.expenses, idx[from:to])
	b = append(b, `},"dailyTotals":[],"weeklyTotals":[]}`...)
	return response{status: 200, body: b, lastPage: lastPageHeader(last)}, nil
}

func (s *Server) serveCategories(w *workspace, r *http.Request) (response, *apiError) {
	q := r.URL.Query()
	p, err := parsePaging(q, DefaultPageSize, MaxPageSize)
	if err != nil {
		return response{}, err.(*apiError)
	}
	keep, aerr := archivedFilter(r)
	if aerr != nil {
		return response{}, aerr
	}
	idx := filterIdx(w.categories, keep)
	from, to, last := p.window(len(idx))
	b := []byte(`{"count":`)
	b = strconv.AppendInt(b, int64(len(idx)), 10)
	b = append(b, `,"categories":`...)
	b = joinItems(b, w.categories, idx[from:to])
	return response{status: 200, body: append(b, '}'), lastPage: lastPageHeader(last)}, nil
}

var invoiceStatuses = map[string]bool{"UNSENT": true, "SENT": true, "PAID": true, "PARTIALLY_PAID": true, "VOID": true, "OVERDUE": true}

func (s *Server) serveInvoices(w *workspace, r *http.Request) (response, *apiError) {
	q := r.URL.Query()
	p, err := parsePaging(q, DefaultPageSize, MaxPageSize)
	if err != nil {
		return response{}, err.(*apiError)
	}
	var keep func(*item) bool
	if sts := listParam(q, "statuses"); len(sts) > 0 {
		want := map[string]bool{}
		for _, st := range sts {
			if !invoiceStatuses[st] {
				return response{}, errf(400, 3000, "Method parameter 'statuses': No enum constant [%s]", st)
			}
			want[st] = true
		}
		keep = func(it *item) bool { return want[it.status] }
	}
	idx := filterIdx(w.invoices, keep)
	from, to, last := p.window(len(idx))
	b := []byte(`{"total":`)
	b = strconv.AppendInt(b, int64(len(idx)), 10)
	b = append(b, `,"invoices":`...)
	b = joinItems(b, w.invoices, idx[from:to])
	return response{status: 200, body: append(b, '}'), lastPage: lastPageHeader(last)}, nil
}

// serveApprovals: without status every request is returned, whatever its state (our choice where the
// real server is unconfirmed, §5); status=PENDING|APPROVED|WITHDRAWN_APPROVAL filters. sort-column
// (ID, USER_ID, START, UPDATED_AT) and sort-order (ASCENDING, DESCENDING; default DESCENDING when a
// column is given) are honoured; the default order is by start, oldest first.
func (s *Server) serveApprovals(w *workspace, r *http.Request) (response, *apiError) {
	q := r.URL.Query()
	status, err := oneOf(q, "status", "", "PENDING", "APPROVED", "WITHDRAWN_APPROVAL")
	if err != nil {
		return response{}, err.(*apiError)
	}
	col, err := oneOf(q, "sort-column", "", "ID", "USER_ID", "START", "UPDATED_AT")
	if err != nil {
		return response{}, err.(*apiError)
	}
	order, err := oneOf(q, "sort-order", "DESCENDING", "ASCENDING", "DESCENDING")
	if err != nil {
		return response{}, err.(*apiError)
	}
	p, err := parsePaging(q, DefaultPageSize, MaxPageSize)
	if err != nil {
		return response{}, err.(*apiError)
	}
	var keep func(*item) bool
	if status != "" {
		keep = func(it *item) bool { return it.status == status }
	}
	idx := filterIdx(w.approvals, keep)
	if col != "" {
		key := func(i int) string {
			a := &w.approvalMeta[i]
			switch col {
			case "ID":
				return w.approvals[i].id
			case "USER_ID":
				return a.userID + w.approvals[i].id
			case "START":
				return a.start + w.approvals[i].id
			default:
				return a.updatedAt + w.approvals[i].id
			}
		}
		sort.SliceStable(idx, func(x, y int) bool {
			if order == "ASCENDING" {
				return key(idx[x]) < key(idx[y])
			}
			return key(idx[x]) > key(idx[y])
		})
	}
	return pagedArray(w.approvals, idx, p), nil
}

func (s *Server) serveCustomFields(w *workspace, r *http.Request) (response, *apiError) {
	q := r.URL.Query()
	status, err := oneOf(q, "status", "", "INACTIVE", "VISIBLE", "INVISIBLE")
	if err != nil {
		return response{}, err.(*apiError)
	}
	et := strings.ToUpper(q.Get("entity-type"))
	idx := filterIdx(w.fields, func(it *item) bool {
		return (status == "" || it.status == status) && (et == "" || strings.Contains(string(it.json), `"entityType":"`+et+`"`))
	})
	return response{status: 200, body: joinItems(nil, w.fields, idx)}, nil
}

func (s *Server) servePolicies(w *workspace, r *http.Request) (response, *apiError) {
	q := r.URL.Query()
	status, err := oneOf(q, "status", "ACTIVE", "ACTIVE", "ARCHIVED", "ALL")
	if err != nil {
		return response{}, err.(*apiError)
	}
	p, err := parsePaging(q, DefaultPageSize, PoliciesMaxPageSize)
	if err != nil {
		return response{}, err.(*apiError)
	}
	if p.page > PoliciesMaxPage {
		return response{}, errf(400, 3000, "page must be less than or equal to %d, got %d", PoliciesMaxPage, p.page)
	}
	var keep func(*item) bool
	if status != "ALL" {
		keep = func(it *item) bool { return it.status == status }
	}
	return pagedArray(w.policies, filterIdx(w.policies, keep), p), nil
}
