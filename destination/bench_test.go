package destination

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/schemas"
)

// BenchmarkWriteTimeEntries runs Write in-process on b.N time entries (go test -bench
// WriteTimeEntries -benchtime 200000x); bench/destbench measures the binary with peak RSS.
func BenchmarkWriteTimeEntries(b *testing.B) {
	schema, _ := schemas.Get("time_entries")
	ccJSON := fmt.Sprintf(`{"streams":[{"stream":{"name":"time_entries","json_schema":%s,"supported_sync_modes":["incremental"]},"sync_mode":"incremental","destination_sync_mode":"append","generation_id":1,"minimum_generation_id":0,"sync_id":1}]}`, schema)
	var in bytes.Buffer
	start := time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)
	for i := 0; i < b.N; i++ {
		t0 := start.Add(time.Duration(i) * time.Minute)
		fmt.Fprintf(&in, `{"type":"RECORD","record":{"stream":"time_entries","emitted_at":1700000000000,"data":{"id":"%024x","description":"Code review","userId":"%024x","workspaceId":"5e4117fe8c625f38930d57b7","projectId":"%024x","taskId":null,"tagIds":["%024x"],"billable":true,"isLocked":false,"kioskId":null,"type":"REGULAR","timeInterval":{"start":"%s","end":"%s","duration":"PT1H"},"customFieldValues":[],"hourlyRate":{"amount":2000,"currency":"EUR"},"costRate":null}}}`+"\n",
			i, i%50, i%300, i%40, t0.Format(time.RFC3339), t0.Add(time.Hour).Format(time.RFC3339))
		if i%10000 == 9999 {
			in.WriteString(state("time_entries", i, i) + "\n")
		}
	}
	h := &harness{dir: b.TempDir(), cfg: map[string]any{}}
	var cc airbyte.ConfiguredCatalog
	if err := json.Unmarshal([]byte(ccJSON), &cc); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(in.Len() / max(b.N, 1)))
	b.ResetTimer()
	w := airbyte.NewWriter(io.Discard, nil)
	if err := New().Write(context.Background(), h.config(), &cc, &in, w); err != nil {
		b.Fatal(err)
	}
	w.Close()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
