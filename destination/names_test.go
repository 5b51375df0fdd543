package destination

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/iceberg-go/table"
)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("x", 200)
	for in, want := range map[string]string{
		"id":             "id",
		"projectId":      "projectId",
		"_x__y":          "_x__y",
		"time entries":   "time_entries",
		"zeiteinträge":   "zeiteintrage",
		"Größe":          "Grosse",
		"a%20b":          "a_20b",
		"a b":            "a_b",
		"a  -  b":        "a_b",
		"a.b":            "a_b",
		"1st":            "_1st",
		"../../etc":      "_etc",
		"#tag":           "_tag",
		"":               "_" + nameHash(""),
		"#":              "_" + nameHash("#"),
		"%":              "_" + nameHash("%"),
		`""`:             "_" + nameHash(`""`),
		"时间":             "_" + nameHash("时间"),
		"Ærøskøbing":     "AEroskobing",
		long:             long[:maxNameLen-9] + "_" + nameHash(long),
		"\xff\xfebroken": "_broken",
	} {
		got := safeName(in)
		if got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
		if !isSafeName(got) {
			t.Errorf("safeName(%q) = %q is not safe", in, got)
		}
	}
}

func TestAssignNames(t *testing.T) {
	check := func(got map[string]string, err error, want map[string]string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		for o, w := range want {
			if got[o] != w {
				t.Errorf("%q -> %q, want %q (all: %v)", o, got[o], w, got)
			}
		}
	}
	// Safe names claim themselves first; collisions (also case-only ones) get a hash of the original.
	got, err := assignNames([]string{"a b", "a_b", "A_B", "_airbyte_meta", "x"}, nil, metaColumns)
	check(got, err, map[string]string{
		"a b": "a_b_" + nameHash("a b"), "a_b": "a_b", "A_B": "A_B_" + nameHash("A_B"),
		"_airbyte_meta": "_airbyte_meta_" + nameHash("_airbyte_meta"), "x": "x",
	})
	// Stable: a column made for "a b" stays its column when a property "a_b" appears later.
	got, err = assignNames([]string{"a_b", "a b"}, map[string]string{"a_b": "a b"}, metaColumns)
	check(got, err, map[string]string{"a b": "a_b", "a_b": "a_b_" + nameHash("a_b")})
	// A column made by an older version with an unsafe name keeps serving its property.
	got, err = assignNames([]string{"x y", "z"}, map[string]string{"x y": "x y"}, nil)
	check(got, err, map[string]string{"x y": "x y", "z": "z"})
}

func TestFieldDoc(t *testing.T) {
	for _, c := range []struct {
		json           bool
		original, name string
	}{{true, `we"ird name`, "we_ird_name"}, {false, "", "_e3b0c442"}, {true, "x", "x"}, {false, "Größe", "Grosse"}} {
		doc := fieldDoc(c.json, c.original, c.name)
		if docIsJSON(doc) != c.json {
			t.Errorf("%q: docIsJSON = %v", doc, !c.json)
		}
		orig, ok := docOriginal(doc)
		if ok != (c.original != c.name) || (ok && orig != c.original) {
			t.Errorf("%q: docOriginal = %q, %v", doc, orig, ok)
		}
	}
	if fieldDoc(true, "x", "x") != jsonDoc {
		t.Errorf("an unmapped JSON column's doc changed: %q", fieldDoc(true, "x", "x"))
	}
}

const oddSchema = `{"type":"object","properties":{"id":{"type":"integer"},"":{"type":"string"},"#":{"type":"string"},"%":{"type":"string"},"a b":{"type":"string"},"a_b":{"type":"string"},"Größe":{"type":["null","object"]},"_airbyte_meta":{"type":"string"}}}`

// Odd stream and property names map to safe, unique names; every table loads again, every data
// and manifest file named in the metadata exists under the warehouse, and a later sync with more
// colliding names keeps every column where it was.
func TestOddNames(t *testing.T) {
	h := newHarness(t)
	streams := []string{"time entries", "zeiteinträge", "a%20b", "a b", "a_b"}
	var cs []string
	for _, s := range streams {
		cs = append(cs, fmt.Sprintf(`{"stream":{"name":%q,"json_schema":%s,"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}`, s, oddSchema))
	}
	cc := `{"streams":[` + strings.Join(cs, ",") + `]}`
	var in []string
	for i, s := range streams {
		in = append(in, rec(s, fmt.Sprintf(`{"id":%d,"":"empty","#":"hash","%%":"pct","a b":"space","a_b":"underscore","Größe":{"m":%d},"_airbyte_meta":"mine"}`, i, i), 1), state(s, i, i+1))
	}
	out := h.mustWrite(cc, lines(in...))
	if !strings.Contains(strings.Join(out, "\n"), "stream zeiteinträge is written to table clockify.zeiteintrage") {
		t.Errorf("no LOG names the mapped table: %v", out)
	}
	tables := map[string]string{"time entries": "time_entries", "zeiteinträge": "zeiteintrage", "a%20b": "a_20b",
		"a b": "a_b_" + nameHash("a b"), "a_b": "a_b"}
	cols := map[string]string{"": "_" + nameHash(""), "#": "_" + nameHash("#"), "%": "_" + nameHash("%"),
		"a b": "a_b_" + nameHash("a b"), "a_b": "a_b", "Größe": "Grosse", "_airbyte_meta": "_airbyte_meta_" + nameHash("_airbyte_meta")}
	want := map[string]string{"": "empty", "#": "hash", "%": "pct", "a b": "space", "a_b": "underscore", "_airbyte_meta": "mine"}
	for i, s := range streams {
		name := tables[s]
		rows := h.rows("clockify", name, "id")
		if len(rows) != 1 || rows[0]["id"] != fmt.Sprint(i) {
			t.Fatalf("table %s for stream %q: rows %v", name, s, rows)
		}
		for prop, v := range want {
			if got := rows[0][cols[prop]]; got != v {
				t.Errorf("table %s column %s (property %q) = %q, want %q", name, cols[prop], prop, got, v)
			}
		}
		if got := rows[0]["Grosse"]; got != fmt.Sprintf(`{"m":%d}`, i) {
			t.Errorf("table %s column Grosse = %q", name, got)
		}
		if !strings.Contains(rows[0]["_airbyte_meta"], `"changes":[]`) {
			t.Errorf("table %s: _airbyte_meta %q", name, rows[0]["_airbyte_meta"])
		}
		tbl := h.table("clockify", name)
		if p := tbl.Properties()[PropStream]; p != s {
			t.Errorf("table %s: %s = %q, want %q", name, PropStream, p, s)
		}
		assertFilesUnder(t, h.dir, tbl)
	}

	// Sync 2 of "time entries" gains "A B", whose safe name differs from "a_b" only in case:
	// "a_b" and "a b" keep their columns, "A B" gets a new one.
	schema2 := strings.Replace(oddSchema, `"a_b":{"type":"string"}`, `"A B":{"type":"string"},"a_b":{"type":"string"}`, 1)
	cc2 := fmt.Sprintf(`{"streams":[{"stream":{"name":"time entries","json_schema":%s,"supported_sync_modes":["full_refresh"]},"sync_mode":"full_refresh","destination_sync_mode":"append"}]}`, schema2)
	h.mustWrite(cc2, lines(rec("time entries", `{"id":9,"a b":"space2","a_b":"underscore2","A B":"upper"}`, 2), state("time entries", 9, 9)))
	rows := h.rows("clockify", "time_entries", "id")
	last := rows[len(rows)-1]
	if last["id"] != "9" || last[cols["a b"]] != "space2" || last["a_b"] != "underscore2" || last["A_B_"+nameHash("A B")] != "upper" {
		t.Errorf("sync 2 row %v", last)
	}
}

// assertFilesUnder checks that every manifest list, manifest and data file the table's metadata
// names exists on disk under dir with a name made of safe characters.
func assertFilesUnder(t *testing.T, dir string, tbl *table.Table) {
	t.Helper()
	fs, err := tbl.FS(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, snap := range tbl.Metadata().Snapshots() {
		paths = append(paths, snap.ManifestList)
		mans, err := snap.Manifests(fs)
		if err != nil {
			t.Fatalf("reading the manifest list %s: %v", snap.ManifestList, err)
		}
		for _, m := range mans {
			paths = append(paths, m.FilePath())
		}
	}
	tasks, err := tbl.Scan().PlanFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		paths = append(paths, task.File.FilePath())
	}
	paths = append(paths, tbl.MetadataLocation())
	for _, p := range paths {
		local := strings.TrimPrefix(p, "file://")
		if !strings.HasPrefix(local, dir) {
			t.Errorf("%s is outside the warehouse %s", p, dir)
			continue
		}
		if rel, _ := filepath.Rel(dir, local); strings.ContainsAny(rel, "% #") {
			t.Errorf("%s: the path has unsafe characters", p)
		}
		if _, err := os.Stat(local); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
