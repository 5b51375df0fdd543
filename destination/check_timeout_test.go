package destination

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
)

// silentHost accepts connections on loopback and never answers; it returns host:port.
func silentHost(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case conns <- c:
			default:
				c.Close()
			}
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-conns:
				c.Close()
			default:
				return
			}
		}
	})
	return ln.Addr().String()
}

// runDestination runs one command like the binary does (config file, stdin) and fails the test
// when it does not end within limit.
func runDestination(t *testing.T, limit time.Duration, cfg map[string]any, args []string, stdin string) (int, []map[string]any, string) {
	t.Helper()
	dir := t.TempDir()
	b, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append(args, "--config", cfgPath)
	if args[0] == "write" {
		catPath := filepath.Join(dir, "catalog.json")
		os.WriteFile(catPath, []byte(`{"streams":[{"stream":{"name":"users","json_schema":{"type":"object","properties":{"id":{"type":"string"}}},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`), 0o600)
		args = append(args, "--catalog", catPath)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	start := time.Now()
	go func() {
		done <- airbyte.RunDestination(ctx, New(), args, strings.NewReader(stdin), &out, &errb)
	}()
	var code int
	select {
	case code = <-done:
	case <-time.After(limit):
		cancel()
		t.Fatalf("%s did not end within %s", args[0], limit)
	}
	t.Logf("%s ended after %s with exit %d", args[0], time.Since(start).Round(time.Millisecond), code)
	var msgs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			msgs = append(msgs, m)
		}
	}
	return code, msgs, errb.String()
}

func shortCatalogTimeouts(t *testing.T) {
	oc, oa := catalogs.ConnectTimeout, catalogs.AnswerTimeout
	catalogs.ConnectTimeout, catalogs.AnswerTimeout = 300*time.Millisecond, 500*time.Millisecond
	t.Cleanup(func() { catalogs.ConnectTimeout, catalogs.AnswerTimeout = oc, oa })
}

func TestCheckAgainstSilentCatalogHostsEndsAndSaysWhatTimedOut(t *testing.T) {
	shortCatalogTimeouts(t)
	addr := silentHost(t)
	for name, tc := range map[string]struct {
		cfg  map[string]any
		want []string
	}{
		"postgres": {map[string]any{"warehouse": t.TempDir(), "catalog": map[string]any{"catalog_type": "sql",
			"uri": "postgres://iceberg@" + addr + "/iceberg?sslmode=disable", "password": "pgPW-123456"}},
			[]string{"connecting to the postgres catalog database", addr, "did not answer within 1s"}},
		"rest": {map[string]any{"catalog": map[string]any{"catalog_type": "rest", "uri": "http://" + addr, "token": "restTOKEN-123456"}},
			[]string{"connecting to the rest catalog at http://" + addr, "accepted the connection but sent no answer within 500ms"}},
	} {
		t.Run(name, func(t *testing.T) {
			code, msgs, stderr := runDestination(t, 20*time.Second, tc.cfg, []string{"check"}, "")
			if code != 0 || len(msgs) != 1 || msgs[0]["type"] != "CONNECTION_STATUS" {
				t.Fatalf("exit %d, messages %v, stderr %s", code, msgs, stderr)
			}
			st := msgs[0]["connectionStatus"].(map[string]any)
			msg, _ := st["message"].(string)
			if st["status"] != "FAILED" {
				t.Fatalf("status %v", st)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, "pgPW-123456") || strings.Contains(msg, "restTOKEN-123456") {
				t.Errorf("message repeats a secret: %s", msg)
			}
		})
	}
}

func TestWriteAgainstSilentCatalogHostFailsWithinTheBound(t *testing.T) {
	shortCatalogTimeouts(t)
	addr := silentHost(t)
	input := `{"type":"RECORD","record":{"stream":"users","data":{"id":"a"},"emitted_at":1}}` + "\n"
	code, msgs, _ := runDestination(t, 20*time.Second,
		map[string]any{"catalog": map[string]any{"catalog_type": "rest", "uri": "http://" + addr}}, []string{"write"}, input)
	var trace string
	for _, m := range msgs {
		if m["type"] == "TRACE" {
			b, _ := json.Marshal(m)
			trace = string(b)
		}
	}
	if code == 0 || !strings.Contains(trace, "sent no answer within 500ms") {
		t.Fatalf("exit %d, trace %s", code, trace)
	}
}

// A stream name that would escape the warehouse is mapped to a safe table name (no separator,
// no dot) and its rows land inside the warehouse; CheckIdentifier stays as the last guard.
func TestPathLikeStreamNameStaysInsideTheWarehouse(t *testing.T) {
	h := newHarness(t)
	cc := `{"streams":[{"stream":{"name":"../../etc","json_schema":{"type":"object","properties":{"id":{"type":"string"}}},"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`
	h.mustWrite(cc, `{"type":"RECORD","record":{"stream":"../../etc","data":{"id":"a"},"emitted_at":1}}`+"\n")
	name := safeName("../../etc")
	if strings.ContainsAny(name, "./") || catalogs.CheckIdentifier(table.Identifier{"clockify", name}) != nil {
		t.Fatalf("stream ../../etc maps to %q, not a safe table name", name)
	}
	if rows := h.rows("clockify", name, "id"); len(rows) != 1 || rows[0]["id"] != "a" {
		t.Fatalf("table clockify.%s holds %v, want the one row", name, rows)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "..", "etc")); err == nil {
		t.Errorf("the stream escaped the warehouse: %s exists", filepath.Join(h.dir, "..", "etc"))
	}
}
