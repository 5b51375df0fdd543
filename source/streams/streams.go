// Package streams is the registry of Clockify streams: one row per stream says everything needed
// to read it (route, parent relation, method and body, paging, record selector, key, cursor,
// plan gating, id copying, parent keys). The source engine walks the registry without naming any
// stream, the simulator serves its routes and derives its ground truth and request minimum from
// it, and package schemas holds one JSON Schema per registry name.
//
// Adding a stream is one row here, one schema file in schemas/, one generator in the simulator
// and one example fixture.
package streams

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Stream is one row of the registry.
type Stream struct {
	Name string
	// Method is how a page is asked for; "" means GET. A POST read sends Body (plus the paging
	// fields for BodyPages) as JSON.
	Method string
	// Path is relative to /api/v1. Its {param}s are the partition's path parameters: Parent.Param
	// of this stream and of every ancestor.
	Path string
	// Parent is nil for a root stream (one partition for the whole API key).
	Parent *Parent
	// Query and Body are sent with every request.
	Query url.Values
	Body  map[string]any

	Paging Paging
	// Records is the path of the record list inside an envelope; nil means the body is the list.
	Records []string
	// Single says the body is one record (an object), not a list.
	Single bool

	Key    [][]string // source-defined primary key
	Cursor []string   // non-nil: incremental on this field (its newest value per partition)
	// Range names the query parameters that bound records by their cursor, for incremental
	// reads and required windows; nil: the endpoint has none.
	Range *Range

	// Gate is the workspace feature and plan the stream needs; nil: every plan has it. A
	// workspace without them is skipped without a request.
	Gate *Gate
	// IDFrom copies a nested id to the top-level "id" (a record that wraps its object).
	IDFrom []string
	// ParentKeys are path parameters added to each record lacking them, as fields of the same
	// name (records of a workspace's list rarely repeat the workspace id).
	ParentKeys []string

	// PlanFields says the records carry the plan that gates their descendants.
	PlanFields *PlanFields
	// Selectable says the config's workspace ids choose which records are read and fanned out.
	Selectable bool
}

// Parent is where a stream's partitions come from: one per record of Stream, whose Field fills
// the path parameter Param.
type Parent struct {
	Stream string
	Field  string
	Param  string
}

// PagingKind is how an endpoint splits its result.
type PagingKind int

const (
	Unpaged    PagingKind = iota // one request returns everything (paging parameters ignored)
	QueryPages                   // page and page size in the query string, Last-Page header
	BodyPages                    // page and page size in the JSON body of a POST
)

// Paging describes an endpoint's pages.
type Paging struct {
	Kind       PagingKind
	Page, Size string // parameter (or body field) names
	First      int    // number of the first page
	Default    int    // page size when none is sent
	Max        int    // largest page size accepted
	MaxPage    int    // largest page number accepted; 0: no limit
	// Total is the path of a total record count in the envelope, which ends paging once
	// reached; nil: paging ends at a short page or Last-Page.
	Total []string
}

// Range is a pair of query parameters bounding records by their cursor field.
type Range struct {
	Start, End string
	// Required: the endpoint refuses a request without both, so every read sends a window:
	// from start_date, the cursor or From, to now plus Ahead.
	Required bool
	From     time.Time
	Ahead    time.Duration
}

// Gate is a workspace feature (as listed in the workspace's features) and the lowest plan
// that offers it.
type Gate struct {
	Feature string
	Plan    Plan
}

// PlanFields names the fields of a record that carry a workspace's plan.
type PlanFields struct {
	Subscription string // e.g. featureSubscriptionType: PRO_2021
	Features     string // e.g. features: ["TIME_OFF", …]
}

// Plan is a Clockify subscription tier, in Clockify's order.
type Plan int

const (
	Free Plan = iota
	Basic
	Standard
	Pro
	Enterprise
)

var planNames = [...]string{"Free", "Basic", "Standard", "Pro", "Enterprise"}

func (p Plan) String() string {
	if p < 0 || int(p) >= len(planNames) {
		return "unknown"
	}
	return planNames[p]
}

// ParsePlan reads a featureSubscriptionType such as STANDARD_2021 or PRO_YEAR_2021; TRIAL
// workspaces have every feature.
func ParsePlan(subscription string) (Plan, bool) {
	s := strings.ToUpper(subscription)
	for _, p := range []struct {
		prefix string
		plan   Plan
	}{{"FREE", Free}, {"BASIC", Basic}, {"STANDARD", Standard}, {"PRO", Pro}, {"ENTERPRISE", Enterprise}, {"TRIAL", Enterprise}} {
		if strings.HasPrefix(s, p.prefix) {
			return p.plan, true
		}
	}
	return 0, false
}

// Paging of most list endpoints: page from 1, page-size up to 5000, Last-Page header.
func pages(def, maxSize int) Paging {
	return Paging{Kind: QueryPages, Page: "page", Size: "page-size", First: 1, Default: def, Max: maxSize}
}

var (
	idKey          = [][]string{{"id"}}
	workspaceIDKey = [][]string{{"workspaceId"}, {"id"}}
	inWorkspace    = []string{"workspaceId"}
)

// perWorkspace is the parent of every stream listed per workspace.
func perWorkspace() *Parent {
	return &Parent{Stream: "workspaces", Field: "id", Param: "workspaceId"}
}

// All is the registry, in discover order.
var All = []*Stream{
	// The workspaces the key sees root every other list, and carry the plan that gates them.
	{Name: "workspaces", Path: "/workspaces", Key: idKey,
		PlanFields: &PlanFields{Subscription: "featureSubscriptionType", Features: "features"}, Selectable: true},
	{Name: "user", Path: "/user", Single: true, Key: idKey},
	// status=ALL keeps inactive members, whose time entries would otherwise be lost;
	// memberships defaults to NONE, which would send every member with memberships [].
	// A person who belongs to two workspaces is one record per workspace with the same id, so
	// the key includes the workspace; keyed by id alone, deduplication would drop memberships.
	{Name: "workspace_users", Path: "/workspaces/{workspaceId}/users", Parent: perWorkspace(), Paging: pages(50, 5000),
		Query: url.Values{"status": {"ALL"}, "memberships": {"ALL"}}, Key: workspaceIDKey, ParentKeys: inWorkspace},
	// Without includeTeamManagers the teamManagers list comes back empty.
	{Name: "groups", Path: "/workspaces/{workspaceId}/user-groups", Parent: perWorkspace(), Paging: pages(50, 5000),
		Query: url.Values{"includeTeamManagers": {"true"}}, Key: idKey, ParentKeys: inWorkspace},
	// Without an archived filter Clockify returns archived and active projects, clients and tags.
	{Name: "projects", Path: "/workspaces/{workspaceId}/projects", Parent: perWorkspace(), Paging: pages(50, 5000),
		Key: idKey, ParentKeys: inWorkspace},
	{Name: "clients", Path: "/workspaces/{workspaceId}/clients", Parent: perWorkspace(), Paging: pages(50, 5000),
		Key: idKey, ParentKeys: inWorkspace},
	{Name: "tags", Path: "/workspaces/{workspaceId}/tags", Parent: perWorkspace(), Paging: pages(50, 5000),
		Key: idKey, ParentKeys: inWorkspace},
	{Name: "tasks", Path: "/workspaces/{workspaceId}/projects/{projectId}/tasks", Paging: pages(50, 5000),
		Parent: &Parent{Stream: "projects", Field: "id", Param: "projectId"},
		Key:    idKey, ParentKeys: []string{"workspaceId", "projectId"}},
	// Newest first; start/end filter on timeInterval.start, read as wall clock in the account's
	// time zone.
	{Name: "time_entries", Path: "/workspaces/{workspaceId}/user/{userId}/time-entries", Paging: pages(50, 5000),
		Parent: &Parent{Stream: "workspace_users", Field: "id", Param: "userId"},
		Key:    idKey, Cursor: []string{"timeInterval", "start"}, Range: &Range{Start: "start", End: "end"},
		ParentKeys: []string{"workspaceId", "userId"}},
	{Name: "time_entries_in_progress", Path: "/workspaces/{workspaceId}/time-entries/status/in-progress", Parent: perWorkspace(),
		Paging: pages(10, 1000), Key: idKey, ParentKeys: inWorkspace},
	{Name: "expenses", Path: "/workspaces/{workspaceId}/expenses", Parent: perWorkspace(), Paging: pages(50, 5000),
		Records: []string{"expenses", "expenses"}, Key: idKey, Gate: &Gate{"EXPENSES", Pro}, ParentKeys: inWorkspace},
	{Name: "expense_categories", Path: "/workspaces/{workspaceId}/expenses/categories", Parent: perWorkspace(), Paging: pages(50, 5000),
		Records: []string{"categories"}, Key: idKey, Gate: &Gate{"EXPENSES", Pro}, ParentKeys: inWorkspace},
	{Name: "invoices", Path: "/workspaces/{workspaceId}/invoices", Parent: perWorkspace(), Paging: pages(50, 5000),
		Records: []string{"invoices"}, Key: idKey, Gate: &Gate{"INVOICING", Standard}, ParentKeys: inWorkspace},
	// Each record wraps the request object; its id is copied to the top level.
	{Name: "approval_requests", Path: "/workspaces/{workspaceId}/approval-requests", Parent: perWorkspace(), Paging: pages(50, 5000),
		Key: idKey, Gate: &Gate{"APPROVAL", Standard}, IDFrom: []string{"approvalRequest", "id"}, ParentKeys: inWorkspace},
	{Name: "holidays", Path: "/workspaces/{workspaceId}/holidays", Parent: perWorkspace(),
		Key: idKey, Gate: &Gate{"TIME_OFF", Standard}, ParentKeys: inWorkspace},
	{Name: "custom_fields", Path: "/workspaces/{workspaceId}/custom-fields", Parent: perWorkspace(),
		Key: idKey, Gate: &Gate{"CUSTOM_FIELDS", Pro}, ParentKeys: inWorkspace},
	{Name: "policies", Path: "/workspaces/{workspaceId}/time-off/policies", Parent: perWorkspace(),
		Paging: Paging{Kind: QueryPages, Page: "page", Size: "page-size", First: 1, Default: 50, Max: 200, MaxPage: 1000},
		Query:  url.Values{"status": {"ALL"}}, Key: idKey, Gate: &Gate{"TIME_OFF", Standard}, ParentKeys: inWorkspace},
	// start and end are required; an assignment is listed when its period overlaps them. The
	// OpenAPI gives no page-size cap; 5000 is Clockify's usual one. Incremental by period.start:
	// a read goes back the lookback window from the last read and a year ahead, since plans
	// are made and changed for the weeks to come.
	{Name: "scheduling_assignments", Path: "/workspaces/{workspaceId}/scheduling/assignments/all", Parent: perWorkspace(),
		Paging: pages(50, 5000), Key: idKey, Cursor: []string{"period", "start"},
		Range: &Range{Start: "start", End: "end", Required: true, From: time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC), Ahead: 366 * 24 * time.Hour},
		Gate:  &Gate{"SCHEDULING", Pro}, ParentKeys: inWorkspace},
	// A read done with POST: the filters and the paging travel in the JSON body, the answer is
	// {count, requests}. statuses ALL, since the default set is undocumented; without start
	// and end (creation time) every request is listed.
	{Name: "time_off_requests", Method: http.MethodPost, Path: "/workspaces/{workspaceId}/time-off/requests", Parent: perWorkspace(),
		Body:    map[string]any{"statuses": []string{"ALL"}},
		Paging:  Paging{Kind: BodyPages, Page: "page", Size: "pageSize", First: 1, Default: 50, Max: 200, MaxPage: 1000, Total: []string{"count"}},
		Records: []string{"requests"}, Key: idKey, Gate: &Gate{"TIME_OFF", Standard}, ParentKeys: inWorkspace},
}

var byName = func() map[string]*Stream {
	m := make(map[string]*Stream, len(All))
	for _, s := range All {
		m[s.Name] = s
	}
	return m
}()

// ByName returns the row of a stream, or nil.
func ByName(name string) *Stream { return byName[name] }

// Names returns the stream names in registry order.
func Names() []string {
	out := make([]string, len(All))
	for i, s := range All {
		out[i] = s.Name
	}
	return out
}

// WorkspaceList is the row whose records are the workspaces the key sees (the Selectable root):
// check lists it to prove the URL, the key and the configured workspaces.
func WorkspaceList() *Stream {
	for _, s := range All {
		if s.Selectable {
			return s
		}
	}
	return nil
}

// ParentStream is the row of the stream whose records make this one's partitions, or nil.
func (s *Stream) ParentStream() *Stream {
	if s.Parent == nil {
		return nil
	}
	return byName[s.Parent.Stream]
}

// Chain is the stream's ancestors from the root down, then the stream itself.
func (s *Stream) Chain() []*Stream {
	var out []*Stream
	for x := s; x != nil; x = x.ParentStream() {
		out = append(out, x)
	}
	slices.Reverse(out)
	return out
}

// HTTPMethod is Method with the GET default.
func (s *Stream) HTTPMethod() string {
	if s.Method == "" {
		return http.MethodGet
	}
	return s.Method
}

// Features lists, sorted and without repeats, the features of the streams a plan offers.
func Features(p Plan) []string {
	out := []string{}
	for _, s := range All {
		if s.Gate != nil && s.Gate.Plan <= p && !slices.Contains(out, s.Gate.Feature) {
			out = append(out, s.Gate.Feature)
		}
	}
	slices.Sort(out)
	return out
}
