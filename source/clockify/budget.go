package clockify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

const (
	// A page of 5000 hydrated time entries is a few MiB; a body past this bound is a broken
	// server, not data.
	defaultMaxResponseBytes = 64 << 20
	// Bodies held at once (being read, or parsed and not yet released) by all requests of a
	// client; with the per-response bound it caps the source's response memory whatever
	// max_concurrency is.
	defaultMaxBufferedBytes = 160 << 20
	// How long a body may wait for room in the buffered-bytes budget before its request fails
	// (and is retried): long enough for other workers to parse and release their pages.
	budgetWait = 10 * time.Second
)

// byteBudget bounds the bytes of response bodies held at once. Holders are the responses with a
// reservation; one that needs more while every other holder is waiting too fails at once instead
// of waiting, since no one could release anything (bodies that never end would otherwise
// deadlock until the wait ran out).
type byteBudget struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	peak    int64
	holders int
	waiting int           // holders blocked in acquire
	freed   chan struct{} // closed and replaced whenever bytes come back
}

func newByteBudget(limit int64) *byteBudget {
	return &byteBudget{limit: limit, freed: make(chan struct{})}
}

var errBudget = errors.New("buffered-bytes budget exhausted")

// acquire takes n bytes, waiting up to wait for others to release theirs. holder says whether
// the caller already holds a reservation; a new holder is counted on success.
func (b *byteBudget) acquire(ctx context.Context, n int64, wait time.Duration, holder bool) error {
	var timer *time.Timer
	for {
		b.mu.Lock()
		if b.used+n <= b.limit {
			b.used += n
			b.peak = max(b.peak, b.used)
			if !holder {
				b.holders++
			}
			b.mu.Unlock()
			return nil
		}
		if holder && b.waiting+1 >= b.holders {
			b.mu.Unlock()
			return errBudget
		}
		if holder {
			b.waiting++
		}
		ch := b.freed
		b.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = ctx.Err()
		case <-timer.C:
			err = errBudget
		}
		if holder {
			b.mu.Lock()
			b.waiting--
			b.mu.Unlock()
		}
		if err != nil {
			return err
		}
	}
}

// force takes n bytes whether or not they are free.
func (b *byteBudget) force(n int64) {
	b.mu.Lock()
	b.used += n
	b.peak = max(b.peak, b.used)
	b.mu.Unlock()
}

// tryAcquire takes n bytes for a new holder if they are free now.
func (b *byteBudget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	b.peak = max(b.peak, b.used)
	b.holders++
	return true
}

// release returns n bytes; done says the holder gives up its whole reservation.
func (b *byteBudget) release(n int64, done bool) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	if done {
		b.holders--
	}
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

func (b *byteBudget) stats() (used, peak int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, b.peak
}

// adopt reserves the capacity of a pooled buffer for r, or reports that there is no room for it
// now (the caller then starts a smaller buffer rather than waiting for an oversized one).
func (c *Client) adopt(r *Response, capacity int64) bool {
	if capacity <= r.reserved {
		return true
	}
	if r.reserved > 0 || !c.budget.tryAcquire(capacity) {
		return false
	}
	r.reserved = capacity
	return true
}

// reserve makes the response's reservation cover n bytes of buffer.
func (c *Client) reserve(ctx context.Context, r *Response, n int64) error {
	if n <= r.reserved {
		return nil
	}
	if err := c.budget.acquire(ctx, n-r.reserved, c.budgetWait, r.reserved > 0); err != nil {
		if errors.Is(err, errBudget) {
			used, _ := c.budget.stats()
			return &bodyError{What: fmt.Sprintf("response bodies in flight hold %s of the %s bound on buffered responses (max_concurrency requests at once); this one could not grow to %s (waited at most %s)",
				mib(used), mib(c.budget.limit), mib(n), c.budgetWait)}
		}
		return err
	}
	r.reserved = n
	return nil
}

func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// spillChunk is the unit an unknown-length body grows by once it outgrows its first buffer.
const spillChunk = 1 << 20

// readChunked reads a body of unknown length. It fills b (a pooled buffer, or a new 64 KiB one),
// then goes on in fixed chunks, each reserved before it is allocated, and joins them once at the
// end. A body that never ends therefore holds at most maxBody plus one chunk, never the garbage
// of a doubling buffer, and fails as soon as it passes maxBody.
func (c *Client) readChunked(ctx context.Context, resp *Response, body io.Reader, b []byte) (int64, error) {
	buf := resp.buf
	if cap(b) == 0 {
		b = make([]byte, 0, 64<<10)
	}
	if err := c.reserve(ctx, resp, int64(cap(b))); err != nil {
		return 0, err
	}
	n, err := readFull(body, b[:cap(b)])
	b = b[:n]
	if err != nil || n < cap(b) {
		*buf = b
		if int64(n) > c.maxBody {
			return int64(n), errTooLarge
		}
		return int64(n), eofOK(err)
	}
	chunks := [][]byte{b}
	total := int64(n)
	held := int64(cap(b))
	for {
		if total > c.maxBody {
			*buf = b
			return total, errTooLarge
		}
		if err := c.reserve(ctx, resp, held+spillChunk); err != nil {
			*buf = b
			return total, err
		}
		held += spillChunk
		chunk := make([]byte, spillChunk)
		n, err := readFull(body, chunk)
		chunks = append(chunks, chunk[:n])
		total += int64(n)
		if err != nil || n < spillChunk {
			if err = eofOK(err); err != nil {
				*buf = b
				return total, err
			}
			break
		}
	}
	if total > c.maxBody {
		*buf = b
		return total, errTooLarge
	}
	// Joining holds the chunks and the whole body at once, for as long as one copy takes; that
	// moment may pass the bound by one body, since waiting for room could wait for itself.
	c.budget.force(total)
	resp.reserved += total
	whole := make([]byte, 0, total)
	for _, ch := range chunks {
		whole = append(whole, ch...)
	}
	*buf = whole
	c.budget.release(resp.reserved-total, false)
	resp.reserved = total
	return total, nil
}

// readFull reads until p is full, the body ends or fails.
func readFull(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func eofOK(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}
