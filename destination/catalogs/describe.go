package catalogs

import (
	"cmp"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Secrets lists every secret value in the settings (and the password inside a SQL URI), for
// redaction. Access key IDs are included: the spec marks them airbyte_secret too.
func (s Settings) Secrets() []string {
	c, st := s.Catalog, s.Storage
	vals := []string{
		c.Password, c.Credential, c.Token, c.AccessKeyID, c.SecretAccessKey, c.SessionToken,
		st.AccessKeyID, st.SecretAccessKey, st.SessionToken, st.ServiceAccountJSON,
		st.AccountKey, st.SASToken, st.ConnectionString,
	}
	if _, secret, ok := strings.Cut(c.Credential, ":"); ok {
		vals = append(vals, secret)
	}
	for _, raw := range []string{c.URI, s.Warehouse} {
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			if p, ok := u.User.Password(); ok {
				vals = append(vals, p, url.QueryEscape(p), url.PathEscape(p))
			}
		}
	}
	if u, err := url.Parse(c.URI); err == nil {
		for k, vs := range u.Query() {
			if isSecretName(k) {
				vals = append(vals, vs...)
			}
		}
	}
	out := vals[:0]
	seen := map[string]bool{}
	for _, v := range vals {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	// Longest first so a secret containing another is masked whole.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func isSecretName(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"password", "secret", "token", "key", "sslpassword"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

const mask = "***"

// scrub masks every secret of the settings in text.
func (s Settings) scrub(text string) string {
	for _, v := range s.Secrets() {
		text = strings.ReplaceAll(text, v, mask)
	}
	return text
}

// scrubbedError keeps the wrapped chain for errors.Is/As but never prints a secret.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// wrapf formats "<what>: <err>" with every secret of s masked.
func (s Settings) wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return &scrubbedError{msg: s.scrub(fmt.Sprintf(format, args...) + ": " + err.Error()), err: err}
}

// redactURL hides the password of a URL (and secret-looking query values) for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Unparseable: show only the scheme-ish start so a secret cannot slip through.
		if i := strings.Index(raw, "://"); i > 0 {
			return raw[:i+3] + "…"
		}
		return "(unparseable)"
	}
	q := u.Query()
	changed := false
	for k := range q {
		if isSecretName(k) {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Describe returns a one-line description of the (normalized) settings that is safe to log:
// no secret values, only whether credentials are set.
func (s Settings) Describe() string {
	n, err := s.Normalized()
	if err != nil {
		n = s
	}
	var b strings.Builder
	c := n.Catalog
	switch c.Type {
	case TypeREST:
		fmt.Fprintf(&b, "catalog=rest(uri=%s", redactURL(c.URI))
		if c.RESTWarehouse != "" {
			fmt.Fprintf(&b, " warehouse=%s", c.RESTWarehouse)
		}
		if c.Prefix != "" {
			fmt.Fprintf(&b, " prefix=%s", c.Prefix)
		}
		switch {
		case c.Token != "":
			b.WriteString(" auth=bearer-token")
		case c.Credential != "":
			b.WriteString(" auth=oauth2-client-credentials")
			if c.Scope != "" {
				fmt.Fprintf(&b, " scope=%s", c.Scope)
			}
		case c.SigV4:
			b.WriteString(" auth=sigv4")
		default:
			b.WriteString(" auth=none")
		}
		b.WriteString(")")
	case TypeGlue:
		fmt.Fprintf(&b, "catalog=glue(region=%s", cmp.Or(c.Region, "default"))
		if c.CatalogID != "" {
			fmt.Fprintf(&b, " catalog_id=%s", c.CatalogID)
		}
		if c.Endpoint != "" {
			fmt.Fprintf(&b, " endpoint=%s", redactURL(c.Endpoint))
		}
		fmt.Fprintf(&b, " credentials=%s)", credKind(c.AccessKeyID))
	default:
		kind, target := "sql", redactURL(c.URI)
		if d, err := parseSQLURI(c.URI, ""); err == nil {
			kind = string(d.dialect)
			if d.dialect == dialectSQLite {
				target = d.path
			}
		}
		fmt.Fprintf(&b, "catalog=sql(%s %s name=%s)", kind, target, c.Name)
	}
	if n.Warehouse != "" {
		fmt.Fprintf(&b, " warehouse=%s", redactURL(n.Warehouse))
	}
	st := n.Storage
	switch st.Type {
	case StorageS3:
		fmt.Fprintf(&b, " storage=s3(region=%s", cmp.Or(st.Region, "default"))
		if st.Endpoint != "" {
			fmt.Fprintf(&b, " endpoint=%s", redactURL(st.Endpoint))
		}
		if st.PathStyleAccess != nil {
			fmt.Fprintf(&b, " path_style=%t", *st.PathStyleAccess)
		}
		fmt.Fprintf(&b, " credentials=%s)", credKind(st.AccessKeyID))
	case StorageGCS:
		fmt.Fprintf(&b, " storage=gcs(credentials=%s)", credKind(st.ServiceAccountJSON))
	case StorageAzure:
		auth := "default"
		switch {
		case st.AccountKey != "":
			auth = "shared-key"
		case st.SASToken != "":
			auth = "sas-token"
		case st.ConnectionString != "":
			auth = "connection-string"
		}
		fmt.Fprintf(&b, " storage=azure(account=%s auth=%s)", cmp.Or(st.AccountName, "from-warehouse"), auth)
	default:
		b.WriteString(" storage=local")
	}
	return b.String()
}

func credKind(id string) string {
	if id == "" {
		return "default-chain"
	}
	return "static"
}
