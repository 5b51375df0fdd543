// Package snowflake writes the Snowflake statements that make our Iceberg tables queryable:
// for the object-store catalog integration, CREATE ICEBERG TABLE ... METADATA_FILE_PATH and
// ALTER ICEBERG TABLE ... REFRESH with the metadata path relative to the external volume's
// storage location; for REST, Snowflake Open Catalog (Polaris) and Glue, the catalog integration
// and AUTO_REFRESH tables. Nothing it prints contains a credential: account-specific values are
// <placeholders>.
package snowflake

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

var simpleIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// QuoteIdent returns a Snowflake double-quoted identifier; embedded double quotes are doubled.
func QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteString returns a Snowflake single-quoted string literal. Snowflake reads backslash
// escapes inside single quotes, so backslashes are doubled as well as single quotes.
//
// Control characters become escape sequences (\n, \r, \t, \xhh), so a statement stays on one
// line whatever the value holds.
func QuoteString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\'':
			b.WriteString("''")
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// UnquoteString reverses QuoteString (and reads Snowflake's other simple escapes), for tests
// and tools that parse the statements back.
func UnquoteString(lit string) (string, error) {
	if len(lit) < 2 || lit[0] != '\'' || lit[len(lit)-1] != '\'' {
		return "", fmt.Errorf("not a single-quoted string literal: %s", lit)
	}
	body := lit[1 : len(lit)-1]
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\'' && i+1 < len(body) && body[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\'':
			return "", fmt.Errorf("unescaped quote at %d in %s", i, lit)
		case c == '\\' && i+1 < len(body):
			i++
			switch body[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case '0':
				b.WriteByte(0)
			case 'x':
				if i+2 >= len(body) {
					return "", fmt.Errorf("short \\x escape in %s", lit)
				}
				v, err := strconv.ParseUint(body[i+1:i+3], 16, 8)
				if err != nil {
					return "", fmt.Errorf("bad \\x escape in %s", lit)
				}
				b.WriteByte(byte(v))
				i += 2
			default:
				b.WriteByte(body[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// objectName renders a Snowflake object name. A plain identifier is upper-cased inside the
// quotes, so it resolves exactly like the unquoted name users will type (clockify.my_table
// finds "CLOCKIFY"."MY_TABLE"); any other name keeps its exact spelling.
//
// Control characters, which Snowflake identifiers cannot hold, become "_": the Snowflake name is
// ours to choose, and CATALOG_TABLE_NAME keeps the exact catalog name.
func objectName(name string, preserveCase bool) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, name)
	if !preserveCase && simpleIdent.MatchString(name) {
		return QuoteIdent(strings.ToUpper(name))
	}
	return QuoteIdent(name)
}

// RelativePath returns location relative to base (both URIs or plain paths), decoded, with no
// leading slash: the form METADATA_FILE_PATH and REFRESH expect relative to the external
// volume's STORAGE_BASE_URL.
func RelativePath(base, location string) (string, error) {
	bs, bh, bp, err := splitLocation(base)
	if err != nil {
		return "", fmt.Errorf("storage base %q: %w", base, err)
	}
	ls, lh, lp, err := splitLocation(location)
	if err != nil {
		return "", fmt.Errorf("metadata location %q: %w", location, err)
	}
	if bs != ls || bh != lh {
		return "", fmt.Errorf("metadata file %s is not under the storage base %s (different bucket or scheme)", location, base)
	}
	prefix := strings.TrimRight(bp, "/") + "/"
	if !strings.HasPrefix(lp, prefix) {
		return "", fmt.Errorf("metadata file %s is not under the storage base %s", location, base)
	}
	rel := strings.TrimLeft(strings.TrimPrefix(lp, prefix), "/")
	if rel == "" {
		return "", fmt.Errorf("metadata location %s names the storage base itself", location)
	}
	return rel, nil
}

// splitLocation returns a comparable (scheme family, authority, decoded path).
func splitLocation(loc string) (scheme, host, path string, err error) {
	if !strings.Contains(loc, "://") && !strings.HasPrefix(strings.ToLower(loc), "file:") {
		return "file", "", loc, nil
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", "", "", err
	}
	scheme = strings.ToLower(u.Scheme)
	switch scheme {
	case "s3a", "s3n":
		scheme = "s3"
	case "abfs", "wasb", "wasbs":
		scheme = "abfss"
	}
	host = u.Host
	if u.User != nil {
		host = u.User.Username() + "@" + host
	}
	if scheme == "file" && (host == "localhost") {
		host = ""
	}
	path = u.Path
	if u.Opaque != "" {
		if path, err = url.PathUnescape(u.Opaque); err != nil {
			return "", "", "", err
		}
	}
	return scheme, host, path, nil
}
