package clockifysim

import "fmt"

var _ = register("tags", &generator{
	build: func(s *Server, w *workspace) { s.tagList(w) },
	records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
		return all(s.tagList(w)), nil
	},
	filter: archivedFilter,
})

type tagJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	WorkspaceID string `json:"workspaceId"`
	Archived    bool   `json:"archived"`
}

var tagNames = []string{"urgent", "internal", "meeting", "billable-review", "overtime", "remote", "onsite", "R&D"}

type tagsKey struct{}

func (s *Server) tagList(w *workspace) []item {
	return memo(w, tagsKey{}, func() []item {
		var out []item
		for i := 0; i < w.spec.Tags+w.spec.ArchivedTags; i++ {
			id := oid(s.mask, kindTag, uint32(w.idx), uint32(i), createdBase+int64(i)*4001)
			archived := i >= w.spec.Tags
			name := fmt.Sprintf("%s-%d", pick(tagNames, uint64(i)), i+1)
			out = append(out, item{id: id, archived: archived, json: mustJSON(tagJSON{ID: id, Name: name, WorkspaceID: w.id, Archived: archived})})
		}
		return out
	})
}
