package clockifysim

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/clockberg/clockberg/source/streams"
)

// Time-off requests: two per policy, by members in turn, newest first. A read is a POST whose JSON
// body carries the filters (statuses, start/end on createdAt, users; userGroups is accepted and
// not applied) and the paging.
var timeOffRequestsRow *streams.Stream

func init() {
	timeOffRequestsRow = register("time_off_requests", &generator{
		build: func(s *Server, w *workspace) { s.requestList(w) },
		records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
			return all(s.requestList(w).items), nil
		},
		filter: func(s *Server, w *workspace, set recordSet, req *request) (recordSet, *apiError) {
			statuses, err := bodyStrings(req.body, "statuses")
			if err != nil {
				return nil, err
			}
			for _, st := range statuses {
				if !slices.Contains([]string{"PENDING", "APPROVED", "REJECTED", "ALL"}, st) {
					return nil, errf(400, 3000, "JSON parse error: Cannot deserialize value of type `TimeOffRequestStatusType` from String \"%s\"", st)
				}
			}
			if len(statuses) == 0 || slices.Contains(statuses, "ALL") {
				statuses = nil
			}
			users, err := bodyStrings(req.body, "users")
			if err != nil {
				return nil, err
			}
			if _, err := bodyStrings(req.body, "userGroups"); err != nil {
				return nil, err
			}
			from, to, hasFrom, hasTo, err := s.bodyRange(req.body)
			if err != nil {
				return nil, err
			}
			r := s.requestList(w)
			idx := []int{} // non-nil: a nil selection means every item
			for i, it := range r.items {
				switch {
				case statuses != nil && !slices.Contains(statuses, it.status),
					users != nil && !slices.Contains(users, strings.ToUpper(it.userID)),
					hasFrom && r.created[i] < from, hasTo && r.created[i] > to:
					continue
				}
				idx = append(idx, i)
			}
			return itemSet{items: r.items, idx: idx}, nil
		},
	})
}

// kindTimeOffRequest marks request ids (beyond the kinds of ids.go).
const kindTimeOffRequest byte = 0x42

type timeOffStatusJSON struct {
	StatusType         string  `json:"statusType"`
	ChangedAt          *string `json:"changedAt"`
	ChangedByUserID    *string `json:"changedByUserId"`
	ChangedByUserName  *string `json:"changedByUserName"`
	ChangedForUserName *string `json:"changedForUserName"`
	Note               string  `json:"note"`
}

type timeOffPeriodJSON struct {
	Period        dateRangeJSON  `json:"period"`
	HalfDay       bool           `json:"halfDay"`
	HalfDayPeriod string         `json:"halfDayPeriod"`
	HalfDayHours  *dateRangeJSON `json:"halfDayHours"`
}

type timeOffRequestJSON struct {
	ID                string            `json:"id"`
	WorkspaceID       string            `json:"workspaceId"`
	UserID            string            `json:"userId"`
	UserName          string            `json:"userName"`
	UserEmail         string            `json:"userEmail"`
	UserTimeZone      string            `json:"userTimeZone"`
	RequesterUserID   string            `json:"requesterUserId"`
	RequesterUserName string            `json:"requesterUserName"`
	PolicyID          string            `json:"policyId"`
	PolicyName        string            `json:"policyName"`
	TimeUnit          string            `json:"timeUnit"`
	Balance           float64           `json:"balance"`
	BalanceDiff       float64           `json:"balanceDiff"`
	Note              string            `json:"note"`
	CreatedAt         string            `json:"createdAt"`
	Status            timeOffStatusJSON `json:"status"`
	TimeOffPeriod     timeOffPeriodJSON `json:"timeOffPeriod"`
}

type requestRefs struct {
	items   []item
	created []int64
}

type requestsKey struct{}

func (s *Server) requestList(w *workspace) requestRefs {
	return memo(w, requestsKey{}, func() requestRefs {
		var out requestRefs
		if !w.allows(timeOffRequestsRow) {
			return out
		}
		policies := s.policyList(w)
		ms := s.members(w)
		n := 2 * len(policies)
		states := []string{"PENDING", "APPROVED", "APPROVED", "REJECTED"}
		for i := n - 1; i >= 0; i-- {
			h := hash(s.seed, uint64(kindTimeOffRequest), uint64(w.idx), uint64(i), 0)
			var p policyJSON
			mustUnmarshal(policies[i%len(policies)].json, &p)
			u := ms[(i*7)%len(ms)]
			created := int64(anchorTS - (n-i)*86400 + int(h%86400))
			start := (created/86400 + 7 + int64(h>>20%30)) * 86400
			r := timeOffRequestJSON{ID: oid(s.mask, kindTimeOffRequest, uint32(w.idx), uint32(i), created), WorkspaceID: w.id,
				UserID: u.id, UserName: u.name, UserEmail: u.email, UserTimeZone: pick(timeZones, h>>8),
				RequesterUserID: u.id, RequesterUserName: u.name, PolicyID: p.ID, PolicyName: p.Name, TimeUnit: p.TimeUnit,
				Balance: float64(h>>32%20) / 2, Note: pick(words, h>>40), CreatedAt: time.Unix(created, int64(h>>44%1e6)*1000).UTC().Format(time.RFC3339Nano),
				Status: timeOffStatusJSON{StatusType: states[i%len(states)]}}
			if p.TimeUnit == "HOURS" {
				r.BalanceDiff = float64(1 + h>>24%8)
				r.TimeOffPeriod = timeOffPeriodJSON{Period: dateRangeJSON{Start: instant(start + 9*3600), End: instant(start + 9*3600 + int64(r.BalanceDiff)*3600)},
					HalfDayPeriod: "NOT_DEFINED"}
			} else {
				days := int64(1 + h>>24%5)
				r.BalanceDiff = float64(days)
				r.TimeOffPeriod = timeOffPeriodJSON{Period: dateRangeJSON{Start: instant(start), End: instant(start + days*86400 - 1)},
					HalfDayPeriod: "NOT_DEFINED"}
				if days == 1 && h>>28%2 == 0 {
					r.BalanceDiff, r.TimeOffPeriod.HalfDay, r.TimeOffPeriod.HalfDayPeriod = 0.5, true, "FIRST_HALF"
					r.TimeOffPeriod.HalfDayHours = &dateRangeJSON{Start: instant(start + 9*3600), End: instant(start + 13*3600)}
				}
			}
			if r.Status.StatusType != "PENDING" {
				approver := ms[0]
				r.Status.ChangedAt = strp(instant(created + 3600 + int64(h>>48%86400)))
				r.Status.ChangedByUserID, r.Status.ChangedByUserName, r.Status.ChangedForUserName = strp(approver.id), strp(approver.name), strp(u.name)
			}
			out.items = append(out.items, item{id: r.ID, status: r.Status.StatusType, userID: u.id, json: mustJSON(r)})
			out.created = append(out.created, created)
		}
		return out
	})
}

// bodyRange reads the optional start/end instants of a POST body.
func (s *Server) bodyRange(body map[string]json.RawMessage) (from, to int64, hasFrom, hasTo bool, err *apiError) {
	read := func(name string) (int64, bool, *apiError) {
		v, ok := body[name]
		if !ok || string(v) == "null" {
			return 0, false, nil
		}
		var str string
		if json.Unmarshal(v, &str) != nil {
			return 0, true, errf(400, 3000, "JSON parse error: field '%s' must be a date-time string, got %s", name, v)
		}
		t, perr := s.parseWhen(name, str)
		return t, true, perr
	}
	if from, hasFrom, err = read("start"); err != nil {
		return
	}
	to, hasTo, err = read("end")
	return
}
