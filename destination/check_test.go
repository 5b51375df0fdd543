package destination

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
)

func TestCheck(t *testing.T) {
	h := newHarness(t)
	// An existing catalog, so that check runs its probe (on a new one it creates nothing).
	cfg, _ := parseConfig(h.config())
	cat, err := catalogs.Open(context.Background(), cfg.Settings)
	if err != nil {
		t.Fatal(err)
	}
	defer catalogs.Close(cat)
	st, err := New().Check(context.Background(), h.config())
	if err != nil || st.Status != airbyte.StatusSucceeded || st.Message != "" {
		t.Fatalf("check on a local warehouse: %+v, %v", st, err)
	}
	// The probe table is gone afterwards, and so is the namespace check created for it.
	for id, err := range cat.ListTables(context.Background(), table.Identifier{"clockify"}) {
		if errors.Is(err, catalog.ErrNoSuchNamespace) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Errorf("check left table %v behind", id)
	}

	// A warehouse below a regular file cannot be created: FAILED, saying why.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad, _ := json.Marshal(map[string]any{"warehouse": filepath.Join(blocker, "wh")})
	st, err = New().Check(context.Background(), bad)
	if err != nil || st.Status != airbyte.StatusFailed || !strings.Contains(st.Message, "wh") {
		t.Fatalf("check on an impossible warehouse: %+v, %v", st, err)
	}
}

func TestSpecAcceptsDefaultsAndOurKeys(t *testing.T) {
	spec := New().Spec().ConnectionSpecification
	for _, cfg := range []string{`{}`, `{"warehouse":"/tmp/x","namespace":"n","flush_records":10,"flush_bytes":1000,"flush_interval_seconds":5,"target_file_size_bytes":2097152}`} {
		if err := airbyte.ValidateConfig(spec, json.RawMessage(cfg)); err != nil {
			t.Errorf("config %s rejected: %v", cfg, err)
		}
	}
	if err := airbyte.ValidateConfig(spec, json.RawMessage(`{"flush_records":0}`)); err == nil {
		t.Errorf("flush_records 0 accepted")
	}
	c, err := parseConfig(json.RawMessage(`{}`))
	if err != nil || c.Namespace != "clockify" || c.FlushRecords != DefaultFlushRecords || c.TargetFileSizeBytes != DefaultTargetFileSizeBytes {
		t.Errorf("defaults: %+v %v", c, err)
	}
}
