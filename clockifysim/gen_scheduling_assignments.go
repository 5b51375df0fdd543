package clockifysim

import (
	"fmt"
	"net/url"

	"github.com/clockberg/clockberg/source/streams"
)

// Assignments are plans: a member on a project for one to three weeks, from a year before the
// data's anchor to two months after it. start and end are required; an assignment is listed when
// its period overlaps them (our choice: the OpenAPI does not say which date the range filters).
var schedulingAssignmentsRow *streams.Stream

func init() {
	schedulingAssignmentsRow = register("scheduling_assignments", &generator{
		build: func(s *Server, w *workspace) { s.assignmentList(w) },
		records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
			return all(s.assignmentList(w).items), nil
		},
		filter: func(s *Server, w *workspace, set recordSet, req *request) (recordSet, *apiError) {
			from, to, err := s.requiredRange(req.query, "start", "end")
			if err != nil {
				return nil, err
			}
			a := s.assignmentList(w)
			idx := []int{} // non-nil: a nil selection means every item
			for i := range a.items {
				if a.start[i] <= to && a.end[i] >= from {
					idx = append(idx, i)
				}
			}
			return itemSet{items: a.items, idx: idx}, nil
		},
	})
}

// kindAssignment marks assignment ids (beyond the kinds of ids.go).
const kindAssignment byte = 0x41

type assignmentJSON struct {
	ID              string        `json:"id"`
	WorkspaceID     string        `json:"workspaceId"`
	UserID          string        `json:"userId"`
	UserName        string        `json:"userName"`
	ProjectID       string        `json:"projectId"`
	ProjectName     string        `json:"projectName"`
	ProjectColor    string        `json:"projectColor"`
	ProjectArchived bool          `json:"projectArchived"`
	ProjectBillable bool          `json:"projectBillable"`
	ClientID        *string       `json:"clientId"`
	ClientName      *string       `json:"clientName"`
	TaskID          *string       `json:"taskId"`
	TaskName        *string       `json:"taskName"`
	Billable        bool          `json:"billable"`
	HoursPerDay     float64       `json:"hoursPerDay"`
	StartTime       string        `json:"startTime"`
	Note            string        `json:"note"`
	Period          dateRangeJSON `json:"period"`
}

type assignmentRefs struct {
	items      []item
	start, end []int64
}

type assignmentsKey struct{}

func (s *Server) assignmentList(w *workspace) assignmentRefs {
	return memo(w, assignmentsKey{}, func() assignmentRefs {
		var out assignmentRefs
		if !w.allows(schedulingAssignmentsRow) {
			return out
		}
		projects := s.projectList(w)
		var open []int
		for pi, p := range projects.meta {
			if !p.Archived {
				open = append(open, pi)
			}
		}
		if len(open) == 0 {
			return out
		}
		taskLists := s.taskLists(w)
		n := 0
		for _, u := range s.members(w) {
			if u.inactive {
				continue
			}
			for k := 0; k < 2+u.idx%3; k++ {
				h := hash(s.seed, uint64(kindAssignment), uint64(w.idx), uint64(u.idx), uint64(k))
				pi := open[(u.idx+k)%len(open)]
				p := projects.meta[pi]
				week := int64((u.idx*7+k*11)%60 - 52)
				start := anchorTS + week*7*86400
				end := start + int64(1+k%3)*7*86400 - 1
				id := oid(s.mask, kindAssignment, uint32(w.idx), uint32(n), start-30*86400)
				a := assignmentJSON{ID: id, WorkspaceID: w.id, UserID: u.id, UserName: u.name, ProjectID: p.ID, ProjectName: p.Name,
					ProjectColor: p.Color, ProjectArchived: p.Archived, ProjectBillable: p.Billable, Billable: p.Billable,
					HoursPerDay: float64(2+h%13) / 2, StartTime: fmt.Sprintf("%02d:00:00", 8+h>>8%3), Note: pick(words, h>>12),
					Period: dateRangeJSON{Start: instant(start), End: instant(end)}}
				if p.ClientID != "" {
					a.ClientID, a.ClientName = strp(p.ClientID), strp(p.ClientName)
				}
				if ts := taskLists[pi]; len(ts) > 0 && h>>16%2 == 0 {
					var tj taskJSON
					mustUnmarshal(ts[int(h>>20%uint64(len(ts)))].json, &tj)
					a.TaskID, a.TaskName = strp(tj.ID), strp(tj.Name)
				}
				out.items = append(out.items, item{id: id, userID: u.id, json: mustJSON(a)})
				out.start, out.end = append(out.start, start), append(out.end, end)
				n++
			}
		}
		return out
	})
}

// requiredRange reads a start/end pair both of which the route requires.
func (s *Server) requiredRange(q url.Values, startName, endName string) (from, to int64, err *apiError) {
	for _, n := range []string{startName, endName} {
		if q.Get(n) == "" {
			return 0, 0, errf(400, 3000, "Required request parameter '%s' for method parameter type String is not present", n)
		}
	}
	from, to, _, _, err = s.timeRange(q, startName, endName)
	return from, to, err
}
