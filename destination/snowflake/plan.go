package snowflake

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/apache/iceberg-go/table"
	"github.com/clockberg/clockberg/destination/catalogs"
)

// Source is Snowflake's CATALOG_SOURCE of the catalog integration.
type Source string

const (
	ObjectStore Source = "OBJECT_STORE"
	IcebergREST Source = "ICEBERG_REST"
	Polaris     Source = "POLARIS"
	Glue        Source = "GLUE"
)

// Default object names used when the options give none.
const (
	DefaultExternalVolume = "clockberg_volume"
	integrationPrefix     = "clockberg_"
)

// Options tune the statements. The zero value is usable.
type Options struct {
	// Source overrides the integration kind; empty = from the catalog type (sql: OBJECT_STORE,
	// rest: ICEBERG_REST, or POLARIS for a *.snowflakecomputing.com URI, glue: GLUE).
	// OBJECT_STORE works with any catalog, since it reads the metadata files directly.
	Source Source
	// ExternalVolume and CatalogIntegration name the Snowflake objects (plain identifiers).
	ExternalVolume     string
	CatalogIntegration string
	// StorageBase is the external volume's STORAGE_BASE_URL; default: the warehouse.
	StorageBase string
	// Database, when set, qualifies schema names.
	Database string
	// PreserveCase keeps the exact spelling of schema and table names (quoted, case-sensitive);
	// by default plain identifiers are upper-cased so they resolve unquoted.
	PreserveCase bool
}

// TableRef is what the statements need from an Iceberg table.
type TableRef struct {
	Namespace        []string
	Name             string
	MetadataLocation string
	Location         string
}

// Ref returns the TableRef of a loaded table.
func Ref(t *table.Table) TableRef {
	id := t.Identifier()
	return TableRef{
		Namespace:        append([]string(nil), id[:len(id)-1]...),
		Name:             id[len(id)-1],
		MetadataLocation: t.MetadataLocation(),
		Location:         t.Location(),
	}
}

// TableStatements are the statements for one table.
type TableStatements struct {
	Ref TableRef
	// SnowflakeName is the (possibly database-qualified) quoted name in Snowflake.
	SnowflakeName string
	// MetadataPath is the metadata file relative to the storage base (OBJECT_STORE only).
	MetadataPath string
	Statements   []string
}

// Plan is the full hand-off: one-time setup statements and per-table statements.
type Plan struct {
	Source             Source
	ExternalVolume     string
	CatalogIntegration string
	StorageBase        string
	Setup              []string
	Tables             []TableStatements
}

// Build computes the statements for the tables of a catalog described by s.
func Build(s catalogs.Settings, tables []TableRef, o Options) (*Plan, error) {
	n, err := s.Normalized()
	if err != nil {
		return nil, err
	}
	src := o.Source
	if src == "" {
		src = defaultSource(n)
	}
	switch src {
	case ObjectStore, IcebergREST, Polaris, Glue:
	default:
		return nil, fmt.Errorf("catalog source %q is not one of OBJECT_STORE, ICEBERG_REST, POLARIS, GLUE", o.Source)
	}
	p := &Plan{
		Source:             src,
		ExternalVolume:     orDefault(o.ExternalVolume, DefaultExternalVolume),
		CatalogIntegration: orDefault(o.CatalogIntegration, integrationPrefix+strings.ToLower(string(src))),
	}
	for what, v := range map[string]string{"external volume": p.ExternalVolume, "catalog integration": p.CatalogIntegration} {
		if !simpleIdent.MatchString(v) {
			return nil, fmt.Errorf("%s name %q must be a plain identifier (letters, digits, _ and $, not starting with a digit)", what, v)
		}
	}

	sorted := append([]TableRef(nil), tables...)
	sort.Slice(sorted, func(i, j int) bool {
		a, b := strings.Join(sorted[i].Namespace, "\x00"), strings.Join(sorted[j].Namespace, "\x00")
		if a != b {
			return a < b
		}
		return sorted[i].Name < sorted[j].Name
	})

	p.StorageBase = o.StorageBase
	if p.StorageBase == "" {
		p.StorageBase = n.Warehouse
	}
	if p.StorageBase == "" && len(sorted) > 0 {
		// A REST catalog chooses locations itself: use the bucket of the first table.
		if u, err := url.Parse(sorted[0].Location); err == nil && u.Scheme != "" {
			p.StorageBase = u.Scheme + "://" + u.Host
		}
	}

	names := snowflakeNames(sorted, o)
	schemas := map[string]bool{}
	var schemaOrder []string
	for i, t := range sorted {
		schema := names[i].schema
		if !schemas[schema] {
			schemas[schema] = true
			schemaOrder = append(schemaOrder, schema)
		}
		ts := TableStatements{Ref: t, SnowflakeName: names[i].full}
		switch src {
		case ObjectStore:
			rel, err := RelativePath(p.StorageBase, t.MetadataLocation)
			if err != nil {
				return nil, fmt.Errorf("table %s: %w", strings.Join(append(append([]string{}, t.Namespace...), t.Name), "."), err)
			}
			ts.MetadataPath = rel
			ts.Statements = []string{
				fmt.Sprintf("CREATE ICEBERG TABLE IF NOT EXISTS %s EXTERNAL_VOLUME = %s CATALOG = %s METADATA_FILE_PATH = %s;",
					ts.SnowflakeName, QuoteString(p.ExternalVolume), QuoteString(p.CatalogIntegration), QuoteString(rel)),
				fmt.Sprintf("ALTER ICEBERG TABLE %s REFRESH %s;", ts.SnowflakeName, QuoteString(rel)),
			}
		default:
			ts.Statements = []string{fmt.Sprintf(
				"CREATE ICEBERG TABLE IF NOT EXISTS %s EXTERNAL_VOLUME = %s CATALOG = %s CATALOG_NAMESPACE = %s CATALOG_TABLE_NAME = %s AUTO_REFRESH = TRUE;",
				ts.SnowflakeName, QuoteString(p.ExternalVolume), QuoteString(p.CatalogIntegration),
				QuoteString(strings.Join(t.Namespace, ".")), QuoteString(t.Name))}
		}
		p.Tables = append(p.Tables, ts)
	}

	p.Setup = append(p.Setup, externalVolumeSQL(p, n))
	p.Setup = append(p.Setup, integrationSQL(p, n, sorted))
	for _, schema := range schemaOrder {
		p.Setup = append(p.Setup, fmt.Sprintf("CREATE SCHEMA IF NOT EXISTS %s;", schema))
	}
	return p, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func defaultSource(n catalogs.Settings) Source {
	switch n.Catalog.Type {
	case catalogs.TypeREST:
		if u, err := url.Parse(n.Catalog.URI); err == nil && strings.HasSuffix(strings.ToLower(u.Hostname()), ".snowflakecomputing.com") {
			return Polaris
		}
		return IcebergREST
	case catalogs.TypeGlue:
		return Glue
	default:
		return ObjectStore
	}
}

type sfName struct{ schema, full string }

// snowflakeNames maps namespaces to schemas (levels joined with "_") and tables to names. Plain
// names that would collide once upper-cased keep their exact spelling instead.
func snowflakeNames(tables []TableRef, o Options) []sfName {
	schemaKey := func(t TableRef) string { return strings.Join(t.Namespace, "_") }
	upperCount := map[string]map[string]bool{}
	count := func(scope, name string) {
		u := strings.ToUpper(name)
		if upperCount[scope+"\x00"+u] == nil {
			upperCount[scope+"\x00"+u] = map[string]bool{}
		}
		upperCount[scope+"\x00"+u][name] = true
	}
	for _, t := range tables {
		count("", schemaKey(t))
		count(schemaKey(t), t.Name)
	}
	render := func(scope, name string) string {
		preserve := o.PreserveCase || len(upperCount[scope+"\x00"+strings.ToUpper(name)]) > 1
		return objectName(name, preserve)
	}
	out := make([]sfName, len(tables))
	for i, t := range tables {
		schema := render("", schemaKey(t))
		if o.Database != "" {
			schema = objectName(o.Database, o.PreserveCase) + "." + schema
		}
		out[i] = sfName{schema: schema, full: schema + "." + render(schemaKey(t), t.Name)}
	}
	return out
}

func externalVolumeSQL(p *Plan, n catalogs.Settings) string {
	var b strings.Builder
	base := p.StorageBase
	u, _ := url.Parse(base)
	scheme := ""
	if u != nil {
		scheme = strings.ToLower(u.Scheme)
	}
	withSlash := func(s string) string { return strings.TrimRight(s, "/") + "/" }
	fmt.Fprintf(&b, "CREATE EXTERNAL VOLUME IF NOT EXISTS %s\n  STORAGE_LOCATIONS = ((\n    NAME = %s\n", p.ExternalVolume, QuoteString(p.ExternalVolume+"_location"))
	switch {
	case scheme == "s3" || scheme == "s3a" || scheme == "s3n":
		if n.Storage.Endpoint != "" {
			host := n.Storage.Endpoint
			if eu, err := url.Parse(n.Storage.Endpoint); err == nil && eu.Host != "" {
				host = eu.Host
			}
			fmt.Fprintf(&b, "    STORAGE_PROVIDER = 'S3COMPAT'\n    STORAGE_BASE_URL = %s\n    STORAGE_ENDPOINT = %s\n    CREDENTIALS = (AWS_KEY_ID = '<aws_key_id>' AWS_SECRET_KEY = '<aws_secret_key>')\n",
				QuoteString(withSlash("s3compat://"+u.Host+u.Path)), QuoteString(host))
		} else {
			fmt.Fprintf(&b, "    STORAGE_PROVIDER = 'S3'\n    STORAGE_BASE_URL = %s\n    STORAGE_AWS_ROLE_ARN = '<aws_iam_role_arn>'\n",
				QuoteString(withSlash("s3://"+u.Host+u.Path)))
		}
	case scheme == "gs":
		fmt.Fprintf(&b, "    STORAGE_PROVIDER = 'GCS'\n    STORAGE_BASE_URL = %s\n", QuoteString(withSlash("gcs://"+u.Host+u.Path)))
	case strings.HasPrefix(scheme, "abf") || strings.HasPrefix(scheme, "wasb"):
		account := strings.SplitN(u.Hostname(), ".", 2)[0]
		container := ""
		if u.User != nil {
			container = u.User.Username()
		}
		fmt.Fprintf(&b, "    STORAGE_PROVIDER = 'AZURE'\n    STORAGE_BASE_URL = %s\n    AZURE_TENANT_ID = '<azure_tenant_id>'\n",
			QuoteString(withSlash("azure://"+account+".blob.core.windows.net/"+container+u.Path)))
	default:
		local := base
		if p, ok := catalogs.LocalPath(base); ok {
			local = p
		}
		fmt.Fprintf(&b, "    -- The warehouse is the local folder %s. Snowflake reads cloud storage only: copy the\n"+
			"    -- folder as it is (e.g. aws s3 sync <folder> s3://<bucket>/<prefix>/) and point STORAGE_BASE_URL at the copy;\n"+
			"    -- the metadata paths below are relative to it and stay valid.\n"+
			"    STORAGE_PROVIDER = 'S3'\n    STORAGE_BASE_URL = 's3://<bucket>/<prefix>/'\n    STORAGE_AWS_ROLE_ARN = '<aws_iam_role_arn>'\n",
			commentText(local))
	}
	b.WriteString("  ))\n  ALLOW_WRITES = FALSE;")
	return b.String()
}

func integrationSQL(p *Plan, n catalogs.Settings, tables []TableRef) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE CATALOG INTEGRATION IF NOT EXISTS %s\n  CATALOG_SOURCE = %s\n  TABLE_FORMAT = ICEBERG\n", p.CatalogIntegration, p.Source)
	ns := ""
	if len(tables) > 0 {
		ns = strings.Join(tables[0].Namespace, ".")
		for _, t := range tables[1:] {
			if strings.Join(t.Namespace, ".") != ns {
				ns = "" // several namespaces: each table names its own
				break
			}
		}
	}
	c := n.Catalog
	switch p.Source {
	case ObjectStore:
	case Glue:
		fmt.Fprintf(&b, "  GLUE_AWS_ROLE_ARN = '<glue_iam_role_arn>'\n  GLUE_CATALOG_ID = %s\n",
			QuoteStringOr(c.CatalogID, "<aws_account_id>"))
		if c.Region != "" {
			fmt.Fprintf(&b, "  GLUE_REGION = %s\n", QuoteString(c.Region))
		}
		if ns != "" {
			fmt.Fprintf(&b, "  CATALOG_NAMESPACE = %s\n", QuoteString(ns))
		}
	default: // ICEBERG_REST, POLARIS
		if ns != "" {
			fmt.Fprintf(&b, "  CATALOG_NAMESPACE = %s\n", QuoteString(ns))
		}
		uri := "<catalog_uri>"
		if c.Type == catalogs.TypeREST && c.URI != "" {
			uri = publicURL(c.URI)
		}
		fmt.Fprintf(&b, "  REST_CONFIG = (\n    CATALOG_URI = %s\n", QuoteString(uri))
		if c.Prefix != "" && p.Source == IcebergREST {
			fmt.Fprintf(&b, "    PREFIX = %s\n", QuoteString(c.Prefix))
		}
		if c.RESTWarehouse != "" {
			fmt.Fprintf(&b, "    CATALOG_NAME = %s\n", QuoteString(c.RESTWarehouse))
		} else if p.Source == Polaris {
			b.WriteString("    CATALOG_NAME = '<open_catalog_catalog_name>'\n")
		}
		b.WriteString("  )\n  REST_AUTHENTICATION = (\n")
		switch {
		case c.Token != "" && p.Source == IcebergREST:
			b.WriteString("    TYPE = BEARER\n    BEARER_TOKEN = '<bearer_token>'\n")
		case c.SigV4 && p.Source == IcebergREST:
			fmt.Fprintf(&b, "    TYPE = SIGV4\n    SIGV4_IAM_ROLE = '<aws_iam_role_arn>'\n    SIGV4_SIGNING_REGION = %s\n",
				QuoteStringOr(orDefault(c.SigV4Region, n.Storage.Region), "<aws_region>"))
		default:
			b.WriteString("    TYPE = OAUTH\n")
			if c.OAuth2ServerURI != "" {
				fmt.Fprintf(&b, "    OAUTH_TOKEN_URI = %s\n", QuoteString(publicURL(c.OAuth2ServerURI)))
			}
			scope := c.Scope
			if scope == "" {
				scope = "catalog"
				if p.Source == Polaris {
					scope = "PRINCIPAL_ROLE:ALL"
				}
			}
			fmt.Fprintf(&b, "    OAUTH_CLIENT_ID = '<oauth_client_id>'\n    OAUTH_CLIENT_SECRET = '<oauth_client_secret>'\n    OAUTH_ALLOWED_SCOPES = (%s)\n", QuoteString(scope))
		}
		b.WriteString("  )\n")
	}
	b.WriteString("  ENABLED = TRUE")
	if p.Source != ObjectStore {
		b.WriteString("\n  REFRESH_INTERVAL_SECONDS = 30")
	}
	b.WriteString(";")
	return b.String()
}

// QuoteStringOr quotes v, or returns the quoted placeholder when v is empty.
func QuoteStringOr(v, placeholder string) string {
	if v == "" {
		return "'" + placeholder + "'"
	}
	return QuoteString(v)
}

// publicURL drops user info and query strings, which may carry credentials.
func publicURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<catalog_uri>"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// SQL renders the plan as a script: a header, the one-time setup, then each table.
func (p *Plan) SQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- Snowflake hand-off: catalog integration %s (CATALOG_SOURCE = %s), external volume %s.\n",
		p.CatalogIntegration, p.Source, p.ExternalVolume)
	b.WriteString("-- One-time setup (replace the <placeholders> with your account's values):\n")
	for _, s := range p.Setup {
		b.WriteString(s)
		b.WriteString("\n")
	}
	if len(p.Tables) == 0 {
		b.WriteString("-- No tables found.\n")
	}
	for _, t := range p.Tables {
		fmt.Fprintf(&b, "\n-- %s\n", commentText(strings.Join(t.Ref.Namespace, ".")+"."+t.Ref.Name+"  metadata: "+t.Ref.MetadataLocation))
		if p.Source == ObjectStore {
			b.WriteString("-- Run the CREATE once; run the ALTER ... REFRESH after every sync (object-store tables do not auto-refresh).\n")
		}
		for _, s := range t.Statements {
			b.WriteString(s)
			b.WriteString("\n")
		}
	}
	return b.String()
}

// commentText keeps text on one comment line: a name with a line break must not start a
// statement of its own.
func commentText(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ", "\u2028", " ", "\u2029", " ").Replace(s)
}
