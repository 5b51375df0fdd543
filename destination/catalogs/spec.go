package catalogs

// Spec orders used by SpecProperties at the top level of the destination spec; the destination's
// own properties must use other values (SpecOrderNext and up).
const (
	SpecOrderWarehouse = 0
	SpecOrderCatalog   = 1
	SpecOrderStorage   = 2
	SpecOrderNext      = 3
)

// SpecProperties returns the JSON-schema (draft-07) properties "warehouse", "catalog" and
// "storage" for the destination spec's top-level "properties". It follows Airbyte's spec rules:
// no $ref/anyOf/allOf, every oneOf has a parent of type object, each variant has properties and
// exactly one shared const property (catalog_type / storage_type), orders unique per object,
// credentials marked airbyte_secret. None of them is required: {} is a valid config.
func SpecProperties() map[string]any {
	return map[string]any{
		"warehouse": map[string]any{
			"type":  "string",
			"title": "Warehouse location",
			"description": "Root location of table data and metadata. A local folder (plain path, relative paths " +
				"are resolved against the working directory, or file:///abs/path), s3://bucket/prefix, " +
				"gs://bucket/prefix or abfss://container@account.dfs.core.windows.net/prefix. Left empty with " +
				"the SQL catalog: ./warehouse, with the SQLite catalog file catalog.db inside it.",
			"examples": []any{"./warehouse", "file:///data/warehouse", "s3://my-bucket/warehouse"},
			"order":    SpecOrderWarehouse,
		},
		"catalog": map[string]any{
			"type":        "object",
			"title":       "Catalog",
			"description": "Where the Iceberg tables are registered. Default: an embedded SQLite catalog file in the local warehouse folder.",
			"order":       SpecOrderCatalog,
			"oneOf":       []any{sqlVariant(), restVariant(), glueVariant()},
		},
		"storage": map[string]any{
			"type":        "object",
			"title":       "Storage credentials",
			"description": "Credentials for the warehouse's object store. Left empty: taken from the warehouse scheme with the cloud SDK's default credential chain.",
			"order":       SpecOrderStorage,
			"oneOf":       []any{localStorageVariant(), s3Variant(), gcsVariant(), azureVariant()},
		},
	}
}

func constProp(key, value, title string) map[string]any {
	return map[string]any{key: map[string]any{
		"type": "string", "const": value, "default": value, "title": title, "order": 0,
	}}
}

func str(title, desc string, order int, secret bool, extra ...any) map[string]any {
	m := map[string]any{"type": "string", "title": title, "description": desc, "order": order}
	if secret {
		m["airbyte_secret"] = true
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func variant(title, desc string, required []string, props map[string]any, more map[string]any) map[string]any {
	for k, v := range more {
		props[k] = v
	}
	return map[string]any{
		"type":        "object",
		"title":       title,
		"description": desc,
		"required":    required,
		"properties":  props,
	}
}

func sqlVariant() map[string]any {
	return variant("SQL (SQLite or PostgreSQL)",
		"A catalog kept in a database: SQLite (embedded, pure Go) or PostgreSQL. Readable by PyIceberg's SqlCatalog and other JDBC/SQL catalog clients.",
		[]string{"catalog_type"}, constProp("catalog_type", TypeSQL, "Catalog type"), map[string]any{
			"uri": str("Database URI",
				"A SQLite file path (relative to the working directory), file:/abs/catalog.db, sqlite:////abs/catalog.db, "+
					"or postgres://user@host:5432/db?sslmode=require. Empty: <warehouse>/catalog.db.", 1, false,
				"examples", []any{"/data/warehouse/catalog.db", "postgres://iceberg@db.example.com:5432/iceberg"}),
			"password": str("Database password", "PostgreSQL password, if not in the URI.", 2, true),
			"name": str("Catalog name",
				"The catalog_name stored in the catalog tables; readers must use the same name.", 3, false,
				"default", DefaultCatalogName),
		})
}

func restVariant() map[string]any {
	return variant("Iceberg REST (Polaris, Snowflake Open Catalog, Nessie, ...)",
		"An Iceberg REST catalog. For Snowflake Open Catalog: uri https://<account>.snowflakecomputing.com/polaris/api/catalog, warehouse = the Open Catalog catalog name, scope PRINCIPAL_ROLE:ALL.",
		[]string{"catalog_type", "uri"}, constProp("catalog_type", TypeREST, "Catalog type"), map[string]any{
			"uri":        str("Catalog URI", "Base URL of the REST catalog (without /v1).", 1, false, "examples", []any{"https://example.snowflakecomputing.com/polaris/api/catalog"}),
			"credential": str("OAuth2 client credential", "client_id:client_secret for the OAuth2 client-credentials flow.", 2, true),
			"token":      str("Bearer token", "A static bearer token (instead of a credential).", 3, true),
			"scope":      str("OAuth2 scope", "Default: catalog. Polaris / Open Catalog: PRINCIPAL_ROLE:ALL.", 4, false),
			"warehouse":  str("Catalog warehouse", "The warehouse the server should use (Polaris / Open Catalog: the catalog name).", 5, false),
			"prefix":     str("Path prefix", "Optional URL prefix for catalog endpoints (usually sent by the server's /v1/config).", 6, false),
			"oauth2_server_uri": str("OAuth2 token endpoint",
				"Default: <uri>/v1/oauth/tokens.", 7, false),
			"sigv4":         map[string]any{"type": "boolean", "title": "Sign requests with AWS SigV4", "description": "For AWS Glue's or S3 Tables' REST endpoints; uses the S3 storage keys or the default AWS chain.", "default": false, "order": 8},
			"sigv4_region":  str("SigV4 region", "Default: storage.region.", 9, false),
			"sigv4_service": str("SigV4 service", "glue, s3tables or execute-api (default).", 10, false),
			"name":          str("Catalog name", "A label for logs.", 11, false),
		})
}

func glueVariant() map[string]any {
	return variant("AWS Glue",
		"The AWS Glue Data Catalog (namespaces are Glue databases). Needs an s3:// warehouse. Snowflake reads it with a GLUE catalog integration.",
		[]string{"catalog_type"}, constProp("catalog_type", TypeGlue, "Catalog type"), map[string]any{
			"region":            str("Region", "AWS region of the Glue catalog. Empty: the default AWS chain.", 1, false, "examples", []any{"us-east-1"}),
			"catalog_id":        str("Catalog ID", "The Glue catalog ID (AWS account ID). Empty: the caller's account.", 2, false),
			"access_key_id":     str("Access key ID", "Empty: the default AWS credential chain.", 3, true),
			"secret_access_key": str("Secret access key", "", 4, true),
			"session_token":     str("Session token", "For temporary credentials.", 5, true),
			"endpoint":          str("Endpoint", "A custom Glue endpoint (testing, VPC endpoints). It also applies to S3 unless storage.endpoint is set.", 6, false),
		})
}

func localStorageVariant() map[string]any {
	return variant("Local filesystem", "The warehouse is a local folder; no credentials.",
		[]string{"storage_type"}, constProp("storage_type", StorageLocal, "Storage type"), map[string]any{})
}

func s3Variant() map[string]any {
	return variant("Amazon S3 or S3-compatible",
		"S3, MinIO and other S3-compatible stores.",
		[]string{"storage_type"}, constProp("storage_type", StorageS3, "Storage type"), map[string]any{
			"region":            str("Region", "Bucket region. Empty: the default AWS chain.", 1, false, "examples", []any{"us-east-1"}),
			"endpoint":          str("Endpoint", "Custom S3 endpoint, e.g. http://127.0.0.1:9000 for MinIO.", 2, false),
			"access_key_id":     str("Access key ID", "Empty: the default AWS credential chain.", 3, true),
			"secret_access_key": str("Secret access key", "", 4, true),
			"session_token":     str("Session token", "For temporary credentials.", 5, true),
			"path_style_access": map[string]any{"type": "boolean", "title": "Path-style access",
				"description": "Address buckets as endpoint/bucket instead of bucket.endpoint. Default: on when an endpoint is set.", "order": 6},
		})
}

func gcsVariant() map[string]any {
	return variant("Google Cloud Storage", "A gs:// warehouse.",
		[]string{"storage_type"}, constProp("storage_type", StorageGCS, "Storage type"), map[string]any{
			"service_account_json": str("Service account key JSON", "The JSON key of a service account. Empty: application default credentials.", 1, true, "multiline", true),
			"endpoint":             str("Endpoint", "A custom GCS endpoint, e.g. http://127.0.0.1:4443 for fake-gcs-server (a loopback endpoint without a key is used without credentials).", 2, false),
		})
}

func azureVariant() map[string]any {
	return variant("Azure Data Lake Storage Gen2", "An abfss:// warehouse.",
		[]string{"storage_type"}, constProp("storage_type", StorageAzure, "Storage type"), map[string]any{
			"account_name":      str("Storage account name", "Default: taken from the warehouse host.", 1, false),
			"account_key":       str("Account key", "Shared key of the storage account.", 2, true),
			"sas_token":         str("SAS token", "A shared access signature (instead of the account key).", 3, true),
			"connection_string": str("Connection string", "A storage connection string (instead of a key or SAS token).", 4, true),
			"endpoint":          str("Endpoint", "A custom blob endpoint with its scheme, e.g. http://127.0.0.1:10000 for Azurite (the account then goes in the path).", 5, false),
		})
}
