package catalogs

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	sqlcat "github.com/apache/iceberg-go/catalog/sql"
)

const (
	dialectSQLite   = sqlcat.SQLite
	dialectPostgres = sqlcat.Postgres

	driverSQLite   = "sqlite" // modernc.org/sqlite, pure Go
	driverPostgres = "pgx"    // github.com/jackc/pgx/v5/stdlib, pure Go
)

// SQLite connection settings applied to every pooled connection: WAL lets readers (PyIceberg,
// DuckDB, the snowflake command) run during a sync; busy_timeout waits for a concurrent writer
// instead of failing; immediate write transactions take the write lock up front, so two writers
// queue on busy_timeout rather than deadlocking on a read-to-write upgrade.
var sqlitePragmas = []struct{ key, value string }{
	{"_pragma", "busy_timeout(10000)"},
	{"_pragma", "journal_mode(WAL)"},
	{"_txlock", "immediate"},
}

type sqlTarget struct {
	dialect sqlcat.SupportedDialect
	driver  string
	dsn     string // contains the password for postgres: never print
	path    string // SQLite only: the absolute database file path
}

// parseSQLURI understands, for SQLite: a plain path (relative = from the working directory),
// file:/abs/x.db or file:///abs/x.db (SQLite URI, extra query parameters kept), and
// SQLAlchemy-style sqlite:///rel.db / sqlite:////abs.db; for PostgreSQL: postgres:// or
// postgresql:// URIs (password may be given separately).
func parseSQLURI(raw, password string) (sqlTarget, error) {
	raw = strings.TrimSpace(raw)
	lower := strings.ToLower(raw)
	switch {
	case raw == "":
		return sqlTarget{}, fmt.Errorf("catalog.uri is empty")
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return sqlTarget{}, fmt.Errorf("catalog.uri %q is not a valid postgres:// URI", redactURL(raw))
		}
		if password != "" {
			if _, has := u.User.Password(); has {
				return sqlTarget{}, fmt.Errorf("catalog: the password is given both in catalog.uri and in catalog.password")
			}
			user := ""
			if u.User != nil {
				user = u.User.Username()
			}
			if user == "" {
				return sqlTarget{}, fmt.Errorf("catalog.password needs a user name in catalog.uri (postgres://user@host/db)")
			}
			u.User = url.UserPassword(user, password)
		}
		return sqlTarget{dialect: dialectPostgres, driver: driverPostgres, dsn: u.String()}, nil
	case strings.HasPrefix(lower, "sqlite://"):
		rest := raw[len("sqlite://"):]
		if !strings.HasPrefix(rest, "/") || len(rest) < 2 {
			return sqlTarget{}, fmt.Errorf("catalog.uri %q: use sqlite:///relative.db or sqlite:////absolute/path.db", raw)
		}
		p, q, _ := strings.Cut(rest[1:], "?")
		return sqliteTarget(p, q, raw)
	case strings.HasPrefix(lower, "file:"):
		u, err := url.Parse(raw)
		if err != nil {
			return sqlTarget{}, fmt.Errorf("catalog.uri %q is not a valid SQLite file: URI: %w", raw, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return sqlTarget{}, fmt.Errorf("catalog.uri %q: a SQLite file URI cannot name host %q", raw, u.Host)
		}
		p := u.Path
		if u.Opaque != "" {
			if p, err = url.PathUnescape(u.Opaque); err != nil {
				return sqlTarget{}, fmt.Errorf("catalog.uri %q: %w", raw, err)
			}
		}
		return sqliteTarget(p, u.RawQuery, raw)
	case hasURIScheme(raw):
		return sqlTarget{}, fmt.Errorf("catalog.uri %q: only SQLite (a path, file: or sqlite:/// URI) and postgres:// are supported for a sql catalog", redactURL(raw))
	default:
		return sqliteTarget(raw, "", raw)
	}
}

func sqliteTarget(p, query, raw string) (sqlTarget, error) {
	if p == "" {
		return sqlTarget{}, fmt.Errorf("catalog.uri %q names no database file", raw)
	}
	if p == ":memory:" || strings.Contains(query, "mode=memory") {
		return sqlTarget{}, fmt.Errorf("catalog.uri %q: an in-memory SQLite catalog would lose every table at exit; give a file", raw)
	}
	abs, err := filepath.Abs(filepath.FromSlash(p))
	if err != nil {
		return sqlTarget{}, fmt.Errorf("catalog.uri %q: cannot make the path absolute: %w", raw, err)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return sqlTarget{}, fmt.Errorf("catalog.uri %q: bad query string: %w", raw, err)
	}
	params := []string{}
	if query != "" {
		params = append(params, query)
	}
	for _, p := range sqlitePragmas {
		if !hasParam(q, p.key, p.value) {
			params = append(params, p.key+"="+p.value)
		}
	}
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + strings.Join(params, "&")
	return sqlTarget{dialect: dialectSQLite, driver: driverSQLite, dsn: dsn, path: abs}, nil
}

// hasParam reports whether the user already set the parameter (for _pragma: the same pragma name).
func hasParam(q url.Values, key, value string) bool {
	if key != "_pragma" {
		return q.Has(key)
	}
	name, _, _ := strings.Cut(value, "(")
	for _, v := range q["_pragma"] {
		n, _, _ := strings.Cut(v, "(")
		n, _, _ = strings.Cut(n, "=")
		if strings.EqualFold(strings.TrimSpace(n), name) {
			return true
		}
	}
	return false
}

// SQLitePath returns the database file of a (normalized or not) SQL catalog that uses SQLite.
func (s Settings) SQLitePath() (string, bool) {
	n, err := s.Normalized()
	if err != nil || n.Catalog.Type != TypeSQL {
		return "", false
	}
	t, err := parseSQLURI(n.Catalog.URI, "")
	if err != nil || t.dialect != dialectSQLite {
		return "", false
	}
	return t.path, true
}
