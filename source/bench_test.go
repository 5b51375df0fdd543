package source

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/clockifysim"
)

// BenchmarkReadTimeEntries reads the Scaled preset's time entries with limits off on loopback
// and reports records per second. Size: CLOCKBERG_BENCH_ENTRIES (default 200,000).
func BenchmarkReadTimeEntries(b *testing.B) {
	n := 200_000
	if v := os.Getenv("CLOCKBERG_BENCH_ENTRIES"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	s := startSim(b, clockifysim.Scaled(n), nil)
	raw, _ := json.Marshal(s.config(nil))
	cat := configuredCatalog(b, map[string]airbyte.SyncMode{sTimeEntries: airbyte.FullRefresh}, nil)
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		w := airbyte.NewWriter(io.Discard, nil)
		start := time.Now()
		if err := New().Read(context.Background(), raw, cat, &airbyte.StateInput{}, w); err != nil {
			b.Fatal(err)
		}
		w.Close()
		total += time.Since(start)
	}
	b.ReportMetric(float64(n)*float64(b.N)/total.Seconds(), "records/s")
}
