package clockifysim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clockberg/clockberg/source/streams"
)

type answer struct {
	status int
	header http.Header
	body   []byte
	err    error // transport or body-read error
}

type client struct {
	t        testing.TB
	base     string
	key      string
	hc       *http.Client
	requests atomic.Int64
}

func startSim(t testing.TB, cfg Config) (*Server, *client) {
	t.Helper()
	sim := New(cfg)
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	return sim, &client{t: t, base: ts.URL, key: sim.APIKey(), hc: ts.Client()}
}

// get sends GET {base}/api/v1{path} with the valid key and the given query.
func (c *client) get(path string, q url.Values) answer {
	return c.do("GET", path, q, map[string]string{"X-Api-Key": c.key})
}

func (c *client) do(method, path string, q url.Values, headers map[string]string) answer {
	c.t.Helper()
	u := c.base + "/api/v1" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		c.t.Fatalf("building request %s: %v", u, err)
	}
	for k, v := range headers {
		req.Header[k] = append(req.Header[k], v) // raw: lets tests send non-canonical names
	}
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func (a answer) must(t testing.TB, status int) answer {
	t.Helper()
	if a.err != nil {
		t.Fatalf("request failed: %v", a.err)
	}
	if a.status != status {
		t.Fatalf("status %d, want %d; body %s", a.status, status, a.body)
	}
	return a
}

func (a answer) apiErr(t testing.TB, status, code int) string {
	t.Helper()
	a.must(t, status)
	var e struct {
		Message string `json:"message"`
		Code    *int   `json:"code"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", a.body, err)
	}
	if e.Code == nil || *e.Code != code {
		t.Fatalf("error body %s: want code %d", a.body, code)
	}
	return e.Message
}

func (a answer) array(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(a.body, &out); err != nil {
		t.Fatalf("body is not a JSON array of objects: %v; %.200s", err, a.body)
	}
	return out
}

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func ids(t testing.TB, recs []map[string]any) []string {
	t.Helper()
	out := make([]string, len(recs))
	for i, r := range recs {
		id, ok := r["id"].(string)
		if !ok {
			t.Fatalf("record %d has no string id: %v", i, r)
		}
		out[i] = id
	}
	return out
}

// records extracts the records of a page of a stream, by the registry's record path.
func records(t testing.TB, stream string, a answer) []map[string]any {
	t.Helper()
	st := streams.ByName(stream)
	if st.Single {
		var one map[string]any
		if err := json.Unmarshal(a.body, &one); err != nil {
			t.Fatalf("%s body is not an object: %v", stream, err)
		}
		return []map[string]any{one}
	}
	if st.Records == nil {
		return a.array(t)
	}
	var v any
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("%s envelope is not JSON: %v", stream, err)
	}
	for _, k := range st.Records {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s envelope has no %v: %.300s", stream, st.Records, a.body)
		}
		v = m[k]
	}
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("%s envelope's %v is not a list: %.300s", stream, st.Records, a.body)
	}
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i] = x.(map[string]any)
	}
	return out
}

// recordID is a record's key as the ground truth lists it (the registry's IDFrom or id).
func recordID(t testing.TB, stream string, r map[string]any) string {
	var v any = r
	path := streams.ByName(stream).IDFrom
	if path == nil {
		path = []string{"id"}
	}
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	id, _ := v.(string)
	if id == "" {
		t.Fatalf("%s record without %v: %v", stream, path, r)
	}
	return id
}

// walk pages one partition naively (page 1, 2, … until Last-Page: true) and returns its records.
func (c *client) walk(stream, path string, params url.Values, pageSize int) []map[string]any {
	c.t.Helper()
	var all []map[string]any
	for page := 1; page <= 100000; page++ {
		pq := url.Values{}
		for k, v := range params {
			pq[k] = v
		}
		pq.Set("page", strconv.Itoa(page))
		pq.Set("page-size", strconv.Itoa(pageSize))
		a := c.get(path, pq).must(c.t, 200)
		recs := records(c.t, stream, a)
		all = append(all, recs...)
		switch lp := a.header.Get("Last-Page"); lp {
		case "true":
			return all
		case "false":
			if len(recs) == 0 {
				c.t.Fatalf("%s page %d: empty page with Last-Page: false", path, page)
			}
		default:
			c.t.Fatalf("%s page %d: Last-Page header %q, want true or false", path, page, lp)
		}
	}
	c.t.Fatalf("%s: more than 100000 pages", path)
	return nil
}

// post sends POST {base}/api/v1{path} with a JSON body and the valid key.
func (c *client) post(path string, body any) answer {
	c.t.Helper()
	b, _ := json.Marshal(body)
	u := c.base + "/api/v1" + path
	req, _ := http.NewRequest("POST", u, bytes.NewReader(b))
	req.Header.Set("X-Api-Key", c.key)
	req.Header.Set("Content-Type", "application/json")
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: rb, err: err}
}

// readPartition reads every page of one partition of a stream the way its registry row says.
func (c *client) readPartition(st *streams.Stream, path string, pageSize int) []map[string]any {
	t := c.t
	t.Helper()
	q := url.Values{}
	for k, v := range st.Query {
		q[k] = v
	}
	if r := st.Range; r != nil && r.Required {
		q.Set(r.Start, r.From.Format(time.RFC3339))
		q.Set(r.End, time.Now().Add(r.Ahead).UTC().Format(time.RFC3339))
	}
	size := min(pageSize, st.Paging.Max)
	switch st.Paging.Kind {
	case streams.Unpaged:
		a := c.get(path, q).must(t, 200)
		if a.header.Get("Last-Page") != "" {
			t.Fatalf("unpaged %s sent Last-Page", path)
		}
		return records(t, st.Name, a)
	case streams.BodyPages:
		var all []map[string]any
		for page := st.Paging.First; page <= st.Paging.First+100000; page++ {
			body := map[string]any{st.Paging.Page: page, st.Paging.Size: size}
			for k, v := range st.Body {
				body[k] = v
			}
			a := c.post(path, body).must(t, 200)
			recs := records(t, st.Name, a)
			all = append(all, recs...)
			var env map[string]any
			json.Unmarshal(a.body, &env)
			total, ok := env[st.Paging.Total[0]].(float64)
			if !ok {
				t.Fatalf("%s: no total count %v in %.200s", path, st.Paging.Total, a.body)
			}
			if len(recs) < size || len(all) >= int(total) {
				return all
			}
		}
		t.Fatalf("%s: too many pages", path)
	}
	return c.walk(st.Name, path, q, size)
}

// fullSync is what a perfect client does, speaking only HTTP: every registry stream over every
// partition its parent's records make, skipping streams the workspace's features[] exclude. It
// returns stream → ids and every record by stream.
func (c *client) fullSync(pageSize int) (map[string][]string, map[string][]map[string]any) {
	t := c.t
	t.Helper()
	type part struct {
		params   map[string]string
		features map[string]bool
		recs     []map[string]any
	}
	got := map[string][]string{}
	recs := map[string][]map[string]any{}
	parts := map[string][]*part{}
	for _, st := range streams.All {
		var todo []*part
		if p := st.ParentStream(); p == nil {
			todo = []*part{{params: map[string]string{}}}
		} else {
			for _, pp := range parts[p.Name] {
				for _, r := range pp.recs {
					kid := &part{params: maps.Clone(pp.params), features: pp.features}
					kid.params[st.Parent.Param] = r[st.Parent.Field].(string)
					if p.PlanFields != nil {
						kid.features = map[string]bool{}
						for _, f := range r[p.PlanFields.Features].([]any) {
							kid.features[f.(string)] = true
						}
					}
					todo = append(todo, kid)
				}
			}
		}
		for _, pt := range todo {
			if st.Gate != nil && !pt.features[st.Gate.Feature] {
				continue
			}
			path := st.Path
			for k, v := range pt.params {
				path = strings.ReplaceAll(path, "{"+k+"}", v)
			}
			pt.recs = c.readPartition(st, path, pageSize)
			for _, r := range pt.recs {
				got[st.Name] = append(got[st.Name], recordID(t, st.Name, r))
			}
			recs[st.Name] = append(recs[st.Name], pt.recs...)
			parts[st.Name] = append(parts[st.Name], pt)
		}
	}
	return got, recs
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

func sameMultiset(a, b []string) error {
	x, y := sortedCopy(a), sortedCopy(b)
	if len(x) != len(y) {
		return fmt.Errorf("%d ids vs %d ids", len(x), len(y))
	}
	for i := range x {
		if x[i] != y[i] {
			return fmt.Errorf("first difference at sorted position %d: %s vs %s", i, x[i], y[i])
		}
	}
	return nil
}
