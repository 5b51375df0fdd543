package clockifysim

import (
	"fmt"

	"github.com/clockberg/clockberg/source/streams"
)

var holidaysRow *streams.Stream

func init() {
	holidaysRow = register("holidays", &generator{
		build: func(s *Server, w *workspace) { s.holidayList(w) },
		records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
			return all(s.holidayList(w)), nil
		},
	})
}

type datePeriodJSON struct {
	StartDate string `json:"startDate"`
	EndDate   string `json:"endDate"`
}

type holidayJSON struct {
	ID                         string         `json:"id"`
	WorkspaceID                string         `json:"workspaceId"`
	Name                       string         `json:"name"`
	DatePeriod                 datePeriodJSON `json:"datePeriod"`
	OccursAnnually             bool           `json:"occursAnnually"`
	EveryoneIncludingNew       bool           `json:"everyoneIncludingNew"`
	UserIDs                    []string       `json:"userIds"`
	UserGroupIDs               []string       `json:"userGroupIds"`
	AutomaticTimeEntryCreation bool           `json:"automaticTimeEntryCreation"`
	ProjectID                  *string        `json:"projectId"`
	TaskID                     *string        `json:"taskId"`
}

type holidaysKey struct{}

func (s *Server) holidayList(w *workspace) []item {
	return memo(w, holidaysKey{}, func() []item {
		return gatedItems(w, holidaysRow, func() []item {
			names := []string{"New Year's Day", "Labour Day", "Independence Day", "Christmas Day", "Boxing Day", "Company retreat"}
			uids := []string{}
			for _, u := range s.members(w) {
				if !u.inactive {
					uids = append(uids, u.id)
				}
			}
			var out []item
			for i := 0; i < w.spec.Holidays; i++ {
				ts := int64(anchorTS + i*29*86400)
				id := oid(s.mask, kindHoliday, uint32(w.idx), uint32(i), createdBase+int64(i)*1009)
				out = append(out, item{id: id, json: mustJSON(holidayJSON{ID: id, WorkspaceID: w.id,
					Name: fmt.Sprintf("%s %d", pick(names, uint64(i)), i+1), DatePeriod: datePeriodJSON{StartDate: date(ts), EndDate: date(ts + int64(i%2)*86400)},
					OccursAnnually: i%3 == 0, EveryoneIncludingNew: i%2 == 0, UserIDs: uids, UserGroupIDs: []string{}})})
			}
			return out
		})
	})
}
