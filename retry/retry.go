// Package retry is the one retry policy of both connectors: full-jitter exponential backoff,
// bounded by a number of attempts and by the time spent, with errors classified as retryable or
// permanent and a server-given delay (such as HTTP Retry-After) honoured when an error carries
// one. It has no dependency beyond the standard library.
//
// The simple form runs an operation until it succeeds:
//
//	err := retry.Policy{MaxAttempts: 3}.Do(ctx, func(ctx context.Context) error { … })
//
// Callers that log, count or act between attempts drive the loop themselves:
//
//	a := policy.Begin()
//	for {
//		err := try()
//		if err == nil {
//			break
//		}
//		wait, ok := a.Next(err)
//		if !ok {
//			return a.Err(err)
//		}
//		log(…, wait)
//		if err := retry.Sleep(ctx, wait); err != nil {
//			return err
//		}
//	}
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Defaults of a zero Policy field.
const (
	DefaultMaxAttempts = 8
	DefaultMaxElapsed  = 5 * time.Minute
	DefaultBaseDelay   = 500 * time.Millisecond
	DefaultMaxDelay    = 30 * time.Second
)

// Policy bounds the attempts of one operation. The zero value of every field selects the default
// named after it. Policy is a value: copy it freely.
type Policy struct {
	// MaxAttempts bounds the attempts, the first included.
	MaxAttempts int
	// MaxElapsed bounds the time from the first attempt to the start of the last one: a retry
	// whose wait would end beyond it is not made.
	MaxElapsed time.Duration
	// BaseDelay caps the first wait; the cap doubles with each attempt up to MaxDelay. The wait
	// itself is uniform in [0, cap] (full jitter), so concurrent retries spread out.
	BaseDelay time.Duration
	// MaxDelay caps every backoff wait. A server-given delay (After) is not capped by it, only
	// by MaxElapsed.
	MaxDelay time.Duration
	// Retryable classifies an error that is neither Permanent nor carries a delay; nil treats
	// every such error as retryable. Context errors are never retried.
	Retryable func(error) bool
}

func (p Policy) withDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = DefaultMaxElapsed
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	return p
}

// Backoff returns the jittered wait before attempt n+1 after n failed attempts (n ≥ 1).
func (p Policy) Backoff(n int) time.Duration {
	p = p.withDefaults()
	d := p.BaseDelay << min(max(n-1, 0), 30)
	if d > p.MaxDelay || d <= 0 {
		d = p.MaxDelay
	}
	return rand.N(d + 1)
}

// Begin starts the attempts of one operation; the elapsed bound counts from now.
func (p Policy) Begin() *Attempts {
	return &Attempts{p: p.withDefaults(), start: time.Now()}
}

// Do calls op until it returns nil or an error that is not retried, sleeping between attempts.
// The error it returns after the bounds ran out is an *Error wrapping op's last error.
func (p Policy) Do(ctx context.Context, op func(ctx context.Context) error) error {
	a := p.Begin()
	for {
		err := op(ctx)
		if err == nil {
			return nil
		}
		wait, ok := a.Next(err)
		if !ok {
			return a.Err(err)
		}
		if serr := Sleep(ctx, wait); serr != nil {
			return serr
		}
	}
}

// Attempts is one operation's way through a Policy. It is not safe for concurrent use.
type Attempts struct {
	p       Policy
	start   time.Time
	n       int  // failed attempts so far
	gaveUp  bool // Next refused because a bound ran out (not because err was permanent)
	delayed bool // the last refused error carried a server-given delay
}

// Next records a failed attempt and returns how long to wait before the next one. ok is false
// when err is not to be retried (Permanent, a context error, or rejected by Retryable) or when
// another attempt would exceed MaxAttempts or MaxElapsed.
func (a *Attempts) Next(err error) (wait time.Duration, ok bool) {
	a.n++
	a.gaveUp, a.delayed = false, false
	if !a.retryable(err) {
		return 0, false
	}
	if d, has := Delay(err); has {
		a.delayed = true
		// A little jitter keeps clients that were told the same instant from arriving together.
		wait = d + rand.N(min(d/10, time.Second)+1)
	} else {
		wait = a.p.Backoff(a.n)
	}
	if a.n >= a.p.MaxAttempts || time.Since(a.start)+wait > a.p.MaxElapsed {
		a.gaveUp = true
		return 0, false
	}
	return wait, true
}

func (a *Attempts) retryable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *permanentError
	if errors.As(err, &pe) {
		return false
	}
	if _, has := Delay(err); has {
		return true
	}
	return a.p.Retryable == nil || a.p.Retryable(err)
}

// Attempt is the number of failed attempts recorded so far.
func (a *Attempts) Attempt() int { return a.n }

// Elapsed is the time since Begin.
func (a *Attempts) Elapsed() time.Duration { return time.Since(a.start) }

// Err is the error to report after Next refused: err itself when it was not retryable, else an
// *Error that says the bounds ran out.
func (a *Attempts) Err(err error) error {
	if !a.gaveUp {
		return Unwrap(err)
	}
	return &Error{Attempts: a.n, Elapsed: a.Elapsed(), Err: Unwrap(err), Delayed: a.delayed, MaxElapsed: a.p.MaxElapsed}
}

// Error reports an operation that still failed when its Policy's bounds ran out.
type Error struct {
	Attempts int
	Elapsed  time.Duration
	Err      error // the last failure
	// Delayed is set when the last failure asked for a wait (After) that the bounds did not allow.
	Delayed    bool
	MaxElapsed time.Duration
}

func (e *Error) Error() string {
	s := fmt.Sprintf("gave up after %d attempts in %s: %v", e.Attempts, e.Elapsed.Round(time.Millisecond), e.Err)
	if e.Delayed {
		s += fmt.Sprintf(" (the server asked for a wait beyond the %s bound)", e.MaxElapsed)
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not retryable. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe)
}

type delayedError struct {
	err   error
	delay time.Duration
}

func (e *delayedError) Error() string { return e.err.Error() }
func (e *delayedError) Unwrap() error { return e.err }

// After marks err as retryable after at least d, a delay the server gave (HTTP Retry-After):
// the wait is d plus a jitter of at most a tenth of it (and at most a second), instead of the
// backoff. After(nil, d) is nil; d ≤ 0 leaves err as it is.
func After(err error, d time.Duration) error {
	if err == nil || d <= 0 {
		return err
	}
	return &delayedError{err: err, delay: d}
}

// Delay returns the delay After attached to err.
func Delay(err error) (time.Duration, bool) {
	var de *delayedError
	if errors.As(err, &de) {
		return de.delay, true
	}
	return 0, false
}

// Unwrap removes the marks Permanent and After put on err, so a caller's errors.As sees its own
// types first and messages carry no trace of the policy.
func Unwrap(err error) error {
	for {
		switch e := err.(type) {
		case *permanentError:
			err = e.err
		case *delayedError:
			err = e.err
		default:
			return err
		}
	}
}

// Sleep waits d or until ctx is done, whichever is first, and returns ctx's error in the latter
// case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
