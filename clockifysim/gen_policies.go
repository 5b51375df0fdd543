package clockifysim

import (
	"fmt"

	"github.com/clockberg/clockberg/source/streams"
)

var policiesRow *streams.Stream

func init() {
	policiesRow = register("policies", &generator{
		build: func(s *Server, w *workspace) { s.policyList(w) },
		records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
			return all(s.policyList(w)), nil
		},
		// status defaults to ACTIVE; ARCHIVED and ALL as named.
		filter: func(_ *Server, _ *workspace, set recordSet, req *request) (recordSet, *apiError) {
			status, err := oneOf(req.query, "status", "ACTIVE", "ACTIVE", "ARCHIVED", "ALL")
			if err != nil || status == "ALL" {
				return set, err
			}
			return set.(itemSet).filter(func(it *item) bool { return it.status == status }), nil
		},
	})
}

type policyApproveJSON struct {
	RequiresApproval bool     `json:"requiresApproval"`
	SpecificMembers  bool     `json:"specificMembers"`
	TeamManagers     bool     `json:"teamManagers"`
	UserIDs          []string `json:"userIds"`
}

type accrualJSON struct {
	Amount   float64 `json:"amount"`
	Period   string  `json:"period"`
	TimeUnit string  `json:"timeUnit"`
}

type defaultEntitiesJSON struct {
	ProjectID *string `json:"projectId"`
	TaskID    *string `json:"taskId"`
}

type autoTimeEntryJSON struct {
	Enabled         bool                `json:"enabled"`
	DefaultEntities defaultEntitiesJSON `json:"defaultEntities"`
}

type negativeBalanceJSON struct {
	Amount      float64 `json:"amount"`
	Period      string  `json:"period"`
	TimeUnit    string  `json:"timeUnit"`
	ShouldReset bool    `json:"shouldReset"`
}

type policyJSON struct {
	ID                         string               `json:"id"`
	WorkspaceID                string               `json:"workspaceId"`
	Name                       string               `json:"name"`
	TimeUnit                   string               `json:"timeUnit"`
	AllowHalfDay               bool                 `json:"allowHalfDay"`
	AllowNegativeBalance       bool                 `json:"allowNegativeBalance"`
	Archived                   bool                 `json:"archived"`
	Approve                    policyApproveJSON    `json:"approve"`
	AutomaticAccrual           *accrualJSON         `json:"automaticAccrual"`
	AutomaticTimeEntryCreation autoTimeEntryJSON    `json:"automaticTimeEntryCreation"`
	NegativeBalance            *negativeBalanceJSON `json:"negativeBalance"`
	EveryoneIncludingNew       bool                 `json:"everyoneIncludingNew"`
	UserIDs                    []string             `json:"userIds"`
	UserGroupIDs               []string             `json:"userGroupIds"`
	ProjectID                  *string              `json:"projectId"`
	Color                      string               `json:"color"`
	Icon                       string               `json:"icon"`
}

type policiesKey struct{}

// policyList are the workspace's time-off policies; an item's status is ACTIVE or ARCHIVED and
// its json carries name and time unit for the records that refer to it.
func (s *Server) policyList(w *workspace) []item {
	return memo(w, policiesKey{}, func() []item {
		return gatedItems(w, policiesRow, func() []item {
			icons := []string{"UMBRELLA", "SICK", "BABY", "HOME", "PLANE"}
			var out []item
			for i := 0; i < w.spec.Policies+w.spec.ArchivedPolicies; i++ {
				h := hash(s.seed, uint64(kindPolicy), uint64(w.idx), uint64(i), 0)
				id := oid(s.mask, kindPolicy, uint32(w.idx), uint32(i), createdBase+int64(i)*997)
				archived := i >= w.spec.Policies
				p := policyJSON{ID: id, WorkspaceID: w.id, Name: fmt.Sprintf("Policy %d", i+1), TimeUnit: "DAYS",
					AllowHalfDay: h%2 == 0, AllowNegativeBalance: h>>1%2 == 0, Archived: archived,
					Approve:                    policyApproveJSON{RequiresApproval: true, TeamManagers: true, UserIDs: []string{}},
					AutomaticTimeEntryCreation: autoTimeEntryJSON{},
					EveryoneIncludingNew:       h>>2%2 == 0, UserIDs: []string{}, UserGroupIDs: []string{},
					Color: pick(colors, h>>8), Icon: pick(icons, h>>12)}
				if h>>16%2 == 0 {
					p.TimeUnit = "HOURS"
				}
				if h>>17%2 == 0 {
					p.AutomaticAccrual = &accrualJSON{Amount: 1.5, Period: "MONTH", TimeUnit: p.TimeUnit}
				}
				if p.AllowNegativeBalance {
					p.NegativeBalance = &negativeBalanceJSON{Amount: 3, Period: "YEAR", TimeUnit: p.TimeUnit, ShouldReset: true}
				}
				st := "ACTIVE"
				if archived {
					st = "ARCHIVED"
				}
				out = append(out, item{id: id, archived: archived, status: st, json: mustJSON(p)})
			}
			return out
		})
	})
}
