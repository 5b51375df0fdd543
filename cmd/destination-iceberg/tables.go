package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
)

const tablesUsage = `Usage: destination-iceberg tables --config <destination config.json> [--namespace ns]... [--json]

Prints one row per table of the destination's catalog: its rows (counted by scanning the current
snapshot, so deleted rows are not counted), data and delete files, snapshots and bytes. It reads
only; with --json it prints a JSON array for scripts (the demo reads it).

Flags:
  --config <file>     the destination's config (as for write)
  --namespace ns      only this namespace (repeatable; a.b for a nested one); default: every namespace
  --json              a JSON array of objects instead of the text table

Read more: ` + docs + "\n"

// tableFigures is one row of `tables`.
type tableFigures struct {
	Namespace        string `json:"namespace"`
	Name             string `json:"name"`
	Rows             int64  `json:"rows"`
	DataFiles        int64  `json:"data_files"`
	DeleteFiles      int64  `json:"delete_files"`
	Snapshots        int    `json:"snapshots"`
	Bytes            int64  `json:"bytes"`
	SnapshotID       *int64 `json:"snapshot_id"`
	MetadataLocation string `json:"metadata_location"`
}

// tables runs the `tables` command.
func tables(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tables", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		configPath string
		namespaces airbyte.RepeatedFlag
		asJSON     bool
	)
	fs.StringVar(&configPath, "config", "", "")
	fs.Var(&namespaces, "namespace", "")
	fs.BoolVar(&asJSON, "json", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, tablesUsage)
			return 0
		}
		fmt.Fprintf(stderr, "tables: %v\nRun `destination-iceberg help tables` for usage.\n", err)
		return 2
	}
	if fs.NArg() > 0 || configPath == "" {
		fmt.Fprintf(stderr, "tables: --config <file> is required and nothing else is an argument\nRun `destination-iceberg help tables` for usage.\n")
		return 2
	}
	raw, err := airbyte.ReadConfigFile(configPath)
	if err != nil {
		fmt.Fprintf(stderr, "tables: %v\n", err)
		return 1
	}
	s, err := catalogs.ParseSettings(raw)
	if err != nil {
		fmt.Fprintf(stderr, "tables: config %s: %v\n", configPath, err)
		return 1
	}
	red := airbyte.NewRedactor(s.Secrets()...)
	fail := func(err error) int {
		fmt.Fprintln(stderr, red.String("tables: "+err.Error()))
		return 1
	}
	n, err := s.Normalized()
	if err != nil {
		return fail(fmt.Errorf("config %s: %w", configPath, err))
	}
	cat, err := catalogs.OpenExisting(ctx, n)
	if err != nil {
		return fail(err)
	}
	defer catalogs.Close(cat)
	var nss []table.Identifier
	for _, v := range namespaces {
		nss = append(nss, strings.Split(v, "."))
	}
	figs, err := collectFigures(ctx, cat, nss)
	if err != nil {
		return fail(err)
	}
	if asJSON {
		b, _ := json.MarshalIndent(figs, "", "  ")
		stdout.Write(append(b, '\n'))
		return 0
	}
	writeFiguresTable(stdout, figs)
	return 0
}

func collectFigures(ctx context.Context, cat catalog.Catalog, namespaces []table.Identifier) ([]tableFigures, error) {
	if len(namespaces) == 0 {
		all, err := cat.ListNamespaces(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("listing the catalog's namespaces: %w", err)
		}
		namespaces = all
	}
	figs := []tableFigures{}
	for _, ns := range namespaces {
		for id, err := range cat.ListTables(ctx, ns) {
			if err != nil {
				return nil, fmt.Errorf("listing the tables of namespace %s: %w", strings.Join(ns, "."), err)
			}
			tbl, err := cat.LoadTable(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("loading table %s: %w", strings.Join(id, "."), err)
			}
			f, err := figuresOf(ctx, tbl)
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", strings.Join(id, "."), err)
			}
			figs = append(figs, f)
		}
	}
	return figs, nil
}

func figuresOf(ctx context.Context, tbl *table.Table) (tableFigures, error) {
	id := tbl.Identifier()
	f := tableFigures{
		Namespace:        strings.Join(id[:len(id)-1], "."),
		Name:             id[len(id)-1],
		Snapshots:        len(tbl.Metadata().Snapshots()),
		MetadataLocation: tbl.MetadataLocation(),
	}
	snap := tbl.CurrentSnapshot()
	if snap == nil {
		return f, nil
	}
	f.SnapshotID = &snap.SnapshotID
	if snap.Summary != nil {
		num := func(k string) int64 { v, _ := strconv.ParseInt(snap.Summary.Properties[k], 10, 64); return v }
		f.DataFiles, f.DeleteFiles, f.Bytes = num("total-data-files"), num("total-delete-files"), num("total-files-size")
	}
	fields := tbl.Schema().Fields()
	if len(fields) == 0 {
		return f, nil
	}
	_, recs, err := tbl.Scan(table.WithSelectedFields(fields[0].Name)).ToArrowRecords(ctx)
	if err != nil {
		return f, fmt.Errorf("scanning: %w", err)
	}
	for rec, err := range recs {
		if err != nil {
			return f, fmt.Errorf("scanning: %w", err)
		}
		f.Rows += rec.NumRows()
		rec.Release()
	}
	return f, nil
}

func writeFiguresTable(w io.Writer, figs []tableFigures) {
	rows := [][]string{{"table", "rows", "data files", "delete files", "snapshots", "bytes"}}
	for _, f := range figs {
		rows = append(rows, []string{f.Namespace + "." + f.Name, strconv.FormatInt(f.Rows, 10), strconv.FormatInt(f.DataFiles, 10),
			strconv.FormatInt(f.DeleteFiles, 10), strconv.Itoa(f.Snapshots), strconv.FormatInt(f.Bytes, 10)})
	}
	io.WriteString(w, airbyte.TextTable(rows, ""))
}
