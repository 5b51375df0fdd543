package clockifysim

import "fmt"

var _ = register("groups", &generator{
	build: func(s *Server, w *workspace) { s.groupList(w) },
	records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
		return all(s.groupList(w)), nil
	},
})

type groupJSON struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	WorkspaceID  string        `json:"workspaceId"`
	UserIDs      []string      `json:"userIds"`
	TeamManagers []userRefJSON `json:"teamManagers"`
}

// userRefJSON is UserRedactedDtoV1, as in a group's teamManagers.
type userRefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type groupsKey struct{}

func (s *Server) groupList(w *workspace) []item {
	return memo(w, groupsKey{}, func() []item {
		ms := s.members(w)
		var out []item
		for i := 0; i < w.spec.Groups; i++ {
			id := oid(s.mask, kindGroup, uint32(w.idx), uint32(i), createdBase+int64(i)*6007)
			uids := []string{}
			for _, u := range ms {
				if hash(s.seed, uint64(kindGroup), uint64(w.idx), uint64(i), uint64(u.idx))%2 == 0 {
					uids = append(uids, u.id)
				}
			}
			tm := []userRefJSON{}
			if i == 0 {
				tm = append(tm, userRefJSON{ID: ms[0].id, Name: ms[0].name})
			}
			out = append(out, item{id: id, json: mustJSON(groupJSON{ID: id, Name: fmt.Sprintf("Team %d", i+1),
				WorkspaceID: w.id, UserIDs: uids, TeamManagers: tm})})
		}
		return out
	})
}
