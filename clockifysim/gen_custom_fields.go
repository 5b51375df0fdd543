package clockifysim

import (
	"fmt"
	"strings"

	"github.com/clockberg/clockberg/source/streams"
)

var customFieldsRow *streams.Stream

func init() {
	customFieldsRow = register("custom_fields", &generator{
		build: func(s *Server, w *workspace) { s.fieldList(w) },
		records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
			return all(s.fieldList(w).items), nil
		},
		filter: func(_ *Server, _ *workspace, set recordSet, req *request) (recordSet, *apiError) {
			status, err := oneOf(req.query, "status", "", "INACTIVE", "VISIBLE", "INVISIBLE")
			if err != nil {
				return nil, err
			}
			et := strings.ToUpper(req.query.Get("entity-type"))
			return set.(itemSet).filter(func(it *item) bool {
				return (status == "" || it.status == status) && (et == "" || strings.Contains(string(it.json), `"entityType":"`+et+`"`))
			}), nil
		},
	})
}

type projectDefaultValueJSON struct {
	ProjectID string `json:"projectId"`
	Status    string `json:"status"`
	Value     any    `json:"value"`
}

type customFieldJSON struct {
	ID                    string                    `json:"id"`
	WorkspaceID           string                    `json:"workspaceId"`
	Name                  string                    `json:"name"`
	Type                  string                    `json:"type"`
	EntityType            string                    `json:"entityType"`
	Description           string                    `json:"description"`
	Placeholder           string                    `json:"placeholder"`
	Status                string                    `json:"status"`
	Required              bool                      `json:"required"`
	OnlyAdminCanEdit      bool                      `json:"onlyAdminCanEdit"`
	AllowedValues         []string                  `json:"allowedValues"`
	WorkspaceDefaultValue any                       `json:"workspaceDefaultValue"`
	ProjectDefaultValues  []projectDefaultValueJSON `json:"projectDefaultValues"`
}

// entryField is the TIMEENTRY custom field whose values time entries carry.
type entryField struct {
	id, name string
	values   []string
}

type fieldRefs struct {
	items []item
	entry *entryField // nil when the workspace has none
}

type fieldsKey struct{}

func (s *Server) fieldList(w *workspace) fieldRefs {
	return memo(w, fieldsKey{}, func() fieldRefs {
		var out fieldRefs
		if !w.allows(customFieldsRow) {
			return out
		}
		projects := s.projectList(w).items
		entityTypes := []string{"TIMEENTRY", "PROJECT", "USER"}
		for i := 0; i < w.spec.CustomFields; i++ {
			id := oid(s.mask, kindCustomField, uint32(w.idx), uint32(i), createdBase+int64(i)*3001)
			cf := customFieldJSON{ID: id, WorkspaceID: w.id, EntityType: entityTypes[i%3], Description: "",
				Status: "VISIBLE", AllowedValues: []string{}, ProjectDefaultValues: []projectDefaultValueJSON{}}
			if i%5 == 4 {
				cf.Status = "INACTIVE"
			}
			switch i % 4 {
			case 0:
				cf.Name, cf.Type, cf.Placeholder = "Location", "DROPDOWN_SINGLE", "Location"
				cf.AllowedValues = cities
				cf.WorkspaceDefaultValue = cities[0]
				if len(projects) > 0 {
					cf.ProjectDefaultValues = []projectDefaultValueJSON{{ProjectID: projects[0].id, Status: "VISIBLE", Value: cities[1]}}
				}
			case 1:
				cf.Name, cf.Type, cf.Placeholder = "Cost center", "NUMBER", "0"
				cf.WorkspaceDefaultValue = 0
			case 2:
				cf.Name, cf.Type, cf.Placeholder = "Reviewed", "CHECKBOX", ""
				cf.WorkspaceDefaultValue = false
			case 3:
				cf.Name, cf.Type, cf.Placeholder = "Ticket", "LINK", "https://"
			}
			cf.Name = fmt.Sprintf("%s %d", cf.Name, i+1)
			if i == 0 {
				out.entry = &entryField{id: id, name: cf.Name, values: cities}
			}
			out.items = append(out.items, item{id: id, status: cf.Status, json: mustJSON(cf)})
		}
		return out
	})
}
