package source

import (
	"fmt"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/source/clockify"
)

// requestFigures gives the runner's progress lines what only the client knows: requests sent,
// their rate since start, the limiter's current rate and the retries.
func requestFigures(c *clockify.Client, start time.Time) func() airbyte.Figures {
	return func() airbyte.Figures {
		st := c.Stats()
		line := fmt.Sprintf("%d requests, %.1f/s", st.Requests, float64(st.Requests)/max(time.Since(start).Seconds(), 1e-3))
		if st.Rate > 0 {
			line += fmt.Sprintf(" (limit %.1f/s)", st.Rate)
		}
		if st.Retries > 0 {
			line += fmt.Sprintf(", %d retries (%d answered 429)", st.Retries, st.Throttled)
		}
		return airbyte.Figures{Line: line}
	}
}
