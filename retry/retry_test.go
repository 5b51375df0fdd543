package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errFlaky = errors.New("flaky")

func TestDoRetriesUntilSuccess(t *testing.T) {
	n := 0
	err := Policy{MaxAttempts: 5, BaseDelay: time.Millisecond}.Do(context.Background(), func(context.Context) error {
		if n++; n < 3 {
			return errFlaky
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("Do = %v after %d calls, want nil after 3", err, n)
	}
}

func TestAttemptsBound(t *testing.T) {
	n := 0
	err := Policy{MaxAttempts: 4, BaseDelay: time.Millisecond}.Do(context.Background(), func(context.Context) error {
		n++
		return errFlaky
	})
	var re *Error
	if !errors.As(err, &re) || re.Attempts != 4 || n != 4 || !errors.Is(err, errFlaky) {
		t.Fatalf("Do = %v (%d calls); want *Error after 4 attempts wrapping the last failure", err, n)
	}
}

func TestElapsedBound(t *testing.T) {
	// A 1 s server delay cannot fit a 100 ms budget: no wait at all, one attempt.
	start := time.Now()
	n := 0
	err := Policy{MaxAttempts: 10, MaxElapsed: 100 * time.Millisecond}.Do(context.Background(), func(context.Context) error {
		n++
		return After(errFlaky, time.Second)
	})
	var re *Error
	if !errors.As(err, &re) || !re.Delayed || n != 1 || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("Do = %v after %d calls in %s; want a prompt *Error naming the refused delay", err, n, time.Since(start))
	}
}

func TestPermanentAndClassification(t *testing.T) {
	n := 0
	bad := errors.New("bad request")
	err := Policy{}.Do(context.Background(), func(context.Context) error { n++; return Permanent(bad) })
	if n != 1 || err != bad {
		t.Fatalf("permanent: %d calls, err %v; want 1 call and the unwrapped error", n, err)
	}
	n = 0
	p := Policy{BaseDelay: time.Millisecond, Retryable: func(err error) bool { return !errors.Is(err, bad) }}
	err = p.Do(context.Background(), func(context.Context) error {
		if n++; n == 1 {
			return errFlaky
		}
		return bad
	})
	if n != 2 || err != bad {
		t.Fatalf("Retryable: %d calls, err %v; want the flaky error retried and the bad one returned", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (Policy{}).Do(ctx, func(ctx context.Context) error { return ctx.Err() }); !errors.Is(err, context.Canceled) {
		t.Fatalf("context error retried or lost: %v", err)
	}
}

func TestServerDelayHonoured(t *testing.T) {
	a := Policy{MaxDelay: time.Millisecond}.Begin()
	wait, ok := a.Next(After(errFlaky, 200*time.Millisecond))
	if !ok || wait < 200*time.Millisecond || wait > 221*time.Millisecond {
		t.Fatalf("wait %s ok %v; want 200 ms plus at most 10%% jitter, above MaxDelay", wait, ok)
	}
	if d, has := Delay(After(errFlaky, time.Second)); !has || d != time.Second {
		t.Fatalf("Delay = %s %v", d, has)
	}
	if After(errFlaky, 0) != errFlaky || After(nil, time.Second) != nil || Permanent(nil) != nil {
		t.Fatal("After/Permanent must leave nil and non-positive delays alone")
	}
}

func TestFullJitterBackoff(t *testing.T) {
	p := Policy{BaseDelay: 10 * time.Millisecond, MaxDelay: 80 * time.Millisecond}
	for n, cap := range map[int]time.Duration{1: 10 * time.Millisecond, 2: 20 * time.Millisecond, 4: 80 * time.Millisecond, 40: 80 * time.Millisecond} {
		var hi time.Duration
		lo := cap
		for i := 0; i < 2000; i++ {
			d := p.Backoff(n)
			if d < 0 || d > cap {
				t.Fatalf("Backoff(%d) = %s outside [0, %s]", n, d, cap)
			}
			hi, lo = max(hi, d), min(lo, d)
		}
		// Full jitter spreads over the whole range, not a narrow band near the cap.
		if hi < cap*3/4 || lo > cap/4 {
			t.Errorf("Backoff(%d) ranged %s..%s, want most of [0, %s]", n, lo, hi, cap)
		}
	}
}

func TestSleepStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := Sleep(ctx, time.Minute); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("Sleep = %v after %s", err, time.Since(start))
	}
}
