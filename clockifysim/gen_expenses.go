package clockifysim

import (
	"strconv"

	"github.com/clockberg/clockberg/source/streams"
)

var expensesRow *streams.Stream

func init() {
	expensesRow = register("expenses", &generator{
		build: func(s *Server, w *workspace) { s.expenseList(w) },
		records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
			return all(s.expenseList(w)), nil
		},
		// user-id filters; start and end are accepted and ignored, as Clockify does.
		filter: func(_ *Server, _ *workspace, set recordSet, req *request) (recordSet, *apiError) {
			uid := req.query.Get("user-id")
			if uid == "" {
				return set, nil
			}
			return set.(itemSet).filter(func(it *item) bool { return it.userID == uid }), nil
		},
		envelope: func(matched int) (string, string) {
			return `{"expenses":{"count":` + strconv.Itoa(matched) + `,"expenses":`, `},"dailyTotals":[],"weeklyTotals":[]}`
		},
	})
}

type expenseProjectRefJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	ClientID   string `json:"clientId"`
	ClientName string `json:"clientName"`
	Color      string `json:"color"`
}

type expenseTaskRefJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// List rows expand category, project and task; there are no flat categoryId/projectId/taskId.
type expenseJSON struct {
	ID          string                 `json:"id"`
	WorkspaceID string                 `json:"workspaceId"`
	UserID      string                 `json:"userId"`
	Date        string                 `json:"date"`
	Category    categoryRefJSON        `json:"category"`
	Project     *expenseProjectRefJSON `json:"project"`
	Task        *expenseTaskRefJSON    `json:"task"`
	Notes       string                 `json:"notes"`
	Quantity    float64                `json:"quantity"`
	Total       float64                `json:"total"`
	Billable    bool                   `json:"billable"`
	Locked      bool                   `json:"locked"`
	FileID      *string                `json:"fileId"`
	FileName    *string                `json:"fileName"`
}

type expensesKey struct{}

func (s *Server) expenseList(w *workspace) []item {
	return memo(w, expensesKey{}, func() []item {
		return gatedItems(w, expensesRow, func() []item {
			cats := s.categoryList(w).refs
			projects := s.projectList(w)
			taskLists := s.taskLists(w)
			ms := s.members(w)
			n := w.spec.Expenses
			var out []item
			for i := 0; i < n && len(cats) > 0; i++ {
				h := hash(s.seed, uint64(kindExpense), uint64(w.idx), uint64(i), 0)
				ts := int64(anchorTS - (n-i)*86400/4)
				id := oid(s.mask, kindExpense, uint32(w.idx), uint32(i), ts)
				u := ms[int(h%uint64(len(ms)))]
				e := expenseJSON{ID: id, WorkspaceID: w.id, UserID: u.id, Date: date(ts), Category: cats[int(h>>8%uint64(len(cats)))],
					Notes: pick(words, h>>16), Quantity: float64(h>>20%5 + 1), Billable: h>>24%2 == 0, Locked: h>>25%8 == 0}
				e.Total = e.Quantity*float64(e.Category.PriceInCents) + float64(h>>28%100)/2
				if len(projects.items) > 0 && h>>32%3 != 0 {
					pi := int(h >> 36 % uint64(len(projects.items)))
					pj := projects.meta[pi]
					e.Project = &expenseProjectRefJSON{ID: pj.ID, Name: pj.Name, ClientID: pj.ClientID, ClientName: pj.ClientName, Color: pj.Color}
					if ts := taskLists[pi]; len(ts) > 0 && h>>44%2 == 0 {
						var tj taskJSON
						mustUnmarshal(ts[int(h>>46%uint64(len(ts)))].json, &tj)
						e.Task = &expenseTaskRefJSON{ID: tj.ID, Name: tj.Name}
					}
				}
				if h>>50%4 == 0 {
					e.FileID, e.FileName = strp(oid(s.mask, kindExpense, uint32(w.idx)|0x800000, uint32(i), ts)), strp("receipt.pdf")
				} else if h>>50%4 == 1 {
					e.FileID = strp("")
				}
				out = append(out, item{id: id, userID: u.id, json: mustJSON(e)})
			}
			return out
		})
	})
}
