package clockifysim

import (
	"fmt"
	"strconv"

	"github.com/clockberg/clockberg/source/streams"
)

var expenseCategoriesRow *streams.Stream

func init() {
	expenseCategoriesRow = register("expense_categories", &generator{
		build: func(s *Server, w *workspace) { s.categoryList(w) },
		records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
			return all(s.categoryList(w).items), nil
		},
		filter: archivedFilter,
		// count is the number of matching categories over all pages (unconfirmed; never paged by).
		envelope: func(matched int) (string, string) {
			return `{"count":` + strconv.Itoa(matched) + `,"categories":`, `}`
		},
	})
}

type categoryJSON struct {
	ID           string  `json:"id"`
	WorkspaceID  string  `json:"workspaceId"`
	Name         string  `json:"name"`
	Unit         string  `json:"unit"`
	PriceInCents int64   `json:"priceInCents"`
	HasUnitPrice bool    `json:"hasUnitPrice"`
	Archived     bool    `json:"archived"`
	Status       *string `json:"status"`
}

// categoryRefJSON is a category as an expense row repeats it.
type categoryRefJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Unit         string `json:"unit"`
	PriceInCents int64  `json:"priceInCents"`
	HasUnitPrice bool   `json:"hasUnitPrice"`
	Archived     bool   `json:"archived"`
	WorkspaceID  string `json:"workspaceId"`
}

var categNames = []string{"Travel", "Meals", "Hardware", "Software", "Training", "Lodging", "Mileage", "Office"}

type categoryRefs struct {
	items []item
	refs  []categoryRefJSON
}

type categoriesKey struct{}

func (s *Server) categoryList(w *workspace) categoryRefs {
	return memo(w, categoriesKey{}, func() categoryRefs {
		var out categoryRefs
		if !w.allows(expenseCategoriesRow) {
			return out
		}
		n := w.spec.ExpenseCategories + w.spec.ArchivedExpenseCategories
		for i := 0; i < n; i++ {
			id := oid(s.mask, kindCategory, uint32(w.idx), uint32(i), createdBase+int64(i)*2003)
			archived := i >= w.spec.ExpenseCategories
			c := categoryJSON{ID: id, WorkspaceID: w.id, Name: fmt.Sprintf("%s %d", pick(categNames, uint64(i)), i+1),
				Unit: "piece", PriceInCents: int64(i+1) * 1000, HasUnitPrice: i%2 == 0, Archived: archived}
			out.refs = append(out.refs, categoryRefJSON{ID: id, Name: c.Name, Unit: c.Unit, PriceInCents: c.PriceInCents,
				HasUnitPrice: c.HasUnitPrice, Archived: archived, WorkspaceID: w.id})
			out.items = append(out.items, item{id: id, archived: archived, json: mustJSON(c)})
		}
		return out
	})
}
