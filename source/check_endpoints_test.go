package source

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/source/clockify"
)

// Every endpoint that answers but is not Clockify's API makes check say FAILED and exit 0, as
// the protocol asks for a config the user must fix; none of them is a crash with a TRACE.
func TestCheckAgainstWrongEndpointsIsFailedAndExitZero(t *testing.T) {
	endless := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("["))
		chunk := []byte(strings.Repeat(`{"id":"aaaaaaaaaaaaaaaaaaaaaaaa","name":"w"},`, 1000))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
	for name, h := range map[string]http.HandlerFunc{
		"an HTML page": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!doctype html><html><body>Welcome to nginx!</body></html>")
		},
		"a body that is not JSON": func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") },
		"a JSON object":           func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"workspaces":[]}`) },
		"a list of other things":  func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `[{"name":"x"},{"name":"y"}]`) },
		"HTTP 500 every time": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			io.WriteString(w, "<html>oops</html>")
		},
		"an HTML 404": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(404)
			io.WriteString(w, "<html>Not Found</html>")
		},
		"no answer at all": func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"an endless body":  endless,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			src := New()
			src.tune = func(o *clockify.Options) {
				o.HTTPClient = &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 300 * time.Millisecond}, Timeout: 20 * time.Second}
			}
			dir := t.TempDir()
			start := time.Now()
			res := run(t, context.Background(), src, "check", "--config",
				writeJSONFile(t, dir, "c.json", map[string]any{"api_key": "key-0123456789", "api_url": srv.URL}))
			st := connStatus(t, res)
			if res.code != 0 || st.Status != airbyte.StatusFailed || len(res.ofType("TRACE")) != 0 {
				t.Fatalf("exit %d, status %+v, %d TRACE; stdout %s", res.code, st, len(res.ofType("TRACE")), res.stdout)
			}
			if !strings.Contains(st.Message, srv.URL) {
				t.Errorf("message %q does not name the endpoint", st.Message)
			}
			t.Logf("%s after %s: %s", name, time.Since(start).Round(time.Millisecond), st.Message)
		})
	}
}
