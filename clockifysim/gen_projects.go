package clockifysim

import "fmt"

var _ = register("projects", &generator{
	build: func(s *Server, w *workspace) { s.projectList(w) },
	records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
		return all(s.projectList(w).items), nil
	},
	filter: archivedFilter,
})

type estimateJSON struct {
	Estimate string `json:"estimate"`
	Type     string `json:"type"`
}

type timeEstimateJSON struct {
	Estimate           string  `json:"estimate"`
	Type               string  `json:"type"`
	ResetOption        *string `json:"resetOption"`
	Active             bool    `json:"active"`
	IncludeNonBillable bool    `json:"includeNonBillable"`
}

type budgetEstimateJSON struct {
	Estimate        int64   `json:"estimate"`
	Type            string  `json:"type"`
	ResetOption     *string `json:"resetOption"`
	Active          bool    `json:"active"`
	IncludeExpenses bool    `json:"includeExpenses"`
}

type projectJSON struct {
	ID             string              `json:"id"`
	Name           string              `json:"name"`
	ClientID       string              `json:"clientId"`
	ClientName     string              `json:"clientName"`
	WorkspaceID    string              `json:"workspaceId"`
	Color          string              `json:"color"`
	Archived       bool                `json:"archived"`
	Billable       bool                `json:"billable"`
	Public         bool                `json:"public"`
	Template       bool                `json:"template"`
	Note           string              `json:"note"`
	Duration       string              `json:"duration"`
	HourlyRate     *rateJSON           `json:"hourlyRate"`
	CostRate       *rateJSON           `json:"costRate"`
	Estimate       estimateJSON        `json:"estimate"`
	TimeEstimate   timeEstimateJSON    `json:"timeEstimate"`
	BudgetEstimate *budgetEstimateJSON `json:"budgetEstimate"`
	EstimateReset  any                 `json:"estimateReset"`
	Memberships    []membershipJSON    `json:"memberships"`
}

// projectRefs are a workspace's projects: their records, their fields other records repeat, and
// their positions by id.
type projectRefs struct {
	items []item
	meta  []projectJSON
	index map[string]int
}

type projectsKey struct{}

func (s *Server) projectList(w *workspace) projectRefs {
	return memo(w, projectsKey{}, func() projectRefs {
		clients := s.clientList(w)
		out := projectRefs{index: map[string]int{}}
		for pi, ps := range w.spec.Projects {
			h := hash(s.seed, uint64(kindProject), uint64(w.idx), uint64(pi), 0)
			id := oid(s.mask, kindProject, uint32(w.idx), uint32(pi), createdBase+int64(pi)*7001)
			p := projectJSON{ID: id, Name: fmt.Sprintf("%s project %d", pick(words, h), pi+1), WorkspaceID: w.id,
				Color: pick(colors, h>>8), Archived: ps.Archived, Billable: h>>16%2 == 0, Public: true, Note: "",
				Duration: "PT0S", HourlyRate: &rateJSON{Amount: int64(h>>20%100) * 100, Currency: "USD"},
				Estimate:     estimateJSON{Estimate: "PT0S", Type: "AUTO"},
				TimeEstimate: timeEstimateJSON{Estimate: "PT0S", Type: "AUTO", IncludeNonBillable: true},
				Memberships:  []membershipJSON{}}
			if n := len(clients.items); n > 0 && h>>24%4 != 0 {
				c := int(h >> 28 % uint64(n))
				p.ClientID, p.ClientName = clients.items[c].id, clients.names[c]
			}
			if h>>32%3 == 0 {
				p.BudgetEstimate = &budgetEstimateJSON{Estimate: int64(h>>36%1000) * 60000, Type: "MANUAL",
					ResetOption: strp("MONTHLY"), Active: true, IncludeExpenses: false}
			}
			out.index[id] = pi
			out.meta = append(out.meta, p)
			out.items = append(out.items, item{id: id, archived: ps.Archived, json: mustJSON(p)})
		}
		return out
	})
}
