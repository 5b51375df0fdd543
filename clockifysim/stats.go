package clockifysim

import (
	"math/rand/v2"
	"sort"
	"sync"
	"time"
)

// Stats counts /api/v1 requests since start or the last ResetStats (admin routes are not counted).
type Stats struct {
	Requests    int64            `json:"requests"`
	Routes      map[string]int64 `json:"routes"`   // stream name (or "workspace", "unknown") → requests
	Statuses    map[int]int64    `json:"statuses"` // HTTP status → requests (499 = client went away)
	TooMany     int64            `json:"tooMany"`  // 429 answers, rate limiter and chaos bursts
	ServerErrs  int64            `json:"serverErrors"`
	ChaosFaults map[string]int64 `json:"chaosFaults"` // 5xx, truncate, slow, burst429
	Timeline    []SecondCount    `json:"timeline"`    // requests per wall-clock second, ascending
}

// SecondCount is the number of requests that arrived during one Unix second.
type SecondCount struct {
	Second   int64 `json:"second"`
	Requests int64 `json:"requests"`
}

type statsState struct {
	mu       sync.Mutex
	requests int64
	routes   map[string]int64
	statuses map[int]int64
	faults   map[string]int64
	timeline map[int64]int64
}

func newStats() *statsState {
	st := &statsState{}
	st.reset()
	return st
}

func (st *statsState) reset() {
	st.mu.Lock()
	st.requests = 0
	st.routes = map[string]int64{}
	st.statuses = map[int]int64{}
	st.faults = map[string]int64{}
	st.timeline = map[int64]int64{}
	st.mu.Unlock()
}

func (st *statsState) record(route string, status int, at time.Time) {
	st.mu.Lock()
	st.requests++
	st.routes[route]++
	st.statuses[status]++
	st.timeline[at.Unix()]++
	st.mu.Unlock()
}

func (st *statsState) chaosFault(kind string) {
	st.mu.Lock()
	st.faults[kind]++
	st.mu.Unlock()
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	st := s.stats
	st.mu.Lock()
	defer st.mu.Unlock()
	out := Stats{Requests: st.requests, Routes: map[string]int64{}, Statuses: map[int]int64{}, ChaosFaults: map[string]int64{}}
	for k, v := range st.routes {
		out.Routes[k] = v
	}
	for k, v := range st.statuses {
		out.Statuses[k] = v
		if k == 429 {
			out.TooMany += v
		}
		if k >= 500 {
			out.ServerErrs += v
		}
	}
	for k, v := range st.faults {
		out.ChaosFaults[k] = v
	}
	out.Timeline = make([]SecondCount, 0, len(st.timeline))
	for sec, n := range st.timeline {
		out.Timeline = append(out.Timeline, SecondCount{Second: sec, Requests: n})
	}
	sort.Slice(out.Timeline, func(a, b int) bool { return out.Timeline[a].Second < out.Timeline[b].Second })
	return out
}

// ResetStats zeroes every counter.
func (s *Server) ResetStats() { s.stats.reset() }

// --- chaos ---------------------------------------------------------------------------------------

const (
	faultNone = iota
	fault5xx
	faultBurst429
)

type fault struct {
	kind     int
	status   int
	slow     bool
	truncate bool
}

type chaosState struct {
	cfg       Chaos
	mu        sync.Mutex
	rng       *rand.Rand
	burstLeft int
}

func newChaos(c Chaos) *chaosState {
	return &chaosState{cfg: c, rng: rand.New(rand.NewPCG(uint64(c.Seed), 0x636c6f636b))}
}

// draw decides the fate of one request. The sequence of decisions depends only on the seed and the
// order of requests.
func (c *chaosState) draw() fault {
	if !c.cfg.Enabled() {
		return fault{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.burstLeft > 0 {
		c.burstLeft--
		return fault{kind: faultBurst429}
	}
	if c.rng.Float64() < c.cfg.Burst429 {
		c.burstLeft = c.cfg.Burst429Len - 1
		return fault{kind: faultBurst429}
	}
	if c.rng.Float64() < c.cfg.Error5xx {
		return fault{kind: fault5xx, status: []int{500, 502, 503}[c.rng.IntN(3)]}
	}
	var f fault
	f.slow = c.rng.Float64() < c.cfg.Slow
	f.truncate = c.rng.Float64() < c.cfg.Truncate
	return f
}
