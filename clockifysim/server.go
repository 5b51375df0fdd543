package clockifysim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "time/tzdata" // account time zones must resolve on hosts without zoneinfo

	"golang.org/x/time/rate"

	"github.com/clockberg/clockberg/source/streams"
)

// Page-size default and cap of most list routes; the registry has each
// route's own.
const (
	DefaultPageSize = 50
	MaxPageSize     = 5000
)

// Server is the simulator; it is an http.Handler serving /api/v1/... and the admin routes /_sim/...
type Server struct {
	cfg      Config
	seed     uint64
	mask     uint64
	ws       []*workspace
	wsByID   map[string]*workspace
	ownerLoc *time.Location
	mux      *http.ServeMux
	admin    *http.ServeMux

	mu sync.RWMutex // guards the mutable time entries of every member

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
	for _, st := range streams.All {
		if generators[st.Name] == nil {
			return nil, fmt.Errorf("clockifysim: no generator for stream %s", st.Name)
		}
	}
	for wi := range s.cfg.Workspaces {
		w := newWorkspace(s, wi)
		s.ws = append(s.ws, w)
		s.wsByID[w.id] = w
	}
	// Every generator builds its data now, so serving only reads it.
	for _, w := range s.ws {
		for _, st := range streams.All {
			if b := generators[st.Name].build; b != nil {
				b(s, w)
			}
		}
	}
	s.mux = s.routes()
	s.admin = s.adminRoutes()
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
	ms := s.members(w)
	ids := make([]string, len(ms))
	for i, u := range ms {
		ids[i] = u.id
	}
	return ids
}

// Allowed reports whether a workspace's plan serves a stream (false for unknown workspaces).
func (s *Server) Allowed(workspaceID, stream string) bool {
	w := s.wsByID[workspaceID]
	st := streams.ByName(stream)
	return w != nil && st != nil && w.allows(st)
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
		s.admin.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// resolver checks that a request can be served (route, method, workspace, plan, parent ids) and
// returns the function that builds its answer.
type resolver func(r *http.Request) (func() (response, *apiError), *apiError)

// handle is every API route's way through the server: authentication, the key's rate limit,
// the route's own checks, chaos, latency, then the answer. name keys the route in Stats.
func (s *Server) handle(name string, resolve resolver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		status := 0
		defer func() { s.stats.record(name, status, now) }()
		if aerr := s.authenticate(r); aerr != nil {
			status = s.writeError(w, aerr)
			return
		}
		// Every authenticated request costs a token, whatever it then answers.
		if err := s.rateLimit(r); err != nil {
			status = s.writeTooMany(w)
			return
		}
		serve, rerr := resolve(r)
		if rerr != nil {
			status = s.writeError(w, rerr)
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
		resp, aerr := serve()
		if aerr != nil {
			status = s.writeError(w, aerr)
			return
		}
		status = resp.status
		if fault.truncate && resp.status == http.StatusOK && len(resp.body) > 1 {
			s.stats.chaosFault("truncate")
			s.writeTruncated(w, resp)
		} else {
			writeHead(w, resp)
			_, _ = w.Write(resp.body)
		}
		if resp.pooled != nil {
			s.putBuf(resp.pooled)
		}
	})
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
	writeHead(w, resp)
	_, _ = w.Write(resp.body[:cut])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if resp.pooled != nil {
		s.putBuf(resp.pooled)
	}
	panic(http.ErrAbortHandler)
}

// writeHead sends the status and headers of a complete answer of resp.body.
func writeHead(w http.ResponseWriter, resp response) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	if resp.lastPage != "" {
		h.Set("Last-Page", resp.lastPage)
	}
	w.WriteHeader(resp.status)
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

// authenticate applies Clockify's rule: exactly one of X-Api-Key / X-Addon-Token (Authorization counts as a token too).
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
