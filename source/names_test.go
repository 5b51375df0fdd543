package source

// Stream names the tests use; non-test code names no stream (the registry does).
const (
	sWorkspaces     = "workspaces"
	sWorkspaceUsers = "workspace_users"
	sProjects       = "projects"
	sTags           = "tags"
	sClients        = "clients"
	sTasks          = "tasks"
	sTimeEntries    = "time_entries"
)
