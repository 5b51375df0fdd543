package clockify

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// aimd adapts one rate.Limiter shared by every goroutine using a Client. Clockify limits
// per API key and sends no quota headers, so the only signal is the 429 itself: probe
// upwards slowly, back off hard when the server pushes back.
type aimd struct {
	lim *rate.Limiter

	mu         sync.Mutex
	rate       float64
	ceiling    float64
	floor      float64
	step       float64       // additive increase per interval
	interval   time.Duration // minimum 429-free time between increases
	factor     float64       // multiplicative decrease on a congestion event
	lastChange time.Time     // last increase or cut
	lastCut    time.Time     // requests sent before this belong to an already-handled event
	successes  int           // since lastChange
	cuts       int64
	increases  int64
}

func newAIMD(start, ceiling float64) *aimd {
	floor := 1.0
	if start < floor {
		floor = start
	}
	return &aimd{
		// Burst 1 spaces requests evenly, which is what a server-side
		// per-second counter tolerates best.
		lim:        rate.NewLimiter(rate.Limit(start), 1),
		rate:       start,
		ceiling:    ceiling,
		floor:      floor,
		step:       0.5,
		interval:   time.Second,
		factor:     0.5,
		lastChange: time.Now(),
	}
}

// success records a 2xx and raises the rate by one step once a full interval has
// passed without a cut. It returns the new rate when it changed, else 0.
func (a *aimd) success(now time.Time) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.successes++
	if a.rate >= a.ceiling || now.Sub(a.lastChange) < a.interval {
		return 0
	}
	a.rate = min(a.ceiling, a.rate+a.step)
	a.lim.SetLimitAt(now, rate.Limit(a.rate))
	a.lastChange = now
	a.successes = 0
	a.increases++
	return a.rate
}

// throttled records a 429 for a request sent at sentAt. Many goroutines typically
// see 429s for the same burst; only a request sent after the previous cut is new
// evidence, so each congestion event cuts once. It returns the old and new rates and
// whether a cut happened.
func (a *aimd) throttled(sentAt, now time.Time) (from, to float64, cut bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !sentAt.After(a.lastCut) {
		return a.rate, a.rate, false
	}
	from = a.rate
	a.rate = max(a.floor, a.rate*a.factor)
	a.lim.SetLimitAt(now, rate.Limit(a.rate))
	a.lastCut = now
	a.lastChange = now
	a.successes = 0
	a.cuts++
	return from, a.rate, true
}

func (a *aimd) current() (r float64, cuts, increases int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rate, a.cuts, a.increases
}

func (a *aimd) atFloor() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rate <= a.floor
}
