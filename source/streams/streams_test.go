package streams

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's stream list from the registry")

var paramRE = regexp.MustCompile(`\{([A-Za-z]+)\}`)

func TestRowsAreConsistent(t *testing.T) {
	seen := map[string]bool{}
	mux := http.NewServeMux()
	for i, s := range All {
		if s.Name == "" || seen[s.Name] {
			t.Fatalf("row %d: empty or repeated name %q", i, s.Name)
		}
		seen[s.Name] = true
		if ByName(s.Name) != s {
			t.Errorf("%s: ByName does not find the row", s.Name)
		}
		// Parents come first, so discover lists a parent before its children.
		if s.Parent != nil {
			p := s.ParentStream()
			if p == nil || !seen[p.Name] || p == s {
				t.Errorf("%s: parent %q is not an earlier row", s.Name, s.Parent.Stream)
			}
			if s.Parent.Field == "" || s.Parent.Param == "" {
				t.Errorf("%s: parent relation lacks its field or parameter: %+v", s.Name, s.Parent)
			}
		}
		// The path's parameters are exactly those the chain of parents fills.
		var want []string
		for _, c := range s.Chain() {
			if c.Parent != nil {
				want = append(want, c.Parent.Param)
			}
		}
		var got []string
		for _, m := range paramRE.FindAllStringSubmatch(s.Path, -1) {
			got = append(got, m[1])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: path %s has parameters %v, its parents fill %v", s.Name, s.Path, got, want)
		}
		for _, k := range s.ParentKeys {
			if !slices.Contains(want, k) {
				t.Errorf("%s: parent key %s is not a path parameter", s.Name, k)
			}
		}
		if !strings.HasPrefix(s.Path, "/") || len(s.Key) == 0 {
			t.Errorf("%s: path %q or key %v", s.Name, s.Path, s.Key)
		}
		pg := s.Paging
		switch pg.Kind {
		case Unpaged:
		case QueryPages, BodyPages:
			if pg.Page == "" || pg.Size == "" || pg.Default < 1 || pg.Max < pg.Default || pg.First < 0 {
				t.Errorf("%s: paging %+v", s.Name, pg)
			}
			if (pg.Kind == BodyPages) != (s.HTTPMethod() == http.MethodPost) {
				t.Errorf("%s: body paging needs a POST read and a POST read here pages in its body", s.Name)
			}
		default:
			t.Errorf("%s: unknown paging kind %d", s.Name, pg.Kind)
		}
		if s.Single && (pg.Kind != Unpaged || s.Records != nil) {
			t.Errorf("%s: a single-record answer is neither paged nor an envelope", s.Name)
		}
		if r := s.Range; r != nil {
			if r.Start == "" || r.End == "" || s.Cursor == nil {
				t.Errorf("%s: a range needs both parameter names and a cursor: %+v", s.Name, r)
			}
			if r.Required && (r.From.IsZero() || r.Ahead <= 0) {
				t.Errorf("%s: a required range needs its default beginning and reach ahead", s.Name)
			}
		}
		if g := s.Gate; g != nil && (g.Feature == "" || g.Plan == Free) {
			t.Errorf("%s: gate %+v", s.Name, g)
		}
		// Every path is a ServeMux pattern (the simulator serves them so), none shadowing another.
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: %s is not a ServeMux pattern beside the others: %v", s.Name, s.Path, r)
				}
			}()
			mux.Handle("/api/v1"+s.Path, http.NotFoundHandler())
		}()
	}
	if l := WorkspaceList(); l == nil || l.Parent != nil || l.PlanFields == nil {
		t.Errorf("no selectable root carrying the plan: %+v", l)
	}
}

func TestPlans(t *testing.T) {
	for s, want := range map[string]Plan{"FREE": Free, "BASIC_2021": Basic, "STANDARD_2021": Standard, "PRO_YEAR_2021": Pro,
		"ENTERPRISE_2021": Enterprise, "TRIAL": Enterprise, "pro_2021": Pro} {
		if got, ok := ParsePlan(s); !ok || got != want {
			t.Errorf("ParsePlan(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	if _, ok := ParsePlan("SOMETHING_NEW"); ok {
		t.Error("an unknown subscription parsed")
	}
	if f := Features(Free); len(f) != 0 {
		t.Errorf("Free has features %v", f)
	}
	std, pro := Features(Standard), Features(Pro)
	if !slices.IsSorted(pro) || len(std) == 0 || len(pro) <= len(std) {
		t.Errorf("Standard %v, Pro %v", std, pro)
	}
	for _, f := range std {
		if !slices.Contains(pro, f) {
			t.Errorf("Pro lacks Standard's %s", f)
		}
	}
}

// streamTable is the README's stream list, generated from the registry.
func streamTable() string {
	var b strings.Builder
	b.WriteString("| stream | endpoint | one partition per | primary key | incremental by | plan (feature) |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, s := range All {
		per := "API key"
		if s.Parent != nil {
			per = strings.TrimSuffix(s.Parent.Param, "Id")
			if p := s.ParentStream(); p.Parent != nil {
				per = "record of " + p.Name
			}
		}
		var keys []string
		for _, k := range s.Key {
			keys = append(keys, "`"+strings.Join(k, ".")+"`")
		}
		key := strings.Join(keys, ", ")
		if s.IDFrom != nil {
			key += " (from `" + strings.Join(s.IDFrom, ".") + "`)"
		}
		inc := "-"
		if s.Cursor != nil {
			inc = "`" + strings.Join(s.Cursor, ".") + "`"
		}
		plan := "any"
		if s.Gate != nil {
			plan = fmt.Sprintf("%s (%s)", s.Gate.Plan, s.Gate.Feature)
		}
		endpoint := s.HTTPMethod() + " " + s.Path
		if q := s.Query.Encode(); q != "" {
			endpoint += "?" + q
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s |\n", s.Name, endpoint, per, key, inc, plan)
	}
	return b.String()
}

const (
	beginMark = "<!-- streams: generated from source/streams by `go test ./source/streams -update`; do not edit -->\n"
	endMark   = "<!-- end of streams -->\n"
)

// TestREADMEStreamList: the README lists exactly the registry's streams, as the registry says.
func TestREADMEStreamList(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, beginMark), strings.Index(s, endMark)
	if i < 0 || j < i {
		t.Fatalf("README.md has no generated stream list between %q and %q", beginMark, endMark)
	}
	want := streamTable()
	if got := s[i+len(beginMark) : j]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(s[:i+len(beginMark)]+want+s[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's stream list differs from the registry; run go test ./source/streams -update\ngot:\n%s\nwant:\n%s", got, want)
	}
}
