// Package catalogs turns the catalog and storage part of the destination config into an open
// iceberg-go catalog: an embedded SQLite catalog by default, PostgreSQL, an Iceberg REST catalog
// (Polaris / Snowflake Open Catalog, Nessie, ...) or AWS Glue, with the FileIO properties for
// local, S3, GCS and Azure warehouses.
package catalogs

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Catalog types accepted in catalog.catalog_type.
const (
	TypeSQL  = "sql"
	TypeREST = "rest"
	TypeGlue = "glue"
)

// Storage types accepted in storage.storage_type.
const (
	StorageLocal = "local"
	StorageS3    = "s3"
	StorageGCS   = "gcs"
	StorageAzure = "azure"
)

const (
	// DefaultWarehouse is used when the config names neither a warehouse nor a catalog.
	DefaultWarehouse = "./warehouse"
	// DefaultSQLiteFile is the embedded catalog's file name inside a local warehouse folder.
	DefaultSQLiteFile = "catalog.db"
	// DefaultCatalogName is the catalog_name the SQL catalog stores in its rows; readers
	// (PyIceberg, DuckDB) must use the same name to see the tables.
	DefaultCatalogName = "airbyte"
)

// Settings is the catalog/storage part of the destination config. The destination embeds it
// anonymously in its config struct, so warehouse, catalog and storage are top-level keys.
type Settings struct {
	// Warehouse is the root of table data: file:///abs, a plain (relative or absolute) path,
	// s3://bucket/prefix, gs://bucket/prefix or abfss://container@account.dfs.core.windows.net/prefix.
	Warehouse string          `json:"warehouse,omitempty"`
	Catalog   CatalogSettings `json:"catalog,omitzero"`
	Storage   StorageSettings `json:"storage,omitzero"`
}

// CatalogSettings holds the fields of every catalog variant; which ones apply depends on Type.
type CatalogSettings struct {
	Type string `json:"catalog_type,omitempty"`
	// Name is the catalog name (SQL: the catalog_name column; REST/Glue: informational).
	Name string `json:"name,omitempty"`
	// URI: SQL = a database/sql URI (SQLite file path, file: or sqlite:/// URI, postgres://...);
	// REST = the catalog base URL (without /v1).
	URI string `json:"uri,omitempty"`
	// Password is merged into a postgres:// URI so the URI itself need not carry a secret.
	Password string `json:"password,omitempty"`

	// REST.
	Credential      string `json:"credential,omitempty"` // OAuth2 client credentials "client_id:client_secret"
	Token           string `json:"token,omitempty"`      // static bearer token
	Scope           string `json:"scope,omitempty"`
	RESTWarehouse   string `json:"warehouse,omitempty"` // catalog-side warehouse (Polaris: the catalog name)
	Prefix          string `json:"prefix,omitempty"`
	OAuth2ServerURI string `json:"oauth2_server_uri,omitempty"`
	SigV4           bool   `json:"sigv4,omitempty"`
	SigV4Region     string `json:"sigv4_region,omitempty"`
	SigV4Service    string `json:"sigv4_service,omitempty"`

	// Glue.
	Region          string `json:"region,omitempty"`
	CatalogID       string `json:"catalog_id,omitempty"`
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	SessionToken    string `json:"session_token,omitempty"`
	Endpoint        string `json:"endpoint,omitempty"`
}

// StorageSettings holds the object-store credentials; which fields apply depends on Type.
type StorageSettings struct {
	Type string `json:"storage_type,omitempty"`

	// S3 (also MinIO, moto, other S3-compatible stores).
	Region          string `json:"region,omitempty"`
	Endpoint        string `json:"endpoint,omitempty"` // S3, GCS and Azure: a custom endpoint
	AccessKeyID     string `json:"access_key_id,omitempty"`
	SecretAccessKey string `json:"secret_access_key,omitempty"`
	SessionToken    string `json:"session_token,omitempty"`
	// PathStyleAccess nil keeps iceberg-go's default (path style iff an endpoint is set).
	PathStyleAccess *bool `json:"path_style_access,omitempty"`

	// GCS.
	ServiceAccountJSON string `json:"service_account_json,omitempty"`

	// Azure (ADLS Gen2).
	AccountName      string `json:"account_name,omitempty"`
	AccountKey       string `json:"account_key,omitempty"`
	SASToken         string `json:"sas_token,omitempty"`
	ConnectionString string `json:"connection_string,omitempty"`
}

// ParseSettings reads the catalog/storage keys out of a whole destination config; other keys
// are ignored.
func ParseSettings(raw []byte) (Settings, error) {
	var s Settings
	if len(strings.TrimSpace(string(raw))) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return Settings{}, fmt.Errorf("catalog settings: config is not a valid JSON object: %w", err)
	}
	return s, nil
}

// Normalized applies the defaults and checks the settings:
//   - catalog_type "" means sql; {} means warehouse ./warehouse with the embedded SQLite catalog;
//   - a local warehouse (plain path or file:// URI) becomes an absolute, escaped file:/// URI;
//   - sql without uri uses <warehouse>/catalog.db (only for a local warehouse);
//   - storage_type "" is taken from the warehouse scheme; a mismatch is an error.
//
// Errors are configuration errors and never contain secret values.
func (s Settings) Normalized() (Settings, error) {
	n := s
	n.Catalog.Type = strings.ToLower(strings.TrimSpace(n.Catalog.Type))
	if n.Catalog.Type == "" {
		n.Catalog.Type = TypeSQL
	}
	switch n.Catalog.Type {
	case TypeSQL, TypeREST, TypeGlue:
	default:
		return Settings{}, fmt.Errorf("catalog.catalog_type %q is not supported; use %q, %q or %q",
			s.Catalog.Type, TypeSQL, TypeREST, TypeGlue)
	}

	n.Warehouse = strings.TrimSpace(n.Warehouse)
	if n.Warehouse == "" && n.Catalog.Type == TypeSQL {
		n.Warehouse = DefaultWarehouse
	}
	if n.Warehouse != "" {
		w, err := normalizeWarehouse(n.Warehouse)
		if err != nil {
			return Settings{}, err
		}
		n.Warehouse = w
	}
	scheme := warehouseScheme(n.Warehouse)

	if err := n.normalizeStorage(scheme); err != nil {
		return Settings{}, err
	}

	switch n.Catalog.Type {
	case TypeSQL:
		if n.Catalog.Name == "" {
			n.Catalog.Name = DefaultCatalogName
		}
		if strings.TrimSpace(n.Catalog.URI) == "" {
			dir, ok := LocalPath(n.Warehouse)
			if !ok {
				return Settings{}, fmt.Errorf("catalog.uri is required for a sql catalog when the warehouse %q is not a local folder", n.Warehouse)
			}
			n.Catalog.URI = filepath.Join(dir, DefaultSQLiteFile)
		}
		if _, err := parseSQLURI(n.Catalog.URI, n.Catalog.Password); err != nil {
			return Settings{}, err
		}
	case TypeREST:
		if n.Catalog.Name == "" {
			n.Catalog.Name = "rest"
		}
		if n.Catalog.URI == "" {
			return Settings{}, fmt.Errorf("catalog.uri is required for a rest catalog (the base URL, e.g. https://host/api/catalog)")
		}
		u, err := url.Parse(n.Catalog.URI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Settings{}, fmt.Errorf("catalog.uri %q is not an http(s) URL", redactURL(n.Catalog.URI))
		}
		if n.Catalog.Credential != "" && n.Catalog.Token != "" {
			return Settings{}, fmt.Errorf("catalog: give either credential or token for the rest catalog, not both")
		}
		if n.Catalog.OAuth2ServerURI != "" {
			if u, err := url.Parse(n.Catalog.OAuth2ServerURI); err != nil || u.Scheme == "" || u.Host == "" {
				return Settings{}, fmt.Errorf("catalog.oauth2_server_uri %q is not an absolute URL", redactURL(n.Catalog.OAuth2ServerURI))
			}
		}
	case TypeGlue:
		if n.Catalog.Name == "" {
			n.Catalog.Name = "glue"
		}
		if n.Warehouse == "" {
			return Settings{}, fmt.Errorf("warehouse is required for a glue catalog (an s3:// location for new tables)")
		}
		if (n.Catalog.AccessKeyID == "") != (n.Catalog.SecretAccessKey == "") {
			return Settings{}, fmt.Errorf("catalog: access_key_id and secret_access_key must be given together (or both left out for the default AWS credential chain)")
		}
		if n.Catalog.SessionToken != "" && n.Catalog.AccessKeyID == "" {
			return Settings{}, fmt.Errorf("catalog: session_token needs access_key_id and secret_access_key")
		}
	}
	return n, nil
}

func (n *Settings) normalizeStorage(scheme string) error {
	want := storageForScheme(scheme)
	st := strings.ToLower(strings.TrimSpace(n.Storage.Type))
	switch st {
	case "":
		st = want
	case StorageLocal, StorageS3, StorageGCS, StorageAzure:
		// A REST catalog may place tables itself, so an empty warehouse does not constrain storage.
		if n.Warehouse != "" && st != want {
			return fmt.Errorf("storage.storage_type %q does not match the warehouse %q (which needs %q)", st, n.Warehouse, want)
		}
	default:
		return fmt.Errorf("storage.storage_type %q is not supported; use %q, %q, %q or %q",
			n.Storage.Type, StorageLocal, StorageS3, StorageGCS, StorageAzure)
	}
	n.Storage.Type = st
	s := n.Storage
	switch st {
	case StorageS3:
		if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
			return fmt.Errorf("storage: access_key_id and secret_access_key must be given together (or both left out for the default AWS credential chain)")
		}
		if s.SessionToken != "" && s.AccessKeyID == "" {
			return fmt.Errorf("storage: session_token needs access_key_id and secret_access_key")
		}
	case StorageGCS:
		if s.ServiceAccountJSON != "" && !json.Valid([]byte(s.ServiceAccountJSON)) {
			return fmt.Errorf("storage.service_account_json is not valid JSON")
		}
	case StorageAzure:
		if s.AccountName == "" {
			if u, err := url.Parse(n.Warehouse); err == nil && u.Hostname() != "" {
				n.Storage.AccountName = accountFromHost(u.Hostname())
			}
		}
		if s.AccountKey != "" && n.Storage.AccountName == "" {
			return fmt.Errorf("storage: account_key needs account_name")
		}
		if n := countSet(s.AccountKey, s.SASToken, s.ConnectionString); n > 1 {
			return fmt.Errorf("storage: give only one of account_key, sas_token and connection_string")
		}
	}
	return nil
}

func countSet(vals ...string) int {
	n := 0
	for _, v := range vals {
		if v != "" {
			n++
		}
	}
	return n
}

// normalizeWarehouse makes local paths absolute file:/// URIs and trims trailing slashes.
func normalizeWarehouse(w string) (string, error) {
	if !hasURIScheme(w) {
		abs, err := filepath.Abs(w)
		if err != nil {
			return "", fmt.Errorf("warehouse %q: cannot make the path absolute: %w", w, err)
		}
		return fileURI(abs), nil
	}
	u, err := url.Parse(w)
	if err != nil {
		return "", fmt.Errorf("warehouse %q is not a valid URI: %w", w, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("warehouse %q: a file URI needs an absolute path (file:///abs/path), not host %q", w, u.Host)
		}
		p := u.Path
		if u.Opaque != "" { // file:relative/path
			p, err = url.PathUnescape(u.Opaque)
			if err != nil {
				return "", fmt.Errorf("warehouse %q: %w", w, err)
			}
		}
		if !filepath.IsAbs(p) {
			abs, err := filepath.Abs(p)
			if err != nil {
				return "", fmt.Errorf("warehouse %q: cannot make the path absolute: %w", w, err)
			}
			p = abs
		}
		return fileURI(filepath.Clean(p)), nil
	case "s3", "s3a", "s3n", "gs", "abfs", "abfss", "wasb", "wasbs":
		if u.Host == "" {
			return "", fmt.Errorf("warehouse %q has no bucket/container", w)
		}
		if strings.HasPrefix(strings.ToLower(u.Scheme), "abf") || strings.HasPrefix(strings.ToLower(u.Scheme), "wasb") {
			if u.User == nil || u.User.Username() == "" {
				return "", fmt.Errorf("warehouse %q: an Azure location must look like abfss://container@account.dfs.core.windows.net/path", w)
			}
		}
		return strings.TrimRight(w, "/"), nil
	default:
		return "", fmt.Errorf("warehouse %q: scheme %q is not supported; use a local path, file://, s3://, gs:// or abfss://", w, u.Scheme)
	}
}

// hasURIScheme reports whether w starts with "<scheme>:" (a Windows drive letter does not count).
func hasURIScheme(w string) bool {
	i := strings.IndexByte(w, ':')
	if i < 2 {
		return false
	}
	for j, r := range w[:i] {
		isAlpha := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !isAlpha && (j == 0 || !(r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return true
}

func fileURI(abs string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

func warehouseScheme(w string) string {
	if w == "" {
		return ""
	}
	u, err := url.Parse(w)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme)
}

func storageForScheme(scheme string) string {
	switch scheme {
	case "s3", "s3a", "s3n":
		return StorageS3
	case "gs":
		return StorageGCS
	case "abfs", "abfss", "wasb", "wasbs":
		return StorageAzure
	default:
		return StorageLocal
	}
}

// LocalPath returns the local directory of a normalized file:// warehouse.
func LocalPath(warehouse string) (string, bool) {
	u, err := url.Parse(warehouse)
	if err != nil || !strings.EqualFold(u.Scheme, "file") {
		return "", false
	}
	return filepath.FromSlash(u.Path), true
}
