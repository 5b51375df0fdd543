package airbyte

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Mask replaces every secret value in redacted text.
const Mask = "**********"

// Redactor removes secrets from text: the values it was given, in the forms they take when
// printed (JSON-escaped, URL-encoded), every parameter of a secret that is a query string (an
// Azure SAS token, a presigned URL's query) in any order and encoding, and, whatever it was given,
// the values of credential-carrying URL parameters (sig, X-Amz-*, tokens, keys, passwords), the
// password of a URL's user info, bearer and basic credentials, secret JSON fields and
// connection-string keys. The zero value redacts only those patterns; it is safe for concurrent
// use.
type Redactor struct {
	mu       sync.RWMutex
	secrets  []string
	seen     map[string]bool
	replacer *strings.Replacer
}

// NewRedactor returns a Redactor for the given secrets.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers more secrets. Empty strings are ignored.
func (r *Redactor) Add(secrets ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	for _, s := range secrets {
		for _, f := range secretForms(s) {
			if !r.seen[f] {
				r.seen[f] = true
				r.secrets = append(r.secrets, f)
			}
		}
	}
	// Longest first, so a secret containing another is masked whole.
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	pairs := make([]string, 0, 2*len(r.secrets))
	for _, s := range r.secrets {
		pairs = append(pairs, s, Mask)
	}
	r.replacer = strings.NewReplacer(pairs...)
}

// minStandalone is the shortest query-parameter value of a secret that is masked wherever it
// appears; shorter ones (sr=c, spr=https) are masked only as key=value, or a mask would eat
// ordinary words.
const minStandalone = 12

// secretForms returns s and the forms it takes in printed text. A secret that parses as a query
// string of several parameters (a SAS token) also yields each key=value pair and each long or
// credential-named value, so a client that re-orders or re-encodes the parameters is still caught.
func secretForms(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	add := func(v string) {
		if v == "" {
			return
		}
		for _, f := range encodings(v) {
			if f != "" && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	add(s)
	// A credential "client_id:client_secret" is secret as a whole, so each half is too (an OAuth
	// token request sends them as separate form fields).
	if id, secret, ok := strings.Cut(s, ":"); ok && !strings.ContainsAny(s, "=;/@ ") && !strings.Contains(secret, ":") {
		for _, part := range []string{id, secret} {
			if len(part) >= minStandalone {
				add(part)
			}
		}
	}
	q := strings.TrimPrefix(strings.TrimSpace(s), "?")
	if strings.Contains(q, "=") && !strings.ContainsAny(q, " \t\n\"{}") {
		if vals, err := url.ParseQuery(q); err == nil && len(vals) > 0 {
			for k, vs := range vals {
				for _, v := range vs {
					if v == "" {
						continue
					}
					add(k + "=" + v)
					add(k + "=" + url.QueryEscape(v))
					add(k + "=" + url.PathEscape(v))
					if len(v) >= minStandalone || credentialParam(k) {
						add(v)
					}
				}
			}
		}
	}
	return out
}

// encodings returns v as written raw, inside a JSON string, and URL-encoded (both hex cases).
func encodings(v string) []string {
	out := []string{v}
	if q, err := json.Marshal(v); err == nil {
		out = append(out, string(q[1:len(q)-1]))
	}
	for _, e := range []string{url.QueryEscape(v), url.PathEscape(v)} {
		out = append(out, e, lowerHex(e))
	}
	return out
}

// lowerHex lower-cases the hex digits of percent escapes.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = toLowerASCII(b[i+1]), toLowerASCII(b[i+2])
		}
	}
	return string(b)
}

func toLowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// credentialParam reports whether a URL query parameter or form key carries a credential.
func credentialParam(k string) bool {
	k = strings.ToLower(k)
	if strings.HasPrefix(k, "x-amz-") || strings.HasPrefix(k, "x-goog-") {
		return true
	}
	switch k {
	case "sig", "signature", "key", "apikey", "api_key", "api-key":
		return true
	}
	for _, w := range []string{"token", "secret", "password", "passwd", "credential", "sas"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// Patterns masked whatever secrets were registered. Each keeps its first group and masks the rest.
var secretPatterns = []*regexp.Regexp{
	// A query parameter (after ?, &, ;, a JSON-escaped & or a URL-encoded &) whose name carries a
	// credential; the value runs to the next separator.
	regexp.MustCompile(`(?i)((?:^|[?&;\s"'(]|\\u0026|%26|&amp;)(?:sig|signature|x-amz-[a-z0-9-]+|x-goog-[a-z0-9-]+|[a-z0-9_.-]*token|[a-z0-9_.-]*secret[a-z0-9_.-]*|[a-z0-9_.-]*password|passwd|pwd|api[_-]?key|apikey|key|credential|client_secret|sas)(?:=|%3D))([^&;\s"'<>\\#,)]+)`),
	// The password of a URL's user info: scheme://user:password@host.
	regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://[^/\s:@"'?#]*:)([^@/\s"'?#]+)@`),
	// HTTP credentials.
	regexp.MustCompile(`(?i)(\b(?:bearer|basic)\s+)([a-z0-9._~+/=-]{8,})`),
	// Secret fields of a JSON body (an OAuth answer, a key file) quoted in an error.
	regexp.MustCompile(`(?i)((?:\\?")(?:access_token|refresh_token|id_token|client_secret|private_key|password|secret|token|sas_token|account_key)(?:\\?")\s*:\s*(?:\\?"))((?:[^"\\]|\\[^"])+)`),
	// Keys of an Azure (or similar) connection string.
	regexp.MustCompile(`(?i)(\b(?:AccountKey|SharedAccessSignature|SharedAccessKey|Password|Pwd)=)([^;"'\s]+)`),
}

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	if r != nil {
		r.mu.RLock()
		rep := r.replacer
		r.mu.RUnlock()
		if rep != nil {
			s = rep.Replace(s)
		}
	}
	for _, re := range secretPatterns {
		if re.MatchString(s) {
			s = re.ReplaceAllString(s, "${1}"+Mask)
		}
	}
	return s
}

// Writer wraps w so that every line written through it is redacted. Text is held until a newline
// (or Close of the returned writer's owner) so a secret split across writes is still caught.
func (r *Redactor) Writer(w io.Writer) io.Writer {
	return &redactingWriter{r: r, w: w}
}

type redactingWriter struct {
	mu  sync.Mutex
	r   *Redactor
	w   io.Writer
	buf []byte
}

func (rw *redactingWriter) Write(p []byte) (int, error) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.buf = append(rw.buf, p...)
	i := bytes.LastIndexByte(rw.buf, '\n')
	if i < 0 && len(rw.buf) < 64<<10 {
		return len(p), nil
	}
	cut := len(rw.buf)
	if i >= 0 {
		cut = i + 1
	}
	out := rw.r.String(string(rw.buf[:cut]))
	rw.buf = append(rw.buf[:0], rw.buf[cut:]...)
	if _, err := io.WriteString(rw.w, out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flush writes any partial last line.
func (rw *redactingWriter) flush() {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.buf) > 0 {
		io.WriteString(rw.w, rw.r.String(string(rw.buf)))
		rw.buf = rw.buf[:0]
	}
}

// redactLibraryLogs sends what libraries print through the standard log and slog packages (SDK
// retries, iceberg-go warnings quoting request URLs) to w, the runner's redacting stderr.
func redactLibraryLogs(w io.Writer) {
	log.SetOutput(w)
	slog.SetDefault(slog.New(slog.NewTextHandler(w, nil)))
}

// secretsFromConfig returns every string value in config stored under a property that the spec
// marks airbyte_secret, at any depth (oneOf variants included).
func secretsFromConfig(spec, config json.RawMessage) []string {
	var schema any
	if json.Unmarshal(spec, &schema) != nil {
		return nil
	}
	names := map[string]bool{}
	collectSecretNames(schema, names)
	var cfg any
	d := json.NewDecoder(bytes.NewReader(config))
	d.UseNumber()
	if d.Decode(&cfg) != nil {
		return nil
	}
	var out []string
	collectSecretValues(cfg, names, false, &out)
	return out
}

func collectSecretNames(node any, names map[string]bool) {
	switch n := node.(type) {
	case map[string]any:
		if props, ok := n["properties"].(map[string]any); ok {
			for name, p := range props {
				if pm, ok := p.(map[string]any); ok && pm["airbyte_secret"] == true {
					names[name] = true
				}
			}
		}
		for _, v := range n {
			collectSecretNames(v, names)
		}
	case []any:
		for _, v := range n {
			collectSecretNames(v, names)
		}
	}
}

func collectSecretValues(node any, names map[string]bool, secret bool, out *[]string) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			collectSecretValues(v, names, secret || names[k], out)
		}
	case []any:
		for _, v := range n {
			collectSecretValues(v, names, secret, out)
		}
	case string:
		if secret {
			*out = append(*out, n)
		}
	case json.Number:
		if secret {
			*out = append(*out, n.String())
		}
	}
}
