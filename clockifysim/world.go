package clockifysim

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/clockberg/clockberg/source/streams"
)

const (
	// anchorTS (2026-01-01T00:00:00Z) is when every user's generated time entries end; generation must
	// not depend on the wall clock, so it is fixed.
	anchorTS = 1767225600
	// createdBase (2019-03-01) is the timestamp part of ids of entities other than time entries.
	createdBase = 1551398400
	// spanSeconds is how far back a user's generated entries reach when they are few (3 years).
	spanSeconds = 3 * 365 * 86400
)

// workspace is one workspace of the configuration. Its records are made by the per-stream
// generators and kept in memo, built once when the server starts and only read afterwards.
type workspace struct {
	idx      int
	id       string
	name     string
	plan     Plan
	spec     *WorkspaceSpec
	features map[string]bool
	memo     map[any]any
}

func newWorkspace(s *Server, wi int) *workspace {
	spec := &s.cfg.Workspaces[wi]
	w := &workspace{idx: wi, name: spec.Name, plan: spec.Plan, spec: spec, features: map[string]bool{}, memo: map[any]any{}}
	if w.name == "" {
		w.name = fmt.Sprintf("Workspace %d", wi+1)
	}
	for _, f := range spec.Plan.Features() {
		w.features[f] = true
	}
	w.id = oid(s.mask, kindWorkspace, 0, uint32(wi), w.created())
	return w
}

// created is the timestamp part of the workspace's id.
func (w *workspace) created() int64 { return int64(createdBase + w.idx*86400) }

// allows reports whether the workspace's plan has the stream.
func (w *workspace) allows(st *streams.Stream) bool {
	return st.Gate == nil || w.features[st.Gate.Feature]
}

// memo returns the value build makes for key, making it on first use. Generators call it from
// New only (every generator's build runs there), so serving never writes the map.
func memo[T any](w *workspace, key any, build func() T) T {
	if v, ok := w.memo[key]; ok {
		return v.(T)
	}
	v := build()
	w.memo[key] = v
	return v
}

// recordSet is the records of one partition, in the order the API sends them.
type recordSet interface {
	Len() int
	ID(i int) string                 // the record's primary key, as the ground truth lists it
	Append(dst []byte, i int) []byte // the record's JSON
}

// item is one pre-encoded record plus the attributes the filters need.
type item struct {
	id       string
	json     []byte
	archived bool
	status   string // task, approval, invoice, custom-field, policy, request status
	userID   string
}

// itemSet is a selection of items; idx nil means all of them in order.
type itemSet struct {
	items []item
	idx   []int
}

func (s itemSet) Len() int {
	if s.idx == nil {
		return len(s.items)
	}
	return len(s.idx)
}

func (s itemSet) at(i int) *item {
	if s.idx == nil {
		return &s.items[i]
	}
	return &s.items[s.idx[i]]
}

func (s itemSet) ID(i int) string                 { return s.at(i).id }
func (s itemSet) Append(dst []byte, i int) []byte { return append(dst, s.at(i).json...) }

// filter keeps the items keep accepts (nil keeps all).
func (s itemSet) filter(keep func(*item) bool) itemSet {
	if keep == nil {
		return s
	}
	idx := make([]int, 0, s.Len())
	for i := 0; i < s.Len(); i++ {
		if keep(s.at(i)) {
			if s.idx == nil {
				idx = append(idx, i)
			} else {
				idx = append(idx, s.idx[i])
			}
		}
	}
	return itemSet{items: s.items, idx: idx}
}

func all(items []item) recordSet { return itemSet{items: items} }

// generator makes and serves the records of one stream; it is the only stream-specific code of
// the simulator. The registry row says how the route is paged and wrapped.
type generator struct {
	// build makes the stream's data of one workspace (nil: nothing to prepare).
	build func(s *Server, w *workspace)
	// records returns one partition's records before the request's filters. w is nil for a
	// root stream; params are the partition's path parameters. An error is Clockify's answer
	// for a parent id that is not in the workspace.
	records func(s *Server, w *workspace, params map[string]string) (recordSet, *apiError)
	// filter applies the request's query (or POST body) filters; nil: the route has none.
	filter func(s *Server, w *workspace, set recordSet, req *request) (recordSet, *apiError)
	// envelope returns what goes before and after a page's records for an object answer with
	// more than the registry's records path and total (nil: derived from the registry).
	envelope func(matched int) (prefix, suffix string)
}

var generators = map[string]*generator{}

// register installs the generator of a registry stream and returns its row.
func register(name string, g *generator) *streams.Stream {
	st := streams.ByName(name)
	if st == nil || generators[name] != nil {
		panic("clockifysim: generator for unknown or already registered stream " + name)
	}
	generators[name] = g
	return st
}

// gatedItems builds items only where the workspace's plan has the stream, as Clockify keeps no
// data for a feature a plan lacks.
func gatedItems(w *workspace, st *streams.Stream, build func() []item) []item {
	if !w.allows(st) {
		return nil
	}
	return build()
}

// --- shapes and vocabulary several generators share ----------------------------------------

type rateJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type membershipJSON struct {
	UserID           string    `json:"userId"`
	HourlyRate       *rateJSON `json:"hourlyRate"`
	CostRate         *rateJSON `json:"costRate"`
	TargetID         string    `json:"targetId"`
	MembershipType   string    `json:"membershipType"`
	MembershipStatus string    `json:"membershipStatus"`
}

type dateRangeJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

var (
	words = []string{"Standup", "Code review", "Planning", "Client call", "Design", "Bug fixing", "Research",
		"Documentation", "Testing", "Deployment", "Support", "Interview", "Retro", "Workshop", "Emails",
		"Onboarding", "Refactoring", "Sprint demo", "Budget review", "Travel"}
	colors = []string{"#FF5722", "#03A9F4", "#8BC34A", "#9C27B0", "#FFC107", "#607D8B", "#E91E63", "#009688"}
	cities = []string{"Berlin", "London", "New York", "Belgrade", "Tokyo", "Lagos"}
)

func pick(list []string, h uint64) string { return list[h%uint64(len(list))] }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("clockifysim: encoding %T: %v", v, err))
	}
	return b
}

func mustUnmarshal(b []byte, v any) {
	if err := json.Unmarshal(b, v); err != nil {
		panic(fmt.Sprintf("clockifysim: decoding own %T: %v", v, err))
	}
}

func strp(s string) *string { return &s }

const (
	instantLayout = "2006-01-02T15:04:05Z"
	dateLayout    = "2006-01-02"
)

func instant(ts int64) string { return time.Unix(ts, 0).UTC().Format(instantLayout) }
func date(ts int64) string    { return time.Unix(ts, 0).UTC().Format(dateLayout) }
