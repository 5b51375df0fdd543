package clockifysim

import "fmt"

var _ = register("tasks", &generator{
	build: func(s *Server, w *workspace) { s.taskLists(w) },
	records: func(s *Server, w *workspace, params map[string]string) (recordSet, *apiError) {
		pi, ok := s.projectList(w).index[params["projectId"]]
		if !ok {
			return nil, errf(400, 501, "Project doesn't belong to Workspace")
		}
		return all(s.taskLists(w)[pi]), nil
	},
	// is-active omitted ⇒ all tasks; true ⇒ ACTIVE only; false ⇒ DONE only.
	filter: func(_ *Server, _ *workspace, set recordSet, req *request) (recordSet, *apiError) {
		a, present, err := parseBool(req.query, "is-active")
		if err != nil || !present {
			return set, err
		}
		return set.(itemSet).filter(func(it *item) bool { return (it.status == "ACTIVE") == a }), nil
	},
})

// List rows have no workspaceId.
type taskJSON struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	ProjectID      string    `json:"projectId"`
	AssigneeID     string    `json:"assigneeId"`
	AssigneeIDs    []string  `json:"assigneeIds"`
	UserGroupIDs   []string  `json:"userGroupIds"`
	Estimate       string    `json:"estimate"`
	Duration       string    `json:"duration"`
	Status         string    `json:"status"`
	Billable       bool      `json:"billable"`
	BudgetEstimate int64     `json:"budgetEstimate"`
	HourlyRate     *rateJSON `json:"hourlyRate"`
	CostRate       *rateJSON `json:"costRate"`
}

type tasksKey struct{}

// taskLists are the tasks of each project, by the project's position.
func (s *Server) taskLists(w *workspace) [][]item {
	return memo(w, tasksKey{}, func() [][]item {
		projects := s.projectList(w)
		ms := s.members(w)
		out := make([][]item, len(w.spec.Projects))
		for pi, ps := range w.spec.Projects {
			owner := uint32(w.idx)<<16 | uint32(pi)
			for ti := 0; ti < ps.Tasks; ti++ {
				th := hash(s.seed, uint64(kindTask), uint64(owner), uint64(ti), 0)
				tid := oid(s.mask, kindTask, owner, uint32(ti), createdBase+int64(pi)*7001+int64(ti)*61)
				status := "ACTIVE"
				if ti < ps.DoneTask {
					status = "DONE"
				}
				assignees, assignee := []string{}, ""
				if th%3 == 0 {
					u := ms[int(th>>8%uint64(len(ms)))]
					assignees, assignee = []string{u.id}, u.id
				}
				var cost *rateJSON
				if th>>16%4 == 0 {
					cost = &rateJSON{Amount: int64(th>>20%50) * 100, Currency: "USD"}
				}
				out[pi] = append(out[pi], item{id: tid, status: status, json: mustJSON(taskJSON{ID: tid,
					Name: fmt.Sprintf("%s task %d", pick(words, th>>24), ti+1), ProjectID: projects.items[pi].id, AssigneeID: assignee,
					AssigneeIDs: assignees, UserGroupIDs: []string{}, Estimate: "PT0S", Duration: "PT0S", Status: status,
					Billable: th>>28%2 == 0, BudgetEstimate: 0,
					HourlyRate: &rateJSON{Amount: int64(th>>32%300) * 100, Currency: "USD"}, CostRate: cost})})
			}
		}
		return out
	})
}
