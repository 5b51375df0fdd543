package clockifysim

import "fmt"

var _ = register("clients", &generator{
	build: func(s *Server, w *workspace) { s.clientList(w) },
	records: func(s *Server, w *workspace, _ map[string]string) (recordSet, *apiError) {
		return all(s.clientList(w).items), nil
	},
	filter: archivedFilter,
})

type clientJSON struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	WorkspaceID  string   `json:"workspaceId"`
	Archived     bool     `json:"archived"`
	Address      string   `json:"address"`
	Email        *string  `json:"email"`
	Note         string   `json:"note"`
	CCEmails     []string `json:"ccEmails"`
	CurrencyID   string   `json:"currencyId"`
	CurrencyCode string   `json:"currencyCode"`
}

// clientRefs are a workspace's clients with the names other records repeat.
type clientRefs struct {
	items []item
	names []string
}

type clientsKey struct{}

func (s *Server) clientList(w *workspace) clientRefs {
	return memo(w, clientsKey{}, func() clientRefs {
		spec := w.spec
		n := spec.Clients + spec.ArchivedClients
		var out clientRefs
		for i := 0; i < n; i++ {
			h := hash(s.seed, uint64(kindClient), uint64(w.idx), uint64(i), 0)
			id := oid(s.mask, kindClient, uint32(w.idx), uint32(i), createdBase+int64(i)*5003)
			name := fmt.Sprintf("Client %s %d", pick(cities, h), i+1)
			var email *string
			if h%3 != 0 {
				email = strp(fmt.Sprintf("billing%d@client%d.example.com", i+1, i+1))
			}
			archived := i >= spec.Clients
			out.names = append(out.names, name)
			out.items = append(out.items, item{id: id, archived: archived, json: mustJSON(clientJSON{ID: id, Name: name,
				WorkspaceID: w.id, Archived: archived, Address: pick(cities, h>>8), Email: email, Note: "",
				CCEmails: []string{}, CurrencyID: s.currencyID(w), CurrencyCode: "USD"})})
		}
		return out
	})
}
