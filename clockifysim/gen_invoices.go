package clockifysim

import (
	"fmt"
	"strconv"

	"github.com/clockberg/clockberg/source/streams"
)

var invoicesRow *streams.Stream

func init() {
	invoicesRow = register("invoices", &generator{
		build: func(s *Server, w *workspace) { s.invoiceList(w) },
		records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
			return all(s.invoiceList(w)), nil
		},
		filter: func(_ *Server, _ *workspace, set recordSet, req *request) (recordSet, *apiError) {
			sts := listParam(req.query, "statuses")
			if len(sts) == 0 {
				return set, nil
			}
			want := map[string]bool{}
			for _, st := range sts {
				if !invoiceStatuses[st] {
					return nil, errf(400, 3000, "Method parameter 'statuses': No enum constant [%s]", st)
				}
				want[st] = true
			}
			return set.(itemSet).filter(func(it *item) bool { return want[it.status] }), nil
		},
		// total is the number of matching invoices over all pages.
		envelope: func(matched int) (string, string) {
			return `{"total":` + strconv.Itoa(matched) + `,"invoices":`, `}`
		},
	})
}

var invoiceStatuses = map[string]bool{"UNSENT": true, "SENT": true, "PAID": true, "PARTIALLY_PAID": true, "VOID": true, "OVERDUE": true}

type invoiceJSON struct {
	ID         string `json:"id"`
	Number     string `json:"number"`
	ClientID   string `json:"clientId"`
	ClientName string `json:"clientName"`
	Currency   string `json:"currency"`
	IssuedDate string `json:"issuedDate"`
	DueDate    string `json:"dueDate"`
	Amount     int64  `json:"amount"`
	Balance    int64  `json:"balance"`
	Paid       int64  `json:"paid"`
	Status     string `json:"status"`
}

type invoicesKey struct{}

func (s *Server) invoiceList(w *workspace) []item {
	return memo(w, invoicesKey{}, func() []item {
		return gatedItems(w, invoicesRow, func() []item {
			clients := s.clientList(w)
			statuses := []string{"UNSENT", "SENT", "PAID", "PARTIALLY_PAID", "VOID", "OVERDUE"}
			n := w.spec.Invoices
			var out []item
			for i := 0; i < n; i++ {
				h := hash(s.seed, uint64(kindInvoice), uint64(w.idx), uint64(i), 0)
				ts := int64(anchorTS - (n-i)*86400*3)
				id := oid(s.mask, kindInvoice, uint32(w.idx), uint32(i), ts)
				inv := invoiceJSON{ID: id, Number: fmt.Sprintf("INV-%d-%05d", w.idx+1, i+1), Currency: "USD",
					IssuedDate: instant(ts), DueDate: instant(ts + 30*86400), Amount: int64(h%100000+100) * 100,
					Status: statuses[i%len(statuses)]}
				if nc := len(clients.items); nc > 0 {
					c := int(h >> 20 % uint64(nc))
					inv.ClientID, inv.ClientName = clients.items[c].id, clients.names[c]
				}
				switch inv.Status {
				case "PAID":
					inv.Paid = inv.Amount
				case "PARTIALLY_PAID":
					inv.Paid = inv.Amount / 2
				}
				inv.Balance = inv.Amount - inv.Paid
				out = append(out, item{id: id, status: inv.Status, json: mustJSON(inv)})
			}
			return out
		})
	})
}
