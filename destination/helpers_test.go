package destination

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
)

// harness is a local warehouse with the embedded SQLite catalog.
type harness struct {
	t   *testing.T
	dir string
	cfg map[string]any
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{t: t, dir: t.TempDir(), cfg: map[string]any{}}
}

func (h *harness) config() json.RawMessage {
	c := map[string]any{"warehouse": h.dir}
	for k, v := range h.cfg {
		c[k] = v
	}
	b, _ := json.Marshal(c)
	return b
}

// write runs the destination in-process and returns its stdout lines.
func (h *harness) write(cc string, input string) ([]string, error) {
	h.t.Helper()
	var cat airbyte.ConfiguredCatalog
	if err := json.Unmarshal([]byte(cc), &cat); err != nil {
		h.t.Fatalf("test catalog: %v", err)
	}
	var out bytes.Buffer
	w := airbyte.NewWriter(&out, nil)
	err := New().Write(context.Background(), h.config(), &cat, strings.NewReader(input), w)
	if cerr := w.Close(); cerr != nil {
		h.t.Fatalf("closing writer: %v", cerr)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines, err
}

func (h *harness) mustWrite(cc, input string) []string {
	h.t.Helper()
	lines, err := h.write(cc, input)
	if err != nil {
		h.t.Fatalf("write failed: %v\noutput:\n%s", err, strings.Join(lines, "\n"))
	}
	return lines
}

// openCatalog opens the harness's catalog; the caller closes it.
func (h *harness) openCatalog() catalog.Catalog {
	h.t.Helper()
	cfg, err := parseConfig(h.config())
	if err != nil {
		h.t.Fatal(err)
	}
	cat, err := catalogs.Open(context.Background(), cfg.Settings)
	if err != nil {
		h.t.Fatalf("opening catalog: %v", err)
	}
	return cat
}

func (h *harness) table(ns, name string) *table.Table {
	h.t.Helper()
	cat := h.openCatalog()
	defer catalogs.Close(cat)
	tbl, err := cat.LoadTable(context.Background(), table.Identifier{ns, name})
	if err != nil {
		h.t.Fatalf("loading %s.%s: %v", ns, name, err)
	}
	return tbl
}

// rows reads the table's main branch through an iceberg-go scan, as maps from column to a
// printable value, sorted by the given column.
func (h *harness) rows(ns, name, sortBy string) []map[string]string {
	h.t.Helper()
	tbl := h.table(ns, name)
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		h.t.Fatalf("scanning %s.%s: %v", ns, name, err)
	}
	defer at.Release()
	var out []map[string]string
	tr := array.NewTableReader(at, 1024)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			m := map[string]string{}
			for c := 0; c < int(rec.NumCols()); c++ {
				m[rec.ColumnName(c)] = cell(rec.Column(c), r)
			}
			out = append(out, m)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i][sortBy] < out[j][sortBy] })
	return out
}

func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "<null>"
	}
	if ts, ok := a.(*array.Timestamp); ok {
		unit := ts.DataType().(*arrow.TimestampType)
		return ts.Value(i).ToTime(unit.Unit).UTC().Format("2006-01-02T15:04:05.999999Z")
	}
	return a.ValueStr(i)
}

// project keeps only the given columns of every row, joined as "a|b|c".
func project(rows []map[string]string, cols ...string) []string {
	var out []string
	for _, r := range rows {
		var parts []string
		for _, c := range cols {
			parts = append(parts, r[c])
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func rec(stream string, data string, emittedAt int64) string {
	return fmt.Sprintf(`{"type":"RECORD","record":{"stream":%q,"data":%s,"emitted_at":%d}}`, stream, data, emittedAt)
}

func state(stream string, cursor int, id int) string {
	return fmt.Sprintf(`{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":%q},"stream_state":{"c":%d}},"sourceStats":{"recordCount":1.0},"id":%d}}`, stream, cursor, id)
}

func complete(stream string) string {
	return fmt.Sprintf(`{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1.0,"stream_status":{"stream_descriptor":{"name":%q},"status":"COMPLETE"}}}`, stream)
}

const usersSchema = `{"type":"object","properties":{"id":{"type":"string"},"name":{"type":["null","string"]},"age":{"type":"integer"},"score":{"type":"number"},"active":{"type":"boolean"},"born":{"type":"string","format":"date"},"updated":{"type":"string","format":"date-time"},"local":{"type":"string","format":"date-time","airbyte_type":"timestamp_without_timezone"},"tags":{"type":"array","items":{"type":"string"}},"addr":{"type":"object"},"any":{}}}`

// catalogFor builds a configured catalog with one stream.
func catalogFor(stream, schema, mode string, pk, cursor string, gen, minGen int64) string {
	extra := ""
	if pk != "" {
		extra += fmt.Sprintf(`,"primary_key":[[%q]]`, pk)
	}
	if cursor != "" {
		extra += fmt.Sprintf(`,"cursor_field":[%q]`, cursor)
	}
	return fmt.Sprintf(`{"streams":[{"stream":{"name":%q,"json_schema":%s,"supported_sync_modes":["full_refresh","incremental"]},"sync_mode":"incremental","destination_sync_mode":%q%s,"generation_id":%d,"minimum_generation_id":%d,"sync_id":77}]}`,
		stream, schema, mode, extra, gen, minGen)
}

func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

// states returns the STATE lines of an output.
func states(out []string) []string {
	var s []string
	for _, l := range out {
		if strings.HasPrefix(l, `{"type":"STATE"`) {
			s = append(s, l)
		}
	}
	return s
}

func jsonUnmarshalString(s string, v any) error { return json.Unmarshal([]byte(s), v) }
