package destination

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Retried attempts of a refresh, run with the built binary: the first attempt of generation 2 is
// cut between a STATE and the end of its input (killed with SIGKILL, or its input ends early),
// then retried with the same generation, resuming from the last echoed state or sending
// everything again. Main keeps generation 1 until the retry completes, and ends with exactly one
// row per record id.

const attemptRecords = 400

// refreshInput is the input of an attempt: a STARTED status, records from..to (ids), a STATE
// after every tenth record (and after the last one when complete), then COMPLETE.
func refreshInput(stream string, from, to int, v string, complete bool) []string {
	out := []string{statusLine(stream, "STARTED")}
	for i := from; i <= to; i++ {
		out = append(out, rec(stream, fmt.Sprintf(`{"id":%d,"v":%q}`, i, v), int64(1000+i)))
		if i%10 == 0 || (complete && i == to) {
			out = append(out, state(stream, i, i))
		}
	}
	if complete {
		out = append(out, statusLine(stream, "COMPLETE"))
	}
	return out
}

func statusLine(stream, status string) string {
	return strings.Replace(complete(stream), "COMPLETE", status, 1)
}

// lastEchoedCursor is the stream_state cursor of the last echo, 0 when none.
func lastEchoedCursor(t *testing.T, out []string) int {
	t.Helper()
	c := 0
	for _, l := range states(out) {
		var m struct {
			State struct {
				Stream struct {
					StreamState struct{ C int } `json:"stream_state"`
				} `json:"stream"`
			} `json:"state"`
		}
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		c = m.State.Stream.StreamState.C
	}
	return c
}

// idCounts reads main and counts rows per id and generation.
func idCounts(h *harness, name string) (ids map[int]int, gens map[string]int) {
	ids, gens = map[int]int{}, map[string]int{}
	for _, r := range h.rows("clockify", name, "id") {
		n, err := strconv.Atoi(r["id"])
		if err != nil {
			h.t.Fatalf("id %q", r["id"])
		}
		ids[n]++
		gens[r["_airbyte_generation_id"]+"|"+r["v"]]++
	}
	return ids, gens
}

func wantExactlyOnce(t *testing.T, h *harness, name string, n int, gen string) {
	t.Helper()
	ids, gens := idCounts(h, name)
	var missing, twice []int
	for i := 1; i <= n; i++ {
		switch ids[i] {
		case 0:
			missing = append(missing, i)
		case 1:
		default:
			twice = append(twice, i)
		}
	}
	if len(missing)+len(twice) > 0 || len(ids) != n {
		t.Fatalf("%d rows for %d ids: %d ids missing (%v…), %d ids more than once (%v…)",
			sum(ids), len(ids), len(missing), head(missing), len(twice), head(twice))
	}
	if len(gens) != 1 || gens[gen] != n {
		t.Fatalf("generations and values in main: %v, want %d × %s", gens, n, gen)
	}
}

func sum(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func head(xs []int) []int { return xs[:min(len(xs), 5)] }

const keyedSchema = `{"type":"object","properties":{"id":{"type":"integer"},"v":{"type":"string"}}}`

// keyedCatalog is an overwrite stream with a source-defined primary key, as the source's streams.
func keyedCatalog(stream string, pk bool, gen int64) string {
	extra := ""
	if pk {
		extra = `,"source_defined_primary_key":[["id"]]`
	}
	return fmt.Sprintf(`{"streams":[{"stream":{"name":%q,"json_schema":%s,"supported_sync_modes":["full_refresh"]%s},"sync_mode":"full_refresh","destination_sync_mode":"overwrite","generation_id":%d,"minimum_generation_id":%d,"sync_id":%d}]}`,
		stream, keyedSchema, extra, gen, gen, 100+gen)
}

// dedupRefreshCatalog is a truncating append_dedup stream (what the platform sends for
// overwrite_dedup to a destination with refresh support).
func dedupRefreshCatalog(stream string, gen int64) string {
	return strings.Replace(keyedCatalog(stream, true, gen), `"destination_sync_mode":"overwrite"`,
		`"destination_sync_mode":"append_dedup","primary_key":[["id"]]`, 1)
}

// cutAttempt runs generation 2's first attempt and stops it after cut records: by SIGKILL after
// the destination echoed a state and received more records, or by ending the input there.
// It returns the cursor of the last echoed state.
func cutAttempt(t *testing.T, h *harness, cc string, cut int, kill bool) int {
	t.Helper()
	in := refreshInput("items", 1, attemptRecords, "new", false)
	var sent []string
	n := 0
	for _, l := range in {
		if strings.Contains(l, `"RECORD"`) {
			if n == cut {
				break
			}
			n++
		}
		sent = append(sent, l)
	}
	p := h.start(t, cc)
	p.send(t, sent...)
	if !kill {
		code, out := p.finish(t)
		if code != 0 {
			t.Fatalf("the cut attempt exited %d: %v", code, out)
		}
		return lastEchoedCursor(t, out)
	}
	var echoed []string
	for len(echoed) == 0 || lastEchoedCursor(t, echoed) < cut-cut%10-10 {
		echoed = append(echoed, p.waitState(t))
	}
	time.Sleep(100 * time.Millisecond)
	p.kill(t)
	for l := range p.lines {
		echoed = append(echoed, l)
	}
	return lastEchoedCursor(t, echoed)
}

func TestRetriedRefreshHasOneRowPerRecordID(t *testing.T) {
	catalogs := map[string]func(string, int64) string{
		"overwrite":       func(s string, gen int64) string { return keyedCatalog(s, true, gen) },
		"overwrite+dedup": dedupRefreshCatalog,
	}
	for mode, catalogOf := range catalogs {
		for _, kill := range []bool{false, true} {
			// A retry resumes after the last echoed state, or a few records before it (as sources
			// that re-read their last page do), or sends everything again.
			for _, retry := range []string{"resume", "resume with overlap", "re-send all"} {
				if mode != "overwrite" && !kill {
					continue
				}
				cutBy := map[bool]string{false: "input ends", true: "kill -9"}[kill]
				t.Run(mode+", "+cutBy+", "+retry, func(t *testing.T) {
					h := newHarness(t)
					h.cfg["flush_records"] = 30
					gen1 := catalogOf("items", 1)
					h.mustWrite(gen1, lines(refreshInput("items", 1, attemptRecords, "old", true)...))
					gen2 := catalogOf("items", 2)

					// 257 records: past several commits, between two states.
					echoed := cutAttempt(t, h, gen2, 257, kill)
					if echoed < 200 || echoed > 257 {
						t.Fatalf("the cut attempt echoed states up to %d", echoed)
					}
					wantExactlyOnce(t, h, "items", attemptRecords, "1|old")

					from := map[string]int{"resume": echoed + 1, "resume with overlap": echoed - 14, "re-send all": 1}[retry]
					p := h.start(t, gen2)
					p.send(t, refreshInput("items", from, attemptRecords, "new", true)...)
					if code, out := p.finish(t); code != 0 {
						t.Fatalf("retry exit %d: %v", code, out)
					}
					wantExactlyOnce(t, h, "items", attemptRecords, "2|new")
					assertNoDeleteFiles(t, h, "items")
				})
			}
		}
	}
}

// Three attempts: the second re-sends everything and is killed too, the third resumes from the
// second's last echo. Rows of both failed attempts are replaced where the third carries their ids.
func TestRetriedRefreshAfterTwoFailedAttempts(t *testing.T) {
	h := newHarness(t)
	h.cfg["flush_records"] = 30
	h.mustWrite(keyedCatalog("items", true, 1), lines(refreshInput("items", 1, attemptRecords, "old", true)...))
	gen2 := keyedCatalog("items", true, 2)
	cutAttempt(t, h, gen2, 301, true)
	second := cutAttempt(t, h, gen2, 133, true)
	wantExactlyOnce(t, h, "items", attemptRecords, "1|old")
	p := h.start(t, gen2)
	p.send(t, refreshInput("items", second+1, attemptRecords, "new", true)...)
	if code, out := p.finish(t); code != 0 {
		t.Fatalf("third attempt exit %d: %v", code, out)
	}
	wantExactlyOnce(t, h, "items", attemptRecords, "2|new")
}

// Without a primary key rows cannot be matched: a retry whose first state equals the
// generation's first one started over and replaces the earlier attempt's rows; any other retry
// resumes and keeps them.
func TestRetriedRefreshWithoutPrimaryKey(t *testing.T) {
	for _, resume := range []bool{true, false} {
		t.Run(map[bool]string{false: "re-send all", true: "resume"}[resume], func(t *testing.T) {
			h := newHarness(t)
			h.cfg["flush_records"] = 30
			h.mustWrite(keyedCatalog("items", false, 1), lines(refreshInput("items", 1, attemptRecords, "old", true)...))
			gen2 := keyedCatalog("items", false, 2)
			echoed := cutAttempt(t, h, gen2, 257, false)
			from := 1
			if resume {
				from = echoed + 1
			}
			h.mustWrite(gen2, lines(refreshInput("items", from, attemptRecords, "new", true)...))
			wantExactlyOnce(t, h, "items", attemptRecords, "2|new")
		})
	}
}

// The refresh of a stream completed (main replaced) but the attempt failed later, on another
// stream; the retry of the same sync either skips the finished stream or sends it again.
func TestRetryAfterCompletedRefreshOfTheSameSync(t *testing.T) {
	for _, c := range []struct {
		name      string
		catalogOf func(string, int64) string
		resend    bool
	}{
		{"stream skipped", func(s string, gen int64) string { return keyedCatalog(s, true, gen) }, false},
		{"stream re-sent", func(s string, gen int64) string { return keyedCatalog(s, true, gen) }, true},
		{"dedup, stream re-sent", dedupRefreshCatalog, true},
	} {
		resend := c.resend
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.mustWrite(c.catalogOf("items", 1), lines(refreshInput("items", 1, 50, "old", true)...))
			gen2 := c.catalogOf("items", 2)
			h.mustWrite(gen2, lines(refreshInput("items", 1, 50, "new", true)...))
			in := []string{statusLine("items", "STARTED"), state("items", 50, 50), complete("items")}
			if resend {
				in = refreshInput("items", 1, 50, "new", true)
			}
			h.mustWrite(gen2, lines(in...))
			wantExactlyOnce(t, h, "items", 50, "2|new")
		})
	}
	// A new sync (another sync_id) with the same generation and no records empties the table, as
	// any completed refresh without records does.
	h := newHarness(t)
	h.mustWrite(keyedCatalog("items", true, 2), lines(refreshInput("items", 1, 50, "new", true)...))
	other := strings.Replace(keyedCatalog("items", true, 2), `"sync_id":102`, `"sync_id":999`, 1)
	h.mustWrite(other, lines(statusLine("items", "STARTED"), state("items", 0, 1), complete("items")))
	if rows := h.rows("clockify", "items", "id"); len(rows) != 0 {
		t.Fatalf("a new sync's empty refresh left %d rows", len(rows))
	}
}

// An append stream whose input ends without its COMPLETE keeps only what its echoed states
// cover, so resuming from the last echo adds no row twice.
func TestIncompleteStreamCommitsOnlyEchoedRows(t *testing.T) {
	h := newHarness(t)
	h.cfg["flush_records"] = 30
	cc := catalogFor("items", keyedSchema, "append", "", "", 1, 0)
	in := refreshInput("items", 1, 95, "v", false)
	out := h.mustWrite(cc, lines(in...))
	echoed := lastEchoedCursor(t, out)
	if !strings.Contains(strings.Join(out, "\n"), "ended without a COMPLETE status") {
		t.Errorf("no warning about the incomplete stream: %v", out)
	}
	ids, _ := idCounts(h, "items")
	if len(ids) != echoed || sum(ids) != echoed {
		t.Fatalf("%d rows committed, %d ids, states echoed up to %d", sum(ids), len(ids), echoed)
	}
	h.mustWrite(cc, lines(refreshInput("items", echoed+1, 120, "v", true)...))
	wantExactlyOnce(t, h, "items", 120, "1|v")
	if got := slices.Sorted(maps.Keys(ids)); len(got) > 0 && got[len(got)-1] != echoed {
		t.Errorf("committed ids end at %d, the last echo at %d", got[len(got)-1], echoed)
	}
}

// A retry whose schema gained a property rewrites inherited files (written with the older
// schema) without the rows it replaces, next to rows that fill the new column.
func TestRetriedRefreshWithNewColumn(t *testing.T) {
	h := newHarness(t)
	h.cfg["flush_records"] = 30
	h.mustWrite(keyedCatalog("items", true, 1), lines(refreshInput("items", 1, 120, "old", true)...))
	gen2 := keyedCatalog("items", true, 2)
	out := h.mustWrite(gen2, lines(refreshInput("items", 1, 95, "new", false)...))
	if c := lastEchoedCursor(t, out); c != 90 {
		t.Fatalf("the cut attempt echoed up to %d", c)
	}
	wider := strings.Replace(gen2, `"v":{"type":"string"}`, `"v":{"type":"string"},"w":{"type":"string"}`, 1)
	var in []string
	for _, l := range refreshInput("items", 80, 120, "new", true) {
		in = append(in, strings.Replace(l, `"v":"new"`, `"v":"new","w":"x"`, 1))
	}
	h.mustWrite(wider, lines(in...))
	wantExactlyOnce(t, h, "items", 120, "2|new")
	ws := map[string]int{}
	for _, r := range h.rows("clockify", "items", "id") {
		ws[r["w"]]++
	}
	if ws["x"] != 41 || ws["<null>"] != 79 {
		t.Fatalf("column w: %v, want 41 x and 79 null", ws)
	}
}
