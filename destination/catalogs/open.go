package catalogs

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/glue"
	"github.com/apache/iceberg-go/catalog/rest"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	// FileIO registrations for s3://, gs:// and abfss:// warehouses (file:// is built in).
	_ "github.com/apache/iceberg-go/io/gocloud/azure"
	_ "github.com/apache/iceberg-go/io/gocloud/gcs"
	_ "github.com/apache/iceberg-go/io/gocloud/s3"

	// database/sql drivers for the SQL catalog, both pure Go so binaries stay static.
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// OpenExisting opens the catalog a sync made, as Open does, but fails for a SQLite file that does
// not exist: opening one creates it, and for a command that only reads or tends tables a missing
// file means a wrong config or no sync yet.
func OpenExisting(ctx context.Context, s Settings) (catalog.Catalog, error) {
	if path, ok := s.SQLitePath(); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no catalog at %s (has a sync run with this config?): %w", path, err)
		}
	}
	return Open(ctx, s)
}

// Open normalizes the settings and opens the catalog they describe. A local warehouse folder
// (and the SQLite file's folder) is created if missing. Close the result with Close (it holds a
// database pool for SQL catalogs). Errors say what failed, with secrets masked.
func Open(ctx context.Context, s Settings) (catalog.Catalog, error) {
	n, err := s.Normalized()
	if err != nil {
		return nil, err
	}
	if dir, ok := LocalPath(n.Warehouse); ok {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating the warehouse folder %s: %w", dir, err)
		}
	}
	switch n.Catalog.Type {
	case TypeREST:
		return openREST(ctx, n)
	case TypeGlue:
		return openGlue(ctx, n)
	default:
		return openSQL(ctx, n)
	}
}

// Close releases what Open acquired (the SQL database pool, REST sessions).
func Close(c catalog.Catalog) error {
	if cl, ok := c.(catalog.Closer); ok {
		return cl.Close()
	}
	return nil
}

// IOProps returns the FileIO properties for the storage settings (s3.*, gcs.*, adls.*), and
// "warehouse" when set. They travel with the catalog properties to every table's FileIO.
func (s Settings) IOProps() iceberg.Properties {
	p := iceberg.Properties{}
	if s.Warehouse != "" {
		p["warehouse"] = s.Warehouse
	}
	st := s.Storage
	set := func(k, v string) {
		if v != "" {
			p[k] = v
		}
	}
	typ := strings.ToLower(st.Type)
	if typ == "" {
		// Not normalized yet: the warehouse scheme decides, as Normalized would.
		typ = storageForScheme(warehouseScheme(s.Warehouse))
	}
	switch typ {
	case StorageS3:
		set(iceio.S3Region, st.Region)
		set(iceio.S3EndpointURL, st.Endpoint)
		set(iceio.S3AccessKeyID, st.AccessKeyID)
		set(iceio.S3SecretAccessKey, st.SecretAccessKey)
		set(iceio.S3SessionToken, st.SessionToken)
		if st.PathStyleAccess != nil {
			p[iceio.S3ForceVirtualAddressing] = strconv.FormatBool(!*st.PathStyleAccess)
		}
	case StorageGCS:
		set(iceio.GCSJSONKey, st.ServiceAccountJSON)
		set(iceio.GCSEndpoint, st.Endpoint)
		if st.ServiceAccountJSON == "" && isLoopbackURL(st.Endpoint) {
			// An emulator on this machine (fake-gcs-server) takes no credentials, and looking
			// for application default credentials would fail or reach for a metadata server.
			p[iceio.GCSNoAuth] = "true"
		}
	case StorageAzure:
		host := ""
		if u, err := url.Parse(s.Warehouse); err == nil {
			host = u.Hostname()
		}
		// The SDK wants the storage domain and the protocol apart: "http://127.0.0.1:10000"
		// (Azurite) becomes domain 127.0.0.1:10000, protocol http, and account-in-path URLs.
		if u, err := url.Parse(st.Endpoint); err == nil && u.Scheme != "" && u.Host != "" {
			set(iceio.ADLSEndpoint, u.Host)
			set(iceio.ADLSProtocol, strings.ToLower(u.Scheme))
		} else {
			set(iceio.ADLSEndpoint, st.Endpoint)
		}
		switch {
		case st.AccountKey != "":
			set(iceio.ADLSSharedKeyAccountName, cmp.Or(st.AccountName, accountFromHost(host)))
			set(iceio.ADLSSharedKeyAccountKey, st.AccountKey)
		case st.SASToken != "" && host != "":
			p[iceio.ADLSSasTokenPrefix+host] = st.SASToken
		case st.ConnectionString != "":
			p[iceio.ADLSConnectionStringPrefix+cmp.Or(st.AccountName, accountFromHost(host))] = st.ConnectionString
		}
	}
	return p
}

// isLoopbackURL reports whether raw is an absolute URL whose host is on this machine.
func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func accountFromHost(host string) string {
	for i := 0; i < len(host); i++ {
		if host[i] == '.' {
			return host[:i]
		}
	}
	return host
}

// sqlCatalog owns the *sql.DB that sqlcat.NewCatalog leaves to its caller; every catalog method
// (and the optional interfaces such as PurgeableTable) is promoted from the embedded catalog.
type sqlCatalog struct {
	*sqlcat.Catalog
	db *sql.DB
}

func (c *sqlCatalog) Close() error {
	return errors.Join(c.Catalog.Close(), c.db.Close())
}

// SQLProps returns the properties the SQL catalog is created with.
func (s Settings) SQLProps() iceberg.Properties {
	return s.IOProps()
}

func openSQL(ctx context.Context, n Settings) (catalog.Catalog, error) {
	t, err := parseSQLURI(n.Catalog.URI, n.Catalog.Password)
	if err != nil {
		return nil, err
	}
	if t.dialect == dialectSQLite {
		if err := os.MkdirAll(filepath.Dir(t.path), 0o755); err != nil {
			return nil, fmt.Errorf("creating the folder of the SQLite catalog %s: %w", t.path, err)
		}
	}
	where := t.path
	if where == "" {
		where = redactURL(t.dsn)
	}
	connect := ConnectTimeout
	if t.dialect == dialectPostgres {
		t.dsn, connect = withConnectTimeout(t.dsn)
	}
	db, err := sql.Open(t.driver, t.dsn)
	if err != nil {
		return nil, n.wrapf(err, "opening the %s catalog database %s", t.dialect, where)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, n.wrapf(explainTimeout(err, "the server", connect), "connecting to the %s catalog database %s", t.dialect, where)
	}
	cat, err := sqlcat.NewCatalog(n.Catalog.Name, db, t.dialect, n.SQLProps())
	if err != nil {
		db.Close()
		return nil, n.wrapf(err, "initializing the %s catalog tables in %s", t.dialect, where)
	}
	return &sqlCatalog{Catalog: cat, db: db}, nil
}

// restOptions returns the iceberg-go REST options for the settings (also used by tests).
func (s Settings) restOptions(ctx context.Context) ([]rest.Option, error) {
	c := s.Catalog
	opts := []rest.Option{rest.WithCustomTransport(restTransport())}
	if c.Credential != "" {
		tokenURL := c.OAuth2ServerURI
		if tokenURL == "" {
			tokenURL = strings.TrimRight(c.URI, "/") + "/v1/oauth/tokens"
		}
		opts = append(opts, rest.WithAuthManager(newOAuthManager(c.Credential, tokenURL, c.Scope)))
	}
	if c.Token != "" {
		opts = append(opts, rest.WithOAuthToken(c.Token))
	}
	if c.Scope != "" {
		opts = append(opts, rest.WithScope(c.Scope))
	}
	if c.RESTWarehouse != "" {
		opts = append(opts, rest.WithWarehouseLocation(c.RESTWarehouse))
	}
	if c.Prefix != "" {
		opts = append(opts, rest.WithPrefix(c.Prefix))
	}
	if c.OAuth2ServerURI != "" {
		u, err := url.Parse(c.OAuth2ServerURI)
		if err != nil {
			return nil, fmt.Errorf("catalog.oauth2_server_uri %q: %w", redactURL(c.OAuth2ServerURI), err)
		}
		opts = append(opts, rest.WithAuthURI(u))
	}
	if c.SigV4 {
		cfg, err := s.storageAWSConfig(ctx, c.SigV4Region)
		if err != nil {
			return nil, err
		}
		opts = append(opts, rest.WithAwsConfig(cfg),
			rest.WithSigV4RegionSvc(cmp.Or(c.SigV4Region, s.Storage.Region), c.SigV4Service))
	}
	if p := s.IOProps(); len(p) > 0 {
		// The warehouse prop is the REST catalog's own option; do not send ours as a default.
		delete(p, "warehouse")
		if len(p) > 0 {
			opts = append(opts, rest.WithAdditionalProps(p))
		}
	}
	return opts, nil
}

func openREST(ctx context.Context, n Settings) (catalog.Catalog, error) {
	opts, err := n.restOptions(ctx)
	if err != nil {
		return nil, err
	}
	cat, err := rest.NewCatalog(ctx, n.Catalog.Name, n.Catalog.URI, opts...)
	if err != nil {
		return nil, n.wrapf(explainTimeout(err, "the server", ConnectTimeout), "connecting to the rest catalog at %s", redactURL(n.Catalog.URI))
	}
	return cat, nil
}

// storageAWSConfig builds an aws.Config from the S3 storage keys/region, else the default chain.
func (s Settings) storageAWSConfig(ctx context.Context, region string) (aws.Config, error) {
	st := s.Storage
	var lo []func(*awsconfig.LoadOptions) error
	if r := cmp.Or(region, st.Region); r != "" {
		lo = append(lo, awsconfig.WithRegion(r))
	}
	if st.AccessKeyID != "" {
		lo = append(lo, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(st.AccessKeyID, st.SecretAccessKey, st.SessionToken)))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return aws.Config{}, s.wrapf(err, "loading the AWS configuration for SigV4")
	}
	return cfg, nil
}

// glueAWSConfig builds the aws.Config for the Glue client: the catalog's region, endpoint and
// keys, else the default AWS chain (environment, shared files, instance role).
func (s Settings) glueAWSConfig(ctx context.Context) (aws.Config, error) {
	c := s.Catalog
	var lo []func(*awsconfig.LoadOptions) error
	if c.Region != "" {
		lo = append(lo, awsconfig.WithRegion(c.Region))
	}
	if c.Endpoint != "" {
		lo = append(lo, awsconfig.WithBaseEndpoint(c.Endpoint))
	}
	if c.AccessKeyID != "" {
		lo = append(lo, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return aws.Config{}, s.wrapf(err, "loading the AWS configuration for Glue")
	}
	return cfg, nil
}

// GlueProps returns the properties the Glue catalog is created with: glue.* (catalog id, region,
// endpoint, keys), the warehouse for new tables, and the S3 FileIO properties. S3 region and keys
// fall back to the Glue ones, so one key pair serves both when storage gives none.
func (s Settings) GlueProps() iceberg.Properties {
	c := s.Catalog
	p := s.IOProps()
	set := func(k, v string) {
		if v != "" {
			p[k] = v
		}
	}
	set(glue.CatalogIdKey, c.CatalogID)
	set(glue.Region, c.Region)
	set(glue.Endpoint, c.Endpoint)
	set(glue.AccessKeyID, c.AccessKeyID)
	set(glue.SecretAccessKey, c.SecretAccessKey)
	set(glue.SessionToken, c.SessionToken)
	if s.Storage.Type == StorageS3 {
		if _, ok := p[iceio.S3Region]; !ok {
			set(iceio.S3Region, c.Region)
		}
		if _, ok := p[iceio.S3AccessKeyID]; !ok && c.AccessKeyID != "" {
			p[iceio.S3AccessKeyID] = c.AccessKeyID
			p[iceio.S3SecretAccessKey] = c.SecretAccessKey
			set(iceio.S3SessionToken, c.SessionToken)
		}
	}
	return p
}

func openGlue(ctx context.Context, n Settings) (catalog.Catalog, error) {
	cfg, err := n.glueAWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	cat, err := glue.NewCatalog(glue.WithAwsConfig(cfg), glue.WithAwsProperties(glue.AwsProperties(n.GlueProps())))
	if err != nil {
		return nil, n.wrapf(err, "creating the glue catalog client (region %s)", cmp.Or(n.Catalog.Region, "default"))
	}
	return cat, nil
}
