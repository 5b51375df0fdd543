package destination

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
)

// flakyCatalog fails chosen data commits: before applying them (lost request) or after (lost
// acknowledgement).
type flakyCatalog struct {
	catalog.Catalog
	commits   atomic.Int32
	failAt    map[int32]bool
	afterward bool
	injected  int
}

var errFlaky = errors.New("injected catalog failure")

func (c *flakyCatalog) wrap(t *table.Table, err error) (*table.Table, error) {
	if err != nil {
		return nil, err
	}
	return table.New(t.Identifier(), t.Metadata(), t.MetadataLocation(), t.FS, c), nil
}

func (c *flakyCatalog) LoadTable(ctx context.Context, id table.Identifier) (*table.Table, error) {
	return c.wrap(c.Catalog.LoadTable(ctx, id))
}

func (c *flakyCatalog) CreateTable(ctx context.Context, id table.Identifier, sch *iceberg.Schema, opts ...catalog.CreateTableOpt) (*table.Table, error) {
	return c.wrap(c.Catalog.CreateTable(ctx, id, sch, opts...))
}

func (c *flakyCatalog) CommitTable(ctx context.Context, id table.Identifier, reqs []table.Requirement, ups []table.Update) (table.Metadata, string, error) {
	n := c.commits.Add(1)
	if !c.failAt[n] {
		return c.Catalog.CommitTable(ctx, id, reqs, ups)
	}
	c.injected++
	if c.afterward {
		if _, _, err := c.Catalog.CommitTable(ctx, id, reqs, ups); err != nil {
			return nil, "", err
		}
	}
	return nil, "", errFlaky
}

func TestCommitRetries(t *testing.T) {
	for _, afterward := range []bool{false, true} {
		name := "lost request"
		if afterward {
			name = "lost acknowledgement"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.cfg["flush_records"] = 1
			// The table is created with its properties, so every commit is a data commit: the
			// first fails (twice in a row when the request is lost), and so does the second batch's.
			fc := &flakyCatalog{failAt: map[int32]bool{1: true, 2: true, 4: true}, afterward: afterward}
			if afterward {
				fc.failAt = map[int32]bool{1: true, 2: true}
			}
			d := &Destination{OpenCatalog: func(ctx context.Context, cfg *Config) (catalog.Catalog, error) {
				c, err := catalogs.Open(ctx, cfg.Settings)
				fc.Catalog = c
				return fc, err
			}}
			var cc airbyte.ConfiguredCatalog
			if err := jsonUnmarshalString(catalogFor("items", itemsSchema, "append", "", "", 1, 0), &cc); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			w := airbyte.NewWriter(&out, nil)
			err := d.Write(context.Background(), h.config(), &cc,
				strings.NewReader(lines(item(1, "a", 1), state("items", 1, 1), item(1, "b", 2), item(2, "c", 1), state("items", 2, 2))), w)
			w.Close()
			if err != nil {
				t.Fatalf("write: %v\n%s", err, out.String())
			}
			got := project(h.rows("clockify", "items", "id"), "id", "v")
			slices.Sort(got)
			if !slices.Equal(got, []string{"1|a", "1|b", "2|c"}) {
				t.Fatalf("rows %v", got)
			}
			if n := len(states(strings.Split(out.String(), "\n"))); n != 2 {
				t.Fatalf("%d echoes", n)
			}
			if want := len(fc.failAt); fc.injected != want {
				t.Fatalf("%d failures injected, want %d", fc.injected, want)
			}
		})
	}
}
