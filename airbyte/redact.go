package airbyte

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"sync"
)

// Mask replaces every secret value in redacted text.
const Mask = "**********"

// Redactor removes secret values from text. The zero value redacts nothing; it is safe for
// concurrent use.
type Redactor struct {
	mu       sync.RWMutex
	secrets  []string
	replacer *strings.Replacer
}

// NewRedactor returns a Redactor for the given secrets.
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers more secrets. Empty strings are ignored. JSON-escaped forms are registered too, so a
// secret with quotes or backslashes is caught inside serialized JSON as well.
func (r *Redactor) Add(secrets ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		r.secrets = append(r.secrets, s)
		if q, err := json.Marshal(s); err == nil {
			if esc := string(q[1 : len(q)-1]); esc != s {
				r.secrets = append(r.secrets, esc)
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

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	rep := r.replacer
	r.mu.RUnlock()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
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
