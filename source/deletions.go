package source

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/jsonscan"
	"github.com/clockberg/clockberg/source/clockify"
	"github.com/clockberg/clockberg/source/streams"
)

// Deleted records reach the destination as Airbyte's CDC convention has it: a record with the
// key, the parent keys, the cursor value and _ab_cdc_deleted_at set; append_dedup removes the
// row of that key, other modes store the record as it is.
const deletedAtField = "_ab_cdc_deleted_at"

// tombstone builds the record of a deleted entity. doc is what the change feed kept of it (nil
// when the lookback window found it gone); its fields win over the partition's.
func (e *engine) tombstone(d *streams.Stream, params []param, doc []byte, id, cursor string, at time.Time) []byte {
	rec := map[string]any{"id": id, deletedAtField: at.UTC().Format(time.RFC3339Nano)}
	for _, k := range d.ParentKeys {
		v := ""
		for _, p := range params {
			if p.name == k {
				v = p.value
			}
		}
		if doc != nil {
			if s := fieldString(doc, []string{k}); s != "" {
				v = s
			}
		}
		if v != "" {
			rec[k] = v
		}
	}
	if doc != nil {
		if s := fieldString(doc, d.Cursor); s != "" {
			cursor = s
		}
	}
	if cursor != "" {
		m := rec
		for _, k := range d.Cursor[:len(d.Cursor)-1] {
			next := map[string]any{}
			m[k] = next
			m = next
		}
		m[d.Cursor[len(d.Cursor)-1]] = cursor
	}
	b, err := json.Marshal(rec)
	if err != nil {
		panic(err) // strings and maps of strings
	}
	return b
}

// emit writes whole records of a stream outside a page (deletions, re-fetched entries).
func (e *engine) emit(r *streamRun, recs [][]byte) error {
	if len(recs) == 0 || !r.emit {
		return nil
	}
	pc := &pageCtx{}
	for _, rec := range recs {
		pc.buf = append(pc.buf, rec...)
		pc.ends = append(pc.ends, len(pc.buf))
	}
	return e.flush(r, pc)
}

// feedKey names a change-feed partition: the values of the feed path's parameters.
func feedKey(d *streams.Stream, j *job) string {
	var vals []string
	for _, p := range j.params {
		if strings.Contains(d.Deletions.Feed, "{"+p.name+"}") {
			vals = append(vals, p.value)
		}
	}
	return strings.Join(vals, "/")
}

// queueFeeds starts the change-feed partitions once every other partition of the stream is
// done, so an entry the read just listed (restored from the deletion bin) is not deleted again.
// It reports whether it queued any; r.mu is held.
func (e *engine) queueFeedsLocked(r *streamRun) bool {
	if r.feedsQueued || !e.readsFeed(r) || len(r.feedParts) == 0 || len(r.failures) > 0 {
		return false
	}
	r.feedsQueued = true
	for key, params := range r.feedParts {
		r.pending++
		e.q.push(&job{run: r, params: params, key: key, emit: r.emit, feed: true}, false)
	}
	return true
}

// settleLocked ends a stream whose partitions are all done, unless its change feed is still to
// be read.
func (e *engine) settleLocked(r *streamRun) {
	if r.pending == 0 && !e.queueFeedsLocked(r) {
		e.finishLocked(r)
	}
}

// doFeed reads Clockify's change feed of deleted entities for one workspace, from where the last
// read stopped to a little before now, and emits each deletion the read did not already. Any
// failure is a WARN: the lookback window still caught the recent ones, and the next sync asks
// again from the same instant.
func (e *engine) doFeed(ctx context.Context, j *job) {
	r := j.run
	err := e.readFeed(ctx, j)
	if err != nil && ctx.Err() != nil {
		return // interrupted: the partition stays pending (see do)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		e.out.Log(airbyte.LogWarn, "stream %s: Clockify's change feed of deleted entries failed for workspace %s (%v); deletions older than the %s lookback window are not seen this sync, the next sync asks again",
			r.desc, j.key, err, e.s.lookback)
	}
	r.pending--
	e.settleLocked(r)
}

func (e *engine) readFeed(ctx context.Context, j *job) error {
	r := j.run
	d := r.def
	f := d.Deletions
	to := e.started.Add(-e.feedLag).Truncate(time.Second)
	mark, ok := r.resume.deletions[j.key]
	if !ok {
		// Nothing to compare with yet: from now on.
		e.setFeedMark(r, j.key, to)
		return nil
	}
	from, err := time.Parse(time.RFC3339Nano, mark)
	if err != nil || !from.Before(to) {
		return err
	}
	p := f.Feed
	for _, pr := range j.params {
		p = strings.Replace(p, "{"+pr.name+"}", url.PathEscape(pr.value), 1)
	}
	for lo := from; lo.Before(to); {
		hi := lo.Add(f.MaxSpan)
		if hi.After(to) {
			hi = to
		}
		if err := e.readFeedRange(ctx, j, p, lo, hi); err != nil {
			return err
		}
		e.setFeedMark(r, j.key, hi)
		lo = hi
	}
	return nil
}

func (e *engine) setFeedMark(r *streamRun, key string, t time.Time) {
	r.mu.Lock()
	r.feedMarks[key] = t.UTC().Format(time.RFC3339)
	r.mu.Unlock()
}

// feedItem is one entry of the change feed's answer.
type feedItem struct {
	ID        string          `json:"id"`
	DeletedAt string          `json:"deletedAt"`
	Document  json.RawMessage `json:"document"`
}

func (e *engine) readFeedRange(ctx context.Context, j *job, path string, from, to time.Time) error {
	r := j.run
	f := r.def.Deletions
	q := url.Values{"type": {f.Type}, f.Start: {from.UTC().Format(filterLayout)}, f.End: {to.UTC().Format(filterLayout)},
		f.Limit: {strconv.Itoa(f.PageLimit)}}
	var items []feedItem
	check := func(resp *clockify.Response) error {
		items = items[:0]
		body := resp.Body
		list := body
		// The OpenAPI declares {"response": [...]}; the documentation's sample is a bare array.
		if v, ok := jsonscan.Path(body, f.Records...); ok {
			list = v
		}
		if err := json.Unmarshal(list, &items); err != nil {
			return clockify.Permanent(fmt.Errorf("the change feed answered something other than a list of deleted entities: %v", err))
		}
		return nil
	}
	for page, n := f.FirstPage, 0; n < maxPages; page, n = page+1, n+1 {
		q.Set(f.Page, strconv.Itoa(page))
		resp, err := e.c.GetChecked(ctx, path, q, check)
		if err != nil {
			return err
		}
		resp.Release()
		var recs [][]byte
		for _, it := range items {
			id := it.ID
			if id == "" {
				id = fieldString(it.Document, []string{"id"})
			}
			if id == "" || e.deletedThisSync(r, id) || e.readThisSync(r, id) {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, it.DeletedAt)
			if err != nil {
				at = e.started
			}
			var doc []byte
			if len(it.Document) > 0 && it.Document[0] == '{' {
				doc = it.Document
			}
			recs = append(recs, e.tombstone(r.def, j.params, doc, id, "", at))
			e.markDeleted(r, id)
		}
		if err := e.emit(r, recs); err != nil {
			return err
		}
		if len(items) < f.PageLimit {
			return nil
		}
	}
	return fmt.Errorf("%s: still full pages after %d pages", path, maxPages)
}

func (e *engine) readThisSync(r *streamRun, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.readIDs[id]
}
