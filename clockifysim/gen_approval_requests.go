package clockifysim

import (
	"sort"

	"github.com/clockberg/clockberg/source/streams"
)

// Without status every request is returned, whatever its state (our choice where the real server
// is unconfirmed); status=PENDING|APPROVED|WITHDRAWN_APPROVAL filters. sort-column (ID, USER_ID,
// START, UPDATED_AT) and sort-order (default DESCENDING when a column is given) are honoured;
// the default order is by start, oldest first.
var approvalRequestsRow *streams.Stream

func init() {
	approvalRequestsRow = register("approval_requests", &generator{
		build: func(s *Server, w *workspace) { s.approvalList(w) },
		records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
			return all(s.approvalList(w).items), nil
		},
		filter: func(s *Server, w *workspace, set recordSet, req *request) (recordSet, *apiError) {
			q := req.query
			status, err := oneOf(q, "status", "", "PENDING", "APPROVED", "WITHDRAWN_APPROVAL")
			if err != nil {
				return nil, err
			}
			col, err := oneOf(q, "sort-column", "", "ID", "USER_ID", "START", "UPDATED_AT")
			if err != nil {
				return nil, err
			}
			order, err := oneOf(q, "sort-order", "DESCENDING", "ASCENDING", "DESCENDING")
			if err != nil {
				return nil, err
			}
			sel := set.(itemSet).filter(func(it *item) bool { return status == "" || it.status == status })
			if col == "" {
				return sel, nil
			}
			meta := s.approvalList(w).meta
			idx := make([]int, sel.Len())
			for i := range idx {
				if sel.idx == nil {
					idx[i] = i
				} else {
					idx[i] = sel.idx[i]
				}
			}
			key := func(i int) string {
				a := &meta[i]
				switch col {
				case "ID":
					return sel.items[i].id
				case "USER_ID":
					return a.userID + sel.items[i].id
				case "START":
					return a.start + sel.items[i].id
				default:
					return a.updatedAt + sel.items[i].id
				}
			}
			sort.SliceStable(idx, func(x, y int) bool {
				if order == "ASCENDING" {
					return key(idx[x]) < key(idx[y])
				}
				return key(idx[x]) > key(idx[y])
			})
			return itemSet{items: sel.items, idx: idx}, nil
		},
	})
}

type approvalOwnerJSON struct {
	UserID      string `json:"userId"`
	UserName    string `json:"userName"`
	TimeZone    string `json:"timeZone"`
	StartOfWeek string `json:"startOfWeek"`
}

type approvalStatusJSON struct {
	State             string  `json:"state"`
	UpdatedBy         string  `json:"updatedBy"`
	UpdatedByUserName string  `json:"updatedByUserName"`
	UpdatedAt         string  `json:"updatedAt"`
	Note              *string `json:"note"`
}

type approvalCreatorJSON struct {
	UserID    string `json:"userId"`
	UserName  string `json:"userName"`
	UserEmail string `json:"userEmail"`
}

type approvalRequestJSON struct {
	ID          string              `json:"id"`
	WorkspaceID string              `json:"workspaceId"`
	DateRange   dateRangeJSON       `json:"dateRange"`
	Owner       approvalOwnerJSON   `json:"owner"`
	Status      approvalStatusJSON  `json:"status"`
	Creator     approvalCreatorJSON `json:"creator"`
}

// Each record wraps the request object; the ground truth lists approvalRequest.id.
type approvalWrapperJSON struct {
	ApprovalRequest approvalRequestJSON `json:"approvalRequest"`
	ApprovedTime    string              `json:"approvedTime"`
	PendingTime     string              `json:"pendingTime"`
	TrackedTime     string              `json:"trackedTime"`
	BillableTime    string              `json:"billableTime"`
	BreakTime       string              `json:"breakTime"`
	BillableAmount  float64             `json:"billableAmount"`
	CostAmount      float64             `json:"costAmount"`
	ExpenseTotal    float64             `json:"expenseTotal"`
	Entries         []any               `json:"entries"`
	Expenses        []any               `json:"expenses"`
}

// approvalMeta holds the sort keys of an approval request (same index as its item).
type approvalMeta struct{ userID, start, updatedAt string }

type approvalRefs struct {
	items []item
	meta  []approvalMeta
}

type approvalsKey struct{}

func (s *Server) approvalList(w *workspace) approvalRefs {
	return memo(w, approvalsKey{}, func() approvalRefs {
		var out approvalRefs
		if !w.allows(approvalRequestsRow) {
			return out
		}
		ms := s.members(w)
		states := []string{"PENDING", "APPROVED", "WITHDRAWN_APPROVAL", "APPROVED", "REJECTED", "WITHDRAWN_SUBMISSION"}
		owner := ms[0]
		n := w.spec.ApprovalRequests
		for i := 0; i < n; i++ {
			h := hash(s.seed, uint64(kindApproval), uint64(w.idx), uint64(i), 0)
			week := int64(anchorTS - (n-i)*7*86400)
			id := oid(s.mask, kindApproval, uint32(w.idx), uint32(i), week+9*86400)
			u := ms[int(h%uint64(len(ms)))]
			tracked := int64(h>>8%40+1) * 3600
			state := states[i%len(states)]
			approved, pending := int64(0), int64(0)
			if state == "APPROVED" {
				approved = tracked
			}
			if state == "PENDING" {
				pending = tracked
			}
			a := approvalWrapperJSON{ApprovalRequest: approvalRequestJSON{ID: id, WorkspaceID: w.id,
				DateRange: dateRangeJSON{Start: instant(week), End: instant(week + 7*86400 - 1)},
				Owner:     approvalOwnerJSON{UserID: u.id, UserName: u.name, TimeZone: "Europe/Belgrade", StartOfWeek: "MONDAY"},
				Status: approvalStatusJSON{State: state, UpdatedBy: owner.id, UpdatedByUserName: owner.name,
					UpdatedAt: instant(week + 9*86400 + int64(h>>16%86400)), Note: strp("")},
				Creator: approvalCreatorJSON{UserID: u.id, UserName: u.name, UserEmail: u.email}},
				ApprovedTime: isoDuration(approved), PendingTime: isoDuration(pending), TrackedTime: isoDuration(tracked),
				BillableTime: isoDuration(tracked * 4 / 5), BreakTime: "PT0S",
				BillableAmount: float64(tracked/3600) * 25, CostAmount: float64(tracked/3600) * 10, ExpenseTotal: 0,
				Entries: []any{}, Expenses: []any{}}
			out.items = append(out.items, item{id: id, status: state, json: mustJSON(a)})
			out.meta = append(out.meta, approvalMeta{userID: u.id, start: a.ApprovalRequest.DateRange.Start, updatedAt: a.ApprovalRequest.Status.UpdatedAt})
		}
		return out
	})
}
