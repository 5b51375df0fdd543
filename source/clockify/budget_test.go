package clockify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// endlessJSON streams a JSON array that never ends (chunked, no Content-Length) until the client
// goes away.
func endlessJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, "[")
	chunk := []byte(strings.Repeat(`{"id":"0123456789abcdef01234567","name":"entry"},`, 500))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// Endless bodies on every concurrent request: each fails naming its path and the per-response
// bound, and the bytes held at once never pass the buffered bound.
func TestEndlessBodiesAreBoundedPerResponseAndInFlight(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(endlessJSON))
	defer srv.Close()
	c, _ := newTestClient(t, srv, Options{MaxResponseBytes: 1 << 20, MaxBufferedBytes: 3 << 20, MaxAttempts: 2})
	c.budgetWait = 300 * time.Millisecond
	var wg sync.WaitGroup
	errs := make([]error, 12)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Get(context.Background(), "/workspaces/w"+string(rune('a'+i))+"/time-entries", nil)
		}()
	}
	wg.Wait()
	perResponse := 0
	for i, err := range errs {
		if err == nil {
			t.Fatalf("request %d got an endless body back", i)
		}
		msg := err.Error()
		if !strings.Contains(msg, "/workspaces/w"+string(rune('a'+i))+"/time-entries") {
			t.Errorf("error %q does not name its path", msg)
		}
		switch {
		case strings.Contains(msg, "exceeds the 1048576-byte bound per response (1 MiB)"):
			perResponse++
		case strings.Contains(msg, "of the 3 MiB bound on buffered responses"):
		default:
			t.Errorf("error %q names neither bound", msg)
		}
	}
	if perResponse == 0 {
		t.Error("no request failed on the per-response bound")
	}
	st := c.Stats()
	if st.BufferedPeak > 3<<20 || st.BufferedPeak < 1<<20 {
		t.Errorf("peak buffered bytes %d, want within (1 MiB, 3 MiB]", st.BufferedPeak)
	}
	if used, _ := c.budget.stats(); used != 0 {
		t.Errorf("%d bytes still reserved after every request failed", used)
	}
	t.Logf("peak buffered %d bytes; %d of %d failed on the per-response bound", st.BufferedPeak, perResponse, len(errs))
}

// Bodies that are held (returned, not yet released) count against the bound until Release.
func TestBufferedBoundWaitsForReleasedBodies(t *testing.T) {
	body := `["` + strings.Repeat("x", 1<<20) + `"]`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, body[:10]) // chunked: the client grows its buffer
		http.NewResponseController(w).Flush()
		io.WriteString(w, body[10:])
	}))
	defer srv.Close()
	c, _ := newTestClient(t, srv, Options{MaxResponseBytes: 2 << 20, MaxBufferedBytes: 2 << 20, MaxAttempts: 1})
	c.budgetWait = 200 * time.Millisecond
	held, err := c.Get(context.Background(), "/a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), "/b", nil); err == nil || !strings.Contains(err.Error(), "bound on buffered responses") {
		t.Fatalf("second body while the first is held: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		r, err := c.Get(context.Background(), "/c", nil)
		if err == nil {
			r.Release()
		}
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	held.Release()
	if err := <-done; err != nil {
		t.Fatalf("a body waiting for room did not get it after Release: %v", err)
	}
}
