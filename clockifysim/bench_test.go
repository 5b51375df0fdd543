package clockifysim

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// BenchmarkServeTimeEntries measures time entries served per second over loopback HTTP at page size
// 5000 from the Scaled(1,000,000) preset, reading every body completely (one client, sequential).
func BenchmarkServeTimeEntries(b *testing.B) {
	sim := New(Scaled(1_000_000))
	ts := httptest.NewServer(sim)
	defer ts.Close()
	ws := sim.WorkspaceIDs()[0]
	u := sim.UserIDs(ws)[0]
	n := sim.members(sim.ws[0])[0].n
	pages := (n + 4999) / 5000
	url := ts.URL + "/api/v1/workspaces/" + ws + "/user/" + u + "/time-entries?page-size=5000&page="
	hc := ts.Client()
	entries, bytes := 0, int64(0)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		page := i%pages + 1
		req, _ := http.NewRequest("GET", url+strconv.Itoa(page), nil)
		req.Header.Set("X-Api-Key", sim.APIKey())
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		nb, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("page %d: status %d, %v", page, resp.StatusCode, err)
		}
		bytes += nb
		entries += min(5000, n-(page-1)*5000)
	}
	el := time.Since(start).Seconds()
	b.ReportMetric(float64(entries)/el, "entries/s")
	b.ReportMetric(float64(bytes)/el/1e6, "MB/s")
}

// BenchmarkEncodeTimeEntry isolates the hand-written encoder.
func BenchmarkEncodeTimeEntry(b *testing.B) {
	sim := New(Scaled(1_000_000))
	w := sim.ws[0]
	u := sim.members(w)[0]
	buf := make([]byte, 0, 4096)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = sim.appendTimeEntry(buf[:0], w, u, i%u.n, nil)
	}
	b.SetBytes(int64(len(buf)))
}
