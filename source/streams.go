package source

import "net/url"

// paging is how an endpoint splits its result.
type paging int

const (
	unpaged paging = iota // one request returns everything (params ignored by Clockify)
	paged                 // page=1,2,… with page-size ≤ cap
)

// parent says what a stream's partitions hang from.
type parent int

const (
	rootLevel      parent = iota // one partition for the whole key (/workspaces, /user)
	workspaceLevel               // one partition per workspace
	projectLevel                 // one partition per project of a workspace
	userLevel                    // one partition per workspace member
)

// body is the shape of a response.
type body int

const (
	bareArray body = iota
	singleObject
	envelope // records sit under streamDef.records inside an object
)

// Plan tiers in Clockify's order; a workspace on tier t can use every stream whose minPlan ≤ t.
const (
	planFree = iota
	planBasic
	planStandard
	planPro
	planEnterprise
)

// streamDef is one row of the stream table: everything the engine needs to read a stream.
// Adding a stream means adding one row here and one schema file in schemas/.
type streamDef struct {
	name    string
	path    string // relative to /api/v1; {ws}, {project}, {user} are filled from the partition
	parent  parent
	paging  paging
	pageCap int // largest page-size the endpoint accepts
	body    body
	records []string // records path inside an envelope
	query   url.Values

	primaryKey [][]string
	cursor     []string // non-nil: the stream supports incremental on this field

	// Plan gating: the workspace feature that enables the stream ("" = none) and the lowest
	// plan that has it. A workspace lacking either is skipped without a request.
	feature string
	minPlan int

	// idFrom copies a nested id to the top-level "id" (approval requests wrap their object).
	idFrom []string
	// parentKeys are the parent ids added to records lacking them: workspaceId, projectId, userId.
	parentKeys []string
}

// Stream names in the order of discover and of the stream table.
const (
	sWorkspaces        = "workspaces"
	sUser              = "user"
	sWorkspaceUsers    = "workspace_users"
	sGroups            = "groups"
	sProjects          = "projects"
	sClients           = "clients"
	sTags              = "tags"
	sTasks             = "tasks"
	sTimeEntries       = "time_entries"
	sTimeEntriesActive = "time_entries_in_progress"
	sExpenses          = "expenses"
	sExpenseCategories = "expense_categories"
	sInvoices          = "invoices"
	sApprovalRequests  = "approval_requests"
	sHolidays          = "holidays"
	sCustomFields      = "custom_fields"
	sPolicies          = "policies"
)

var (
	idKey          = [][]string{{"id"}}
	workspaceIDKey = [][]string{{"workspaceId"}, {"id"}}
)

// streamTable is the single definition of the 17 streams (clockify-api.md §5, §10).
var streamTable = []*streamDef{
	{name: sWorkspaces, path: "/workspaces", parent: rootLevel, paging: unpaged, body: bareArray, primaryKey: idKey},
	{name: sUser, path: "/user", parent: rootLevel, paging: unpaged, body: singleObject, primaryKey: idKey},
	// status=ALL keeps inactive members, whose time entries would otherwise be lost;
	// memberships defaults to NONE, which would send every member with memberships [].
	// A person who belongs to two workspaces is one record per workspace with the same id, so
	// the key includes the workspace; keyed by id alone, deduplication would drop memberships.
	{name: sWorkspaceUsers, path: "/workspaces/{ws}/users", parent: workspaceLevel, paging: paged, pageCap: 5000, body: bareArray,
		query: url.Values{"status": {"ALL"}, "memberships": {"ALL"}}, primaryKey: workspaceIDKey, parentKeys: []string{"workspaceId"}},
	// Without includeTeamManagers the teamManagers list comes back empty.
	{name: sGroups, path: "/workspaces/{ws}/user-groups", parent: workspaceLevel, paging: paged, pageCap: 5000, body: bareArray,
		query: url.Values{"includeTeamManagers": {"true"}}, primaryKey: idKey, parentKeys: []string{"workspaceId"}},
	// Without an archived filter Clockify returns archived and active projects, clients and tags.
	{name: sProjects, path: "/workspaces/{ws}/projects", parent: workspaceLevel, paging: paged, pageCap: 5000, body: bareArray,
		primaryKey: idKey, parentKeys: []string{"workspaceId"}},
	{name: sClients, path: "/workspaces/{ws}/clients", parent: workspaceLevel, paging: paged, pageCap: 5000, body: bareArray,
		primaryKey: idKey, parentKeys: []string{"workspaceId"}},
	{name: sTags, path: "/workspaces/{ws}/tags", parent: workspaceLevel, paging: paged, pageCap: 5000, body: bareArray,
		primaryKey: idKey, parentKeys: []string{"workspaceId"}},
	{name: sTasks, path: "/workspaces/{ws}/projects/{project}/tasks", parent: projectLevel, paging: paged, pageCap: 5000, body: bareArray,
		primaryKey: idKey, parentKeys: []string{"workspaceId", "projectId"}},
	{name: sTimeEntries, path: "/workspaces/{ws}/user/{user}/time-entries", parent: userLevel, paging: paged, pageCap: 5000, body: bareArray,
		primaryKey: idKey, cursor: []string{"timeInterval", "start"}, parentKeys: []string{"workspaceId", "userId"}},
	{name: sTimeEntriesActive, path: "/workspaces/{ws}/time-entries/status/in-progress", parent: workspaceLevel, paging: paged, pageCap: 1000, body: bareArray,
		primaryKey: idKey, parentKeys: []string{"workspaceId"}},
	{name: sExpenses, path: "/workspaces/{ws}/expenses", parent: workspaceLevel, paging: paged, pageCap: 5000, body: envelope, records: []string{"expenses", "expenses"},
		primaryKey: idKey, feature: "EXPENSES", minPlan: planPro, parentKeys: []string{"workspaceId"}},
	{name: sExpenseCategories, path: "/workspaces/{ws}/expenses/categories", parent: workspaceLevel, paging: paged, pageCap: 5000, body: envelope, records: []string{"categories"},
		primaryKey: idKey, feature: "EXPENSES", minPlan: planPro, parentKeys: []string{"workspaceId"}},
	{name: sInvoices, path: "/workspaces/{ws}/invoices", parent: workspaceLevel, paging: paged, pageCap: 5000, body: envelope, records: []string{"invoices"},
		primaryKey: idKey, feature: "INVOICING", minPlan: planStandard, parentKeys: []string{"workspaceId"}},
	{name: sApprovalRequests, path: "/workspaces/{ws}/approval-requests", parent: workspaceLevel, paging: paged, pageCap: 5000, body: bareArray,
		primaryKey: idKey, feature: "APPROVAL", minPlan: planStandard, idFrom: []string{"approvalRequest", "id"}, parentKeys: []string{"workspaceId"}},
	{name: sHolidays, path: "/workspaces/{ws}/holidays", parent: workspaceLevel, paging: unpaged, body: bareArray,
		primaryKey: idKey, feature: "TIME_OFF", minPlan: planStandard, parentKeys: []string{"workspaceId"}},
	{name: sCustomFields, path: "/workspaces/{ws}/custom-fields", parent: workspaceLevel, paging: unpaged, body: bareArray,
		primaryKey: idKey, feature: "CUSTOM_FIELDS", minPlan: planPro, parentKeys: []string{"workspaceId"}},
	{name: sPolicies, path: "/workspaces/{ws}/time-off/policies", parent: workspaceLevel, paging: paged, pageCap: 200, body: bareArray,
		query: url.Values{"status": {"ALL"}}, primaryKey: idKey, feature: "TIME_OFF", minPlan: planStandard, parentKeys: []string{"workspaceId"}},
}

var streamByName = func() map[string]*streamDef {
	m := make(map[string]*streamDef, len(streamTable))
	for _, d := range streamTable {
		m[d.name] = d
	}
	return m
}()

// parentStream is the stream whose records create this stream's partitions.
func (d *streamDef) parentStream() *streamDef {
	switch d.parent {
	case projectLevel:
		return streamByName[sProjects]
	case userLevel:
		return streamByName[sWorkspaceUsers]
	}
	return nil
}

// pageSizes are the sizes to fall back to when Clockify rejects a page size it documents.
var pageSizes = []int{5000, 1000, 200}

// smallerPageSize returns the next size below cur that divides it, so that the offset reached
// so far maps to a whole page of the new size; 0 when there is none.
func smallerPageSize(cur int) int {
	for _, s := range pageSizes {
		if s < cur && cur%s == 0 {
			return s
		}
	}
	for _, s := range pageSizes {
		if s < cur {
			return s
		}
	}
	return 0
}
