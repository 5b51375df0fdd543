package clockifysim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var objectID = regexp.MustCompile(`^[0-9a-f]{24}$`)

func TestAuth(t *testing.T) {
	sim, c := startSim(t, Demo())
	ws := sim.WorkspaceIDs()[0]

	msg := c.do("GET", "/workspaces", nil, nil).apiErr(t, 401, 1000)
	if msg != "Multiple or none auth tokens present" {
		t.Errorf("no header: message %q", msg)
	}
	c.do("GET", "/workspaces", nil, map[string]string{"X-Api-Key": c.key, "X-Addon-Token": c.key}).apiErr(t, 401, 1000)
	c.do("GET", "/workspaces", nil, map[string]string{"Authorization": "Bearer " + c.key}).apiErr(t, 401, 1000)
	c.do("GET", "/workspaces", nil, map[string]string{"X-Api-Key": c.key, "Authorization": "Bearer x"}).apiErr(t, 401, 1000)

	bad := c.do("GET", "/workspaces", nil, map[string]string{"X-Api-Key": "not-the-key"}).must(t, 401)
	if string(bad.body) != `{"message":"Api key does not exist","code":4003}` {
		t.Errorf("unknown key body %s", bad.body)
	}
	c.do("GET", "/workspaces", nil, map[string]string{"X-Addon-Token": "nope"}).apiErr(t, 401, 4017)

	// Header names are case-insensitive.
	c.do("GET", "/workspaces", nil, map[string]string{"x-api-key": c.key}).must(t, 200)
	c.do("GET", "/workspaces/"+ws+"/tags", nil, map[string]string{"X-API-KEY": c.key}).must(t, 200)
	c.do("GET", "/user", nil, map[string]string{"X-Addon-Token": c.key}).must(t, 200)

	// A workspace the key has no access to.
	c.get("/workspaces/"+strings.Repeat("ab", 12)+"/projects", nil).must(t, 403)
	c.get("/workspaces/"+strings.Repeat("ab", 12), nil).must(t, 403)
}

func TestRoutingErrors(t *testing.T) {
	sim, c := startSim(t, Demo())
	ws := sim.WorkspaceIDs()[1]
	c.get("/workspaces/"+ws+"/balance", nil).apiErr(t, 404, 3000)
	c.get("/nothing", nil).apiErr(t, 404, 3000)
	c.do("POST", "/workspaces/"+ws+"/tags", nil, map[string]string{"X-Api-Key": c.key}).apiErr(t, 405, 3000)
	c.do("DELETE", "/workspaces", nil, map[string]string{"X-Api-Key": c.key}).apiErr(t, 405, 3000)
	if m := c.get("/workspaces/"+ws+"/projects/"+strings.Repeat("0", 24)+"/tasks", nil).apiErr(t, 400, 501); m != "Project doesn't belong to Workspace" {
		t.Errorf("unknown project message %q", m)
	}
	if m := c.get("/workspaces/"+ws+"/user/"+strings.Repeat("0", 24)+"/time-entries", nil).apiErr(t, 400, 501); !strings.HasSuffix(m, "doesn't belong to Workspace") {
		t.Errorf("unknown user message %q", m)
	}
	// A user of another workspace does not belong to this one.
	other := sim.UserIDs(sim.WorkspaceIDs()[0])[1]
	c.get("/workspaces/"+ws+"/user/"+other+"/time-entries", nil).apiErr(t, 400, 501)
	// Single workspace.
	one := c.get("/workspaces/"+ws, nil).must(t, 200)
	var w map[string]any
	if err := json.Unmarshal(one.body, &w); err != nil || w["id"] != ws {
		t.Fatalf("single workspace body %.200s (%v)", one.body, err)
	}
}

func TestPaging(t *testing.T) {
	sim, c := startSim(t, Acceptance())
	free, ent := sim.WorkspaceIDs()[0], sim.WorkspaceIDs()[1]
	milo := sim.UserIDs(free)[1] // exactly 5,000 entries
	te := "/workspaces/" + free + "/user/" + milo + "/time-entries"

	// Default page size 50, no page = page 1.
	a := c.get(te, nil).must(t, 200)
	if n := len(a.array(t)); n != 50 || a.header.Get("Last-Page") != "false" {
		t.Fatalf("default page: %d records, Last-Page %q", n, a.header.Get("Last-Page"))
	}
	b := c.get(te, q("page", "1")).must(t, 200)
	if !bytes.Equal(a.body, b.body) {
		t.Errorf("missing page differs from page=1")
	}
	// Exactly 5,000 at 5,000: one full page that says it is the last, then an empty last page.
	full := c.get(te, q("page-size", "5000")).must(t, 200)
	if n := len(full.array(t)); n != 5000 || full.header.Get("Last-Page") != "true" {
		t.Fatalf("5000 entries at page-size 5000: %d records, Last-Page %q", n, full.header.Get("Last-Page"))
	}
	past := c.get(te, q("page-size", "5000", "page", "2")).must(t, 200)
	if string(past.body) != "[]" || past.header.Get("Last-Page") != "true" {
		t.Fatalf("past the end: %q, Last-Page %q", past.body, past.header.Get("Last-Page"))
	}
	far := c.get(te, q("page-size", "7", "page", "999999999")).must(t, 200)
	if string(far.body) != "[]" || far.header.Get("Last-Page") != "true" {
		t.Fatalf("far past the end: %q, Last-Page %q", far.body, far.header.Get("Last-Page"))
	}
	// 4,999 at page-size 2,500: second page is short and last.
	p2 := c.get(te, q("page-size", "2500", "page", "2")).must(t, 200)
	if n := len(p2.array(t)); n != 2500 || p2.header.Get("Last-Page") != "true" {
		t.Fatalf("page 2 of 2: %d, Last-Page %q", n, p2.header.Get("Last-Page"))
	}

	for _, tc := range []struct{ path, size string }{
		{te, "0"}, {te, "-1"}, {te, "5001"}, {te, "abc"},
		{"/workspaces/" + ent + "/time-entries/status/in-progress", "1001"},
		{"/workspaces/" + ent + "/time-off/policies", "201"},
	} {
		m := c.get(tc.path, q("page-size", tc.size)).apiErr(t, 400, 3000)
		if !strings.Contains(m, "page-size") {
			t.Errorf("%s page-size=%s: message %q does not name page-size", tc.path, tc.size, m)
		}
	}
	c.get(te, q("page", "x")).apiErr(t, 400, 3000)
	c.get("/workspaces/"+ent+"/time-entries/status/in-progress", q("page-size", "1000")).must(t, 200)
	pol := c.get("/workspaces/"+ent+"/time-off/policies", q("page-size", "200")).must(t, 200)
	if len(pol.array(t)) != 200 || pol.header.Get("Last-Page") != "false" {
		t.Errorf("policies page of 200: %d, Last-Page %q", len(pol.array(t)), pol.header.Get("Last-Page"))
	}
	// In-progress default is 10: more running timers than that are needed to see it.
	cfg := Demo()
	for i := range cfg.Workspaces[1].Users {
		cfg.Workspaces[1].Users[i].Running = true
	}
	for i := 0; i < 10; i++ {
		cfg.Workspaces[1].Users = append(cfg.Workspaces[1].Users, UserSpec{TimeEntries: 3, Running: true})
	}
	sim2, c2 := startSim(t, cfg)
	ip := c2.get("/workspaces/"+sim2.WorkspaceIDs()[1]+"/time-entries/status/in-progress", nil).must(t, 200)
	if n := len(ip.array(t)); n != 10 || ip.header.Get("Last-Page") != "false" {
		t.Errorf("in-progress default page: %d, Last-Page %q", n, ip.header.Get("Last-Page"))
	}

	// Unpaginated routes ignore paging parameters and send no Last-Page.
	for _, p := range []string{"/workspaces", "/user", "/workspaces/" + ent + "/holidays", "/workspaces/" + ent + "/custom-fields"} {
		a := c.get(p, q("page", "3", "page-size", "999999")).must(t, 200)
		if _, ok := a.header["Last-Page"]; ok {
			t.Errorf("%s sent Last-Page", p)
		}
		if len(a.body) < 3 {
			t.Errorf("%s: body %q", p, a.body)
		}
	}
}

func TestEnvelopesAndShapes(t *testing.T) {
	sim, c := startSim(t, Demo())
	ent := sim.WorkspaceIDs()[1]
	p := "/workspaces/" + ent
	exp := c.get(p+"/expenses", q("page-size", "5")).must(t, 200)
	if !bytes.HasPrefix(exp.body, []byte(`{"expenses":{"count":`)) || !bytes.HasSuffix(exp.body, []byte(`]},"dailyTotals":[],"weeklyTotals":[]}`)) {
		t.Errorf("expenses envelope: %.120s … %.60s", exp.body, exp.body[max(0, len(exp.body)-60):])
	}
	if n := len(records(t, StreamExpenses, exp)); n != 5 {
		t.Errorf("expenses page: %d records", n)
	}
	cat := c.get(p+"/expenses/categories", nil).must(t, 200)
	if !bytes.HasPrefix(cat.body, []byte(`{"count":`)) || len(records(t, StreamExpenseCategories, cat)) == 0 {
		t.Errorf("categories envelope: %.120s", cat.body)
	}
	inv := c.get(p+"/invoices", q("page-size", "3")).must(t, 200)
	var env struct {
		Total    int               `json:"total"`
		Invoices []json.RawMessage `json:"invoices"`
	}
	if err := json.Unmarshal(inv.body, &env); err != nil || env.Total != 25 || len(env.Invoices) != 3 {
		t.Errorf("invoices envelope total %d, %d rows (%v)", env.Total, len(env.Invoices), err)
	}

	// Approval requests are wrappers; tasks have no workspaceId; the running entry has null end/duration.
	ap := c.get(p+"/approval-requests", nil).must(t, 200).array(t)
	if ar, ok := ap[0]["approvalRequest"].(map[string]any); !ok || !objectID.MatchString(ar["id"].(string)) {
		t.Errorf("approval wrapper: %v", ap[0])
	}
	if _, has := ap[0]["id"]; has {
		t.Errorf("approval wrapper has a top-level id")
	}
	proj := c.get(p+"/projects", nil).must(t, 200).array(t)
	tasks := c.get(p+"/projects/"+proj[0]["id"].(string)+"/tasks", nil).must(t, 200).array(t)
	if _, has := tasks[0]["workspaceId"]; has {
		t.Errorf("task has workspaceId: %v", tasks[0])
	}
	run := c.get(p+"/time-entries/status/in-progress", nil).must(t, 200).array(t)
	if len(run) != 1 {
		t.Fatalf("in-progress: %d entries, want 1", len(run))
	}
	ti := run[0]["timeInterval"].(map[string]any)
	if v, ok := ti["end"]; !ok || v != nil {
		t.Errorf("running entry end: %v (present %v)", v, ok)
	}
	if v, ok := ti["duration"]; !ok || v != nil {
		t.Errorf("running entry duration: %v (present %v)", v, ok)
	}
	// Nullable keys are explicit: every time entry carries every key.
	owner := sim.UserIDs(ent)[0]
	for _, e := range c.get(p+"/user/"+owner+"/time-entries", q("page-size", "300")).must(t, 200).array(t) {
		for _, k := range []string{"id", "description", "userId", "workspaceId", "projectId", "taskId", "tagIds", "billable",
			"isLocked", "kioskId", "type", "timeInterval", "customFieldValues", "hourlyRate", "costRate"} {
			if _, ok := e[k]; !ok {
				t.Fatalf("time entry without %q: %v", k, e)
			}
		}
		if !objectID.MatchString(e["id"].(string)) {
			t.Fatalf("time entry id %q is not an ObjectId", e["id"])
		}
	}
	// /user is an object, the key owner.
	var u map[string]any
	if err := json.Unmarshal(c.get("/user", nil).must(t, 200).body, &u); err != nil || u["id"] != owner {
		t.Errorf("/user: %v (%v), want id %s", u["id"], err, owner)
	}
}

// parseInstant reads the instants the simulator writes.
func parseInstant(t *testing.T, v any) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, v.(string))
	if err != nil {
		t.Fatalf("instant %v: %v", v, err)
	}
	return ts
}

func TestTimeEntryFilters(t *testing.T) {
	sim, c := startSim(t, Demo())
	ent := sim.WorkspaceIDs()[1]
	owner := sim.UserIDs(ent)[0]
	te := "/workspaces/" + ent + "/user/" + owner + "/time-entries"
	all := c.walk(StreamTimeEntries, te, nil, 50)
	if len(all) != 301 {
		t.Fatalf("owner has %d entries, want 300 + 1 running", len(all))
	}
	for i := 1; i < len(all); i++ {
		a := parseInstant(t, all[i-1]["timeInterval"].(map[string]any)["start"])
		b := parseInstant(t, all[i]["timeInterval"].(map[string]any)["start"])
		if !a.After(b) {
			t.Fatalf("not newest first at %d: %v then %v", i, a, b)
		}
	}
	// Window [start of entry 200, start of entry 100) in newest-first positions ⇒ positions 101..200.
	from := all[200]["timeInterval"].(map[string]any)["start"].(string)
	to := all[100]["timeInterval"].(map[string]any)["start"].(string)
	win := c.walk(StreamTimeEntries, te, q("start", from, "end", to), 30)
	wantIDs := ids(t, all[101:201])
	if err := sameMultiset(ids(t, win), wantIDs); err != nil || ids(t, win)[0] != wantIDs[0] {
		t.Fatalf("window [%s, %s): %v", from, to, err)
	}
	// start alone is inclusive and includes the running entry.
	onlyStart := c.walk(StreamTimeEntries, te, q("start", from), 5000)
	if len(onlyStart) != 201 {
		t.Errorf("start=%s: %d entries, want 201", from, len(onlyStart))
	}
	// A fractional start rounds up: the entry at exactly `from` is excluded by from+0.5s.
	frac := strings.TrimSuffix(from, "Z") + ".5Z"
	if n := len(c.walk(StreamTimeEntries, te, q("start", frac), 5000)); n != 200 {
		t.Errorf("start=%s: %d entries, want 200", frac, n)
	}
	c.get(te, q("start", "yesterday")).apiErr(t, 400, 3000)
	c.get(te, q("in-progress", "maybe")).apiErr(t, 400, 3000)
	running := c.get(te, q("in-progress", "true")).must(t, 200).array(t)
	if len(running) != 1 || running[0]["id"] != all[0]["id"] {
		t.Errorf("in-progress=true: %d entries", len(running))
	}

	// Account time zone: the wall clock is read in Europe/Belgrade (UTC+1 in winter), offsets ignored.
	cfg := Demo()
	cfg.AccountTimeZone = true
	sim2, c2 := startSim(t, cfg)
	if sim2.UserIDs(ent)[0] != owner {
		t.Fatalf("same seed, different ids")
	}
	st := parseInstant(t, from)
	if st.Month() < 3 || st.Month() > 10 { // ensure the known offset
		local := st.In(time.FixedZone("CET", 3600)).Format("2006-01-02T15:04:05") + "Z"
		shifted := c2.walk(StreamTimeEntries, te, q("start", local), 5000)
		if len(shifted) != 201 {
			t.Errorf("account time zone: start=%s gave %d entries, want 201", local, len(shifted))
		}
		plain := c.walk(StreamTimeEntries, te, q("start", local), 5000)
		if len(plain) == 201 {
			t.Errorf("without the switch start=%s should not match the shifted window", local)
		}
	} else {
		t.Logf("entry %s is in summer time; time-zone check uses UTC+2", from)
		local := st.In(time.FixedZone("CEST", 7200)).Format("2006-01-02T15:04:05") + "+05:00"
		if n := len(c2.walk(StreamTimeEntries, te, q("start", local), 5000)); n != 201 {
			t.Errorf("account time zone: start=%s gave %d entries, want 201", local, n)
		}
	}
}

func TestListFilters(t *testing.T) {
	sim, c := startSim(t, Demo())
	free, ent := sim.WorkspaceIDs()[0], sim.WorkspaceIDs()[1]

	// Users: default hides INACTIVE members, status=ALL shows them.
	def := ids(t, c.get("/workspaces/"+free+"/users", nil).must(t, 200).array(t))
	all := ids(t, c.get("/workspaces/"+free+"/users", q("status", "ALL")).must(t, 200).array(t))
	inactive := ids(t, c.get("/workspaces/"+free+"/users", q("status", "INACTIVE")).must(t, 200).array(t))
	if len(def) != 2 || len(all) != 3 || len(inactive) != 1 || inactive[0] != sim.UserIDs(free)[2] {
		t.Fatalf("users: default %d, ALL %d, INACTIVE %v", len(def), len(all), inactive)
	}
	// The inactive member still has time entries.
	if n := len(c.get("/workspaces/"+free+"/user/"+inactive[0]+"/time-entries", nil).must(t, 200).array(t)); n != 15 {
		t.Errorf("inactive member entries: %d, want 15", n)
	}
	c.get("/workspaces/"+free+"/users", q("status", "BOGUS")).apiErr(t, 400, 3000)
	mem := c.get("/workspaces/"+free+"/users", q("status", "ALL", "memberships", "WORKSPACE")).must(t, 200).array(t)
	if ms := mem[2]["memberships"].([]any); len(ms) != 1 || ms[0].(map[string]any)["membershipStatus"] != "INACTIVE" {
		t.Errorf("memberships of the inactive member: %v", mem[2]["memberships"])
	}

	// archived: omitted ⇒ all, true ⇒ archived only, false ⇒ active only.
	for _, tc := range []struct {
		path      string
		active, n int
	}{{"/projects", 2, 1}, {"/clients", 3, 1}, {"/tags", 4, 1}} {
		p := "/workspaces/" + free + tc.path
		a := c.get(p, nil).must(t, 200).array(t)
		tr := c.get(p, q("archived", "true")).must(t, 200).array(t)
		fa := c.get(p, q("archived", "false")).must(t, 200).array(t)
		if len(a) != tc.active+tc.n || len(tr) != tc.n || len(fa) != tc.active {
			t.Errorf("%s: all %d, archived %d, active %d", tc.path, len(a), len(tr), len(fa))
		}
		for _, r := range tr {
			if r["archived"] != true {
				t.Errorf("%s archived=true returned %v", tc.path, r)
			}
		}
		c.get(p, q("archived", "perhaps")).apiErr(t, 400, 3000)
	}

	// Policies: default ACTIVE only; ARCHIVED; ALL.
	pol := "/workspaces/" + ent + "/time-off/policies"
	if a, ar, al := len(c.get(pol, nil).must(t, 200).array(t)), len(c.get(pol, q("status", "ARCHIVED")).must(t, 200).array(t)),
		len(c.get(pol, q("status", "ALL")).must(t, 200).array(t)); a != 5 || ar != 2 || al != 7 {
		t.Errorf("policies: default %d, ARCHIVED %d, ALL %d", a, ar, al)
	}
	// Approvals: no status ⇒ every state; status filters.
	ap := "/workspaces/" + ent + "/approval-requests"
	allAp := c.get(ap, nil).must(t, 200).array(t)
	pending := c.get(ap, q("status", "PENDING")).must(t, 200).array(t)
	if len(allAp) != 12 || len(pending) == 0 || len(pending) >= len(allAp) {
		t.Errorf("approvals: all %d, pending %d", len(allAp), len(pending))
	}
	for _, r := range pending {
		if r["approvalRequest"].(map[string]any)["status"].(map[string]any)["state"] != "PENDING" {
			t.Errorf("status=PENDING returned %v", r)
		}
	}
	c.get(ap, q("status", "REJECTED")).apiErr(t, 400, 3000)
	desc := c.get(ap, q("sort-column", "UPDATED_AT", "sort-order", "DESCENDING")).must(t, 200).array(t)
	for i := 1; i < len(desc); i++ {
		a := desc[i-1]["approvalRequest"].(map[string]any)["status"].(map[string]any)["updatedAt"].(string)
		b := desc[i]["approvalRequest"].(map[string]any)["status"].(map[string]any)["updatedAt"].(string)
		if a < b {
			t.Fatalf("UPDATED_AT DESCENDING out of order: %s before %s", a, b)
		}
	}
	// Expenses ignore start/end, honour user-id.
	ex := "/workspaces/" + ent + "/expenses"
	base := c.get(ex, q("page-size", "5000")).must(t, 200)
	win := c.get(ex, q("page-size", "5000", "start", "2030-01-01T00:00:00Z", "end", "2030-01-02T00:00:00Z")).must(t, 200)
	if !bytes.Equal(base.body, win.body) {
		t.Errorf("expenses changed with start/end")
	}
	uid := sim.UserIDs(ent)[1]
	for _, r := range records(t, StreamExpenses, c.get(ex, q("user-id", uid))) {
		if r["userId"] != uid {
			t.Errorf("user-id filter returned %v", r["userId"])
		}
	}
	// Tasks: is-active.
	proj := c.get("/workspaces/"+ent+"/projects", nil).must(t, 200).array(t)[0]["id"].(string)
	tp := "/workspaces/" + ent + "/projects/" + proj + "/tasks"
	if a, d := len(c.get(tp, q("is-active", "true", "page-size", "100")).must(t, 200).array(t)),
		len(c.get(tp, q("is-active", "false", "page-size", "100")).must(t, 200).array(t)); a != 50 || d != 10 {
		t.Errorf("tasks is-active: true %d, false %d", a, d)
	}
	// Invoices statuses.
	paid := records(t, StreamInvoices, c.get("/workspaces/"+ent+"/invoices", q("statuses", "PAID")).must(t, 200))
	for _, r := range paid {
		if r["status"] != "PAID" {
			t.Errorf("statuses=PAID returned %v", r["status"])
		}
	}
	c.get("/workspaces/"+ent+"/invoices", q("statuses", "LOST")).apiErr(t, 400, 3000)
}

func TestPlanGating(t *testing.T) {
	gated := map[string]string{
		"/expenses": FeatureExpenses, "/expenses/categories": FeatureExpenses, "/invoices": FeatureInvoicing,
		"/approval-requests": FeatureApproval, "/holidays": FeatureTimeOff, "/time-off/policies": FeatureTimeOff,
		"/custom-fields": FeatureCustomFields, "POST /time-off/requests": FeatureTimeOff,
		"/scheduling/assignments/all?start=2020-01-01T00:00:00Z&end=2030-01-01T00:00:00Z": FeatureScheduling,
	}
	for _, status := range []int{0, 402} {
		cfg := Demo()
		cfg.PlanGateStatus = status
		cfg.Workspaces = append(cfg.Workspaces, WorkspaceSpec{Name: "Std", Plan: PlanStandard, Users: []UserSpec{{}}}, WorkspaceSpec{Name: "Pro", Plan: PlanPro, Users: []UserSpec{{}}})
		_, c := startSim(t, cfg)
		want := status
		if want == 0 {
			want = 403
		}
		for _, w := range c.get("/workspaces", nil).must(t, 200).array(t) {
			feats := map[string]bool{}
			for _, f := range w["features"].([]any) {
				feats[f.(string)] = true
			}
			plan := w["featureSubscriptionType"].(string)
			for path, f := range gated {
				var a answer
				if p, ok := strings.CutPrefix(path, "POST "); ok {
					a = c.post("/workspaces/"+w["id"].(string)+p, map[string]any{})
				} else {
					p, query, _ := strings.Cut(path, "?")
					qs, _ := url.ParseQuery(query)
					a = c.get("/workspaces/"+w["id"].(string)+p, qs)
				}
				if feats[f] {
					a.must(t, 200)
				} else {
					a.must(t, want)
				}
			}
			if (plan == "FREE") != (len(feats) == 0) {
				t.Errorf("plan %s with features %v", plan, feats)
			}
			if plan == "STANDARD_2021" && (feats[FeatureExpenses] || !feats[FeatureInvoicing]) {
				t.Errorf("standard features %v", feats)
			}
			// Free routes stay open.
			c.get("/workspaces/"+w["id"].(string)+"/tags", nil).must(t, 200)
		}
	}
}

func TestRateLimit(t *testing.T) {
	for _, tc := range []struct {
		empty, retry bool
	}{{false, false}, {true, false}, {false, true}} {
		cfg := Demo()
		cfg.RateLimit, cfg.Burst = 0.5, 2
		cfg.EmptyTooManyBody, cfg.RetryAfter = tc.empty, tc.retry
		sim, c := startSim(t, cfg)
		c.get("/workspaces", nil).must(t, 200)
		c.get("/user", nil).must(t, 200)
		a := c.get("/workspaces", nil).must(t, 429)
		switch {
		case tc.empty && len(a.body) != 0:
			t.Errorf("empty-body mode sent %q", a.body)
		case !tc.empty && string(a.body) != `{"message":"Too many requests","code":429}`:
			t.Errorf("429 body %q", a.body)
		}
		if got := a.header.Get("Retry-After"); (got != "") != tc.retry {
			t.Errorf("Retry-After %q with RetryAfter=%v", got, tc.retry)
		}
		// Unauthenticated requests are not charged to the key.
		c.do("GET", "/workspaces", nil, nil).must(t, 401)
		if st := sim.Stats(); st.TooMany != 1 || st.Requests != 4 || st.Routes[StreamWorkspaces] != 3 {
			t.Errorf("stats after one 429: %+v", st)
		}
	}
}

func TestChaosFaultsAreDetectable(t *testing.T) {
	cfg := Demo()
	cfg.Chaos = Chaos{Truncate: 1}
	sim, c := startSim(t, cfg)
	ws := sim.WorkspaceIDs()[1]
	a := c.get("/workspaces/"+ws+"/user/"+sim.UserIDs(ws)[0]+"/time-entries", q("page-size", "100"))
	if a.err == nil {
		if json.Valid(a.body) {
			t.Fatalf("truncated answer read completely and is valid JSON (%d bytes)", len(a.body))
		}
	} else if !errors.Is(a.err, io.ErrUnexpectedEOF) {
		t.Logf("truncation surfaced as %v", a.err)
	}
	if cl := a.header.Get("Content-Length"); a.err == nil && cl == strconv.Itoa(len(a.body)) {
		t.Fatalf("truncated body matches its Content-Length %s", cl)
	}

	cfg.Chaos = Chaos{Error5xx: 1}
	_, c = startSim(t, cfg)
	seen5xx := map[int]bool{}
	for i := 0; i < 30; i++ {
		a := c.get("/workspaces", nil)
		if a.status < 500 || a.status > 599 {
			t.Fatalf("Error5xx=1 gave status %d", a.status)
		}
		if a.status == 500 && !json.Valid(a.body) || a.status == 503 && len(a.body) != 0 {
			t.Errorf("chaos %d body %q", a.status, a.body)
		}
		seen5xx[a.status] = true
	}
	if len(seen5xx) < 2 {
		t.Errorf("30 chaos 5xx answers all had the same status: %v", seen5xx)
	}
	cfg.Chaos = Chaos{Burst429: 1, Burst429Len: 3}
	sim3, c := startSim(t, cfg)
	for i := 0; i < 4; i++ {
		c.get("/workspaces", nil).must(t, 429)
	}
	if f := sim3.Stats().ChaosFaults["burst429"]; f != 4 {
		t.Errorf("burst429 faults %d, want 4", f)
	}
	cfg.Chaos = Chaos{Slow: 1, SlowDelay: 50 * time.Millisecond}
	_, c = startSim(t, cfg)
	t0 := time.Now()
	c.get("/workspaces", nil).must(t, 200)
	if d := time.Since(t0); d < 50*time.Millisecond {
		t.Errorf("slow answer took %v", d)
	}
}

// Under mixed chaos every answer a client reads completely with 200 is byte-identical to the calm one.
func TestChaosNeverCorruptsCompleteAnswers(t *testing.T) {
	calmSim, calm := startSim(t, Demo())
	cfg := Demo()
	cfg.Chaos = Chaos{Seed: 7, Error5xx: 0.15, Truncate: 0.2, Slow: 0.05, SlowDelay: time.Millisecond, Burst429: 0.05, Burst429Len: 2}
	sim, c := startSim(t, cfg)
	ws := calmSim.WorkspaceIDs()[1]
	te := "/workspaces/" + ws + "/user/" + calmSim.UserIDs(ws)[0] + "/time-entries"
	faults, ok := 0, 0
	for i := 0; i < 200; i++ {
		qs := q("page", strconv.Itoa(i%7+1), "page-size", "40")
		want := calm.get(te, qs).must(t, 200)
		a := c.get(te, qs)
		if a.err != nil || a.status != 200 {
			faults++
			continue
		}
		ok++
		if !bytes.Equal(a.body, want.body) || a.header.Get("Last-Page") != want.header.Get("Last-Page") {
			t.Fatalf("request %d: complete 200 answer differs from the calm one", i)
		}
	}
	st := sim.Stats()
	if faults == 0 || ok == 0 || st.ChaosFaults["truncate"] == 0 || st.ChaosFaults["5xx"] == 0 {
		t.Fatalf("chaos mix: %d faults, %d ok, stats %+v", faults, ok, st.ChaosFaults)
	}
	// Seeded: a second server with the same seed makes the same decisions.
	_, c2 := startSim(t, cfg)
	_, c3 := startSim(t, cfg)
	for i := 0; i < 50; i++ {
		a, b := c2.get("/workspaces", nil), c3.get("/workspaces", nil)
		if a.status != b.status || (a.err == nil) != (b.err == nil) {
			t.Fatalf("request %d: same chaos seed, different outcome (%d/%v vs %d/%v)", i, a.status, a.err, b.status, b.err)
		}
	}
}

func TestGroundTruthMatchesFullSync(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		sizes []int
	}{
		{"demo", Demo(), []int{7, 50, 5000}},
		{"acceptance", Acceptance(), []int{200, 5000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, c := startSim(t, tc.cfg)
			truth := sim.GroundTruth()
			counts := sim.GroundTruthCounts()
			for _, p := range tc.sizes {
				c.requests.Store(0)
				sim.ResetStats()
				got, _ := c.fullSync(p)
				for _, st := range Streams {
					if err := sameMultiset(got[st], truth[st]); err != nil {
						t.Errorf("page-size %d, stream %s: %v", p, st, err)
					}
					if counts[st] != len(truth[st]) {
						t.Errorf("GroundTruthCounts[%s] %d != %d", st, counts[st], len(truth[st]))
					}
				}
				if m := sim.MinimumRequests(p); int(c.requests.Load()) != m {
					t.Errorf("page-size %d: walk made %d requests, MinimumRequests says %d", p, c.requests.Load(), m)
				}
				if st := sim.Stats(); st.Requests != c.requests.Load() || st.Statuses[200] != st.Requests {
					t.Errorf("stats count %d requests (%v), the client sent %d", st.Requests, st.Statuses, c.requests.Load())
				}
			}
			for _, st := range Streams {
				if tc.name == "demo" && len(truth[st]) == 0 {
					t.Errorf("demo: stream %s is empty", st)
				}
			}
		})
	}
}

func TestAcceptancePresetShape(t *testing.T) {
	sim := New(Acceptance())
	counts := sim.GroundTruthCounts()
	ws := sim.WorkspaceIDs()
	if len(ws) < 2 || sim.ws[0].plan == sim.ws[1].plan {
		t.Fatalf("want two workspaces on different plans")
	}
	maxEntries, exact5000, maxTasks, inactiveWithEntries := 0, false, 0, false
	for _, w := range sim.ws {
		for _, u := range sim.members(w) {
			maxEntries = max(maxEntries, u.n)
			exact5000 = exact5000 || u.n+len(u.explicit) == 5000
			inactiveWithEntries = inactiveWithEntries || (u.inactive && u.n > 0)
		}
		for _, t := range sim.taskLists(w) {
			maxTasks = max(maxTasks, len(t))
		}
	}
	if maxEntries <= 10000 || !exact5000 || maxTasks <= 5000 || !inactiveWithEntries ||
		counts[StreamPolicies] <= 200 || counts[StreamInProgress] != 1 {
		t.Errorf("acceptance preset: max entries %d, exact 5000 %v, max tasks %d, inactive with entries %v, policies %d, running %d",
			maxEntries, exact5000, maxTasks, inactiveWithEntries, counts[StreamPolicies], counts[StreamInProgress])
	}
}

func TestDeterminismBySeed(t *testing.T) {
	_, a := startSim(t, Demo())
	_, b := startSim(t, Demo())
	other := Demo()
	other.Seed = 99
	_, c := startSim(t, other)
	ga, ra := a.fullSync(50)
	gb, rb := b.fullSync(50)
	gc, _ := c.fullSync(50)
	ja, _ := json.Marshal(ra)
	jb, _ := json.Marshal(rb)
	if !bytes.Equal(ja, jb) {
		t.Fatalf("same seed, different records")
	}
	for _, st := range Streams {
		if len(ga[st]) != len(gb[st]) || len(ga[st]) != len(gc[st]) {
			t.Errorf("%s: counts differ across seeds %d/%d/%d", st, len(ga[st]), len(gb[st]), len(gc[st]))
		}
		if len(ga[st]) > 0 && sameMultiset(ga[st], gc[st]) == nil {
			t.Errorf("%s: seed 99 produced the same ids as seed 1", st)
		}
	}
	seen := map[string]string{}
	for _, st := range Streams {
		for _, id := range ga[st] {
			if !objectID.MatchString(id) {
				t.Fatalf("%s id %q is not a 24-hex ObjectId", st, id)
			}
			if prev, dup := seen[id]; dup && prev != st && !(st == StreamInProgress && prev == StreamTimeEntries) &&
				!(st == StreamWorkspaceUsers && prev == StreamUser) {
				t.Fatalf("id %s used by %s and %s", id, prev, st)
			}
			seen[id] = st
		}
	}
}

func TestAddTimeEntries(t *testing.T) {
	sim, c := startSim(t, Demo())
	ws := sim.WorkspaceIDs()[0]
	u := sim.UserIDs(ws)[0]
	te := "/workspaces/" + ws + "/user/" + u + "/time-entries"
	before := c.walk(StreamTimeEntries, te, nil, 5000)
	newest := before[0]["timeInterval"].(map[string]any)["start"].(string)
	added, err := sim.AddTimeEntries(ws, u, 3)
	if err != nil {
		t.Fatal(err)
	}
	after := c.walk(StreamTimeEntries, te, q("start", newest), 5000)
	if len(after) != 4 || after[0]["id"] != added[2] || after[2]["id"] != added[0] || after[3]["id"] != before[0]["id"] {
		t.Fatalf("after adding 3: %v", ids(t, after))
	}
	if _, err := sim.AddTimeEntries(ws, "nobody", 1); err == nil {
		t.Errorf("AddTimeEntries accepted an unknown user")
	}
	if n := sim.GroundTruthCounts()[StreamTimeEntries]; n != len(sim.GroundTruth()[StreamTimeEntries]) || n != New(Demo()).GroundTruthCounts()[StreamTimeEntries]+3 {
		t.Errorf("ground truth after adding 3: %d", n)
	}
}

func TestScaledMillion(t *testing.T) {
	sim, c := startSim(t, Scaled(1_000_000))
	counts := sim.GroundTruthCounts()
	if counts[StreamTimeEntries] != 1_000_001 { // plus one running timer
		t.Fatalf("scaled(1M): %d time entries", counts[StreamTimeEntries])
	}
	ws := sim.WorkspaceIDs()[0]
	big := sim.UserIDs(ws)[0]
	te := "/workspaces/" + ws + "/user/" + big + "/time-entries"
	// The last page of a 500,000-entry partition is served directly.
	n := sim.members(sim.ws[0])[0].n
	pages := (n + 4999) / 5000
	a := c.get(te, q("page-size", "5000", "page", strconv.Itoa(pages))).must(t, 200)
	last := a.array(t)
	if n < 500_000 || len(last) != n-5000*(pages-1) || a.header.Get("Last-Page") != "true" {
		t.Fatalf("page %d of %d entries: %d entries, Last-Page %q", pages, n, len(last), a.header.Get("Last-Page"))
	}
	oldest := last[len(last)-1]["timeInterval"].(map[string]any)["start"].(string)
	one := c.get(te, q("end", parseInstant(t, oldest).Add(time.Second).Format(time.RFC3339))).must(t, 200).array(t)
	if len(one) != 1 || one[0]["id"] != last[len(last)-1]["id"] {
		t.Fatalf("end filter just after the oldest entry: %d entries", len(one))
	}
	if m := sim.MinimumRequests(5000); m < 200 {
		t.Errorf("MinimumRequests(5000) = %d for a million entries", m)
	}
}

func TestAdminRoutes(t *testing.T) {
	sim, c := startSim(t, Demo())
	c.get("/workspaces", nil).must(t, 200)
	get := func(path string, v any) {
		resp, err := c.hc.Get(c.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var counts map[string]int
	get("/_sim/truth", &counts)
	if len(counts) != len(Streams) || counts[StreamTimeEntries] != sim.GroundTruthCounts()[StreamTimeEntries] {
		t.Errorf("truth counts %v", counts)
	}
	var idsBy map[string][]string
	get("/_sim/truth?ids=1", &idsBy)
	truth := sim.GroundTruth()
	for _, st := range Streams {
		if err := sameMultiset(idsBy[st], truth[st]); err != nil {
			t.Errorf("truth ids of %s: %v", st, err)
		}
	}
	var st Stats
	get("/_sim/stats", &st)
	if st.Requests != 1 || st.Routes[StreamWorkspaces] != 1 || len(st.Timeline) != 1 || st.Timeline[0].Requests != 1 {
		t.Errorf("stats %+v", st)
	}
	resp, err := c.hc.Post(c.base+"/_sim/reset-stats", "", nil)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("reset-stats: %v %v", resp, err)
	}
	resp.Body.Close()
	if sim.Stats().Requests != 0 {
		t.Errorf("stats not reset")
	}
	var mr map[string]int
	get("/_sim/minimum-requests?page-size=50", &mr)
	if mr["minimumRequests"] != sim.MinimumRequests(50) {
		t.Errorf("minimum-requests %v", mr)
	}
	ws, u := sim.WorkspaceIDs()[0], sim.UserIDs(sim.WorkspaceIDs()[0])[1]
	resp, err = c.hc.Post(c.base+"/_sim/time-entries?workspace="+ws+"&user="+u+"&count=2", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("add time entries: %v %v", resp, err)
	}
	resp.Body.Close()
	if n := len(c.get("/workspaces/"+ws+"/user/"+u+"/time-entries", q("page-size", "5000")).must(t, 200).array(t)); n != 80+1+2 {
		t.Errorf("after admin add: %d entries", n)
	}
}

func TestLatency(t *testing.T) {
	cfg := Demo()
	cfg.Latency = 40 * time.Millisecond
	_, c := startSim(t, cfg)
	t0 := time.Now()
	c.get("/workspaces", nil).must(t, 200)
	if d := time.Since(t0); d < 40*time.Millisecond {
		t.Errorf("request with 40ms latency took %v", d)
	}
}

// Concurrent readers and AddTimeEntries (run with -race).
func TestConcurrentServingAndMutation(t *testing.T) {
	sim, c := startSim(t, Demo())
	ws := sim.WorkspaceIDs()[1]
	u := sim.UserIDs(ws)[1]
	te := "/workspaces/" + ws + "/user/" + u + "/time-entries"
	done := make(chan error, 4)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 20; i++ {
				a := c.get(te, q("page-size", "100"))
				if a.err != nil || a.status != 200 || !json.Valid(a.body) {
					done <- errors.New("bad answer during mutation")
					return
				}
			}
			done <- nil
		}()
	}
	for i := 0; i < 20; i++ {
		if _, err := sim.AddTimeEntries(ws, u, 2); err != nil {
			t.Fatal(err)
		}
	}
	for g := 0; g < 4; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.walk(StreamTimeEntries, te, nil, 5000)); n != 250+40 {
		t.Errorf("after 40 additions: %d entries", n)
	}
}

func TestSchedulingAssignments(t *testing.T) {
	sim, c := startSim(t, Demo())
	free, ent := sim.WorkspaceIDs()[0], sim.WorkspaceIDs()[1]
	p := "/workspaces/" + ent + "/scheduling/assignments/all"
	// start and end are required.
	for _, qs := range []url.Values{nil, q("start", "2020-01-01T00:00:00Z"), q("end", "2030-01-01T00:00:00Z")} {
		if m := c.get(p, qs).apiErr(t, 400, 3000); !strings.Contains(m, "start") && !strings.Contains(m, "end") {
			t.Errorf("missing range: message %q names no parameter", m)
		}
	}
	wide := q("start", "2000-01-01T00:00:00Z", "end", "2100-01-01T00:00:00Z")
	every := c.walk(StreamAssignments, p, wide, 5000)
	if len(every) == 0 || len(every) != sim.GroundTruthCounts()[StreamAssignments] {
		t.Fatalf("%d assignments over all time, ground truth %d", len(every), sim.GroundTruthCounts()[StreamAssignments])
	}
	// An assignment is listed when its period overlaps the range, bounds included.
	a := every[0]
	period := a["period"].(map[string]any)
	start, end := period["start"].(string), period["end"].(string)
	for _, tc := range []struct {
		from, to string
		in       bool
	}{{start, start, true}, {end, end, true}, {"2000-01-01T00:00:00Z", start, true},
		{parseInstant(t, end).Add(time.Second).Format(time.RFC3339), "2100-01-01T00:00:00Z", false},
		{"2000-01-01T00:00:00Z", parseInstant(t, start).Add(-time.Second).Format(time.RFC3339), false}} {
		got := false
		for _, r := range c.walk(StreamAssignments, p, q("start", tc.from, "end", tc.to), 5000) {
			got = got || r["id"] == a["id"]
		}
		if got != tc.in {
			t.Errorf("range [%s, %s]: assignment over [%s, %s] listed %v, want %v", tc.from, tc.to, start, end, got, tc.in)
		}
	}
	// Paging by page-size, gated on SCHEDULING.
	if two := c.get(p, q("start", "2000-01-01T00:00:00Z", "end", "2100-01-01T00:00:00Z", "page-size", "2")); len(two.must(t, 200).array(t)) != 2 || two.header.Get("Last-Page") != "false" {
		t.Errorf("page of 2: Last-Page %q", two.header.Get("Last-Page"))
	}
	c.get("/workspaces/"+free+"/scheduling/assignments/all", wide).must(t, 403)
}

func TestTimeOffRequests(t *testing.T) {
	sim, c := startSim(t, Acceptance())
	ent := sim.WorkspaceIDs()[1]
	p := "/workspaces/" + ent + "/time-off/requests"
	// A read done with POST: GET is refused, the body is required.
	c.get(p, nil).apiErr(t, 405, 3000)
	c.do("POST", p, nil, map[string]string{"X-Api-Key": c.key}).apiErr(t, 400, 3000)
	var env struct {
		Count    *int             `json:"count"`
		Requests []map[string]any `json:"requests"`
	}
	first := c.post(p, map[string]any{"page": 1, "pageSize": 200}).must(t, 200)
	if err := json.Unmarshal(first.body, &env); err != nil || env.Count == nil || len(env.Requests) != 200 {
		t.Fatalf("{count, requests} envelope: %v, %.200s", err, first.body)
	}
	total := *env.Count
	if total <= 400 || total != sim.GroundTruthCounts()[StreamTimeOffRequests] || first.header.Get("Last-Page") != "" {
		t.Fatalf("count %d (truth %d), Last-Page %q; the acceptance preset needs more than two pages of 200",
			total, sim.GroundTruthCounts()[StreamTimeOffRequests], first.header.Get("Last-Page"))
	}
	// Pages are 1-based, pageSize ≤ 200, page ≤ 1000; the last page is short.
	last := c.post(p, map[string]any{"page": (total + 199) / 200, "pageSize": 200}).must(t, 200)
	json.Unmarshal(last.body, &env)
	if len(env.Requests) != total-200*((total-1)/200) {
		t.Errorf("last page holds %d of %d", len(env.Requests), total)
	}
	for _, body := range []map[string]any{{"pageSize": 201}, {"pageSize": 0}, {"page": 0}, {"page": 1001}, {"page": "x"}, {"statuses": []string{"LOST"}}} {
		c.post(p, body).apiErr(t, 400, 3000)
	}
	// statuses filter; ALL is every request.
	counts := map[string]int{}
	for _, st := range []string{"PENDING", "APPROVED", "REJECTED", "ALL"} {
		a := c.post(p, map[string]any{"statuses": []string{st}, "pageSize": 1}).must(t, 200)
		json.Unmarshal(a.body, &env)
		counts[st] = *env.Count
		for _, r := range env.Requests {
			if st != "ALL" && r["status"].(map[string]any)["statusType"] != st {
				t.Errorf("statuses=[%s] returned %v", st, r["status"])
			}
		}
	}
	if counts["PENDING"]+counts["APPROVED"]+counts["REJECTED"] != total || counts["ALL"] != total || counts["PENDING"] == 0 {
		t.Errorf("status counts %v, total %d", counts, total)
	}
	// start/end bound createdAt.
	a := c.post(p, map[string]any{"start": "2025-12-01T00:00:00Z", "end": "2025-12-31T23:59:59Z", "pageSize": 200}).must(t, 200)
	json.Unmarshal(a.body, &env)
	if *env.Count == 0 || *env.Count >= total {
		t.Errorf("December requests: %d of %d", *env.Count, total)
	}
	for _, r := range env.Requests {
		if at := parseInstant(t, r["createdAt"]); at.Before(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)) || at.After(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("request created %s outside December", at)
		}
	}
	c.post("/workspaces/"+sim.WorkspaceIDs()[0]+"/time-off/requests", map[string]any{}).must(t, 403)
}
