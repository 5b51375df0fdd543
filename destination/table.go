package destination

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/airbyte"
)

// stagingPrefix names the branches a truncating stream commits to until it completes.
const stagingPrefix = "airbyte_staging_gen_"

// tableProps are set on every table we create and enforced on tables we find: Snowflake reads
// only format v2 with Parquet data page v1.
func tableProps(targetFileSize int64, deleteMode string) iceberg.Properties {
	return iceberg.Properties{
		"format-version":                             "2",
		"write.parquet.page-version":                 "1",
		"write.parquet.compression-codec":            "zstd",
		"write.delete.mode":                          deleteMode,
		"write.update.mode":                          deleteMode,
		"write.merge.mode":                           deleteMode,
		"write.target-file-size-bytes":               strconv.FormatInt(targetFileSize, 10),
		"write.metadata.delete-after-commit.enabled": "true",
		"write.metadata.previous-versions-max":       "50",
		// A partitioned write keeps a Parquet writer open per partition, each buffering a page and a
		// dictionary per column: small pages and dictionaries keep 50 open writers within budget.
		"write.parquet.page-size-bytes":      "131072",
		"write.parquet.dict-size-bytes":      "262144",
		"write.parquet.row-group-size-bytes": "33554432",
	}
}

// nestedType is the type of the field at path (original property names) inside t, or nil. With
// an empty path it is t itself.
func nestedType(t iceberg.Type, path []string) iceberg.Type {
	for _, name := range path {
		st, ok := t.(*iceberg.StructType)
		if !ok {
			return nil
		}
		t = nil
		for _, f := range st.FieldList {
			if originalName(f) == name {
				t = f.Type
				break
			}
		}
		if t == nil {
			return nil
		}
	}
	return t
}

// columnPath maps a path of original property names to the column names of sch, or nil.
func columnPath(sch *iceberg.Schema, path []string) []string {
	var out []string
	fields := sch.Fields()
	for _, name := range path {
		var next *iceberg.NestedField
		for i := range fields {
			if originalName(fields[i]) == name {
				next = &fields[i]
				break
			}
		}
		if next == nil {
			return nil
		}
		out = append(out, next.Name)
		if st, ok := next.Type.(*iceberg.StructType); ok {
			fields = st.FieldList
		} else {
			fields = nil
		}
	}
	return out
}

// layout is the partition spec and sort order of a new table of schema sch.
func (st *stream) layout(sch *iceberg.Schema) (iceberg.PartitionSpec, *table.SortOrder, error) {
	fields := make([]partitionField, 0, len(st.partition))
	for _, f := range st.partition {
		cols := columnPath(sch, f.path)
		if cols == nil {
			if st.explicit {
				return iceberg.PartitionSpec{}, nil, airbyte.ConfigErrorf("stream %s: partitioning %s: the stream has no field %s", st.desc, f, strings.Join(f.path, "."))
			}
			continue
		}
		fields = append(fields, partitionField{transform: f.transform, path: cols})
	}
	spec, err := partitionSpec(sch, fields)
	if err != nil {
		return iceberg.PartitionSpec{}, nil, airbyte.ConfigErrorf("stream %s: %v", st.desc, err)
	}
	var order *table.SortOrder
	// iceberg-go's writers sort by top-level columns only (a nested sort key fails every write).
	if cols := columnPath(sch, st.sortBy); len(st.sortBy) == 1 && cols != nil {
		if f, ok := sch.FindFieldByName(strings.Join(cols, ".")); ok {
			o, err := table.NewSortOrder(1, []table.SortField{{SourceIDs: []int{f.ID}, Transform: iceberg.IdentityTransform{},
				Direction: table.SortASC, NullOrder: table.NullsFirst}})
			if err == nil {
				order = &o
			}
		}
	}
	return spec, order, nil
}

// load opens or creates the table and clears staging branches a previous sync left behind.
func (st *stream) load(ctx context.Context) error {
	if st.tbl != nil {
		return nil
	}
	cat := st.run.cat
	ns := table.Identifier{st.ident[0]}
	if ok, err := cat.CheckNamespaceExists(ctx, ns); err != nil {
		return fmt.Errorf("checking namespace %q: %w", ns[0], err)
	} else if !ok {
		if err := cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
			return fmt.Errorf("creating namespace %q: %w", ns[0], err)
		}
	}
	tbl, err := st.openTable(ctx)
	if err != nil {
		return fmt.Errorf("opening table %s: %w", strings.Join(st.ident, "."), err)
	}
	st.tbl = tbl
	if err := mapColumns(st.props, tbl.Schema()); err != nil {
		return fmt.Errorf("table %s: %w", strings.Join(st.ident, "."), err)
	}
	if err := st.enforceProps(ctx); err != nil {
		return err
	}
	if err := st.dropStaleBranches(ctx); err != nil {
		return err
	}
	return st.findInherited(ctx)
}

// openTable loads the stream's table, or creates it. A table of a candidate name that another
// stream created (its airbyte.stream property names that stream) is skipped for the next name.
func (st *stream) openTable(ctx context.Context) (*table.Table, error) {
	cat := st.run.cat
	for i, name := range st.names {
		st.ident = table.Identifier{st.ident[0], name}
		tbl, err := cat.LoadTable(ctx, st.ident)
		if errors.Is(err, catalog.ErrNoSuchTable) {
			if err := mapColumns(st.props, nil); err != nil {
				return nil, err
			}
			props := tableProps(st.run.cfg.TargetFileSizeBytes, st.deleteMode)
			props[PropStream] = st.desc.String()
			sch := newTableSchema(st.props, st.pk)
			opts := []catalog.CreateTableOpt{catalog.WithProperties(props)}
			spec, order, lerr := st.layout(sch)
			if lerr != nil {
				return nil, lerr
			}
			if !spec.IsUnpartitioned() {
				opts = append(opts, catalog.WithPartitionSpec(&spec))
			}
			if order != nil {
				opts = append(opts, catalog.WithSortOrder(*order))
			}
			tbl, err = cat.CreateTable(ctx, st.ident, sch, opts...)
			if errors.Is(err, catalog.ErrTableAlreadyExists) {
				tbl, err = cat.LoadTable(ctx, st.ident)
			}
		}
		if err != nil {
			return nil, err
		}
		if owner, ok := tbl.Properties()[PropStream]; ok && owner != st.desc.String() {
			if i == len(st.names)-1 {
				return nil, fmt.Errorf("the table belongs to stream %q", owner)
			}
			continue
		}
		return tbl, nil
	}
	return nil, errors.New("no table name")
}

// PropStream is the table property naming the stream (namespace.name as in the catalog) that
// created the table, so that two streams whose names map to the same table name never share it.
const PropStream = "airbyte.stream"

func (st *stream) enforceProps(ctx context.Context) error {
	want := tableProps(st.run.cfg.TargetFileSizeBytes, st.deleteMode)
	have := st.tbl.Properties()
	missing := iceberg.Properties{}
	if _, ok := have[PropStream]; !ok {
		missing[PropStream] = st.desc.String()
	}
	for _, k := range []string{"write.parquet.page-version", "write.parquet.compression-codec", "write.delete.mode", "write.update.mode", "write.merge.mode", "write.target-file-size-bytes", "write.parquet.row-group-limit",
		"write.parquet.page-size-bytes", "write.parquet.dict-size-bytes", "write.parquet.row-group-size-bytes"} {
		if have[k] != want[k] {
			missing[k] = want[k]
		}
	}
	if v := st.tbl.Metadata().Version(); v != 2 {
		return fmt.Errorf("table %s has format version %d; Snowflake needs version 2", strings.Join(st.ident, "."), v)
	}
	if len(missing) == 0 {
		return nil
	}
	txn := st.tbl.NewTransaction()
	if err := txn.SetProperties(missing); err != nil {
		return err
	}
	tbl, err := txn.Commit(ctx)
	if err != nil {
		return fmt.Errorf("setting properties of table %s: %w", strings.Join(st.ident, "."), err)
	}
	st.tbl = tbl
	return nil
}

// dropStaleBranches removes staging branches of other generations: their rows belong to an
// abandoned refresh. A branch of this very generation is kept, so a retried attempt keeps the
// rows (and echoed states) of the failed one.
func (st *stream) dropStaleBranches(ctx context.Context) error {
	var updates []table.Update
	var reqs []table.Requirement
	for name, ref := range st.tbl.Metadata().Refs() {
		if !strings.HasPrefix(name, stagingPrefix) {
			continue
		}
		keep := st.truncate && name == st.branch && st.cfg.GenerationID != nil
		if keep {
			continue
		}
		id := ref.SnapshotID
		updates = append(updates, table.NewRemoveSnapshotRefUpdate(name))
		reqs = append(reqs, table.AssertRefSnapshotID(name, &id))
	}
	if len(updates) == 0 {
		return nil
	}
	if _, _, err := st.run.cat.CommitTable(ctx, st.ident, reqs, updates); err != nil {
		return fmt.Errorf("removing stale staging branches of %s: %w", strings.Join(st.ident, "."), err)
	}
	tbl, err := st.run.cat.LoadTable(ctx, st.ident)
	if err != nil {
		return err
	}
	st.tbl = tbl
	return nil
}

// evolve stages in txn the columns the stream's schema adds and the widenings Iceberg allows.
// Other type changes keep the column; values that do not fit it become null with a meta change.
func (st *stream) evolve(txn *table.Transaction) error {
	sch := st.tbl.Schema()
	var upd *table.UpdateSchema
	get := func() *table.UpdateSchema {
		if upd == nil {
			upd = txn.UpdateSchema(true, false)
		}
		return upd
	}
	for _, p := range st.props {
		f, ok := sch.FindFieldByName(p.Column)
		if !ok {
			get().AddColumn([]string{p.Column}, p.Type, fieldDoc(p.JSON, p.Name, p.Column), false, nil)
			continue
		}
		evolveType(get, []string{f.Name}, f.Type, p.Type)
	}
	if upd == nil {
		return nil
	}
	if err := upd.Commit(); err != nil {
		return fmt.Errorf("evolving the schema of %s: %w", strings.Join(st.ident, "."), err)
	}
	return nil
}

// evolveType stages what a column of type have at path needs to hold values of type want: the
// nested fields it lacks are added (named as in a new table), Iceberg's widenings applied. Any
// other difference keeps have; values that do not fit it become null with a change. A JSON-text
// column stays JSON text even where the stream now declares a struct (tables of the JSON layout).
func evolveType(get func() *table.UpdateSchema, path []string, have, want iceberg.Type) {
	switch w := want.(type) {
	case *iceberg.StructType:
		h, ok := have.(*iceberg.StructType)
		if !ok {
			return
		}
		byOriginal := map[string]iceberg.NestedField{}
		existing := map[string]string{}
		for _, f := range h.FieldList {
			orig := originalName(f)
			byOriginal[orig] = f
			existing[f.Name] = orig
		}
		origs := make([]string, len(w.FieldList))
		for i, f := range w.FieldList {
			origs[i] = originalName(f)
		}
		cols, err := assignNames(origs, existing, nil)
		if err != nil {
			return // a name that cannot be placed: the field stays out, as an unknown property would
		}
		for i, wf := range w.FieldList {
			if hf, ok := byOriginal[origs[i]]; ok {
				evolveType(get, append(slices.Clone(path), hf.Name), hf.Type, wf.Type)
				continue
			}
			get().AddColumn(append(slices.Clone(path), cols[origs[i]]), wf.Type, fieldDoc(docIsJSON(wf.Doc), origs[i], cols[origs[i]]), false, nil)
		}
	case *iceberg.ListType:
		if h, ok := have.(*iceberg.ListType); ok {
			evolveType(get, append(slices.Clone(path), "element"), h.Element, w.Element)
		}
	default:
		if !have.Equals(want) && allowedWidening(have, want) {
			get().UpdateColumn(path, table.ColumnUpdate{FieldType: iceberg.Optional[iceberg.Type]{Valid: true, Val: want}})
		}
	}
}

// originalName is the record property a field holds: the name its doc records, else its own.
func originalName(f iceberg.NestedField) string {
	if orig, ok := docOriginal(f.Doc); ok {
		return orig
	}
	return f.Name
}
func (st *stream) mainHead() *table.Snapshot { return st.tbl.CurrentSnapshot() }
func (st *stream) branchHead() *table.Snapshot {
	if st.branch == table.MainBranch {
		return st.tbl.CurrentSnapshot()
	}
	return st.tbl.SnapshotByName(st.branch)
}

// files lists the data files of a snapshot.
func (st *stream) files(ctx context.Context, snap *table.Snapshot) ([]iceberg.DataFile, error) {
	if snap == nil {
		return nil, nil
	}
	tasks, err := st.tbl.Scan(table.WithSnapshotID(snap.SnapshotID)).PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing data files of %s: %w", strings.Join(st.ident, "."), err)
	}
	out := make([]iceberg.DataFile, 0, len(tasks))
	for _, t := range tasks {
		// Position delete files (ours, merge-on-read) stay with their data files; iceberg-go drops
		// those whose every data file is replaced.
		if len(t.EqualityDeleteFiles) > 0 || len(t.DeletionVectorFiles) > 0 {
			return nil, fmt.Errorf("table %s has equality deletes or deletion vectors; this destination only replaces tables without them", strings.Join(st.ident, "."))
		}
		out = append(out, t.File)
	}
	return out, nil
}

// finalize replaces main's rows with the staging branch's in one commit (truncating streams).
func (st *stream) finalize(ctx context.Context, snapProps iceberg.Properties) error {
	if !st.truncate || st.finalized {
		return nil
	}
	if err := st.load(ctx); err != nil {
		return err
	}
	name := strings.Join(st.ident, ".")
	old, err := st.files(ctx, st.mainHead())
	if err != nil {
		return err
	}
	head := st.branchHead()
	if head == nil && st.inh != nil && st.inh.fromMain {
		// An earlier attempt of this sync completed the refresh, and this one added nothing.
		st.finalized = true
		return nil
	}
	staged, err := st.files(ctx, head)
	if err != nil {
		return err
	}
	// A run killed between the main commit and the branch removal leaves main already holding
	// the branch's files; only the difference moves.
	inStaged := map[string]bool{}
	for _, f := range staged {
		inStaged[f.FilePath()] = true
	}
	inOld := map[string]bool{}
	old = slices.DeleteFunc(old, func(f iceberg.DataFile) bool {
		inOld[f.FilePath()] = true
		return inStaged[f.FilePath()]
	})
	staged = slices.DeleteFunc(staged, func(f iceberg.DataFile) bool { return inOld[f.FilePath()] })
	if len(old) > 0 || len(staged) > 0 {
		txn := st.tbl.NewTransaction()
		if err := txn.ReplaceDataFilesWithDataFiles(ctx, old, staged, snapProps); err != nil {
			return fmt.Errorf("replacing the rows of %s: %w", name, err)
		}
		tbl, err := txn.Commit(ctx)
		if err != nil {
			return fmt.Errorf("committing the refresh of %s: %w", name, err)
		}
		st.tbl = tbl
	}
	if head != nil {
		id := head.SnapshotID
		if _, _, err := st.run.cat.CommitTable(ctx, st.ident,
			[]table.Requirement{table.AssertRefSnapshotID(st.branch, &id)},
			[]table.Update{table.NewRemoveSnapshotRefUpdate(st.branch)}); err != nil {
			return fmt.Errorf("removing the staging branch of %s: %w", name, err)
		}
		if st.tbl, err = st.run.cat.LoadTable(ctx, st.ident); err != nil {
			return err
		}
	}
	st.finalized = true
	return nil
}
