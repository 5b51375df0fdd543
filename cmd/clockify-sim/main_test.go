package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "example.com:80"} {
		var errb strings.Builder
		if code := run(context.Background(), []string{"--addr", addr}, io.Discard, &errb); code != 2 {
			t.Errorf("--addr %s: exit %d, want 2", addr, code)
		}
		if !strings.Contains(errb.String(), "loopback") {
			t.Errorf("--addr %s: stderr %q does not explain", addr, errb.String())
		}
	}
}

func TestServesAndPrintsURL(t *testing.T) {
	urlFile := filepath.Join(t.TempDir(), "url")
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errb strings.Builder
	go func() {
		done <- run(ctx, []string{"--preset", "acceptance", "--api-key", "test-key-1", "--rps", "1", "--burst", "2",
			"--url-file", urlFile, "--plan-gate-status", "402", "--empty-429-body"}, pw, &errb)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first stdout line: %v (stderr %s)", err, errb.String())
	}
	base := strings.TrimSpace(line)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+$`).MatchString(base) {
		t.Fatalf("first line %q is not a loopback base URL", line)
	}
	if b, err := os.ReadFile(urlFile); err != nil || strings.TrimSpace(string(b)) != base {
		t.Errorf("--url-file holds %q (%v), want %q", b, err, base)
	}
	get := func(path, key string) (int, []byte) {
		req, _ := http.NewRequest("GET", base+path, nil)
		if key != "" {
			req.Header.Set("X-Api-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	var counts map[string]int
	if code, b := get("/_sim/truth", ""); code != 200 || json.Unmarshal(b, &counts) != nil || counts["tasks"] <= 5000 {
		t.Fatalf("truth: %d %s", code, b)
	}
	code, b := get("/api/v1/workspaces", "test-key-1")
	var ws []map[string]any
	if code != 200 || json.Unmarshal(b, &ws) != nil || len(ws) != 2 {
		t.Fatalf("workspaces with --api-key: %d %.200s", code, b)
	}
	if code, _ := get("/api/v1/workspaces/"+ws[0]["id"].(string)+"/invoices", "test-key-1"); code != 402 {
		t.Errorf("free workspace invoices: %d, want 402", code)
	}
	if code, b := get("/api/v1/user", "test-key-1"); code != 429 || len(b) != 0 {
		t.Errorf("third request within a second: %d %q, want 429 with empty body", code, b)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after shutdown; stderr %s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop after cancel")
	}
}
