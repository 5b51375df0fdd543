package clockifysim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"
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

// records extracts the records of a page from the stream's envelope (§4).
func records(t testing.TB, stream string, a answer) []map[string]any {
	t.Helper()
	switch stream {
	case StreamExpenses:
		var env struct {
			Expenses *struct {
				Count    *int             `json:"count"`
				Expenses []map[string]any `json:"expenses"`
			} `json:"expenses"`
			Daily  []any `json:"dailyTotals"`
			Weekly []any `json:"weeklyTotals"`
		}
		if err := json.Unmarshal(a.body, &env); err != nil || env.Expenses == nil || env.Expenses.Count == nil || env.Daily == nil || env.Weekly == nil {
			t.Fatalf("expenses envelope wrong (%v): %.300s", err, a.body)
		}
		return env.Expenses.Expenses
	case StreamExpenseCategories:
		var env struct {
			Count      *int             `json:"count"`
			Categories []map[string]any `json:"categories"`
		}
		if err := json.Unmarshal(a.body, &env); err != nil || env.Count == nil || env.Categories == nil {
			t.Fatalf("categories envelope wrong (%v): %.300s", err, a.body)
		}
		return env.Categories
	case StreamInvoices:
		var env struct {
			Total    *int             `json:"total"`
			Invoices []map[string]any `json:"invoices"`
		}
		if err := json.Unmarshal(a.body, &env); err != nil || env.Total == nil || env.Invoices == nil {
			t.Fatalf("invoices envelope wrong (%v): %.300s", err, a.body)
		}
		return env.Invoices
	case StreamUser:
		var one map[string]any
		if err := json.Unmarshal(a.body, &one); err != nil {
			t.Fatalf("user body is not an object: %v", err)
		}
		return []map[string]any{one}
	}
	return a.array(t)
}

func recordID(t testing.TB, stream string, r map[string]any) string {
	if stream == StreamApprovalRequests {
		ar, _ := r["approvalRequest"].(map[string]any)
		id, _ := ar["id"].(string)
		if id == "" {
			t.Fatalf("approval request without approvalRequest.id: %v", r)
		}
		return id
	}
	id, _ := r["id"].(string)
	if id == "" {
		t.Fatalf("%s record without id: %v", stream, r)
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

// fullSync is what a perfect client does: every stream over every workspace of the key, skipping
// streams the workspace's features[] exclude. It returns stream → ids and every record by stream.
func (c *client) fullSync(pageSize int) (map[string][]string, map[string][]map[string]any) {
	t := c.t
	t.Helper()
	got := map[string][]string{}
	recs := map[string][]map[string]any{}
	add := func(stream string, rs []map[string]any) {
		for _, r := range rs {
			got[stream] = append(got[stream], recordID(t, stream, r))
		}
		recs[stream] = append(recs[stream], rs...)
	}
	wsAns := c.get("/workspaces", nil).must(t, 200)
	if wsAns.header.Get("Last-Page") != "" {
		t.Fatalf("/workspaces sent Last-Page")
	}
	workspaces := wsAns.array(t)
	add(StreamWorkspaces, workspaces)
	add(StreamUser, records(t, StreamUser, c.get("/user", nil).must(t, 200)))
	for _, w := range workspaces {
		ws := w["id"].(string)
		feats := map[string]bool{}
		for _, f := range w["features"].([]any) {
			feats[f.(string)] = true
		}
		p := "/workspaces/" + ws
		users := c.walk(StreamWorkspaceUsers, p+"/users", q("status", "ALL"), pageSize)
		add(StreamWorkspaceUsers, users)
		add(StreamGroups, c.walk(StreamGroups, p+"/user-groups", nil, pageSize))
		projects := c.walk(StreamProjects, p+"/projects", nil, pageSize)
		add(StreamProjects, projects)
		add(StreamClients, c.walk(StreamClients, p+"/clients", nil, pageSize))
		add(StreamTags, c.walk(StreamTags, p+"/tags", nil, pageSize))
		for _, pr := range projects {
			add(StreamTasks, c.walk(StreamTasks, p+"/projects/"+pr["id"].(string)+"/tasks", nil, pageSize))
		}
		for _, u := range users {
			add(StreamTimeEntries, c.walk(StreamTimeEntries, p+"/user/"+u["id"].(string)+"/time-entries", nil, pageSize))
		}
		add(StreamInProgress, c.walk(StreamInProgress, p+"/time-entries/status/in-progress", nil, min(pageSize, InProgressMaxPageSize)))
		if feats[FeatureExpenses] {
			add(StreamExpenses, c.walk(StreamExpenses, p+"/expenses", nil, pageSize))
			add(StreamExpenseCategories, c.walk(StreamExpenseCategories, p+"/expenses/categories", nil, pageSize))
		}
		if feats[FeatureInvoicing] {
			add(StreamInvoices, c.walk(StreamInvoices, p+"/invoices", nil, pageSize))
		}
		if feats[FeatureApproval] {
			add(StreamApprovalRequests, c.walk(StreamApprovalRequests, p+"/approval-requests", nil, pageSize))
		}
		if feats[FeatureTimeOff] {
			h := c.get(p+"/holidays", nil).must(t, 200)
			if h.header.Get("Last-Page") != "" {
				t.Fatalf("holidays sent Last-Page")
			}
			add(StreamHolidays, h.array(t))
			add(StreamPolicies, c.walk(StreamPolicies, p+"/time-off/policies", q("status", "ALL"), min(pageSize, PoliciesMaxPageSize)))
		}
		if feats[FeatureCustomFields] {
			add(StreamCustomFields, c.get(p+"/custom-fields", nil).must(t, 200).array(t))
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
