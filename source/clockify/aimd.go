package clockify

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/clockberg/clockberg/retry"
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
	// afterCut counts successes of requests sent after the last cut: only those show the
	// cut rate works. Answers to requests sent before it say nothing about the new rate.
	afterCut int
	// recoverTo is a little below the rate of the last cut. The limit was not exceeded
	// there until the probe went past it, so climbing back to it can go faster than
	// probing beyond it.
	recoverTo float64
	cuts      int64
	increases int64

	onSchedule func(at time.Time, rate float64) // tests: when each reservation may go
}

// fastRecovery multiplies the additive step while below recoverTo.
const fastRecovery = 4

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

// success records a 2xx for a request sent at sentAt and raises the rate by one step once a full interval has
// passed without a cut. It returns the new rate when it changed, else 0.
func (a *aimd) success(sentAt, now time.Time) float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.successes++
	if sentAt.After(a.lastCut) {
		a.afterCut++
	}
	if a.rate >= a.ceiling || now.Sub(a.lastChange) < a.interval {
		return 0
	}
	step := a.step
	if a.rate < a.recoverTo {
		step *= fastRecovery
	}
	a.rate = min(a.ceiling, a.rate+step)
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
	// A cut with no success since the previous one is the same burst of 429s seen again
	// (a retry refused too): the rate that worked before the burst is still the target.
	if a.afterCut > 0 || a.rate >= a.recoverTo {
		a.recoverTo = from * 0.9
	}
	a.afterCut = 0
	a.rate = max(a.floor, a.rate*a.factor)
	a.lastCut = now
	a.lastChange = now
	a.successes = 0
	a.cuts++
	return from, a.rate, true
}

// wait takes the next slot at the current rate. Callers hold the client's turn, so no
// other reservation is pending: SetLimit under a pending reservation would reprice the
// tokens that reservation already owes, and after an increase the next request would go
// early, as good as a burst to a strict server.
func (a *aimd) wait(ctx context.Context) error {
	a.mu.Lock()
	lim := rate.Limit(a.rate)
	a.mu.Unlock()
	if a.lim.Limit() != lim {
		a.lim.SetLimit(lim)
	}
	now := time.Now()
	r := a.lim.ReserveN(now, 1)
	at := now.Add(r.DelayFrom(now))
	if a.onSchedule != nil {
		a.onSchedule(at, float64(lim))
	}
	if dl, ok := ctx.Deadline(); ok && at.After(dl) {
		r.CancelAt(now)
		return fmt.Errorf("%w: the request's turn under the rate limit comes after the deadline", context.DeadlineExceeded)
	}
	if err := retry.Sleep(ctx, at.Sub(now)); err != nil {
		r.Cancel()
		return err
	}
	return nil
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
