package clockifysim

import "github.com/clockberg/clockberg/source/streams"

// Stream and feature names the tests use; non-test code names a stream only at its generator.
const (
	StreamWorkspaces        = "workspaces"
	StreamUser              = "user"
	StreamWorkspaceUsers    = "workspace_users"
	StreamTimeEntries       = "time_entries"
	StreamInProgress        = "time_entries_in_progress"
	StreamExpenses          = "expenses"
	StreamExpenseCategories = "expense_categories"
	StreamInvoices          = "invoices"
	StreamApprovalRequests  = "approval_requests"
	StreamPolicies          = "policies"
	StreamAssignments       = "scheduling_assignments"
	StreamTimeOffRequests   = "time_off_requests"

	FeatureApproval     = "APPROVAL"
	FeatureInvoicing    = "INVOICING"
	FeatureTimeOff      = "TIME_OFF"
	FeatureExpenses     = "EXPENSES"
	FeatureCustomFields = "CUSTOM_FIELDS"
	FeatureScheduling   = "SCHEDULING"

	InProgressMaxPageSize = 1000
	PoliciesMaxPageSize   = 200
)

var Streams = streamNames()

func streamNames() []string { return streams.Names() }
