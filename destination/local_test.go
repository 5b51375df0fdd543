package destination

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/clockberg/clockberg/airbyte"
)

// tree lists every path under dir with its size, to compare a folder before and after.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		info, _ := d.Info()
		size := int64(0)
		if info != nil && !d.IsDir() {
			size = info.Size()
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasSuffix(rel, "-wal") || strings.HasSuffix(rel, "-shm") || strings.HasSuffix(rel, "catalog.db") {
			size = 0 // SQLite's own files change size as it checkpoints
		}
		out = append(out, fmt.Sprintf("%s %d", rel, size))
		return nil
	})
	return out
}

func TestCheckCreatesNothing(t *testing.T) {
	ctx := context.Background()
	// A warehouse that does not exist yet stays that way.
	root := t.TempDir()
	wh := filepath.Join(root, "a", "b", "warehouse")
	cfg, _ := json.Marshal(map[string]any{"warehouse": wh})
	st, err := New().Check(ctx, cfg)
	if err != nil || st.Status != airbyte.StatusSucceeded || !strings.Contains(st.Message, "does not exist yet; the first write creates it") {
		t.Fatalf("check on a new warehouse: %+v %v", st, err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("check created %v", entries)
	}

	// An empty warehouse folder stays empty: the probe writes through a temporary catalog.
	empty := t.TempDir()
	cfg, _ = json.Marshal(map[string]any{"warehouse": empty})
	st, err = New().Check(ctx, cfg)
	if err != nil || st.Status != airbyte.StatusSucceeded || !strings.Contains(st.Message, "the probe used a temporary catalog") {
		t.Fatalf("check on an empty warehouse: %+v %v", st, err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("check left %v in an empty warehouse", entries)
	}

	// An existing warehouse keeps exactly its files, even when check's namespace is new.
	h := newHarness(t)
	if _, err := h.write(appendCatalog, `{"type":"RECORD","record":{"stream":"users","data":{"id":1},"emitted_at":1}}`); err != nil {
		t.Fatal(err)
	}
	before := tree(t, h.dir)
	for _, ns := range []string{"", "a_new_namespace"} {
		if ns != "" {
			h.cfg["namespace"] = ns
		}
		st, err := New().Check(ctx, h.config())
		if err != nil || st.Status != airbyte.StatusSucceeded {
			t.Fatalf("check (namespace %q): %+v %v", ns, st, err)
		}
		if after := tree(t, h.dir); !slices.Equal(before, after) {
			t.Errorf("check (namespace %q) changed the warehouse:\nbefore %v\nafter  %v", ns, before, after)
		}
	}
}

// appendCatalog is one append stream named users.
const appendCatalog = `{"streams":[{"stream":{"name":"users","json_schema":{"type":"object","properties":{"id":{"type":"integer"}}},
  "supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`

// TestReadOnlyWarehouseSaysPermissionDenied runs check and write as a user who may read the
// warehouse but not write it: as root, the binary runs as nobody; otherwise the folder is made
// read-only.
func TestReadOnlyWarehouseSaysPermissionDenied(t *testing.T) {
	bin := binary(t)
	h := newHarness(t)
	if _, err := h.write(appendCatalog, `{"type":"RECORD","record":{"stream":"users","data":{"id":1},"emitted_at":1}}`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgPath, catPath := filepath.Join(dir, "d.json"), filepath.Join(dir, "cat.json")
	os.WriteFile(cfgPath, h.config(), 0o644)
	os.WriteFile(catPath, []byte(appendCatalog), 0o644)
	asRoot := os.Geteuid() == 0
	var cred *syscall.Credential
	if asRoot {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		// nobody must reach the binary, the configs and the warehouse, and may only read them.
		for _, p := range []string{filepath.Dir(bin), dir, h.dir, filepath.Dir(h.dir), filepath.Dir(dir)} {
			os.Chmod(p, 0o755)
		}
		filepath.WalkDir(h.dir, func(p string, d fs.DirEntry, _ error) error {
			if d.IsDir() {
				return os.Chmod(p, 0o755)
			}
			return os.Chmod(p, 0o644)
		})
	} else {
		os.Chmod(h.dir, 0o555)
		t.Cleanup(func() { os.Chmod(h.dir, 0o755) })
	}
	run := func(stdin string, args ...string) (int, string) {
		cmd := exec.Command(bin, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), out.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, out.String()
	}
	want := "the warehouse folder " + h.dir + " is not writable: permission denied"
	code, out := run("", "check", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, `"status":"FAILED"`) || !strings.Contains(out, want) {
		t.Errorf("check: exit %d, %s; want FAILED saying %q", code, out, want)
	}
	code, out = run(`{"type":"RECORD","record":{"stream":"users","data":{"id":2},"emitted_at":1}}`, "write", "--config", cfgPath, "--catalog", catPath, "--quiet")
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "config_error") {
		t.Errorf("write: exit %d, %s; want a config_error saying %q", code, out, want)
	}
}

func TestBadInputLineNamesLineAndColumn(t *testing.T) {
	h := newHarness(t)
	_, err := h.write(appendCatalog, `{"type":"LOG","log":{"level":"INFO","message":"x"}}`+"\n"+`{"type": tru}`)
	if err == nil || !strings.Contains(err.Error(), "input line 2, column 13: not a JSON Airbyte message: unexpected '}' in literal true") {
		t.Errorf("got %v", err)
	}
}
