package snowflake

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/clockberg/clockberg/airbyte"
	"github.com/clockberg/clockberg/destination/catalogs"
)

// Collect loads every table of the given namespaces (all top-level namespaces when none).
func Collect(ctx context.Context, cat catalog.Catalog, namespaces [][]string) ([]TableRef, error) {
	if len(namespaces) == 0 {
		nss, err := cat.ListNamespaces(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("listing the catalog's namespaces: %w", err)
		}
		for _, ns := range nss {
			namespaces = append(namespaces, ns)
		}
	} else {
		for _, ns := range namespaces {
			ok, err := cat.CheckNamespaceExists(ctx, ns)
			if err != nil {
				return nil, fmt.Errorf("checking namespace %s: %w", strings.Join(ns, "."), err)
			}
			if !ok {
				return nil, fmt.Errorf("namespace %s does not exist in the catalog", strings.Join(ns, "."))
			}
		}
	}
	var refs []TableRef
	for _, ns := range namespaces {
		for id, err := range cat.ListTables(ctx, ns) {
			if err != nil {
				return nil, fmt.Errorf("listing the tables of namespace %s: %w", strings.Join(ns, "."), err)
			}
			t, err := cat.LoadTable(ctx, id)
			if err != nil {
				return nil, fmt.Errorf("loading table %s: %w", strings.Join(id, "."), err)
			}
			refs = append(refs, Ref(t))
		}
	}
	return refs, nil
}

// LogAfterSync sends the hand-off for the tables a sync touched as LOG messages: one with the
// one-time setup, then one per table. It never fails the sync: a problem becomes a WARN.
func LogAfterSync(w *airbyte.Writer, s catalogs.Settings, tables []*table.Table, o Options) {
	if len(tables) == 0 {
		return
	}
	refs := make([]TableRef, 0, len(tables))
	for _, t := range tables {
		if t != nil {
			refs = append(refs, Ref(t))
		}
	}
	msgs, err := SyncMessages(s, refs, o)
	if err != nil {
		w.Log(airbyte.LogWarn, "Snowflake statements could not be generated: %v", err)
		return
	}
	for _, m := range msgs {
		w.Log(airbyte.LogInfo, "%s", m)
	}
}

// SyncMessages returns the texts LogAfterSync logs.
func SyncMessages(s catalogs.Settings, refs []TableRef, o Options) ([]string, error) {
	p, err := Build(s, refs, o)
	if err != nil {
		return nil, err
	}
	msgs := []string{fmt.Sprintf("Snowflake hand-off (CATALOG_SOURCE = %s). One-time setup, with <placeholders> for account values "+
		"(`destination-iceberg snowflake --config <config>` prints all of this at any time):\n%s",
		p.Source, strings.Join(p.Setup, "\n"))}
	for _, t := range p.Tables {
		hint := ""
		if p.Source == ObjectStore {
			hint = " (CREATE once; run the REFRESH after every sync)"
		}
		msgs = append(msgs, fmt.Sprintf("Snowflake statements for %s.%s%s:\n%s",
			strings.Join(t.Ref.Namespace, "."), t.Ref.Name, hint, strings.Join(t.Statements, "\n")))
	}
	return msgs, nil
}

const usage = `usage: destination-iceberg snowflake --config <destination config.json> [options]

Prints the Snowflake statements that make every table of the destination's catalog queryable.

options:
  --namespace ns            only this namespace (repeatable; a.b for a nested one); default: all
  --external-volume name    Snowflake external volume (default clockberg_volume)
  --catalog-integration n   Snowflake catalog integration (default clockberg_<source>)
  --catalog-source s        OBJECT_STORE, ICEBERG_REST, POLARIS or GLUE (default: from the catalog type)
  --storage-base url        the external volume's STORAGE_BASE_URL (default: the warehouse)
  --database db             qualify schema names with this database
  --preserve-case           keep exact (case-sensitive) schema and table names

Read more: README.md, section "Snowflake" (https://github.com/clockberg/clockberg#snowflake)
`

// Main runs the `snowflake` command. args are the arguments after the command name (a leading
// "snowflake" is skipped too). It prints the statements on stdout and returns the exit code:
// 0 success, 1 failure, 2 bad usage.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "snowflake" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("snowflake", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		configPath string
		namespaces airbyte.RepeatedFlag
		o          Options
		source     string
	)
	fs.StringVar(&configPath, "config", "", "")
	fs.Var(&namespaces, "namespace", "")
	fs.StringVar(&o.ExternalVolume, "external-volume", "", "")
	fs.StringVar(&o.CatalogIntegration, "catalog-integration", "", "")
	fs.StringVar(&source, "catalog-source", "", "")
	fs.StringVar(&o.StorageBase, "storage-base", "", "")
	fs.StringVar(&o.Database, "database", "", "")
	fs.BoolVar(&o.PreserveCase, "preserve-case", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "snowflake: %v\n%s", err, usage)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "snowflake: unexpected argument %q\n%s", fs.Arg(0), usage)
		return 2
	}
	if configPath == "" {
		fmt.Fprintf(stderr, "snowflake: --config is required\n%s", usage)
		return 2
	}
	o.Source = Source(strings.ToUpper(strings.TrimSpace(source)))

	raw, err := os.ReadFile(configPath)
	if err != nil {
		fmt.Fprintf(stderr, "snowflake: reading the config: %v\n", err)
		return 1
	}
	s, err := catalogs.ParseSettings(raw)
	if err != nil {
		fmt.Fprintf(stderr, "snowflake: config %s: %v\n", configPath, err)
		return 1
	}
	red := airbyte.NewRedactor(s.Secrets()...)
	fail := func(format string, a ...any) int {
		fmt.Fprintln(stderr, red.String("snowflake: "+fmt.Sprintf(format, a...)))
		return 1
	}
	n, err := s.Normalized()
	if err != nil {
		return fail("config %s: %v", configPath, err)
	}
	fmt.Fprintln(stderr, red.String("snowflake: reading "+n.Describe()))
	cat, err := catalogs.OpenExisting(ctx, n)
	if err != nil {
		return fail("%v", err)
	}
	defer catalogs.Close(cat)

	var nss [][]string
	for _, v := range namespaces {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				nss = append(nss, strings.Split(part, "."))
			}
		}
	}
	refs, err := Collect(ctx, cat, nss)
	if err != nil {
		return fail("%v", err)
	}
	p, err := Build(n, refs, o)
	if err != nil {
		if strings.Contains(err.Error(), "not under the storage base") {
			return fail("%v (set --storage-base to the external volume's STORAGE_BASE_URL)", err)
		}
		return fail("%v", err)
	}
	if _, err := io.WriteString(stdout, p.SQL()); err != nil {
		return fail("writing the statements: %v", err)
	}
	fmt.Fprintf(stderr, "snowflake: %d table(s), CATALOG_SOURCE = %s\n", len(p.Tables), p.Source)
	return 0
}
