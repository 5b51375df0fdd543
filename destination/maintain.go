package destination

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
	"github.com/clockberg/clockberg/destination/maintenance"
)

// MaintainUsage is the help of the maintain command; docs says where to read more.
func MaintainUsage(docs string) string {
	return `Usage: destination-iceberg maintain --config <destination config.json> [--streams a,b] [--namespace ns]... [--dry-run] [--json]

Keeps the destination's tables healthy, as every sync does when it ends (config "maintenance"):
compacts small data files and rewrites the files that have delete files with the deletes applied,
merges small manifests, expires the snapshots beyond the retention (keep_snapshots per branch and
keep_history_hours of history; branches and tags, an overwrite's staging branch included, keep
theirs), then removes the files no snapshot references that are older than orphan_min_age_hours.
A sync committing at the same time wins: maintenance plans the step again or skips it.

Prints one row per table: snapshots, data files, delete files, manifests, metadata.json bytes and
the bytes under the table's location, before -> after, and what was removed. With --dry-run it
plans every step and prints the same row (after = planned) without changing anything.

Flags:
  --config <file>     the destination's config (as for write)
  --streams a,b       only the tables of these streams (name or namespace.name)
  --namespace ns      the namespaces to maintain (repeatable; default: the config's namespace)
  --dry-run           change nothing; print what would be done
  --json              a JSON array of reports instead of the text table

Read more: ` + docs + "\n"
}

// Maintain runs the maintain command.
func Maintain(ctx context.Context, args []string, stdout, stderr io.Writer, docs string) int {
	fs := flag.NewFlagSet("maintain", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		configPath, streams string
		namespaces          airbyte.RepeatedFlag
		dryRun, asJSON      bool
	)
	fs.StringVar(&configPath, "config", "", "")
	fs.StringVar(&streams, "streams", "", "")
	fs.Var(&namespaces, "namespace", "")
	fs.BoolVar(&dryRun, "dry-run", false, "")
	fs.BoolVar(&asJSON, "json", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stdout, MaintainUsage(docs))
			return 0
		}
		fmt.Fprintf(stderr, "maintain: %v\nRun `destination-iceberg help maintain` for usage.\n", err)
		return 2
	}
	if fs.NArg() > 0 || configPath == "" {
		fmt.Fprintf(stderr, "maintain: --config <file> is required and nothing else is an argument\nRun `destination-iceberg help maintain` for usage.\n")
		return 2
	}
	raw, err := airbyte.ReadConfigFile(configPath)
	if err != nil {
		fmt.Fprintf(stderr, "maintain: %v\n", err)
		return 1
	}
	cfg, err := parseConfig(raw)
	if err != nil {
		fmt.Fprintf(stderr, "maintain: config %s: %v\n", configPath, err)
		return 1
	}
	red := airbyte.NewRedactor(cfg.Settings.Secrets()...)
	logf := func(format string, a ...any) {
		fmt.Fprintln(stderr, red.String("maintain: "+fmt.Sprintf(format, a...)))
	}
	cat, err := catalogs.OpenExisting(ctx, cfg.Settings)
	if err != nil {
		logf("opening the catalog (%s): %v", cfg.Settings.Describe(), err)
		return 1
	}
	defer catalogs.Close(cat)
	var nss []table.Identifier
	for _, ns := range namespaces {
		nss = append(nss, strings.Split(ns, "."))
	}
	if len(nss) == 0 {
		nss = []table.Identifier{{cfg.Namespace}}
	}
	var want []string
	if streams != "" {
		for _, s := range strings.Split(streams, ",") {
			if s = strings.TrimSpace(s); s != "" {
				want = append(want, s)
			}
		}
	}
	idents, err := maintainedTables(ctx, cat, nss, want)
	if err != nil {
		logf("%v", err)
		return 1
	}
	o := cfg.Maintenance.Options()
	o.DryRun = dryRun
	o.Log = logf
	reports, failed := []maintenance.Report{}, 0
	for _, id := range idents {
		r, _, err := maintenance.Run(ctx, cat, id, o)
		if err != nil {
			logf("%v", err)
			failed++
			continue
		}
		reports = append(reports, r)
	}
	if asJSON {
		b, _ := json.MarshalIndent(reports, "", "  ")
		stdout.Write(append(b, '\n'))
	} else {
		io.WriteString(stdout, MaintenanceTable(reports))
	}
	if failed > 0 {
		logf("%d of %d tables failed", failed, len(idents))
		return 1
	}
	return 0
}

// maintainedTables lists the tables of the namespaces; with streams, only theirs (matched by the
// stream the table was created for, or by table name).
func maintainedTables(ctx context.Context, cat catalog.Catalog, namespaces []table.Identifier, streams []string) ([]table.Identifier, error) {
	var out []table.Identifier
	found := map[string]bool{}
	for _, ns := range namespaces {
		ok, err := cat.CheckNamespaceExists(ctx, ns)
		if err != nil {
			return nil, fmt.Errorf("checking namespace %s: %w", strings.Join(ns, "."), err)
		}
		if !ok {
			return nil, fmt.Errorf("namespace %s does not exist in the catalog (no sync yet, or another namespace: --namespace)", strings.Join(ns, "."))
		}
		for id, err := range cat.ListTables(ctx, ns) {
			if err != nil {
				return nil, fmt.Errorf("listing the tables of namespace %s: %w", strings.Join(ns, "."), err)
			}
			if len(streams) == 0 {
				out = append(out, id)
				continue
			}
			name := id[len(id)-1]
			var stream string
			if tbl, err := cat.LoadTable(ctx, id); err == nil {
				stream = tbl.Properties()[PropStream]
			}
			for _, s := range streams {
				if s == stream || s == name || safeName(s) == name && stream == "" ||
					strings.Join(id, ".") == s {
					out = append(out, id)
					found[s] = true
					break
				}
			}
		}
	}
	for _, s := range streams {
		if !found[s] {
			return nil, fmt.Errorf("no table of stream %q in namespace(s) %s", s, joinIdents(namespaces))
		}
	}
	return out, nil
}

func joinIdents(ids []table.Identifier) string {
	var s []string
	for _, id := range ids {
		s = append(s, strings.Join(id, "."))
	}
	return strings.Join(s, ", ")
}

// MaintenanceTable renders reports as the text table of the maintain command.
func MaintenanceTable(reports []maintenance.Report) string {
	rows := [][]string{{"table", "snapshots", "data files", "delete files", "manifests", "metadata bytes", "total bytes", "removed"}}
	arrow := func(a, b int64) string { return strconv.FormatInt(a, 10) + " -> " + strconv.FormatInt(b, 10) }
	for _, r := range reports {
		removed := r.Removed()
		if r.DryRun {
			removed = "dry run, would do: " + removed
		}
		rows = append(rows, []string{r.Table,
			arrow(int64(r.Before.Snapshots), int64(r.After.Snapshots)),
			arrow(r.Before.DataFiles, r.After.DataFiles),
			arrow(r.Before.DeleteFiles, r.After.DeleteFiles),
			arrow(int64(r.Before.Manifests), int64(r.After.Manifests)),
			arrow(r.Before.MetadataBytes, r.After.MetadataBytes),
			arrow(r.Before.TotalBytes, r.After.TotalBytes),
			removed})
	}
	return airbyte.TextTable(rows, "")
}

// maintainAfterSync runs the configured maintenance on every table the sync wrote, after the
// sync's last state was echoed: a failure is a WARN (the sync's data is committed either way).
func (s *session) maintainAfterSync(ctx context.Context) {
	if !s.cfg.Maintenance.On() {
		return
	}
	o := s.cfg.Maintenance.Options()
	o.Log = func(format string, a ...any) { s.out.Log(airbyte.LogInfo, "maintenance: "+format, a...) }
	for _, st := range s.streams {
		if st.tbl == nil {
			continue
		}
		name := strings.Join(st.ident, ".")
		r, tbl, err := maintenance.Run(ctx, s.cat, st.ident, o)
		if err != nil {
			s.out.Log(airbyte.LogWarn, "maintenance of table %s failed (the sync's data is committed; the next sync or `destination-iceberg maintain` tries again): %v", name, err)
			continue
		}
		st.tbl = tbl
		s.out.Log(airbyte.LogInfo, "maintenance of table %s: snapshots %d -> %d, data files %d -> %d, delete files %d -> %d, manifests %d -> %d, metadata %d -> %d bytes, total %d -> %d bytes; %s",
			name, r.Before.Snapshots, r.After.Snapshots, r.Before.DataFiles, r.After.DataFiles, r.Before.DeleteFiles, r.After.DeleteFiles,
			r.Before.Manifests, r.After.Manifests, r.Before.MetadataBytes, r.After.MetadataBytes, r.Before.TotalBytes, r.After.TotalBytes, r.Removed())
	}
}
